# get_stats()["failure_reason"]: "" unless STATE_FAILED, then why, produced for real here (an
# altered DTLS fingerprint, a TURN server where nothing answers); the error printed when the
# connection fails names the same reason. The other reasons (wrong TURN credentials through
# coturn, remote candidates that never answer, a peer that vanishes) are produced in
# rust/engine/tests/failure_reasons.rs and turn_stream.rs: they need coturn or take 30 s.
extends "res://tests/case.gd"

const FAILED := WebRTCPeerConnection.STATE_FAILED
const MutatingPair = preload("res://tests/mutating_pair.gd")

func _reason(pc: WebRTCPeerConnection) -> String:
	return pc.call("get_stats")["failure_reason"]

## B's answer reaches A with one hex digit of its fingerprint changed: A ends FAILED with
## "dtls_fingerprint", and says so.
func test_failure_reason_dtls_fingerprint() -> void:
	var p := MutatingPair.new()
	pairs.append(p)
	p.answer_edit = func(sdp: String) -> String:
		var at: int = sdp.find("a=fingerprint:sha-256 ") + "a=fingerprint:sha-256 ".length()
		return sdp.substr(0, at) + ("B" if sdp[at] == "A" else "A") + sdp.substr(at + 1)
	var a := p.a
	var b := p.b
	a.create_data_channel("c", {})
	check_eq(_reason(a), "", "no reason while NEW")
	var mark := log_mark()
	a.create_offer()
	var seen_reason_early := [false]
	var failed := func() -> bool:
		a.poll()
		b.poll()
		if a.get_connection_state() != FAILED and _reason(a) != "":
			seen_reason_early[0] = true
		return a.get_connection_state() == FAILED
	check(await wait_until(failed, 10.0), "A ends FAILED")
	check(not seen_reason_early[0], "no reason before FAILED")
	a.poll() # the engine's messages reach Godot's output in poll()
	check_eq(_reason(a), "dtls_fingerprint", "the reason")
	check(mark < 0 or logged(mark, "dtls_fingerprint"), "the error names the reason")
	check(mark < 0 or logged(mark, "fingerprint in its description"), "and says what to check")
	a.close()
	b.close()
	check_eq(_reason(a), "", "no reason once CLOSED")

## Relay only, through a TURN URL where nothing answers (a bound UDP port that never
## replies): FAILED with "turn_unreachable" once the allocation times out (~8 s).
func test_failure_reason_turn_unreachable() -> void:
	var silent := PacketPeerUDP.new()
	check_eq(silent.bind(0, "127.0.0.1"), OK, "a silent UDP port")
	var url := "turn:127.0.0.1:%d" % silent.get_local_port()
	var pc := WebRTCPeerConnection.new()
	check_eq(pc.initialize({"iceServers": [{"urls": url, "username": "u", "credential": "p"}], "iceTransportPolicy": "relay"}), OK, "initialize")
	pc.create_data_channel("c", {})
	var mark := log_mark()
	pc.create_offer()
	check(await wait_until(func(): pc.poll(); return pc.get_connection_state() == FAILED, 20.0), "FAILED")
	pc.poll()
	check_eq(_reason(pc), "turn_unreachable", "the reason")
	check(mark < 0 or logged(mark, "turn_unreachable"), "the error names the reason")
	check(mark < 0 or logged(mark, "firewall"), "and says what to check")
	pc.close()
	silent.close()

## A live connection has no reason.
func test_failure_reason_empty_while_connected() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	check_eq(_reason(r[0].a), "", "CONNECTED: no reason")
	check_eq(_reason(r[0].b), "", "at both ends")
