# Signals, state transitions and the signaling calls' error codes.
extends "res://tests/case.gd"

func test_signals_states_and_candidates() -> void:
	var p := new_pair()
	var ch := p.a.create_data_channel("chat", {})
	check_eq(p.a.create_offer(), OK, "create_offer")
	check_eq(p.a.get_connection_state(), WebRTCPeerConnection.STATE_CONNECTING, "CONNECTING right after create_offer")
	check(p.descriptions_a.is_empty(), "signals only come out of poll()")
	check(await wait_until(func(): return p.a.get_connection_state() == WebRTCPeerConnection.STATE_CONNECTED \
		and p.b.get_connection_state() == WebRTCPeerConnection.STATE_CONNECTED), "both CONNECTED")
	check(await wait_until(func(): return p.a.get_gathering_state() == WebRTCPeerConnection.GATHERING_STATE_COMPLETE \
		and p.b.get_gathering_state() == WebRTCPeerConnection.GATHERING_STATE_COMPLETE), "gathering COMPLETE")
	check_eq(p.descriptions_a.size(), 1, "one description from a")
	check_eq(p.descriptions_b.size(), 1, "one description from b")
	if p.descriptions_a.size() == 1 and p.descriptions_b.size() == 1:
		check_eq(p.descriptions_a[0][0], "offer", "a offers")
		check_eq(p.descriptions_b[0][0], "answer", "b answers")
		var mid := ""
		for line in p.descriptions_a[0][1].split("\n"):
			if line.begins_with("a=mid:"):
				mid = line.substr(6).strip_edges()
		check(not p.candidates_a.is_empty(), "a gathered candidates")
		for c in p.candidates_a:
			check_eq(c[0], mid, "candidate mid is the offer's data m-line mid")
			check_eq(c[1], 0, "m-line index")
			check(c[2].begins_with("candidate:"), "candidate line: " + c[2])
		var has_loopback := false
		for c in p.candidates_a:
			has_loopback = has_loopback or c[2].contains(" 127.0.0.1 ")
		check(has_loopback, "a 127.0.0.1 candidate, so two games on one offline PC connect")
	check_eq(p.a.get_signaling_state(), WebRTCPeerConnection.SIGNALING_STATE_STABLE, "a STABLE after the answer")
	check_eq(p.b.get_signaling_state(), WebRTCPeerConnection.SIGNALING_STATE_STABLE, "b STABLE")
	check(await wait_until(func(): return p.received_b.size() == 1), "data_channel_received on b")
	check(p.received_a.is_empty(), "no data_channel_received for our own channel")
	if p.received_b.size() == 1:
		var rb: WebRTCDataChannel = p.received_b[0]
		check_eq(rb.get_label(), "chat", "received label")
		check(await wait_until(func(): return ch.get_ready_state() == OPEN and rb.get_ready_state() == OPEN), "both ends OPEN")
		check(ch.get_id() != 65535 and ch.get_id() == rb.get_id(), "in-band id assigned and equal (%d, %d)" % [ch.get_id(), rb.get_id()])
		check_eq(ch.call("get_max_message_size"), 262144, "max packet size from the remote's SDP")

func test_signaling_state_have_local_offer() -> void:
	var pc := WebRTCPeerConnection.new()
	pc.create_data_channel("x", {})
	pc.create_offer()
	var p := new_pair() # only for wait_until's polling of something
	check(await wait_until(func():
		pc.poll()
		return pc.get_signaling_state() == WebRTCPeerConnection.SIGNALING_STATE_HAVE_LOCAL_OFFER), "HAVE_LOCAL_OFFER")
	pc.close()

func test_negotiated_channels_are_not_announced() -> void:
	var p := new_pair()
	var ca := p.a.create_data_channel("n", {"negotiated": true, "id": 5})
	var cb := p.b.create_data_channel("n", {"negotiated": true, "id": 5})
	p.a.create_offer()
	check(await wait_until(func(): return ca.get_ready_state() == OPEN and cb.get_ready_state() == OPEN), "negotiated channels open")
	await wait_until(func(): return false, 0.3)
	check(p.received_a.is_empty() and p.received_b.is_empty(), "no data_channel_received for negotiated channels")

func test_signaling_errors() -> void:
	var pc := WebRTCPeerConnection.new()
	check_eq(pc.set_remote_description("bogus", "v=0"), ERR_INVALID_PARAMETER, "unknown type")
	check_eq(pc.set_remote_description("offer", "this is not SDP"), FAILED, "malformed SDP")
	check_eq(pc.set_remote_description("answer", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"), FAILED, "answer without an offer")
	check_eq(pc.set_local_description("bogus", "v=0"), ERR_INVALID_PARAMETER, "local: unknown type")
	check_eq(pc.add_ice_candidate("0", 0, "candidate:not a candidate"), FAILED, "malformed candidate")
	check_eq(pc.add_ice_candidate("0", -1, ""), ERR_INVALID_PARAMETER, "negative m-line index")
	check_eq(pc.add_ice_candidate("0", 0, ""), OK, "end-of-candidates")
	check_eq(pc.add_ice_candidate("0", 0, "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"), OK, "a candidate before the remote description is kept")
	check_eq(pc.get_connection_state(), WebRTCPeerConnection.STATE_NEW, "errors leave the state alone")
	pc.create_data_channel("x", {})
	check_eq(pc.create_offer(), OK, "offer")
	check_eq(pc.create_offer(), FAILED, "second create_offer")
	check_eq(pc.set_remote_description("offer", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"), FAILED, "remote offer when not NEW")
	pc.close()
	check_eq(pc.create_offer(), FAILED, "create_offer after close")
	check_eq(pc.add_ice_candidate("0", 0, ""), FAILED, "candidate after close")
	check_eq(pc.set_remote_description("offer", "v=0"), FAILED, "remote description after close")
	check_eq(pc.poll(), OK, "poll after close")

func test_close_is_immediate_and_reaches_the_remote() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var p = r[0]
	p.a.close()
	check_eq(p.a.get_connection_state(), WebRTCPeerConnection.STATE_CLOSED, "CLOSED at once")
	check_eq(r[1].get_ready_state(), CLOSED, "own channel CLOSED at once")
	check_eq(r[1].put_packet(PackedByteArray([1])), ERR_UNCONFIGURED, "put_packet after close")
	check(await wait_until(func(): return r[2].get_ready_state() == CLOSED, 5.0), "remote channel CLOSED within 5 s")
	check(await wait_until(func(): return p.b.get_connection_state() != WebRTCPeerConnection.STATE_CONNECTED, 10.0), "remote leaves CONNECTED within 10 s")

func test_handler_may_close_the_connection() -> void:
	var p := new_pair()
	p.b.data_channel_received.connect(func(_ch): p.b.close())
	var keep := p.a.create_data_channel("x", {}) # a channel whose last reference goes is closed
	check(keep != null, "channel")
	p.a.create_offer()
	check(await wait_until(func(): return p.b.get_connection_state() == WebRTCPeerConnection.STATE_CLOSED), "closed from inside a handler")
	check_eq(p.b.poll(), OK, "poll after a handler closed it")

## get_stats(): the selected pair, its round-trip time and the traffic, without waiting.
func test_connection_stats() -> void:
	var p := new_pair()
	var ch := p.a.create_data_channel("chat", {})
	var before: Dictionary = p.a.call("get_stats")
	check_eq(before["round_trip_time_ms"], -1.0, "no round-trip time before connecting")
	check(before["local_candidate"].is_empty(), "no pair before connecting")
	p.a.create_offer()
	check(await wait_until(func(): return ch.get_ready_state() == OPEN), "open")
	for i in 5:
		ch.put_packet(PackedByteArray([i]))
	check(await wait_until(func(): return p.received_b.size() == 1 and p.received_b[0].get_available_packet_count() == 5), "5 packets arrive")
	var ready := func() -> bool:
		var s: Dictionary = p.a.call("get_stats")
		return s["round_trip_time_ms"] >= 0.0 and not s["local_candidate"].is_empty() and not s["remote_candidate"].is_empty()
	check(await wait_until(ready, 5.0), "the pair and its round-trip time are known")
	var s: Dictionary = p.a.call("get_stats")
	check_eq(s["local_candidate"].get("type"), "host", "a host candidate on loopback")
	check_eq(s["local_candidate"].get("protocol"), "udp", "over UDP")
	var remote: Dictionary = s["remote_candidate"]
	check(remote.get("type") == "prflx" or remote.get("port", 0) > 0, "the remote end: its port, or peer-reflexive (%s)" % s)
	check_eq(s["relayed"], false, "not relayed")
	check(s["retransmissions"] is int and s["retransmissions"] >= 0, "SCTP retransmissions counted")
	check(s["bytes_sent"] > 0 and s["packets_received"] > 0, "traffic counted")
	check_eq(s["messages_sent"], 5, "messages over all channels")
	check_eq(p.b.call("get_stats")["messages_received"], 5, "and at the remote")
	p.a.close()
	check(p.a.call("get_stats") is Dictionary, "after close")

## get_stats() returns figures at most 200 ms old: 100 KiB sent 300 ms earlier show on the first
## call, and on a call one second after the previous one (a HUD that asks once a second).
func test_connection_stats_are_fresh() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var p: Pair = r[0]
	for round in ["the first call", "a call a second after the previous one"]:
		var chunk := PackedByteArray()
		chunk.resize(1024)
		for i in 100:
			r[1].put_packet(chunk)
		var rx: WebRTCDataChannel = r[2]
		var got := [0]
		var read_all := func() -> bool:
			while rx.get_available_packet_count() > 0:
				rx.get_packet()
				got[0] += 1
			return got[0] == 100
		check(await wait_until(read_all), "100 KiB arrive")
		var quiet := Time.get_ticks_msec() + (300 if round == "the first call" else 1000)
		await wait_until(func(): return Time.get_ticks_msec() >= quiet)
		var started := Time.get_ticks_usec()
		var a: Dictionary = p.a.call("get_stats")
		var b: Dictionary = p.b.call("get_stats")
		note("%s took %d us" % [round, Time.get_ticks_usec() - started])
		var total := 102400 * (1 if round == "the first call" else 2)
		check(a["bytes_sent"] >= total, "%s: the sender's bytes_sent shows the 100 KiB (%d)" % [round, a["bytes_sent"]])
		check(b["bytes_received"] >= total, "%s: the receiver's bytes_received shows them (%d)" % [round, b["bytes_received"]])

## restart_ice(): a new offer with new ICE credentials goes through the usual signals; the
## channel stays open and carries data after it. Not before the first exchange.
func test_restart_ice() -> void:
	var p := new_pair()
	var ch := p.a.create_data_channel("chat", {})
	check_eq(p.a.call("restart_ice"), ERR_UNCONFIGURED, "not before the first offer/answer exchange")
	p.a.create_offer()
	check(await wait_until(func(): return ch.get_ready_state() == OPEN and p.received_b.size() == 1), "open")
	check(await wait_until(func(): return p.a.get_signaling_state() == WebRTCPeerConnection.SIGNALING_STATE_STABLE), "stable")
	check_eq(p.a.call("restart_ice"), OK, "restart_ice")
	check(await wait_until(func(): return p.descriptions_a.size() == 2 and p.descriptions_b.size() == 2), "a new offer and its answer")
	if p.descriptions_a.size() == 2:
		check_eq(p.descriptions_a[1][0], "offer", "the restart is an offer")
		var ufrag := func(sdp: String) -> String:
			for line in sdp.split("\n"):
				if line.begins_with("a=ice-ufrag:"):
					return line.strip_edges()
			return ""
		check(ufrag.call(p.descriptions_a[1][1]) != ufrag.call(p.descriptions_a[0][1]), "with new ICE credentials")
	check_eq(ch.get_ready_state(), OPEN, "the channel stays open")
	ch.put_packet("after".to_utf8_buffer())
	var rb: WebRTCDataChannel = p.received_b[0]
	check(await wait_until(func(): return rb.get_available_packet_count() == 1), "data after the restart")
	check(await wait_until(func(): return p.a.get_connection_state() == WebRTCPeerConnection.STATE_CONNECTED), "connected")
