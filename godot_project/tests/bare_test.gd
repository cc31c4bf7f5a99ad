# Runs in a project that holds nothing but addons/webrtc_rs and this script: two
# WebRTCPeerConnection.new() peers connect on loopback and exchange packets both ways.
extends SceneTree

var a := WebRTCPeerConnection.new()
var b := WebRTCPeerConnection.new()

func _init() -> void:
	create_timer(30.0).timeout.connect(func(): _finish(false, "timed out"))
	_run()

func _finish(ok: bool, why: String) -> void:
	print("bare project: ", "PASS" if ok else "FAIL " + why)
	print("%d passed, %d failed" % [1 if ok else 0, 0 if ok else 1])
	quit(0 if ok else 1)

func _run() -> void:
	if not a.get_class() == "WebRTCRsPeerConnection":
		_finish(false, "WebRTCPeerConnection.new() gave %s, not the extension" % a.get_class())
		return
	a.session_description_created.connect(func(t, s): b.set_remote_description(t, s))
	b.session_description_created.connect(func(t, s): a.set_remote_description(t, s))
	a.ice_candidate_created.connect(func(m, i, c): b.add_ice_candidate(m, i, c))
	b.ice_candidate_created.connect(func(m, i, c): a.add_ice_candidate(m, i, c))
	var ca := a.create_data_channel("bare", {"negotiated": true, "id": 1})
	var cb := b.create_data_channel("bare", {"negotiated": true, "id": 1})
	a.create_offer()
	while ca.get_ready_state() != WebRTCDataChannel.STATE_OPEN or cb.get_ready_state() != WebRTCDataChannel.STATE_OPEN:
		a.poll()
		b.poll()
		await process_frame
	ca.put_packet("ping".to_utf8_buffer())
	while cb.get_available_packet_count() == 0:
		a.poll()
		b.poll()
		await process_frame
	if cb.get_packet().get_string_from_utf8() != "ping":
		_finish(false, "wrong packet a->b")
		return
	cb.put_packet("pong".to_utf8_buffer())
	while ca.get_available_packet_count() == 0:
		a.poll()
		b.poll()
		await process_frame
	_finish(ca.get_packet().get_string_from_utf8() == "pong", "wrong packet b->a")
