# initialize(): the configuration dictionary, its errors, and re-initialization.
extends "res://tests/case.gd"

func _init_err(config) -> int:
	var pc := WebRTCPeerConnection.new()
	var err := pc.initialize(config)
	pc.close()
	return err

func test_valid_configurations() -> void:
	check_eq(_init_err({}), OK, "empty")
	check_eq(_init_err({"iceServers": []}), OK, "no servers")
	check_eq(_init_err({"iceServers": [{"urls": "stun:127.0.0.1:3478"}]}), OK, "urls as String")
	check_eq(_init_err({"iceServers": [{"urls": ["stun:127.0.0.1", "stun:[::1]:3478"]}]}), OK, "urls as Array")
	check_eq(_init_err({"iceServers": [{"urls": PackedStringArray(["stun:127.0.0.1"])}]}), OK, "urls as PackedStringArray")
	check_eq(_init_err({"iceServers": [{"urls": ["turn:127.0.0.1:3478?transport=udp"], "username": "u", "credential": "p"}]}), OK, "turn")
	check_eq(_init_err({"iceServers": [{"urls": ["turn:127.0.0.1"], "username": "u", "credentials": "p"}]}), OK, "Godot 3 'credentials'")
	check_eq(_init_err({"iceTransportPolicy": "relay", "iceServers": [{"urls": "turn:127.0.0.1", "username": "u", "credential": "p"}]}), OK, "relay policy")
	check_eq(_init_err({"iceTransportPolicy": "all", "bundlePolicy": "max-bundle", "whatever": 1}), OK, "unknown keys are ignored")
	check_eq(_init_err({"webrtc_rs": {"includeLoopback": false, "multicastDns": false}}), OK, "engine options")
	check_eq(_init_err({"webrtc_rs": {"bindAddresses": ["127.0.0.1:0"]}}), OK, "bind addresses")
	check_eq(_init_err({"iceServers": [{"urls": ["stun:no-such-host.invalid:3478"]}]}), OK, "unresolvable STUN does not fail")

func test_unsupported_turn_transports_warn_but_succeed() -> void:
	check_eq(_init_err({"iceServers": [{"urls": ["turns:127.0.0.1:5349"], "username": "u", "credential": "p"}]}), OK, "turns:")
	check_eq(_init_err({"iceServers": [{"urls": ["turn:127.0.0.1?transport=tcp"], "username": "u", "credential": "p"}]}), OK, "transport=tcp")

func test_wrong_types_and_bad_urls() -> void:
	var bad := [
		{"iceServers": "stun:127.0.0.1"},
		{"iceServers": ["stun:127.0.0.1"]},
		{"iceServers": [{}]},
		{"iceServers": [{"urls": 5}]},
		{"iceServers": [{"urls": [5]}]},
		{"iceServers": [{"urls": "http://127.0.0.1"}]},
		{"iceServers": [{"urls": "stun:"}]},
		{"iceServers": [{"urls": "stun:host:70000"}]},
		{"iceServers": [{"urls": "turn:127.0.0.1"}]},
		{"iceServers": [{"urls": "turn:127.0.0.1", "username": 1, "credential": "p"}]},
		{"iceTransportPolicy": "none"},
		{"iceTransportPolicy": 1},
		{"iceTransportPolicy": "relay"},
		{"webrtc_rs": []},
		{"webrtc_rs": {"includeLoopback": "yes"}},
		{"webrtc_rs": {"bindAddresses": "127.0.0.1:0"}},
		{"webrtc_rs": {"bindAddresses": ["localhost"]}},
	]
	for config in bad:
		check_eq(_init_err(config), ERR_INVALID_PARAMETER, "initialize(%s)" % var_to_str(config))

func test_failed_initialize_keeps_the_old_connection() -> void:
	var pc := WebRTCPeerConnection.new()
	var ch := pc.create_data_channel("kept", {"negotiated": true, "id": 3})
	check_eq(pc.initialize({"iceServers": 1}), ERR_INVALID_PARAMETER, "bad config")
	check_eq(pc.get_connection_state(), WebRTCPeerConnection.STATE_NEW, "still NEW")
	check_eq(ch.get_ready_state(), WebRTCDataChannel.STATE_CONNECTING, "its channel is untouched")
	pc.close()

func test_reinitialize_while_connected() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var p = r[0]
	check_eq(p.a.get_connection_state(), WebRTCPeerConnection.STATE_CONNECTED, "connected first")
	check_eq(p.a.initialize({}), OK, "initialize() again")
	check_eq(p.a.get_connection_state(), WebRTCPeerConnection.STATE_NEW, "a fresh connection")
	check_eq(r[1].get_ready_state(), CLOSED, "the old connection's channel is closed")
	check(await wait_until(func(): return r[2].get_ready_state() == CLOSED, 10.0), "the remote sees the old channel close")
	# The new connection works: connect it to a new peer.
	p.b = WebRTCPeerConnection.new()
	p.b.session_description_created.connect(p._on_b_description)
	p.b.ice_candidate_created.connect(p._on_b_candidate)
	p.b.data_channel_received.connect(p._on_b_channel)
	var ch: WebRTCDataChannel = p.a.create_data_channel("again", {})
	p.a.create_offer()
	check(await wait_until(func(): return ch.get_ready_state() == OPEN), "re-initialized connection connects")
