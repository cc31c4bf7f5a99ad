# STUN and TURN through a real server (coturn, started by `cargo xtask test` on 127.0.0.1):
# relay-only peers connect through it and exchange data, wrong credentials end in STATE_FAILED
# with an error instead of hanging, and a STUN server yields server-reflexive candidates.
#
# Arguments after `--`: --port PORT --user USER --password PASSWORD [--tls_port PORT --ca CA.pem]
# (with the TLS port, relay-only peers also connect over TURN/TCP and TURN/TLS)
# Prints one PASS/FAIL line per check and "N passed, N failed"; exit code 0 if all passed.
extends SceneTree

var args := {"port": "3478", "user": "", "password": "", "tls_port": "", "ca": ""}
var passed := 0
var failed := 0

func _init() -> void:
	var a := OS.get_cmdline_user_args()
	for i in range(0, a.size() - 1, 2):
		args[a[i].trim_prefix("--")] = a[i + 1]
	create_timer(120.0).timeout.connect(func(): _finish("watchdog: 120 s"))
	_run()

func _check(ok: bool, what: String) -> void:
	if ok:
		passed += 1
		print("PASS coturn offer: " + what)
	else:
		failed += 1
		print("FAIL coturn offer: " + what)

func _finish(why: String = "") -> void:
	if why != "":
		_check(false, why)
	print("%d passed, %d failed" % [passed, failed])
	quit(0 if failed == 0 else 1)

## Two peers with `config`, wired to each other; candidates are recorded per peer.
class Pair:
	var a := WebRTCPeerConnection.new()
	var b := WebRTCPeerConnection.new()
	var cand_a: Array = []
	var cand_b: Array = []
	var cb: WebRTCDataChannel
	var ca: WebRTCDataChannel

	func _init(config: Dictionary) -> void:
		a.initialize(config)
		b.initialize(config)
		a.session_description_created.connect(func(t, s): a.set_local_description(t, s); b.set_remote_description(t, s))
		b.session_description_created.connect(func(t, s): b.set_local_description(t, s); a.set_remote_description(t, s))
		a.ice_candidate_created.connect(func(m, i, c): cand_a.append(c); b.add_ice_candidate(m, i, c))
		b.ice_candidate_created.connect(func(m, i, c): cand_b.append(c); a.add_ice_candidate(m, i, c))
		b.data_channel_received.connect(func(ch): cb = ch)
		ca = a.create_data_channel("turn", {})
		a.create_offer()

	func poll() -> void:
		a.poll()
		b.poll()

	func open() -> bool:
		return cb != null and cb.get_ready_state() == WebRTCDataChannel.STATE_OPEN and ca.get_ready_state() == WebRTCDataChannel.STATE_OPEN

	func close() -> void:
		a.close()
		b.close()

func _wait(p: Pair, cond: Callable, seconds: float) -> bool:
	var deadline := Time.get_ticks_msec() + int(seconds * 1000)
	while not cond.call():
		p.poll()
		if Time.get_ticks_msec() > deadline:
			return false
		await process_frame
	return true

func _all_of_type(cands: Array, typ: String) -> bool:
	return not cands.is_empty() and cands.all(func(c): return c.contains(" typ %s" % typ))

func _run() -> void:
	await process_frame
	var turn := "turn:127.0.0.1:%s?transport=udp" % args.port
	# 1. Relay only: every candidate is a relay candidate, and data flows through coturn.
	var p := Pair.new({"iceServers": [{"urls": [turn], "username": args.user, "credential": args.password}], "iceTransportPolicy": "relay"})
	var up := await _wait(p, p.open, 20.0)
	_check(up, "relay-only peers connect through TURN")
	print("relay candidates: %d and %d" % [p.cand_a.size(), p.cand_b.size()])
	_check(_all_of_type(p.cand_a, "relay") and _all_of_type(p.cand_b, "relay"), "every candidate is a relay candidate")
	if up:
		p.ca.put_packet("through the relay".to_utf8_buffer())
		var got := await _wait(p, func(): return p.cb.get_available_packet_count() > 0, 5.0)
		_check(got and p.cb.get_packet().get_string_from_utf8() == "through the relay", "data crosses the relay")
		p.cb.put_packet(PackedByteArray([1, 2, 3]))
		got = await _wait(p, func(): return p.ca.get_available_packet_count() > 0, 5.0)
		_check(got and p.ca.get_packet() == PackedByteArray([1, 2, 3]), "and back")
	p.close()
	# 2. Wrong credentials: FAILED, not a hang.
	var bad := Pair.new({"iceServers": [{"urls": [turn], "username": args.user, "credential": "wrong"}], "iceTransportPolicy": "relay"})
	var start := Time.get_ticks_msec()
	var failed_state := await _wait(bad, func(): return bad.a.get_connection_state() == WebRTCPeerConnection.STATE_FAILED, 30.0)
	print("wrong credentials: STATE_FAILED after %d ms" % (Time.get_ticks_msec() - start))
	_check(failed_state, "wrong TURN credentials end in STATE_FAILED")
	bad.close()
	# 2b. The client-to-server leg over TCP and over TLS (UDP relays still): what players behind
	# a UDP-blocking firewall need.
	if args.tls_port != "":
		var stream_servers := {
			"TURN/TCP": {"urls": "turn:127.0.0.1:%s?transport=tcp" % args.port},
			"TURN/TLS": {"urls": "turns:127.0.0.1:%s" % args.tls_port},
		}
		for kind in stream_servers:
			var server: Dictionary = stream_servers[kind]
			server["username"] = args.user
			server["credential"] = args.password
			var sp := Pair.new({"iceServers": [server], "iceTransportPolicy": "relay", "webrtc_rs": {"turnCaFile": args.ca}})
			var ok := await _wait(sp, sp.open, 30.0)
			_check(ok and _all_of_type(sp.cand_a, "relay") and _all_of_type(sp.cand_b, "relay"), "relay-only peers connect over %s" % kind)
			if ok:
				sp.ca.put_packet(kind.to_utf8_buffer())
				var got := await _wait(sp, func(): return sp.cb.get_available_packet_count() > 0, 5.0)
				_check(got and sp.cb.get_packet().get_string_from_utf8() == kind, "data crosses the relay over %s" % kind)
			sp.close()
	# 3. STUN: a server-reflexive candidate appears.
	var s := Pair.new({"iceServers": [{"urls": ["stun:127.0.0.1:%s" % args.port]}]})
	var srflx := await _wait(s, func(): return s.cand_a.any(func(c): return c.contains(" typ srflx")), 10.0)
	_check(srflx, "STUN yields a server-reflexive candidate")
	_check(await _wait(s, s.open, 10.0), "and the pair connects")
	s.close()
	_finish()
