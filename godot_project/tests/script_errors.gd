# Watches Godot's error output (Godot 4.5+ Logger). Counts GDScript runtime errors: a script
# error aborts the test function silently, which would otherwise look like a pass, so the runner
# fails such a test. Also keeps the recent engine errors and warnings, so tests can check that bad
# input produced a clear message.
extends Logger

const KEEP := 200

var count := 0
var last := ""
var messages: Array = [] # [error_type, text], newest last, the last KEEP
var total := 0 # messages ever logged: a mark, stable while old ones are dropped
var _lock := Mutex.new()

func _log_error(function: String, file: String, line: int, code: String, rationale: String,
		_editor_notify: bool, error_type: int, _script_backtraces: Array) -> void:
	if error_type != ERROR_TYPE_SCRIPT:
		_lock.lock()
		messages.append([error_type, code + " " + rationale])
		total += 1
		if messages.size() > KEEP:
			messages.pop_front()
		_lock.unlock()
		return
	_lock.lock()
	count += 1
	last = "%s (%s:%d %s)" % [rationale if rationale != "" else code, file, line, function]
	_lock.unlock()

## A mark for logged_since(): the number of messages logged so far.
func mark() -> int:
	return total

## GDScript runtime errors logged so far.
func script_error_count() -> int:
	return count

## The kept messages logged since mark (a value of total).
func _since(mark: int) -> Array:
	_lock.lock()
	var out: Array = messages.slice(max(0, messages.size() - (total - mark)))
	_lock.unlock()
	return out

## True if an error (a warning: want_warning) containing text was logged since mark.
func logged_since(mark: int, text: String, want_warning: bool) -> bool:
	var want := ERROR_TYPE_WARNING if want_warning else ERROR_TYPE_ERROR
	return _since(mark).any(func(m): return m[0] == want and m[1].contains(text))

func texts_since(mark: int) -> Array:
	return _since(mark).map(func(m): return m[1])

func _log_message(_message: String, _error: bool) -> void:
	pass
