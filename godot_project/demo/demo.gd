# `cargo xtask demo`: two WebRTCPeerConnection.new() peers in one process connect on loopback,
# exchange text and binary messages both ways, and measure the connect time and the
# round-trip time. Prints a summary and "demo: OK", or "demo: FAILED <reason>"; exits 0 / 1.
extends SceneTree

const WATCHDOG_S := 60.0
const CONNECT_TIMEOUT_MS := 15000
const RECV_TIMEOUT_MS := 5000
const PINGS := 200
const PING_SIZE := 64
const PING_TIMEOUT_USEC := 2000000
const BINARY_SIZES: Array[int] = [1000, 16000]

var a: WebRTCPeerConnection = WebRTCPeerConnection.new()
var b: WebRTCPeerConnection = WebRTCPeerConnection.new()
var ch_a: WebRTCDataChannel
var ch_b: WebRTCDataChannel
# Set once the result is printed, so a late watchdog or a still-running coroutine stays quiet.
var finished := false

func _init() -> void:
	# The watchdog guarantees the demo never hangs, whatever goes wrong below.
	create_timer(WATCHDOG_S).timeout.connect(_on_watchdog)
	_run()

func _on_watchdog() -> void:
	_finish("watchdog: the demo did not finish within %d s" % int(WATCHDOG_S))

# Prints the result and quits once; an empty reason means success.
func _finish(reason: String) -> void:
	if finished:
		return
	finished = true
	if a != null:
		a.close()
	if b != null:
		b.close()
	if reason.is_empty():
		print("demo: OK")
		quit(0)
	else:
		print("demo: FAILED ", reason)
		quit(1)

func _run() -> void:
	var err: String = await _demo()
	_finish(err)

# Signaling: each side's descriptions and candidates go straight to the other peer.
# Bound methods (not lambdas) keep the wiring readable and free of captured state.
func _on_a_description(type: String, sdp: String) -> void:
	# Games call set_local_description here; it is harmless if the peer already set it.
	a.set_local_description(type, sdp)
	b.set_remote_description(type, sdp)

func _on_b_description(type: String, sdp: String) -> void:
	b.set_local_description(type, sdp)
	a.set_remote_description(type, sdp)

func _on_a_candidate(mid: String, index: int, cand: String) -> void:
	b.add_ice_candidate(mid, index, cand)

func _on_b_candidate(mid: String, index: int, cand: String) -> void:
	a.add_ice_candidate(mid, index, cand)

func _on_b_channel(ch: WebRTCDataChannel) -> void:
	ch_b = ch

func _poll() -> void:
	a.poll()
	b.poll()

func _both_open() -> bool:
	return ch_a != null and ch_b != null \
		and ch_a.get_ready_state() == WebRTCDataChannel.STATE_OPEN \
		and ch_b.get_ready_state() == WebRTCDataChannel.STATE_OPEN

# Polls every frame until a packet is waiting on ch; false at the deadline.
func _wait_packet(ch: WebRTCDataChannel) -> bool:
	var deadline := Time.get_ticks_msec() + RECV_TIMEOUT_MS
	while ch.get_available_packet_count() == 0:
		if finished or Time.get_ticks_msec() > deadline:
			return false
		_poll()
		await process_frame
	return true

# Sends one text message from -> to and checks it arrives intact, flagged as a string.
func _text_check(from: WebRTCDataChannel, to: WebRTCDataChannel, dir: String) -> String:
	var msg := "hello %s, ünïcødé ✓" % dir
	from.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT
	if from.put_packet(msg.to_utf8_buffer()) != OK:
		return "put_packet (text %s) failed" % dir
	if not await _wait_packet(to):
		return "no text message %s within %d ms" % [dir, RECV_TIMEOUT_MS]
	var got := to.get_packet().get_string_from_utf8()
	# was_string_packet() describes the packet just taken, so ask right after get_packet().
	if not to.was_string_packet():
		return "text message %s arrived as binary" % dir
	if got != msg:
		return "text message %s: got '%s', want '%s'" % [dir, got, msg]
	return ""

# Sends one binary message of size bytes from -> to and checks content and binary flag.
func _binary_check(from: WebRTCDataChannel, to: WebRTCDataChannel, size: int, dir: String) -> String:
	var data := PackedByteArray()
	data.resize(size)
	for i in size:
		# A position-dependent pattern catches reordered or truncated chunks.
		data[i] = (i * 31 + size) & 0xff
	from.write_mode = WebRTCDataChannel.WRITE_MODE_BINARY
	if from.put_packet(data) != OK:
		return "put_packet (%d bytes %s) failed" % [size, dir]
	if not await _wait_packet(to):
		return "no %d-byte message %s within %d ms" % [size, dir, RECV_TIMEOUT_MS]
	var got := to.get_packet()
	if to.was_string_packet():
		return "%d-byte binary message %s arrived as text" % [size, dir]
	if got.size() != size:
		return "%d-byte message %s arrived with %d bytes" % [size, dir, got.size()]
	if got != data:
		return "%d-byte message %s arrived with different content" % [size, dir]
	return ""

# Nearest-rank percentile of sorted samples.
func _percentile(sorted: Array[int], p: float) -> int:
	var idx := clampi(int(ceil(p * sorted.size())) - 1, 0, sorted.size() - 1)
	return sorted[idx]

func _demo() -> String:
	if a.get_class() != "WebRTCRsPeerConnection":
		return "WebRTCPeerConnection.new() gave %s, not the webrtc-rs extension" % a.get_class()
	a.session_description_created.connect(_on_a_description)
	b.session_description_created.connect(_on_b_description)
	a.ice_candidate_created.connect(_on_a_candidate)
	b.ice_candidate_created.connect(_on_b_candidate)
	b.data_channel_received.connect(_on_b_channel)

	# --- connect: A opens an in-band channel, B receives it through data_channel_received.
	ch_a = a.create_data_channel("chat", {})
	if ch_a == null:
		return "create_data_channel failed"
	var t0 := Time.get_ticks_usec()
	if a.create_offer() != OK:
		return "create_offer failed"
	var deadline := Time.get_ticks_msec() + CONNECT_TIMEOUT_MS
	while not _both_open():
		if finished:
			return "stopped"
		if Time.get_ticks_msec() > deadline:
			return "the peers did not connect within %d ms (A: %d, B: %s)" % [CONNECT_TIMEOUT_MS,
				a.get_connection_state(), "no channel" if ch_b == null else str(ch_b.get_ready_state())]
		_poll()
		await process_frame
	var connect_ms := (Time.get_ticks_usec() - t0) / 1000.0
	if ch_b.get_label() != "chat":
		return "B received channel '%s', want 'chat'" % ch_b.get_label()
	print("connected in %.1f ms" % connect_ms)

	# --- text and binary messages, both directions.
	var err := ""
	err = await _text_check(ch_a, ch_b, "A->B")
	if not err.is_empty():
		return err
	err = await _text_check(ch_b, ch_a, "B->A")
	if not err.is_empty():
		return err
	for size in BINARY_SIZES:
		err = await _binary_check(ch_a, ch_b, size, "A->B")
		if not err.is_empty():
			return err
		err = await _binary_check(ch_b, ch_a, size, "B->A")
		if not err.is_empty():
			return err
	print("messages: text and binary (%s bytes) OK both ways" % str(BINARY_SIZES))

	# --- round-trip time: a tight poll loop (no frame waits) so frame pacing does not add to
	# the measurement; B echoes inside the same loop.
	ch_a.write_mode = WebRTCDataChannel.WRITE_MODE_BINARY
	ch_b.write_mode = WebRTCDataChannel.WRITE_MODE_BINARY
	var rtts: Array[int] = []
	var ping := PackedByteArray()
	ping.resize(PING_SIZE)
	for n in PINGS:
		# The sequence number makes a stale or mixed-up echo detectable.
		ping.encode_u32(0, n)
		var start := Time.get_ticks_usec()
		if ch_a.put_packet(ping) != OK:
			return "ping %d: put_packet failed" % n
		var echoed := false
		while true:
			_poll()
			if ch_b.get_available_packet_count() > 0:
				var p := ch_b.get_packet()
				if ch_b.put_packet(p) != OK:
					return "ping %d: echo put_packet failed" % n
			if ch_a.get_available_packet_count() > 0:
				var pong := ch_a.get_packet()
				var end := Time.get_ticks_usec()
				if pong != ping:
					return "ping %d: the echo differs from the ping" % n
				rtts.append(end - start)
				echoed = true
				break
			if Time.get_ticks_usec() - start > PING_TIMEOUT_USEC:
				break
			OS.delay_usec(50)
		if not echoed:
			return "ping %d: no echo within %d ms" % [n, PING_TIMEOUT_USEC / 1000]
	rtts.sort()
	var p50 := _percentile(rtts, 0.50)
	var p99 := _percentile(rtts, 0.99)

	# --- summary.
	print("")
	print("webrtc-rs demo summary")
	print("  %-22s %s" % ["connect (offer->open)", "%.1f ms" % connect_ms])
	print("  %-22s %s" % ["text messages", "OK (A->B, B->A)"])
	print("  %-22s %s" % ["binary messages", "OK (%s bytes, both ways)" % ", ".join(BINARY_SIZES.map(func(s): return str(s)))])
	print("  %-22s %s" % ["rtt p50 (%d x %d B)" % [PINGS, PING_SIZE], "%d us" % p50])
	print("  %-22s %s" % ["rtt p99", "%d us" % p99])
	print("  %-22s %s" % ["rtt min / max", "%d / %d us" % [rtts[0], rtts[rtts.size() - 1]]])
	# The addon's connection figures (WebRTCRsPeerConnection.get_stats()).
	var stats: Dictionary = a.call("get_stats")
	var stats_deadline := Time.get_ticks_msec() + 1000
	while stats["round_trip_time_ms"] < 0.0 and Time.get_ticks_msec() < stats_deadline:
		await process_frame
		stats = a.call("get_stats")
	var local: Dictionary = stats["local_candidate"]
	var remote: Dictionary = stats["remote_candidate"]
	print("  %-22s %s" % ["selected pair", "%s %s %s:%s -> %s %s:%s%s" % [local.get("protocol", "?"), local.get("type", "?"),
		local.get("address", "?"), local.get("port", "?"), remote.get("type", "?"), remote.get("address", "?"), remote.get("port", "?"),
		" (relayed)" if stats["relayed"] else ""]])
	print("  %-22s %s" % ["ICE round trip", "%.2f ms" % stats["round_trip_time_ms"] if stats["round_trip_time_ms"] >= 0.0 else "not measured yet"])
	print("  %-22s %s" % ["connection traffic", "%d B / %d packets sent, %d B / %d packets received, %d messages sent, %d retransmissions" % [
		stats["bytes_sent"], stats["packets_sent"], stats["bytes_received"], stats["packets_received"], stats["messages_sent"], stats["retransmissions"]]])
	return ""
