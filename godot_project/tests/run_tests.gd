# Headless test runner: runs every test_* method of every res://tests/test_*.gd, each on a fresh
# instance, prints one line per test and "N passed, N failed", and always quits: a global
# watchdog ends a run that hangs. WEBRTC_RS_TEST_FILTER=substring runs only matching tests.
extends SceneTree

const WATCHDOG_S := 540.0
const TESTS_DIR := "res://tests"

var passed := 0
var failed := 0
var skipped := 0
var script_errors = null # res://tests/script_errors.gd where Logger exists (Godot 4.5+), else file_log.gd

func _init() -> void:
	create_timer(WATCHDOG_S).timeout.connect(_on_watchdog)
	if ClassDB.class_exists("Logger") and OS.get_environment("WEBRTC_RS_TEST_FILE_LOG") != "1":
		script_errors = load("res://tests/script_errors.gd").new()
		OS.call("add_logger", script_errors)
	else:
		# Godot 4.3/4.4 (or asked for): what the file logger writes.
		script_errors = load("res://tests/file_log.gd").open()
		if script_errors != null:
			print("note: no Logger; errors are read from the file log ", script_errors.path)
		else:
			print("note: no Logger and no file log; script errors inside tests are not detected")
	_run()

func _on_watchdog() -> void:
	print("FAIL watchdog: the suite did not finish within %d s" % WATCHDOG_S)
	print("%d passed, %d failed%s" % [passed, failed + 1, _skipped_note()])
	quit(1)

func _skipped_note() -> String:
	return ", %d skipped" % skipped if skipped > 0 else ""

func _record(name: String, ms: int, failures: Array, skip_reason := "") -> void:
	if failures.is_empty() and skip_reason != "":
		skipped += 1
		print("SKIP %s: %s" % [name, skip_reason])
	elif failures.is_empty():
		passed += 1
		print("PASS %s (%d ms)" % [name, ms])
	else:
		failed += 1
		print("FAIL %s (%d ms)" % [name, ms])
		for f in failures:
			print("    - ", f)

func _test_files() -> Array:
	var files: Array = []
	for f in DirAccess.get_files_at(TESTS_DIR):
		if f.begins_with("test_") and f.ends_with(".gd"):
			files.append(f)
	files.sort()
	return files

func _run() -> void:
	# Start after the first frame: until then the root window is not inside the tree.
	await process_frame
	var only := OS.get_environment("WEBRTC_RS_TEST_FILTER")
	for file in _test_files():
		var script: GDScript = load(TESTS_DIR + "/" + file)
		if script == null or not script.can_instantiate():
			_record(file, 0, ["the script did not load (parse error?)"])
			continue
		var methods: Array = []
		for m in script.get_script_method_list():
			if m.name.begins_with("test_") and not methods.has(m.name):
				methods.append(m.name)
		for method in methods:
			var name: String = file.get_basename() + "::" + method
			if only != "" and not name.contains(only):
				continue
			var t = script.new()
			t.tree = self
			var start := Time.get_ticks_msec()
			var errors_before: int = script_errors.script_error_count() if script_errors != null else 0
			await t.call(method)
			t.cleanup()
			if script_errors != null and script_errors.script_error_count() != errors_before:
				t.failures.append("GDScript error: " + script_errors.last)
			_record(name, Time.get_ticks_msec() - start, t.failures, t.skipped)
			t = null
			# Let freed connections wind down before the next test.
			await process_frame
	print("%d passed, %d failed%s" % [passed, failed, _skipped_note()])
	quit(1 if failed > 0 else 0)
