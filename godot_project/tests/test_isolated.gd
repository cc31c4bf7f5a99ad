# Runs every test method of every res://tests/isolated/*.gd in its own Godot process: the
# crash-prone cases (freeing, re-entrant calls from signal handlers) and the soak. A case passes
# when its process prints ISOLATED PASS and exits with status 0 within its file's LIMIT_S.
# Linux (uses sh and timeout).
extends "res://tests/case.gd"

const DIR := "res://tests/isolated"
const DEFAULT_LIMIT_S := 60
const NOTE := "  > " # prefix of case.gd's note() lines

func test_each_case_in_its_own_process() -> void:
	var only := OS.get_environment("WEBRTC_RS_ISOLATED_FILTER")
	var ran := 0
	var skips := 0
	for file in DirAccess.get_files_at(DIR):
		if not file.ends_with(".gd") or file == "run_one.gd":
			continue
		var script: GDScript = load(DIR + "/" + file)
		if script == null:
			failures.append("%s did not load" % file)
			continue
		var limit: int = script.get_script_constant_map().get("LIMIT_S", DEFAULT_LIMIT_S)
		for m in script.get_script_method_list():
			var name: String = file.get_basename() + "::" + m.name
			if not m.name.begins_with("test_") or (only != "" and not name.contains(only)):
				continue
			ran += 1
			if not _run_case(file, m.name, limit):
				skips += 1
	check(ran > 0, "no isolated case ran")
	if ran > 0 and skips == ran:
		skip("every isolated case skipped itself")

## Runs one case; false if it skipped itself.
func _run_case(file: String, method: String, limit: int) -> bool:
	var start := Time.get_ticks_msec()
	var out := []
	OS.execute("sh", [ProjectSettings.globalize_path(DIR + "/run_isolated.sh"), str(limit), OS.get_executable_path(),
		"--headless", "--path", ProjectSettings.globalize_path("res://"), "-s", DIR + "/run_one.gd", "--", file, method], out, true)
	var text: String = out[0] if not out.is_empty() else ""
	var lines := text.strip_edges().split("\n")
	var status := lines[-1].trim_prefix("isolated exit status ") if lines[-1].begins_with("isolated exit status ") else "unknown"
	var name := file.get_basename() + "::" + method
	var ms := Time.get_ticks_msec() - start
	var verdict := ""
	for line in lines:
		if line.begins_with("ISOLATED "):
			verdict = line
	if (verdict == "ISOLATED PASS" or verdict.begins_with("ISOLATED SKIP")) and status == "0":
		print("    isolated %s %s (%d ms)" % [verdict.trim_prefix("ISOLATED "), name, ms])
		for line in lines:
			if line.begins_with(NOTE):
				print("    ", line) # what the case reports (e.g. the soak's figures)
		return verdict == "ISOLATED PASS"
	var why := "crashed or hung (exit status %s)" % status
	if verdict == "ISOLATED PASS":
		why = "passed, then exited with status %s (a crash at exit?)" % status
	elif verdict != "":
		why = verdict
	if status == "124" or status == "137":
		why = "did not finish within %d s (exit status %s)" % [limit, status]
	print("    isolated FAIL %s (%d ms): %s" % [name, ms, why])
	failures.append("%s: %s" % [name, why])
	for line in lines:
		if line.begins_with("    - "):
			failures.append("%s: %s" % [name, line.strip_edges().trim_prefix("- ")])
	if status != "0":
		# What led to the crash (a panic message, Godot's crash line) and the end of the output.
		var at := lines.size()
		for i in lines.size():
			if lines[i].contains("panicked") or lines[i].contains("handle_crash") or lines[i].begins_with("ERROR"):
				at = i
				break
		for i in lines.size():
			if (i >= at and i < at + 12) or i >= lines.size() - 6:
				print("      | ", lines[i])
	return true
