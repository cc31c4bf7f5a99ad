# Bad input reaches Godot's output as a clear error (or warning) naming what was wrong.
# Needs Godot 4.5+ (Logger); older versions skip these checks with a note.
extends "res://tests/case.gd"

var log = null

func _mark() -> int:
	log = tree.get("script_errors")
	return log.messages.size() if log != null else 0

## True if an error (warning: want_warning) containing text was logged since mark.
func _logged(mark: int, text: String, want_warning := false) -> bool:
	if log == null:
		return true
	var want := Logger.ERROR_TYPE_WARNING if want_warning else Logger.ERROR_TYPE_ERROR
	for i in range(mark, log.messages.size()):
		if log.messages[i][0] == want and log.messages[i][1].contains(text):
			return true
	return false

func test_errors_name_the_problem() -> void:
	var pc := WebRTCPeerConnection.new()
	var m := _mark()
	if log == null:
		print("    note: Godot < 4.5 has no Logger; message checks skipped")
		return
	pc.create_data_channel("x", {"negotiated": true})
	check(_logged(m, "needs an 'id'"), "negotiated without id")
	pc.create_data_channel("x", {"ordered": "yes"})
	check(_logged(m, "'ordered' must be a bool"), "wrong option type")
	pc.initialize({"iceServers": [{"urls": "http://127.0.0.1"}]})
	check(_logged(m, "Invalid ICE server URL 'http://127.0.0.1'"), "bad URL")
	pc.add_ice_candidate("0", 0, "candidate:junk")
	check(_logged(m, "Invalid ICE candidate"), "bad candidate")
	check(not _logged(m, "this text was never logged"), "the capture is not vacuous")
	pc.set_remote_description("offer", "junk")
	check(_logged(m, "Invalid remote offer SDP"), "bad SDP")
	pc.initialize({"iceServers": [{"urls": "turns:127.0.0.1", "username": "u", "credential": "p"}]})
	check(_logged(m, "TURN over TLS ('turns:') is not supported", true), "turns: warning")
	pc.close()
	pc.create_offer()
	check(_logged(m, "only valid in STATE_NEW"), "wrong state")

func test_oversized_packet_message() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var m := _mark()
	var big := PackedByteArray()
	big.resize(300000)
	check_eq(r[1].put_packet(big), ERR_INVALID_PARAMETER, "oversized")
	check(_logged(m, "larger than the maximum of 262144 bytes"), "oversized packet message")

func test_buffer_full_message() -> void:
	var key := "network/limits/webrtc/max_channel_in_buffer_kb"
	var old = ProjectSettings.get_setting(key)
	ProjectSettings.set_setting(key, 2)
	var p := new_pair()
	ProjectSettings.set_setting(key, old)
	var ch := p.a.create_data_channel("q", {"ordered": false, "maxRetransmits": 0})
	p.a.create_offer()
	if not await wait_until(func(): return p.received_b.size() == 1 and ch.get_ready_state() == OPEN):
		check(false, "connect")
		return
	var m := _mark()
	var data := PackedByteArray()
	data.resize(1500)
	for i in 3:
		ch.put_packet(data)
	# Only unreliable channels drop (a reliable one holds the sender); a warning, once a second.
	check(await wait_until(func(): return _logged(m, "Buffer full! Dropping data", true)), "the browser's message when an unreliable queue is full")
