# Hostile input, session descriptions: garbage, missing fields, absurd sizes, duplicated
# sections, odd attributes, wrong types and wrong states. Malformed SDP is refused at once
# (FAILED, or ERR_INVALID_PARAMETER when ICE credentials or the fingerprint are missing) with one
# short message; odd but valid SDP connects; SDP that cannot work ends in STATE_FAILED.
extends "res://tests/case.gd"

const MutatingPair = preload("res://tests/mutating_pair.gd")

## A real offer (from a connection with one channel), to edit.
func _offer() -> String:
	var p := new_pair()
	p.b = null # nobody answers
	p.a.create_data_channel("x", {})
	p.a.create_offer()
	await wait_until(func(): return not p.descriptions_a.is_empty(), 5.0)
	return p.descriptions_a[0][1] if not p.descriptions_a.is_empty() else ""

static func _drop_lines(sdp: String, prefix: String) -> String:
	return "\r\n".join(Array(sdp.split("\r\n")).filter(func(l): return not l.begins_with(prefix)))

static func _set_attr(sdp: String, name: String, value: String) -> String:
	return "\r\n".join(Array(sdp.split("\r\n")).map(func(l): return "a=%s:%s" % [name, value] if l.begins_with("a=%s:" % name) else l))

func _remote_code(type: String, sdp: String) -> int:
	var pc := WebRTCPeerConnection.new()
	var err := pc.set_remote_description(type, sdp)
	pc.close()
	return err

func test_malformed_offers_are_refused() -> void:
	var offer: String = await _offer()
	check(offer.contains("m=application"), "a real offer to start from")
	var garbage := ""
	for i in 4096:
		garbage += String.chr(1 + (i * 7919 + 13) % 255) # every byte value but NUL
	var bad := [
		["empty", "", FAILED],
		["binary garbage", garbage, FAILED],
		["1 MiB of garbage", "x".repeat(1 << 20), FAILED],
		["no v=", offer.replace("v=0\r\n", ""), FAILED],
		["no o=", _drop_lines(offer, "o="), FAILED],
		["no s=", _drop_lines(offer, "s="), FAILED],
		["no t=", _drop_lines(offer, "t="), FAILED],
		["no m= section", offer.split("m=")[0], ERR_INVALID_PARAMETER],
		["no a=ice-ufrag", _drop_lines(offer, "a=ice-ufrag"), ERR_INVALID_PARAMETER],
		["no a=ice-pwd", _drop_lines(offer, "a=ice-pwd"), ERR_INVALID_PARAMETER],
		["no a=fingerprint", _drop_lines(offer, "a=fingerprint"), ERR_INVALID_PARAMETER],
	]
	for case in bad:
		var m := log_mark()
		check_refused(_remote_code("offer", case[1]), case[2], "offer with " + case[0], m)

func test_wrong_description_types() -> void:
	var offer: String = await _offer()
	for type in ["Offer", "OFFER", "", "pranswer", "rollback", "answer ", "x".repeat(1 << 20)]:
		var m := log_mark()
		check_refused(_remote_code(type, offer), ERR_INVALID_PARAMETER, "type '%s'" % type.left(20), m)
		var pc := WebRTCPeerConnection.new()
		check_eq(pc.set_local_description(type, offer), ERR_INVALID_PARAMETER, "local type '%s'" % type.left(20))
		pc.close()

func test_descriptions_in_the_wrong_state() -> void:
	var offer: String = await _offer()
	var m := log_mark()
	check_refused(_remote_code("answer", offer), FAILED, "an answer without an offer", m)
	var pc := WebRTCPeerConnection.new()
	pc.create_data_channel("x", {})
	pc.create_offer()
	m = log_mark()
	check_refused(pc.set_remote_description("offer", offer), FAILED, "an offer in HAVE_LOCAL_OFFER (glare)", m)
	m = log_mark()
	check_refused(pc.set_local_description("offer", "garbage"), FAILED, "a garbage local description", m)
	pc.close()
	check_eq(pc.set_remote_description("offer", offer), FAILED, "an offer after close()")
	check_eq(pc.set_local_description("offer", offer), FAILED, "a local description after close()")

## Connects p (a offers) and returns whether its channel opened on both ends within timeout_s.
func _connects(p, timeout_s := 10.0) -> bool:
	var ch: WebRTCDataChannel = p.a.create_data_channel("x", {})
	p.a.create_offer()
	var ok: bool = await wait_until(func(): return ch.get_ready_state() == OPEN and p.received_b.size() == 1 \
		and p.received_b[0].get_ready_state() == OPEN, timeout_s)
	if ok:
		ch.put_packet("through".to_utf8_buffer())
		ok = (await recv(p.received_b[0])).get_string_from_utf8() == "through"
	return ok

func _edited_pair(offer_edit: Callable, answer_edit := Callable()) -> MutatingPair:
	var p := MutatingPair.new()
	p.offer_edit = offer_edit
	p.answer_edit = answer_edit
	pairs.append(p)
	return p

func test_odd_but_valid_offers_connect() -> void:
	var cases := {
		"a duplicated m= section (same mid)": func(s): return s + s.substr(s.find("m=")),
		"a second m= section (other mid)": func(s): return s + s.substr(s.find("m=")).replace("a=mid:0", "a=mid:1"),
		"LF line endings": func(s): return s.replace("\r\n", "\n"),
		"no a=setup": func(s): return _drop_lines(s, "a=setup"),
		"a=setup:passive": func(s): return s.replace("a=setup:actpass", "a=setup:passive"),
		"no a=sctp-port": func(s): return _drop_lines(s, "a=sctp-port"),
		"a=sctp-port:0": func(s): return _set_attr(s, "sctp-port", "0"),
		"a 1 MiB attribute": func(s): return s + "a=x-junk:" + "x".repeat(1 << 20) + "\r\n",
		"100,000 extra lines": func(s): return s + "a=x-junk:1\r\n".repeat(100000),
		"unknown attributes": func(s): return s + "a=x-ünïcode:✓\r\na=\r\na=:\r\n",
	}
	for name in cases:
		var p := _edited_pair(cases[name])
		check(await _connects(p), "an offer with %s connects (set_remote_description gave %s)" % [name, p.remote_errors])
		p.close()

func test_wrong_fingerprints_fail_the_connection() -> void:
	for fp in ["sha-256 00:11", "md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", "sha-256 zz"]:
		var p := _edited_pair(func(s): return _set_attr(s, "fingerprint", fp))
		var ch := p.a.create_data_channel("x", {})
		p.a.create_offer()
		check(await wait_until(func(): return p.b.get_connection_state() == WebRTCPeerConnection.STATE_FAILED, 10.0),
			"fingerprint '%s': the verifying side reaches STATE_FAILED" % fp)
		check(ch.get_ready_state() != OPEN, "fingerprint '%s': the channel never opens" % fp)
		p.close()

func test_a_garbage_candidate_line_in_the_offer_fails_the_connection() -> void:
	var p := _edited_pair(func(s): return s + "a=candidate:garbage\r\n")
	var m := log_mark()
	p.a.create_data_channel("x", {})
	p.a.create_offer()
	check(await wait_until(func(): return p.b.get_connection_state() == WebRTCPeerConnection.STATE_FAILED, 10.0), "STATE_FAILED")
	# The engine's message comes out of the next poll().
	check(m < 0 or await wait_until(func(): return logged(m, "Could not apply the remote description"), 2.0), "with an error that says so")

func test_max_message_size_from_the_answer() -> void:
	var cases := [["0", 262144], ["1200", 1200], ["-1", 65536], ["abc", 65536], ["1073741823", 262144]]
	for case in cases:
		var p := _edited_pair(Callable(), func(s): return _set_attr(s, "max-message-size", case[0]))
		var ch := p.a.create_data_channel("x", {})
		p.a.create_offer()
		if not await wait_until(func(): return ch.get_ready_state() == OPEN, 10.0):
			check(false, "max-message-size:%s: the channel opens" % case[0])
			continue
		check_eq(ch.call("get_max_message_size"), case[1], "max-message-size:%s" % case[0])
		var too_big := PackedByteArray()
		too_big.resize(case[1] + 1)
		check_eq(ch.put_packet(too_big), ERR_INVALID_PARAMETER, "max-message-size:%s: one byte more is refused" % case[0])
		p.close()

## A remote max-message-size larger than any integer means "huge", not "unset": capped at
## what webrtc-rs sends (262144), not the RFC 8841 default for a missing attribute (65536).
func test_max_message_size_larger_than_an_integer() -> void:
	var p := _edited_pair(Callable(), func(s): return _set_attr(s, "max-message-size", "18446744073709551616"))
	var ch := p.a.create_data_channel("x", {})
	p.a.create_offer()
	check(await wait_until(func(): return ch.get_ready_state() == OPEN, 10.0), "opens")
	check_eq(ch.call("get_max_message_size"), 262144, "max-message-size:18446744073709551616")

## A remote that says max-message-size:1 cannot take even the channel-open message: the
## channel must not wait in CONNECTING forever without a word. The answer is refused.
func test_max_message_size_1_is_not_a_silent_hang() -> void:
	var p := _edited_pair(Callable(), func(s): return _set_attr(s, "max-message-size", "1"))
	var m := log_mark()
	var ch := p.a.create_data_channel("x", {})
	p.a.create_offer()
	check(await wait_until(func(): return p.remote_errors.size() == 2, 5.0), "offer and answer were applied")
	check_eq(p.remote_errors[1] if p.remote_errors.size() == 2 else OK, ERR_INVALID_PARAMETER, "max-message-size:1: the answer is refused")
	check(m < 0 or logged(m, "smaller than the 13-byte message that opens data channel 'x'"), "with a message that says why")
	check(ch.get_ready_state() == WebRTCDataChannel.STATE_CONNECTING, "the channel waits for a usable answer")

## An offer with no data channel section (audio only): refused at once, or the connection
## fails; it was answered (with an answer the offerer refuses) and both stayed CONNECTING.
func test_an_offer_without_a_data_section() -> void:
	var p := _edited_pair(func(s): return s.replace("m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2"))
	p.a.create_data_channel("x", {})
	p.a.create_offer()
	await wait_until(func(): return not p.remote_errors.is_empty(), 5.0)
	var refused: bool = not p.remote_errors.is_empty() and p.remote_errors[0] != OK
	check(refused or await wait_until(func(): return p.b.get_connection_state() == WebRTCPeerConnection.STATE_FAILED, 15.0),
		"refused, or STATE_FAILED within 15 s (set_remote_description gave %s, state %d)" % [p.remote_errors, p.b.get_connection_state()])

## An offer that says a=setup:active (RFC 8829 wants actpass; the answerer would have to take
## the passive role, which webrtc-rs cannot): it stayed CONNECTING forever on both sides. It is
## refused at once, with a message.
func test_an_offer_with_setup_active() -> void:
	var p := _edited_pair(func(s): return s.replace("a=setup:actpass", "a=setup:active"))
	var m := log_mark()
	p.a.create_data_channel("x", {})
	p.a.create_offer()
	check(await wait_until(func(): return not p.remote_errors.is_empty(), 5.0), "the offer reached b")
	check_eq(p.remote_errors[0] if not p.remote_errors.is_empty() else OK, ERR_INVALID_PARAMETER, "a=setup:active: refused")
	check(m < 0 or logged(m, "a=setup:active"), "with a message that says why")
