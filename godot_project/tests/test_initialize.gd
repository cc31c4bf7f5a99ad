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

func test_port_range() -> void:
	for config in [
		{"webrtc_rs": {"portRange": 45000}},
		{"webrtc_rs": {"portRange": [45000]}},
		{"webrtc_rs": {"portRange": ["45000", "45099"]}},
		{"webrtc_rs": {"portRange": [45099, 45000]}},
	]:
		check_eq(_init_err(config), ERR_INVALID_PARAMETER, "initialize(%s)" % var_to_str(config))
	# Both peers bind in the range: every host candidate's port is in it, and they connect.
	var p := new_pair()
	var opts := {"webrtc_rs": {"portRange": [45200, 45299]}}
	check_eq(p.a.initialize(opts), OK, "a with a port range")
	check_eq(p.b.initialize(opts), OK, "b with a port range")
	var ch := p.a.create_data_channel("ranged", {})
	p.a.create_offer()
	var opened := await wait_until(func(): return ch.get_ready_state() == OPEN and p.received_b.size() == 1 \
		and p.received_b[0].get_ready_state() == OPEN)
	check(opened, "peers with a port range connect")
	var ports := []
	for c in p.candidates_a + p.candidates_b:
		# "candidate:<foundation> <component> udp <priority> <address> <port> typ <type> ..."
		var f: PackedStringArray = c[2].split(" ", false)
		if f.size() > 7 and f[7] == "host":
			ports.append(int(f[5]))
	check(ports.size() >= 2, "host candidates from both peers: %s" % [ports])
	check(ports.all(func(port): return port >= 45200 and port <= 45299), "every host port in the range: %s" % [ports])
	if opened:
		ch.put_packet("in range".to_utf8_buffer())
		check_eq((await recv(p.received_b[0])).get_string_from_utf8(), "in range", "data crosses")

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
	p.replace_b(WebRTCPeerConnection.new())
	var ch: WebRTCDataChannel = p.a.create_data_channel("again", {})
	p.a.create_offer()
	check(await wait_until(func(): return ch.get_ready_state() == OPEN), "re-initialized connection connects")
