# The link simulator: initialize({"webrtc_rs": {"simulate": {delay_ms, jitter_ms, loss_percent}}})
# and the network/webrtc_rs/simulate_* project settings delay and drop what each connection sends.
extends "res://tests/case.gd"

const SETTINGS := ["network/webrtc_rs/simulate_delay_ms", "network/webrtc_rs/simulate_jitter_ms", "network/webrtc_rs/simulate_loss_percent"]

func _sim(delay := 0.0, jitter := 0.0, loss := 0.0) -> Dictionary:
	return {"webrtc_rs": {"simulate": {"delay_ms": delay, "jitter_ms": jitter, "loss_percent": loss}}}

## A pair with config on both sides and the negotiated channels "r" (reliable, id 1) and "u"
## (unreliable, id 2) open on both; [pair, a_r, b_r, a_u, b_u] or [] after a failure.
func _sim_pair(config: Dictionary, timeout_s := 20.0) -> Array:
	var p := new_pair()
	check_eq(p.a.initialize(config), OK, "initialize a")
	check_eq(p.b.initialize(config), OK, "initialize b")
	var chans := [
		p.a.create_data_channel("r", {"negotiated": true, "id": 1}),
		p.b.create_data_channel("r", {"negotiated": true, "id": 1}),
		p.a.create_data_channel("u", {"negotiated": true, "id": 2, "ordered": false, "maxRetransmits": 0}),
		p.b.create_data_channel("u", {"negotiated": true, "id": 2, "ordered": false, "maxRetransmits": 0}),
	]
	p.a.create_offer()
	var open := func() -> bool:
		return chans.all(func(c): return c.get_ready_state() == OPEN)
	if not await wait_until(open, timeout_s):
		failures.append("the pair did not open its channels within %d s" % timeout_s)
		return []
	return [p] + chans

## Median of 7 application round trips a -> b -> a on the reliable channel (b echoes as soon
## as a frame's poll() makes the message readable, so a few frames are included).
func _ping_ms(r: Array) -> float:
	var samples: Array = await _pings(r, 7)
	return -1.0 if samples.is_empty() else samples[3]

## n application round trips, sorted ([] after a failure). Measured in frames: headless Godot
## sleeps 6.9 ms after each (low_processor_usage_mode_sleep_usec), so 80 ms of added delay read
## as 69 or 75.9 ms, one frame either side of the bound; the pings run with 0.5 ms frames.
func _pings(r: Array, n: int) -> Array:
	var frame_sleep := OS.low_processor_usage_mode_sleep_usec
	OS.low_processor_usage_mode_sleep_usec = 500
	var samples: Array = await _timed_pings(r, n)
	OS.low_processor_usage_mode_sleep_usec = frame_sleep
	return samples

func _timed_pings(r: Array, n: int) -> Array:
	var samples: Array = []
	for i in n:
		var sent := Time.get_ticks_usec()
		r[1].put_packet(PackedByteArray([i]))
		var echoed := func() -> bool:
			while r[2].get_available_packet_count() > 0:
				r[2].put_packet(r[2].get_packet())
			return r[1].get_available_packet_count() > 0
		if not await wait_until(echoed, 5.0):
			failures.append("ping %d not answered" % i)
			return []
		r[1].get_packet()
		samples.append((Time.get_ticks_usec() - sent) / 1000.0)
	samples.sort()
	return samples

## Both sides at 40 ms: an ~80 ms round trip; a pair without simulation in the same process
## stays fast.
func test_simulated_delay_both_sides_doubles_the_round_trip() -> void:
	var slow: Array = await _sim_pair(_sim(40.0))
	var fast: Array = await _sim_pair({})
	if slow.is_empty() or fast.is_empty():
		return
	var slow_ms: float = await _ping_ms(slow)
	var fast_ms: float = await _ping_ms(fast)
	note("round trip: %.1f ms at 40 ms each side, %.1f ms without simulation" % [slow_ms, fast_ms])
	# Both include the frames the echo waits for (each side reads in poll()): compare them.
	var added := slow_ms - fast_ms
	check(added >= 72.0 and added < 120.0, "40 ms each way adds ~80 ms to the round trip (%.1f ms)" % added)
	check(fast_ms < 60.0, "the control pair is not delayed (%.1f ms)" % fast_ms)
	var stats: Dictionary = slow[0].a.call("get_stats")
	check(stats["round_trip_time_ms"] < 0.0 or stats["round_trip_time_ms"] >= 70.0, "ICE's round trip shows the delay too (%s)" % stats["round_trip_time_ms"])

## Jitter spreads the round trips: at 30 +- 20 ms each side they vary by tens of ms; without
## jitter they do not.
func test_simulated_jitter_varies_the_delay() -> void:
	var jittery: Array = await _sim_pair(_sim(30.0, 20.0))
	var steady: Array = await _sim_pair(_sim(30.0))
	if jittery.is_empty() or steady.is_empty():
		return
	var j: Array = await _pings(jittery, 15)
	var s: Array = await _pings(steady, 15)
	if j.is_empty() or s.is_empty():
		return
	note("15 round trips at 30 +- 20 ms: %.1f to %.1f ms; at 30 ms: %.1f to %.1f ms" % [j[0], j[-1], s[0], s[-1]])
	check(j[-1] - j[0] > 20.0, "jitter spreads them (%.1f ms)" % (j[-1] - j[0]))
	check(j[0] >= 20.0, "never below the delay minus the jitter, twice (%.1f ms)" % j[0])
	check(j[-1] - j[0] > s[-1] - s[0], "more than without jitter (%.1f ms)" % (s[-1] - s[0]))

## 20 % loss on the sender: about 80 % of an unreliable stream arrives.
func test_simulated_loss_drops_a_share_of_an_unreliable_stream() -> void:
	var p := new_pair()
	check_eq(p.a.initialize(_sim(0.0, 0.0, 20.0)), OK, "initialize the lossy sender")
	var tx := p.a.create_data_channel("u", {"negotiated": true, "id": 2, "ordered": false, "maxRetransmits": 0})
	var rx := p.b.create_data_channel("u", {"negotiated": true, "id": 2, "ordered": false, "maxRetransmits": 0})
	p.a.create_offer()
	if not await wait_until(func(): return tx.get_ready_state() == OPEN and rx.get_ready_state() == OPEN, 30.0):
		failures.append("did not open under 20 % loss")
		return
	var got := [0]
	var total := 1000
	for i in total:
		var msg := PackedByteArray([i % 256, i / 256])
		msg.resize(1000) # one message per datagram: each is lost on its own
		tx.put_packet(msg)
		if i % 20 == 19:
			await wait_until(func():
				while rx.get_available_packet_count() > 0:
					rx.get_packet()
					got[0] += 1
				return true)
			await tree.process_frame
	var until := Time.get_ticks_msec() + 1000
	await wait_until(func():
		while rx.get_available_packet_count() > 0:
			rx.get_packet()
			got[0] += 1
		return Time.get_ticks_msec() > until)
	var share := float(got[0]) / total
	note("20 %% loss: %d of %d delivered (%.1f %%)" % [got[0], total, share * 100.0])
	check(share > 0.74 and share < 0.86, "about 80 %% delivered (%.1f %%)" % (share * 100.0))

## 10 % loss and 20 ms each side: a reliable channel still delivers everything (300 messages
## of 1000 bytes), in order.
func test_simulated_loss_keeps_reliable_delivery_complete_and_in_order() -> void:
	var r: Array = await _sim_pair(_sim(20.0, 0.0, 10.0), 30.0)
	if r.is_empty():
		return
	var total := 300
	for i in total:
		var msg := PackedByteArray([i % 256, i / 256])
		msg.resize(1000) # 300 KB: hundreds of packets, so the loss hits some
		r[1].put_packet(msg)
	var got: Array = []
	var all := func() -> bool:
		while r[2].get_available_packet_count() > 0:
			var pkt: PackedByteArray = r[2].get_packet()
			got.append(pkt[0] + pkt[1] * 256)
		return got.size() >= total
	check(await wait_until(all, 30.0), "all %d arrive (%d)" % [total, got.size()])
	var in_order := true
	for i in got.size():
		if got[i] != i:
			in_order = false
			break
	check(in_order, "in order")
	# A first get_stats() waits at most 50 ms for a refresh (a busy runtime may take longer and
	# give the figures as they were): ask as a HUD would, until they show the loss.
	var shows_loss := func() -> bool:
		return r[0].a.call("get_stats")["retransmissions"] > 0
	var shown: bool = await wait_until(shows_loss, 2.0)
	var s: Dictionary = r[0].a.call("get_stats")
	note("reliable under 10 %% loss: %d messages, %d retransmissions, %d bytes sent" % [got.size(), s["retransmissions"], s["bytes_sent"]])
	check(shown, "the loss shows as retransmissions")

## The project settings apply to connections made without the option (a whole game, e.g.
## WebRTCMultiplayerPeer sessions), read at initialize(); the option overrides them.
func test_simulate_project_settings() -> void:
	ProjectSettings.set_setting(SETTINGS[0], 40.0)
	var by_setting: Array = await _sim_pair({})
	var overridden: Array = await _sim_pair(_sim(0.0))
	for s in SETTINGS:
		ProjectSettings.set_setting(s, 0.0)
	var after: Array = await _sim_pair({})
	if by_setting.is_empty() or overridden.is_empty() or after.is_empty():
		return
	var slow: float = await _ping_ms(by_setting)
	var fast: float = await _ping_ms(overridden)
	var reset: float = await _ping_ms(after)
	note("project setting 40 ms: %.1f ms; option delay_ms 0: %.1f ms; setting back to 0: %.1f ms" % [slow, fast, reset])
	check(slow - fast >= 72.0, "the setting delays connections without the option (%.1f ms against %.1f)" % [slow, fast])
	check(slow - reset >= 72.0, "read at initialize(): back at 0 it is fast again (%.1f ms)" % reset)
	for s in SETTINGS:
		check(ProjectSettings.has_setting(s), "%s is registered" % s)

## Negative, NaN, over 100 % loss, wrong types: ERR_INVALID_PARAMETER with a message naming
## the key; the old connection is kept. A bad project setting fails initialize() too.
func test_simulate_invalid_values() -> void:
	var pc := WebRTCPeerConnection.new()
	for bad in [{"delay_ms": -1.0}, {"jitter_ms": -5}, {"loss_percent": 100.5}, {"loss_percent": -0.1}, {"delay_ms": NAN},
			{"delay_ms": INF}, {"delay_ms": "40"}, {"loss_percent": null}]:
		var mark := log_mark()
		check_refused(pc.initialize({"webrtc_rs": {"simulate": bad}}), ERR_INVALID_PARAMETER, "simulate %s" % var_to_str(bad), mark)
		var key: String = bad.keys()[0]
		check(mark < 0 or logged(mark, key), "the message names '%s'" % key)
	var mark := log_mark()
	check_refused(pc.initialize({"webrtc_rs": {"simulate": 40}}), ERR_INVALID_PARAMETER, "simulate not a Dictionary", mark)
	check_eq(pc.initialize({"webrtc_rs": {"simulate": {"loss_percent": 100}}}), OK, "100 % is valid")
	check_eq(pc.initialize({"webrtc_rs": {"simulate": {}}}), OK, "an empty simulate is valid")
	ProjectSettings.set_setting(SETTINGS[2], 150.0)
	mark = log_mark()
	check_refused(pc.initialize({}), ERR_INVALID_PARAMETER, "loss setting 150", mark)
	check_eq(pc.initialize(_sim(0.0, 0.0, 0.0)), OK, "the option overrides a bad setting")
	ProjectSettings.set_setting(SETTINGS[2], 0.0)
	check_eq(pc.initialize({}), OK, "the setting back to 0")
	pc.close()

## One warning per process says the simulation is on, however many connections use it.
func test_simulate_warns_once_per_process() -> void:
	var mark := log_mark()
	var r1: Array = await _sim_pair(_sim(5.0))
	var r2: Array = await _sim_pair(_sim(5.0))
	if mark < 0 or r1.is_empty() or r2.is_empty():
		return
	var count := func(since: int) -> int:
		return log_since(since).filter(func(e): return "Link simulation is on" in e).size()
	check(count.call(mark) <= 1, "at most one warning for these four connections (%d)" % count.call(mark))
	check_eq(count.call(0), 1, "one warning in the run so far (the kept log)")
