# Counts GDScript runtime errors (Godot 4.5+ Logger). A script error aborts the test function
# silently, which would otherwise look like a pass; the runner fails such a test.
extends Logger

var count := 0
var last := ""
var _lock := Mutex.new()

func _log_error(function: String, file: String, line: int, code: String, rationale: String,
		_editor_notify: bool, error_type: int, _script_backtraces: Array) -> void:
	if error_type != ERROR_TYPE_SCRIPT:
		return
	_lock.lock()
	count += 1
	last = "%s (%s:%d %s)" % [rationale if rationale != "" else code, file, line, function]
	_lock.unlock()

func _log_message(_message: String, _error: bool) -> void:
	pass
