# The benchmark workloads through the GDScript API: two WebRTCPeerConnection.new() peers in one
# headless Godot process on loopback, the same workloads and JSON keys as the Rust runner
# (bench/engine) and the libdatachannel one (bench/libdatachannel_bench.py). Run by `cargo xtask bench`
# in this folder's Godot project: `godot --headless --path bench/godot -s res://bench.gd -- ...`.
#
# Arguments after `--`: --mode tight|frame --only WORKLOADS --limit-kb N
#   tight: polled in a loop as fast as possible; frame: polled once per frame at 60 fps, as a game.
#   --only: one workload or a comma-separated list (setup, rtt, bulk, unreliable, many); default all.
#   --limit-kb: sets network/limits/webrtc/max_channel_in_buffer_kb; by default it is left at
#     Godot's default (64 KiB of unread data per channel), what games run with.
# Prints one line: BENCH_JSON {...}
extends SceneTree

var mode := "tight"
var only: PackedStringArray = []
var limit_kb := 0
const MiB := 1048576.0

func _init() -> void:
	var a := OS.get_cmdline_user_args()
	for i in range(0, a.size() - 1, 2):
		if a[i] == "--mode":
			mode = a[i + 1]
		elif a[i] == "--only":
			only = a[i + 1].split(",")
		elif a[i] == "--limit-kb":
			limit_kb = int(a[i + 1])
	create_timer(600.0).timeout.connect(func():
		printerr("bench: watchdog")
		quit(1))
	_run()

func _run() -> void:
	await process_frame
	if limit_kb > 0:
		ProjectSettings.set_setting("network/limits/webrtc/max_channel_in_buffer_kb", limit_kb)
	if mode == "frame":
		Engine.max_fps = 60
	var out := {"limit_kb": ProjectSettings.get_setting("network/limits/webrtc/max_channel_in_buffer_kb")}
	for w in ["setup", "rtt", "bulk", "unreliable", "many"]:
		if only.is_empty() or w in only:
			var r: Dictionary = await call("_" + w)
			if r.is_empty():
				printerr("bench: %s failed" % w)
				quit(1)
				return
			out.merge(r)
	print("BENCH_JSON " + JSON.stringify(out))
	quit(0)

## One step of waiting: a tight loop yields nothing, a game waits for the next frame.
func _step() -> void:
	if mode == "frame":
		await process_frame

## Process CPU (utime + stime), in ms; server.gd uses it too.
static func cpu_ms() -> float:
	# utime + stime of this process, in clock ticks (100 per second on Linux).
	var f := FileAccess.open("/proc/self/stat", FileAccess.READ)
	if f == null:
		return 0.0
	# /proc files report size 0, so read a line rather than "the whole file".
	var fields := f.get_line().split(") ")[1].split(" ")
	return (int(fields[11]) + int(fields[12])) * 10.0

## Resident memory in bytes; server.gd uses it too.
static func rss() -> int:
	var f := FileAccess.open("/proc/self/statm", FileAccess.READ)
	return int(f.get_line().split(" ")[1]) * 4096 if f != null else 0

class Link:
	var a := WebRTCPeerConnection.new()
	var b := WebRTCPeerConnection.new()
	var ca: WebRTCDataChannel
	var cb: WebRTCDataChannel

	func _init(opts: Dictionary) -> void:
		a.session_description_created.connect(_a_sdp)
		b.session_description_created.connect(_b_sdp)
		a.ice_candidate_created.connect(_a_cand)
		b.ice_candidate_created.connect(_b_cand)
		b.data_channel_received.connect(_b_channel)
		ca = a.create_data_channel("bench", opts)

	func _a_sdp(t: String, s: String) -> void:
		a.set_local_description(t, s)
		b.set_remote_description(t, s)

	func _b_sdp(t: String, s: String) -> void:
		b.set_local_description(t, s)
		a.set_remote_description(t, s)

	func _a_cand(m: String, i: int, c: String) -> void:
		b.add_ice_candidate(m, i, c)

	func _b_cand(m: String, i: int, c: String) -> void:
		a.add_ice_candidate(m, i, c)

	func _b_channel(ch: WebRTCDataChannel) -> void:
		cb = ch

	func poll() -> void:
		a.poll()
		b.poll()

	func is_open() -> bool:
		return cb != null and ca.get_ready_state() == WebRTCDataChannel.STATE_OPEN \
			and cb.get_ready_state() == WebRTCDataChannel.STATE_OPEN

	func close() -> void:
		a.close()
		b.close()

## Connects a new pair; `started_usec` (if given) gets the time create_offer() was called.
func _connect(opts: Dictionary = {}, started_usec: Array = []) -> Link:
	var l := Link.new(opts)
	var deadline := Time.get_ticks_msec() + 30000
	started_usec.append(Time.get_ticks_usec())
	l.a.create_offer()
	while not l.is_open():
		l.poll()
		if Time.get_ticks_msec() > deadline:
			return null
		await _step()
	return l

func _setup() -> Dictionary:
	var runs: Array = []
	for i in 10:
		var started: Array = []
		var l: Link = await _connect({}, started)
		if l == null:
			return {}
		runs.append((Time.get_ticks_usec() - started[0]) / 1000.0)
		l.close()
	var sorted := runs.duplicate()
	sorted.sort()
	return {"setup_ms_median": sorted[sorted.size() / 2], "setup_ms_runs": runs}

func _rtt() -> Dictionary:
	var l: Link = await _connect()
	if l == null:
		return {}
	var ping := PackedByteArray()
	ping.resize(64)
	var samples: Array = []
	var n := 2000 if mode == "tight" else 200
	for i in n:
		var t := Time.get_ticks_usec()
		l.ca.put_packet(ping)
		while true:
			l.cb.poll()
			if l.cb.get_available_packet_count() > 0:
				break
			await _step()
		l.cb.put_packet(l.cb.get_packet())
		while true:
			l.ca.poll()
			if l.ca.get_available_packet_count() > 0:
				break
			await _step()
		l.ca.get_packet()
		samples.append(Time.get_ticks_usec() - t)
	samples.sort()
	l.close()
	return {"rtt_p50_us": samples[samples.size() / 2], "rtt_p99_us": samples[int(samples.size() * 0.99)]}

## 64 MiB in 16 KiB messages. Ends when all arrived, or when nothing has arrived for 5 s
## (messages lost, or the transfer stalled), or after 120 s: bulk_lost_messages counts the
## messages sent but not received, bulk_stalled says whether it ended before all arrived, and
## the rate is of what arrived.
func _bulk() -> Dictionary:
	var l: Link = await _connect()
	if l == null:
		return {}
	var msg := PackedByteArray()
	msg.resize(16384)
	var total := 4096
	var sent := 0
	var got := 0
	var got_bytes := 0
	var cpu0 := cpu_ms()
	var t := Time.get_ticks_usec()
	var last_arrival := t
	while got < total:
		while sent < total and l.ca.get_buffered_amount() < 1048576:
			l.ca.put_packet(msg)
			sent += 1
		l.cb.poll()
		while l.cb.get_available_packet_count() > 0:
			got += 1
			got_bytes += l.cb.get_packet().size()
			last_arrival = Time.get_ticks_usec()
		var now := Time.get_ticks_usec()
		if now - last_arrival > 5000000 or now - t > 120000000:
			printerr("bench: bulk ended with %d of %d sent messages received (%d to send), buffered %d" \
				% [got, sent, total, l.ca.get_buffered_amount()])
			break
		if mode == "tight":
			OS.delay_usec(50)
		else:
			await _step()
	var secs := maxf((last_arrival - t) / 1e6, 1e-6)
	var mib := got_bytes / MiB
	var cpu := cpu_ms() - cpu0
	l.close()
	return {"bulk_mib_s": mib / secs, "bulk_cpu_ms_per_mib": cpu / maxf(mib, 1.0),
		"bulk_lost_messages": sent - mini(got, sent), "bulk_stalled": got < total}

func _unreliable() -> Dictionary:
	var l: Link = await _connect({"ordered": false, "maxRetransmits": 0})
	if l == null:
		return {}
	var msg := PackedByteArray()
	msg.resize(1200)
	var sent := 0
	var got := 0
	var t := Time.get_ticks_usec()
	while Time.get_ticks_usec() - t < 2000000:
		if l.ca.get_buffered_amount() < 1048576:
			for i in 64:
				if l.ca.put_packet(msg) == OK:
					sent += 1
		# As a game: the connections' poll(), then the channel's, then every readable packet.
		l.poll()
		l.cb.poll()
		while l.cb.get_available_packet_count() > 0:
			l.cb.get_packet()
			got += 1
		# Same loop as the other runners: a burst, a drain, then 50 us for the library.
		if mode == "tight":
			OS.delay_usec(50)
		else:
			await _step()
	var secs := (Time.get_ticks_usec() - t) / 1e6
	var drain := Time.get_ticks_msec() + 500
	while Time.get_ticks_msec() < drain:
		l.cb.poll()
		while l.cb.get_available_packet_count() > 0:
			l.cb.get_packet()
			got += 1
		if mode == "tight":
			OS.delay_usec(1000)
		else:
			await _step()
	l.close()
	return {"unreliable_rx_mib_s": got * 1200.0 / secs / MiB,
		"unreliable_loss_pct": 0.0 if sent == 0 else 100.0 * (sent - min(got, sent)) / sent}

func _many() -> Dictionary:
	var rss0 := rss()
	var t := Time.get_ticks_usec()
	var links: Array = []
	for i in 64:
		var l := Link.new({})
		l.a.create_offer()
		links.append(l)
	var deadline := Time.get_ticks_msec() + 60000
	while true:
		var open := 0
		for l in links:
			l.poll()
			if l.is_open():
				open += 1
		if open == 64:
			break
		if Time.get_ticks_msec() > deadline:
			return {}
		if mode == "tight":
			OS.delay_usec(1000)
		else:
			await _step()
	var secs := (Time.get_ticks_usec() - t) / 1e6
	await create_timer(0.5).timeout
	var per := (rss() - rss0) / 128.0 / 1024.0
	for l in links:
		l.close()
	return {"many_open_s": secs, "rss_kib_per_connection": per}
