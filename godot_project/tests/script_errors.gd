# Watches Godot's error output (Godot 4.5+ Logger). Counts GDScript runtime errors: a script
# error aborts the test function silently, which would otherwise look like a pass, so the runner
# fails such a test. Also keeps the recent engine errors and warnings, so tests can check that bad
# input produced a clear message.
extends Logger

const KEEP := 200

var count := 0
var last := ""
var messages: Array = [] # [error_type, text], newest last
var _lock := Mutex.new()

func _log_error(function: String, file: String, line: int, code: String, rationale: String,
		_editor_notify: bool, error_type: int, _script_backtraces: Array) -> void:
	if error_type != ERROR_TYPE_SCRIPT:
		_lock.lock()
		messages.append([error_type, code + " " + rationale])
		if messages.size() > KEEP:
			messages.pop_front()
		_lock.unlock()
		return
	_lock.lock()
	count += 1
	last = "%s (%s:%d %s)" % [rationale if rationale != "" else code, file, line, function]
	_lock.unlock()

func _log_message(_message: String, _error: bool) -> void:
	pass
