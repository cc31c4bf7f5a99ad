# The debugger's WebRTC tab: a game run under a debugger (--remote-debug tcp://...) sends
# "webrtc_rs:connections" about every 500 ms, read here by a debugger server of our own (Godot's
# debugger protocol: length-prefixed Variant arrays, what StreamPeerTCP.get_var() decodes); and
# the editor plugin (addons/webrtc_rs/plugin.cfg) loads in a headless editor without errors.
extends "res://tests/case.gd"

func _godot() -> String:
	return OS.get_executable_path()

## The messages arrive with live figures: the connection CONNECTED, its traffic growing, its
## channel listed with its counters, about 500 ms apart.
func test_debugger_receives_connection_figures() -> void:
	var server := TCPServer.new()
	check_eq(server.listen(0, "127.0.0.1"), OK, "listen")
	var port := server.get_local_port()
	var pid := OS.create_process(_godot(), ["--headless", "--path", ProjectSettings.globalize_path("res://"),
		"--remote-debug", "tcp://127.0.0.1:%d" % port, "-s", "res://tests/debugger/game.gd"])
	check(pid > 0, "the game started")
	var peer: StreamPeerTCP = null
	var got: Array = [] # [ms, data]
	var deadline := Time.get_ticks_msec() + 15000
	while Time.get_ticks_msec() < deadline and got.size() < 6:
		if peer == null and server.is_connection_available():
			peer = server.take_connection()
		if peer != null:
			peer.poll()
			while peer.get_status() == StreamPeerTCP.STATUS_CONNECTED and peer.get_available_bytes() >= 4:
				var msg = peer.get_var()
				if msg is Array and msg.size() >= 2 and msg[0] == "webrtc_rs:connections":
					got.append([Time.get_ticks_msec(), msg[-1]])
		await tree.process_frame
	if pid > 0:
		OS.kill(pid)
	check(peer != null, "the game connected to the debugger server")
	check(got.size() >= 6, "six messages within 15 s (%d)" % got.size())
	if got.size() < 6:
		return
	var intervals: Array = []
	for i in range(1, got.size()):
		intervals.append(got[i][0] - got[i - 1][0])
	note("webrtc_rs:connections every %s ms" % str(intervals))
	intervals.sort()
	var median: int = intervals[intervals.size() / 2]
	check(median >= 350 and median <= 800, "about every 500 ms (median %d ms)" % median)
	var last: Array = got[-1][1]
	check_eq(last.size(), 2, "one row per live connection (both peers)")
	var connected: Array = last.filter(func(c): return c.get("state") == WebRTCPeerConnection.STATE_CONNECTED)
	check_eq(connected.size(), 2, "both CONNECTED")
	if connected.is_empty():
		return
	var row: Dictionary = connected[0]
	for key in ["id", "state_name", "round_trip_time_ms", "local_candidate", "remote_candidate", "relayed", "bytes_sent",
			"bytes_received", "retransmissions", "messages_sent", "failure_reason", "channels"]:
		check(row.has(key), "the row has '%s'" % key)
	check_eq(row.get("state_name"), "CONNECTED", "state_name")
	var sender: Array = last.filter(func(c): return c.get("messages_sent", 0) > 0)
	check_eq(sender.size(), 1, "the sending side")
	if sender.is_empty():
		return
	var channels: Array = sender[0]["channels"]
	check(channels.size() == 1 and channels[0].get("label") == "chat" and channels[0].get("messages_sent", 0) > 0, "its channel 'chat' with its counters (%s)" % str(channels))
	# Live: the same connection's bytes grew between the earlier and the last message.
	var first_sender: Array = got[1][1].filter(func(c): return c.get("id") == sender[0]["id"])
	check(not first_sender.is_empty() and sender[0]["bytes_sent"] > first_sender[0].get("bytes_sent", 0), "its figures are live (bytes_sent grows)")

## A game under a debugger in a project without the editor plugin enabled sends no
## webrtc_rs message: an editor with nothing to capture it would warn about each one.
func test_no_plugin_no_messages() -> void:
	var server := TCPServer.new()
	check_eq(server.listen(0, "127.0.0.1"), OK, "listen")
	var pid := OS.create_process(_godot(), ["--headless", "--path", ProjectSettings.globalize_path("res://"),
		"--remote-debug", "tcp://127.0.0.1:%d" % server.get_local_port(), "-s", "res://tests/debugger/game.gd", "--", "--no-plugin"])
	check(pid > 0, "the game started")
	var peer: StreamPeerTCP = null
	var messages := 0
	var ours := 0
	var deadline := Time.get_ticks_msec() + 3500
	while Time.get_ticks_msec() < deadline:
		if peer == null and server.is_connection_available():
			peer = server.take_connection()
		if peer != null:
			peer.poll()
			while peer.get_status() == StreamPeerTCP.STATUS_CONNECTED and peer.get_available_bytes() >= 4:
				var msg = peer.get_var()
				messages += 1
				if msg is Array and msg.size() >= 1 and str(msg[0]).begins_with("webrtc_rs"):
					ours += 1
		await tree.process_frame
	if pid > 0:
		OS.kill(pid)
	check(peer != null and messages > 0, "the game talked to the debugger (%d messages)" % messages)
	check_eq(ours, 0, "none of them the addon's")

## Without a debugger nothing is sent (and nothing registered): a connection's poll() does not
## call the debugger. Checked here, in a run without --remote-debug.
func test_no_debugger_no_messages() -> void:
	check(not EngineDebugger.is_active(), "the suite runs without a debugger")
	var r: Array = await connected_pair()
	check(not r.is_empty(), "connections work as usual")

## The editor plugin loads in a headless editor (a project with it enabled) without a script
## error, and adds the debugger plugin.
func test_editor_plugin_loads_headless() -> void:
	var dir := ProjectSettings.globalize_path("user://webrtc_rs_plugin_test")
	_remove_tree(dir)
	DirAccess.make_dir_recursive_absolute(dir.path_join("addons/webrtc_rs/bin"))
	DirAccess.make_dir_recursive_absolute(dir.path_join(".godot"))
	var src := ProjectSettings.globalize_path("res://addons/webrtc_rs")
	for f in DirAccess.get_files_at(src):
		DirAccess.copy_absolute(src.path_join(f), dir.path_join("addons/webrtc_rs").path_join(f))
	for f in DirAccess.get_files_at(src.path_join("bin")):
		DirAccess.copy_absolute(src.path_join("bin").path_join(f), dir.path_join("addons/webrtc_rs/bin").path_join(f))
	var project := FileAccess.open(dir.path_join("project.godot"), FileAccess.WRITE)
	project.store_string("config_version=5\n\n[application]\nconfig/name=\"plugin test\"\n\n[editor_plugins]\nenabled=PackedStringArray(\"res://addons/webrtc_rs/plugin.cfg\")\n")
	project.close()
	var list := FileAccess.open(dir.path_join(".godot/extension_list.cfg"), FileAccess.WRITE)
	list.store_string("res://addons/webrtc_rs/webrtc_rs.gdextension\n")
	list.close()
	var out := []
	var code := OS.execute("timeout", ["120", _godot(), "--headless", "--editor", "--verbose", "--path", dir, "--quit-after", "300"], out, true)
	var text: String = out[0] if not out.is_empty() else ""
	check_eq(code, 0, "the editor exits cleanly")
	check(text.contains("webrtc-rs: the debugger's WebRTC tab is ready"), "the plugin's debugger tab is set up")
	for bad in ["SCRIPT ERROR", "Parse Error", "Failed to load script", "res://addons/webrtc_rs/plugin"]:
		for line in text.split("\n"):
			if line.contains(bad) and (line.contains("ERROR") or line.contains("Error")):
				failures.append("editor output: " + line.strip_edges())
	_remove_tree(dir)

func _remove_tree(path: String) -> void:
	if not DirAccess.dir_exists_absolute(path):
		return
	for d in DirAccess.get_directories_at(path):
		_remove_tree(path.path_join(d))
	for f in DirAccess.get_files_at(path):
		DirAccess.remove_absolute(path.path_join(f))
	DirAccess.remove_absolute(path)

## The tab the plugin adds, fed as the debugger feeds it: a row per connection; one that failed
## stays listed, with its reason, after it is gone; one that closed normally goes.
func test_debugger_tab_lists_connections_and_keeps_failed_ones() -> void:
	var tab: VBoxContainer = load("res://addons/webrtc_rs/webrtc_debugger_tab.gd").new()
	tree.root.add_child(tab)
	var row := func(id: int, state: String, reason: String, sent: int) -> Dictionary:
		return {"id": id, "state": 2, "state_name": state, "round_trip_time_ms": 12.5, "relayed": false, "bytes_sent": sent,
			"bytes_received": sent, "retransmissions": 3, "failure_reason": reason,
			"local_candidate": {"type": "host", "protocol": "udp"}, "remote_candidate": {"type": "relay", "protocol": "udp"},
			"channels": [{"label": "chat", "messages_sent": 5, "messages_received": 4, "messages_dropped": 0}]}
	tab.update([row.call(1, "CONNECTED", "", 1000), row.call(2, "FAILED", "turn_auth", 0)])
	await tree.process_frame
	tab.update([row.call(1, "CONNECTED", "", 60000), row.call(2, "FAILED", "turn_auth", 0)])
	var items: Array = tab._tree.get_root().get_children()
	check_eq(items.size(), 2, "two rows")
	if items.size() == 2:
		check_eq(items[0].get_text(1), "CONNECTED", "state")
		check(items[0].get_text(2).contains("host/udp -> relay/udp"), "candidate types (%s)" % items[0].get_text(2))
		check_eq(items[0].get_text(3), "12.5", "RTT")
		check(float(items[0].get_text(4)) > 0.0, "throughput from the growing byte counts (%s KiB/s)" % items[0].get_text(4))
		check_eq(items[1].get_text(8), "turn_auth", "failure reason")
	tab.update([])
	items = tab._tree.get_root().get_children()
	check_eq(items.size(), 1, "the failed connection stays listed once gone; the other goes")
	if items.size() == 1:
		check_eq(items[0].get_text(8), "turn_auth", "with its reason")
	await tree.process_frame # draws the graphs
	tab.queue_free()
