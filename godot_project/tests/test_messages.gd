# Bad input reaches Godot's output as a clear error (or warning) naming what was wrong.
# Needs Godot 4.5+ (Logger); older versions report these tests as SKIP.
extends "res://tests/case.gd"

func test_errors_name_the_problem() -> void:
	var pc := WebRTCPeerConnection.new()
	var m := log_mark()
	if m < 0:
		return
	pc.create_data_channel("x", {"negotiated": true})
	check(logged(m, "needs an 'id'"), "negotiated without id")
	pc.create_data_channel("x", {"ordered": "yes"})
	check(logged(m, "'ordered' must be a bool"), "wrong option type")
	pc.initialize({"iceServers": [{"urls": "http://127.0.0.1"}]})
	check(logged(m, "Invalid ICE server URL 'http://127.0.0.1'"), "bad URL")
	pc.add_ice_candidate("0", 0, "candidate:junk")
	check(logged(m, "Invalid ICE candidate"), "bad candidate")
	check(not logged(m, "this text was never logged"), "the capture is not vacuous")
	pc.set_remote_description("offer", "junk")
	check(logged(m, "Invalid remote offer SDP"), "bad SDP")
	pc.initialize({"iceServers": [{"urls": "turns:127.0.0.1?transport=udp", "username": "u", "credential": "p"}]})
	check(logged(m, "TURN over DTLS ('turns:' with '?transport=udp') is not supported", true), "TURN over DTLS warning")
	pc.close()
	pc.create_offer()
	check(logged(m, "only valid in STATE_NEW"), "wrong state")

func test_oversized_packet_message() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var m := log_mark()
	if m < 0:
		return
	var big := PackedByteArray()
	big.resize(300000)
	check_eq(r[1].put_packet(big), ERR_INVALID_PARAMETER, "oversized")
	check(logged(m, "larger than the maximum of 262144 bytes"), "oversized packet message")

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
	var m := log_mark()
	if m < 0:
		return
	var data := PackedByteArray()
	data.resize(1500)
	for i in 3:
		ch.put_packet(data)
	# Only unreliable channels drop (a reliable one holds the sender); a warning, once a second.
	check(await wait_until(func(): return logged(m, "Buffer full! Dropping data", true)), "the browser's message when an unreliable queue is full")
