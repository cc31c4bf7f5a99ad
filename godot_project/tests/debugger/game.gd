# A game run under a debugger by test_debugger.gd (--remote-debug): two connected peers and a
# channel carrying a message every frame, for 4 s; the addon's webrtc_rs:connections messages
# go to the test's debugger server.
extends SceneTree

const Pair = preload("res://tests/pair.gd")

var pair: Pair
var ch: WebRTCDataChannel
var until := 0

func _init() -> void:
	# As in a project with the editor plugin enabled: without it the addon sends nothing (the
	# editor would warn about each unknown message). `-- --no-plugin` runs it as one without.
	if not "--no-plugin" in OS.get_cmdline_user_args():
		ProjectSettings.set_setting("editor_plugins/enabled", PackedStringArray(["res://addons/webrtc_rs/plugin.cfg"]))
	pair = Pair.new()
	ch = pair.a.create_data_channel("chat", {})
	pair.a.create_offer()
	until = Time.get_ticks_msec() + 4000

func _process(_delta: float) -> bool:
	pair.poll()
	if ch.get_ready_state() == WebRTCDataChannel.STATE_OPEN:
		ch.put_packet(PackedByteArray([1, 2, 3]))
	for r in pair.received_b:
		while r.get_available_packet_count() > 0:
			r.get_packet()
	if Time.get_ticks_msec() > until:
		pair.close()
		return true
	return false
