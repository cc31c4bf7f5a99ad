# The soak: 1,000 connect / open a channel / exchange / close cycles in one process. After a
# warm-up, what the process holds must not grow: resident memory by at most 20 MiB, threads and
# file descriptors not at all. Runs in its own process (test_isolated.gd), Linux (/proc).
extends "res://tests/case.gd"

const LIMIT_S := 300 # test_isolated.gd's time limit for this file
const CYCLES := 1000
const WARM_UP := 50
const RSS_GROWTH_KIB := 20 * 1024

func _cycle(i: int) -> bool:
	var p := new_pair()
	var ch := p.a.create_data_channel("soak", {})
	p.a.create_offer()
	if not await wait_until(func(): return p.received_b.size() == 1 and ch.get_ready_state() == OPEN \
			and p.received_b[0].get_ready_state() == OPEN):
		failures.append("cycle %d: the pair did not connect within 10 s" % i)
		return false
	var rb: WebRTCDataChannel = p.received_b[0]
	ch.put_packet(("ping %d" % i).to_utf8_buffer())
	var ok := (await recv(rb)).get_string_from_utf8() == "ping %d" % i
	rb.put_packet(("pong %d" % i).to_utf8_buffer())
	ok = ok and (await recv(ch)).get_string_from_utf8() == "pong %d" % i
	if not ok:
		failures.append("cycle %d: wrong or missing message" % i)
	cleanup() # close() both, drop them
	return ok

func test_thousand_cycles() -> void:
	if ProcStats.sample().is_empty():
		skip("no /proc (not Linux)")
		return
	var start_ms := Time.get_ticks_msec()
	for i in WARM_UP:
		if not await _cycle(i):
			return
	await settled_fd_count()
	var before := ProcStats.sample()
	note("soak after %d warm-up cycles: %s" % [WARM_UP, ProcStats.describe(before)])
	for i in range(WARM_UP, CYCLES):
		if not await _cycle(i):
			return
	# Closed connections give their sockets and tasks back asynchronously: wait for that.
	await wait_until(func():
		var now := ProcStats.sample()
		return now.threads <= before.threads and now.fds <= before.fds, 10.0)
	var after := ProcStats.sample()
	note("soak after %d cycles: %s (%.1f s)" % [CYCLES, ProcStats.describe(after), (Time.get_ticks_msec() - start_ms) / 1000.0])
	check(after.rss_kib - before.rss_kib <= RSS_GROWTH_KIB, "RSS grew by %.1f MiB (at most 20)" % ((after.rss_kib - before.rss_kib) / 1024.0))
	check(after.threads <= before.threads, "threads grew from %d to %d" % [before.threads, after.threads])
	check(after.fds <= before.fds, "file descriptors grew from %d to %d" % [before.fds, after.fds])
