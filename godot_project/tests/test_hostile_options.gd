# Hostile input, option dictionaries: wrong types and out-of-range values in initialize()'s
# configuration and create_data_channel()'s options. Each is refused with its documented code
# (ERR_INVALID_PARAMETER from initialize(), null from create_data_channel()) and one short
# error naming the key; the connection is left as it was.
extends "res://tests/case.gd"

func _init_code(config) -> int:
	var pc := WebRTCPeerConnection.new()
	var err := pc.initialize(config)
	pc.close()
	return err

func test_initialize_refuses_wrong_types() -> void:
	var huge := "x".repeat(1 << 20)
	var bad := [
		[{"iceServers": null}, "'iceServers' must be an Array"],
		[{"iceServers": {}}, "'iceServers' must be an Array"],
		[{"iceServers": {"urls": "stun:127.0.0.1"}}, "'iceServers' must be an Array"],
		[{"iceServers": [null]}, "'iceServers[0]' must be a Dictionary"],
		[{"iceServers": [[]]}, "'iceServers[0]' must be a Dictionary"],
		[{"iceServers": [{"urls": "stun:127.0.0.1"}, 5]}, "'iceServers[1]' must be a Dictionary"],
		[{"iceServers": [{"urls": null}]}, "'iceServers[0].urls' must be a String"],
		[{"iceServers": [{"urls": []}]}, "iceServers[0] has no 'urls'"],
		[{"iceServers": [{"urls": [null]}]}, "'iceServers[0].urls' must be a String"],
		[{"iceServers": [{"urls": {}}]}, "'iceServers[0].urls' must be a String"],
		[{"iceServers": [{"urls": true}]}, "'iceServers[0].urls' must be a String"],
		[{"iceServers": [{"urls": PackedInt32Array([1])}]}, "'iceServers[0].urls' must be a String"],
		[{"iceServers": [{"urls": ["stun:127.0.0.1", [huge]]}]}, "'iceServers[0].urls' must be a String"],
		[{"iceServers": [{"urls": "stun:127.0.0.1", "username": 5}]}, "'username' must be a String"],
		[{"iceServers": [{"urls": "turn:127.0.0.1", "username": "u", "credential": 5}]}, "'credential' must be a String"],
		[{"iceServers": [{"urls": "turn:127.0.0.1", "username": "u", "credential": ["p"]}]}, "'credential' must be a String"],
		[{"iceServers": [{"urls": "turn:127.0.0.1", "username": "", "credential": ""}]}, "needs 'username' and 'credential'"],
		[{"iceTransportPolicy": null}, "'iceTransportPolicy' must be a String"],
		[{"iceTransportPolicy": huge}, "'iceTransportPolicy' must be \"all\" or \"relay\""],
		[{"webrtc_rs": null}, "'webrtc_rs' must be a Dictionary"],
		[{"webrtc_rs": 1}, "'webrtc_rs' must be a Dictionary"],
		[{"webrtc_rs": {"multicastDns": null}}, "'multicastDns' must be a bool"],
		[{"webrtc_rs": {"includeLoopback": 1}}, "'includeLoopback' must be a bool"],
		[{"webrtc_rs": {"bindAddresses": [1]}}, "is not an \"ip:port\" address"],
		[{"webrtc_rs": {"bindAddresses": ["127.0.0.1"]}}, "is not an \"ip:port\" address"],
		[{"webrtc_rs": {"bindAddresses": ["999.1.1.1:0"]}}, "is not an \"ip:port\" address"],
		[{"webrtc_rs": {"bindAddresses": [huge]}}, "is not an \"ip:port\" address"],
		[{"webrtc_rs": {"turnCaFile": 1}}, "'turnCaFile' must be a String"],
		[{"webrtc_rs": {"turnCaFile": "res://no/such/ca.pem"}}, "could not be read"],
		[{"webrtc_rs": {"turnCaFile": "res://project.godot"}}, "CA certificate for TURN over TLS is not usable"],
		[{"webrtc_rs": {"portRange": null}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": "45000-45099"}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": {"min": 45000, "max": 45099}}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": []}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": [1, 2, 3]}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": [null, 5]}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": [0, 10]}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": [-1, 10]}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": [10, 9]}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": [65535, 65536]}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": [1, 1 << 40]}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": [1.5, 10]}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": [NAN, INF]}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": PackedInt32Array([9, 8])}}, "'webrtc_rs.portRange' must be [min, max]"],
		[{"webrtc_rs": {"portRange": [45000, 45099], "bindAddresses": ["127.0.0.1:80"]}}, "outside 'portRange'"],
	]
	for case in bad:
		var m := log_mark()
		check_refused(_init_code(case[0]), ERR_INVALID_PARAMETER, "initialize(%s)" % var_to_str(case[0]).left(80), m)
		check(m < 0 or logged(m, case[1]), "initialize(%s) names the problem: %s" % [var_to_str(case[0]).left(80), case[1]])

func test_initialize_accepts_odd_but_valid_input() -> void:
	check_eq(_init_code({1: 2, null: null, "iceServers": []}), OK, "keys that are not Strings are ignored")
	check_eq(_init_code({"iceServers": [{"urls": &"stun:127.0.0.1"}]}), OK, "urls as StringName")
	check_eq(_init_code({"webrtc_rs": {"bindAddresses": []}}), OK, "no bind addresses: every interface")
	check_eq(_init_code({"webrtc_rs": {"bindAddresses": ["[::1]:0"]}}), OK, "an IPv6 bind address")
	check_eq(_init_code({"webrtc_rs": {"bindAddresses": ["127.0.0.1:0", "127.0.0.1:0"]}}), OK, "the same bind address twice")
	check_eq(_init_code({"webrtc_rs": {"portRangeBegin": 1}}), OK, "unknown engine options are ignored")
	check_eq(_init_code({"webrtc_rs": {"portRange": [65535, 65535]}}), OK, "a port range of one port")
	check_eq(_init_code({"webrtc_rs": {"portRange": [45000.0, 45099.0]}}), OK, "a port range of integral floats (JSON)")
	check_eq(_init_code({"webrtc_rs": {"portRange": PackedInt32Array([45000, 45099])}}), OK, "a port range as PackedInt32Array")
	check_eq(_init_code({"webrtc_rs": {"portRange": [45000, 45099], "bindAddresses": ["127.0.0.1:0", "127.0.0.1:45099"]}}), OK, "bind addresses with port 0 or a port in the range")

func test_turn_ca_file_in_pem() -> void:
	# A CA certificate saved as PEM, as a game would ship its TURN server's CA.
	var crypto := Crypto.new()
	var cert := crypto.generate_self_signed_certificate(crypto.generate_rsa(2048), "CN=webrtc-rs test CA")
	var path := "user://turn_ca.pem"
	check_eq(cert.save(path), OK, "the CA saved as PEM")
	var turns := {"urls": "turns:127.0.0.1:5349", "username": "u", "credential": "p"}
	check_eq(_init_code({"iceServers": [turns], "webrtc_rs": {"turnCaFile": path}}), OK, "turnCaFile with a PEM certificate")

func test_bind_addresses_as_packed_string_array() -> void:
	# The natural type for a list of strings in GDScript, accepted for 'urls' too.
	check_eq(_init_code({"webrtc_rs": {"bindAddresses": PackedStringArray(["127.0.0.1:0"])}}), OK, "bindAddresses as PackedStringArray")

## Whether `pc` reaches STATE_FAILED within 5 s. The state is read before poll(): the engine
## logs why before it sets FAILED, so that poll() prints the reason, whatever the timing.
func _ends_failed(pc: WebRTCPeerConnection) -> bool:
	var failed := func() -> bool:
		var is_failed := pc.get_connection_state() == WebRTCPeerConnection.STATE_FAILED
		pc.poll()
		return is_failed
	return await wait_until(failed, 5.0)

## initialize() never waits for the sockets: an address that cannot be bound makes the
## connection FAILED, with a message.
func test_bind_address_that_is_not_on_this_machine() -> void:
	var m := log_mark()
	var pc := WebRTCPeerConnection.new()
	check_eq(pc.initialize({"webrtc_rs": {"bindAddresses": ["192.0.2.1:0"]}}), OK, "a valid configuration is accepted at once")
	pc.create_data_channel("x", {})
	pc.create_offer()
	check(await _ends_failed(pc), "binding an address this machine does not have: STATE_FAILED")
	check(m < 0 or logged(m, "Could not create the WebRTC peer connection"), "with a message that says why")
	pc.close()

## A port range whose every port is taken: initialize() still returns at once, and the
## connection ends FAILED with a message naming the range.
func test_port_range_with_every_port_taken() -> void:
	var holder := PacketPeerUDP.new()
	var port := 0
	for candidate in range(45400, 45500):
		if holder.bind(candidate, "*") == OK:
			port = candidate
			break
	if port == 0:
		skip("no free UDP port in 45400-45499 to hold")
		return
	var m := log_mark()
	var pc := WebRTCPeerConnection.new()
	check_eq(pc.initialize({"webrtc_rs": {"portRange": [port, port]}}), OK, "a valid range is accepted at once")
	check(await _ends_failed(pc), "every port of the range taken: STATE_FAILED")
	check(m < 0 or logged(m, "No UDP port of 'portRange'"), "with a message naming the range")
	pc.close()
	holder.close()

func _channel(opts) -> WebRTCDataChannel:
	var pc := WebRTCPeerConnection.new()
	var ch := pc.create_data_channel("l", opts)
	pc.close()
	return ch

func test_create_data_channel_refuses_bad_options() -> void:
	var bad := [
		[{"negotiated": true}, "needs an 'id'"],
		[{"negotiated": true, "id": null}, "'id' must be an integer"],
		[{"negotiated": true, "id": -1}, "'id' must be between 0 and 65535"],
		[{"negotiated": true, "id": -(1 << 62)}, "'id' must be between 0 and 65535"],
		[{"negotiated": true, "id": 65535}, "out of range (0 to 65534)"],
		[{"negotiated": true, "id": 1 << 40}, "'id' must be between 0 and 65535"],
		[{"negotiated": true, "id": 1e300}, "'id' must be between 0 and 65535"],
		[{"negotiated": true, "id": NAN}, "'id' must be an integer"],
		[{"negotiated": true, "id": INF}, "'id' must be an integer"],
		[{"negotiated": true, "id": true}, "'id' must be an integer"],
		[{"negotiated": true, "id": "3"}, "'id' must be an integer"],
		[{"negotiated": null}, "'negotiated' must be a bool"],
		[{"ordered": 1}, "'ordered' must be a bool"],
		[{"ordered": null}, "'ordered' must be a bool"],
		[{"maxPacketLifeTime": -1}, "'maxPacketLifeTime' must be between 0 and 65535"],
		[{"maxPacketLifeTime": 65536}, "'maxPacketLifeTime' must be between 0 and 65535"],
		[{"maxPacketLifeTime": "10"}, "'maxPacketLifeTime' must be an integer"],
		[{"maxPacketLifeTime": 1.5}, "'maxPacketLifeTime' must be an integer"],
		[{"maxRetransmits": "1"}, "'maxRetransmits' must be an integer"],
		[{"maxPacketLifeTime": 10, "maxRetransmits": 1}, "cannot both be set"],
		[{"maxPacketLifetime": 10, "maxRetransmits": 1}, "cannot both be set"],
		[{"protocol": null}, "'protocol' must be a String"],
		[{"protocol": "x".repeat(65536)}, "at most 65535 bytes"],
	]
	for case in bad:
		var m := log_mark()
		var ch := _channel(case[0])
		check(ch == null, "create_data_channel(%s) gives null" % var_to_str(case[0]).left(80))
		check_refused(FAILED if ch == null else OK, FAILED, "create_data_channel(%s)" % var_to_str(case[0]).left(80), m)
		check(m < 0 or logged(m, case[1]), "create_data_channel(%s) names the problem: %s" % [var_to_str(case[0]).left(80), case[1]])

func test_labels() -> void:
	var pc := WebRTCPeerConnection.new()
	check_eq(pc.create_data_channel("", {}).get_label(), "", "empty label")
	check_eq(pc.create_data_channel("x".repeat(65535), {}).get_label().length(), 65535, "65535-byte label")
	check_eq(pc.create_data_channel("ünï ✓", {}).get_label(), "ünï ✓", "unicode label")
	var m := log_mark()
	check(pc.create_data_channel("x".repeat(1 << 20), {}) == null, "1 MiB label refused")
	check_refused(FAILED, FAILED, "1 MiB label", m)
	check(pc.create_data_channel("ü".repeat(40000), {}) == null, "a label of 40,000 characters is 80,000 bytes: refused")
	pc.close()

func test_odd_but_valid_channel_options() -> void:
	var ignored := _channel({1: 2, "whatever": [1]})
	check(ignored != null, "unknown keys are ignored")
	var in_band_id := _channel({"id": 5})
	check(in_band_id != null and in_band_id.get_id() == 65535, "'id' without 'negotiated' is ignored (the in-band id is assigned later)")
	var both_spellings := _channel({"maxPacketLifeTime": 1, "maxPacketLifetime": 2})
	check(both_spellings != null and both_spellings.get_max_packet_life_time() == 1, "maxPacketLifeTime wins over the alias")

func test_duplicate_and_colliding_ids() -> void:
	var pc := WebRTCPeerConnection.new()
	check(pc.create_data_channel("a", {"negotiated": true, "id": 0}) != null, "id 0")
	var m := log_mark()
	check(pc.create_data_channel("b", {"negotiated": true, "id": 0}) == null, "the same id again")
	check(m < 0 or logged(m, "already exists"), "duplicate id named")
	check(pc.create_data_channel("c", {"negotiated": true, "id": 0.0}) == null, "the same id as a float")
	pc.close()

## In-band channels must not take a stream id a negotiated channel uses: both kinds on one
## connection, each carrying its own messages.
func test_in_band_channels_avoid_negotiated_ids() -> void:
	var p := new_pair()
	var na: Array = []
	var nb: Array = []
	for id in 8:
		na.append(p.a.create_data_channel("n%d" % id, {"negotiated": true, "id": id}))
		nb.append(p.b.create_data_channel("n%d" % id, {"negotiated": true, "id": id}))
	var inband := p.a.create_data_channel("inband", {})
	p.a.create_offer()
	check(await wait_until(func(): return p.received_b.size() == 1 and p.received_b[0].get_ready_state() == OPEN \
		and na.all(func(c): return c.get_ready_state() == OPEN)), "all open")
	if p.received_b.size() != 1:
		return
	check(inband.get_id() >= 8, "the in-band channel got a free id (%d)" % inband.get_id())
	inband.put_packet("in-band".to_utf8_buffer())
	for id in 8:
		na[id].put_packet(("n%d" % id).to_utf8_buffer())
	check_eq((await recv(p.received_b[0])).get_string_from_utf8(), "in-band", "the in-band channel's message")
	for id in 8:
		check_eq((await recv(nb[id])).get_string_from_utf8(), "n%d" % id, "negotiated channel %d's message" % id)
