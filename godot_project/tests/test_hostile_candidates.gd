# Hostile input, remote ICE candidates: garbage, huge, unknown mids, odd m-line indexes,
# hostnames, IPv6, unresolvable .local names, thousands of them, before the remote
# description. Malformed ones are refused (FAILED; a bad index ERR_INVALID_PARAMETER) with one
# short message; valid but useless ones are kept (up to 256 per connection) and never stop the
# real ones from working.
extends "res://tests/case.gd"

const HOST := "candidate:1 1 udp 2130706431 %s %d typ host"

func _code(mid: String, index: int, cand: String) -> int:
	var pc := WebRTCPeerConnection.new()
	var err := pc.add_ice_candidate(mid, index, cand)
	pc.close()
	return err

func test_malformed_candidates_are_refused() -> void:
	var bad := [
		["candidate:1", FAILED], ["candidate:" + "x".repeat(1 << 20), FAILED], ["garbage", FAILED],
		["candidate:1 1 udp 2130706431 127.0.0.1 50000", FAILED], # no typ
		["candidate:1 1 udp 2130706431 127.0.0.1 50000 typ bogus", FAILED],
		["candidate:1 1 udp 2130706431 127.0.0.1 70000 typ host", FAILED], # port
		["candidate:1 1 udp 99999999999999999999 127.0.0.1 50000 typ host", FAILED], # priority
		["candidate:1 1 udp -5 127.0.0.1 50000 typ host", FAILED],
		["candidate:1 1 sctp 2130706431 127.0.0.1 50000 typ host", FAILED], # transport
		["candidate:1 1 udp 2130706431 ü 5 typ host", FAILED],
		[HOST % ["localhost", 50000], FAILED], # a DNS name that is not mDNS
		[HOST % ["fe80::1%eth0", 50000], FAILED], # a zone id
	]
	for case in bad:
		var m := log_mark()
		check_refused(_code("0", 0, case[0]), case[1], "candidate '%s'" % case[0].left(60), m)
		check(m < 0 or logged(m, "Invalid ICE candidate"), "candidate '%s': the message says why" % case[0].left(60))

func test_m_line_indexes() -> void:
	var cand := HOST % ["127.0.0.1", 50000]
	check_eq(_code("0", 65535, cand), OK, "index 65535")
	for index in [-1, 65536, 2147483647, -2147483648]:
		var m := log_mark()
		check_refused(_code("0", index, cand), ERR_INVALID_PARAMETER, "index %d" % index, m)

func test_odd_but_valid_candidates_are_kept() -> void:
	for cand in ["", "candidate:", "a=" + HOST % ["127.0.0.1", 50000], (HOST % ["127.0.0.1", 50000]).trim_prefix("candidate:"),
			HOST % ["::1", 50000], HOST % ["0f3a7c1e-aaaa-bbbb-cccc-1234567890ab.local", 50000], HOST % ["127.0.0.1", 0],
			HOST % ["255.255.255.255", 9], HOST % ["224.0.0.1", 9], HOST % ["0.0.0.0", 9],
			"candidate:1 2 udp 2130706431 127.0.0.1 50000 typ host", "candidate:1 1 UDP 2130706431 127.0.0.1 50000 typ host",
			"candidate:1 1 tcp 2130706431 127.0.0.1 50000 typ host tcptype passive",
			"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ srflx raddr 0.0.0.0 rport 0",
			"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host generation 0 ufrag abc network-id 1"]:
		check_eq(_code("0", 0, cand), OK, "candidate '%s'" % cand.left(70))
	for mid in ["nonexistent", "", "x".repeat(100000)]:
		check_eq(_code(mid, 0, HOST % ["127.0.0.1", 50000]), OK, "mid '%s' (the mid is not checked before the remote description)" % mid.left(20))

## Candidates that lead nowhere, sent before and during the real ones, in the thousands and
## with unknown mids: the pair still connects.
class NoisyPair extends "res://tests/pair.gd":
	var noise: Array = []
	func _on_a_description(type: String, sdp: String) -> void:
		for c in noise: # before the remote description
			b.add_ice_candidate(c[0], c[1], c[2])
		super(type, sdp)
	func _on_a_candidate(mid: String, index: int, cand: String) -> void:
		for c in noise.slice(0, 20): # and between the real ones
			b.add_ice_candidate(c[0], c[1], c[2])
		super(mid, index, cand)

func _connects_with_noise(noise: Array) -> bool:
	var p := NoisyPair.new()
	p.noise = noise
	pairs.append(p)
	var ch := p.a.create_data_channel("x", {})
	p.a.create_offer()
	return await wait_until(func(): return ch.get_ready_state() == OPEN, 10.0)

func test_useless_candidates_do_not_stop_the_real_ones() -> void:
	check(await _connects_with_noise([["0", 0, HOST % ["0f3a7c1e-aaaa-bbbb-cccc-1234567890ab.local", 9]]]), "an unresolvable .local candidate")
	check(await _connects_with_noise([["0", 0, HOST % ["::1", 9]], ["0", 0, HOST % ["192.0.2.1", 9]]]), "IPv6 and unreachable candidates")
	check(await _connects_with_noise([["nonexistent", 7, HOST % ["192.0.2.1", 9]], ["", 0, ""]]), "unknown mid and index, an early end-of-candidates")
	var many: Array = []
	for i in 200:
		many.append(["0", 0, HOST % ["192.0.2.%d" % (1 + i % 250), 10000 + i]])
	check(await _connects_with_noise(many), "200 unreachable candidates")

## A connection takes 256 remote candidates; the rest are refused (FAILED) with one message,
## however many come, and each refusal is cheap.
func test_remote_candidates_are_capped() -> void:
	# The previous test's connections, closed, may still be sending checks to its unreachable
	# candidates (each failed send is a warning in the process-wide log): once their sockets
	# are gone, a poll() prints what is left, before the mark.
	await settled_fd_count()
	var pc := WebRTCPeerConnection.new()
	pc.poll()
	var m := log_mark()
	var codes := {}
	var start := Time.get_ticks_usec()
	for i in 20000:
		var err := pc.add_ice_candidate("0", 0, HOST % ["192.0.2.%d" % (1 + i % 250), 10000 + i % 50000])
		codes[err] = codes.get(err, 0) + 1
	var ms := (Time.get_ticks_usec() - start) / 1000.0
	pc.close()
	note("20,000 candidates added in %.0f ms" % ms)
	check_eq(codes.get(OK, 0), 256, "candidates taken")
	check_eq(codes.get(FAILED, 0), 20000 - 256, "candidates refused with FAILED")
	if m >= 0:
		var errors := log_since(m)
		check_eq(errors.size(), 1, "one error message for 19,744 refusals")
		check(logged(m, "the most it takes"), "the message says why")
