# Watches Godot's error output where there is no Logger (Godot 4.3 and 4.4): reads what the
# file logger wrote (cargo xtask suite turns it on with an override.cfg; errors are flushed
# to the file as they happen). The same interface as script_errors.gd, with a byte offset of
# the log file as the mark.
extends RefCounted

var path := ""
var count := 0 # SCRIPT ERRORs seen (counted when read, see refresh())
var last := ""
var total := 0 # the file's length when last read: a mark
var _text := "" # everything read so far
var _read := 0 # bytes of the file read so far
var _scanned := 0

## A watcher of the file logger's output, or null when file logging is off.
static func open():
	if not ProjectSettings.get_setting("debug/file_logging/enable_file_logging", false):
		return null
	var w = load("res://tests/file_log.gd").new()
	w.path = ProjectSettings.globalize_path(ProjectSettings.get_setting("debug/file_logging/log_path"))
	w.refresh()
	return w

## Reads what was appended since the last call.
func refresh() -> void:
	var f := FileAccess.open(path, FileAccess.READ)
	if f == null:
		return
	var size := f.get_length()
	if size > _read:
		f.seek(_read)
		_text += f.get_buffer(size - _read).get_string_from_utf8()
		_read = size
	total = _text.length()
	for line in _text.substr(_scanned).split("\n"):
		if line.begins_with("SCRIPT ERROR:"):
			count += 1
			last = line.trim_prefix("SCRIPT ERROR:").strip_edges()
	_scanned = _text.rfind("\n") + 1

## A mark for logged_since(): the position of what has been logged so far.
func mark() -> int:
	refresh()
	return total

## SCRIPT ERRORs logged so far.
func script_error_count() -> int:
	refresh()
	return count

## The ERROR (WARNING: want_warning) lines logged since mark, without their prefix.
func _since(mark: int, want_warning: bool) -> Array:
	refresh()
	var prefixes := ["WARNING:", "USER WARNING:"] if want_warning else ["ERROR:", "USER ERROR:"]
	var out: Array = []
	for line in _text.substr(mark).split("\n"):
		for p in prefixes:
			if line.begins_with(p):
				out.append(line.trim_prefix(p).strip_edges())
	return out

func logged_since(mark: int, text: String, want_warning: bool) -> bool:
	return _since(mark, want_warning).any(func(m): return m.contains(text))

func texts_since(mark: int) -> Array:
	return _since(mark, false) + _since(mark, true)
