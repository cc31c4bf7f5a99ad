# Runs ONE test method of one res://tests/isolated/ file in this process (started by
# test_isolated.gd with `-- FILE METHOD`): a crash, a hang or an error at exit then shows in
# this process's exit status and cannot hide the other cases. Last line: ISOLATED PASS/FAIL.
extends SceneTree

var script_errors = null

func _init() -> void:
	if ClassDB.class_exists("Logger"):
		script_errors = load("res://tests/script_errors.gd").new()
		OS.call("add_logger", script_errors)
	_run()

func _run() -> void:
	await process_frame
	var args := OS.get_cmdline_user_args()
	if args.size() != 2:
		print("ISOLATED FAIL usage: -- FILE METHOD")
		quit(2)
		return
	var script: GDScript = load("res://tests/isolated/" + args[0])
	if script == null or not script.can_instantiate():
		print("ISOLATED FAIL the script did not load (parse error?)")
		quit(2)
		return
	var t = script.new()
	t.tree = self
	await t.call(args[1])
	t.cleanup()
	if script_errors != null and script_errors.count > 0:
		t.failures.append("GDScript error: " + script_errors.last)
	for f in t.failures:
		print("    - ", f)
	if t.failures.is_empty() and t.skipped != "":
		print("ISOLATED SKIP ", t.skipped)
	else:
		print("ISOLATED PASS" if t.failures.is_empty() else "ISOLATED FAIL")
	t = null
	# Let freed connections wind down: the exit then also checks a clean shutdown.
	await process_frame
	quit(0 if script_errors == null or script_errors.count == 0 else 1)
