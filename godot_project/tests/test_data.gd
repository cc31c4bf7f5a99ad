# Packets: write modes, sizes, order, errors, buffered amount, the receive bound, closing.
# Freeing mid-connection: isolated/free.gd.
extends "res://tests/case.gd"

func test_text_and_binary() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var a: WebRTCDataChannel = r[1]
	var b: WebRTCDataChannel = r[2]
	a.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT
	check_eq(a.put_packet("héllo".to_utf8_buffer()), OK, "text put")
	check_eq((await recv(b)).get_string_from_utf8(), "héllo", "text arrives")
	check_eq(b.was_string_packet(), true, "was_string_packet after text")
	a.write_mode = WebRTCDataChannel.WRITE_MODE_BINARY
	check_eq(a.put_packet(PackedByteArray([0, 1, 2, 255])), OK, "binary put")
	check_eq(await recv(b), PackedByteArray([0, 1, 2, 255]), "binary arrives")
	check_eq(b.was_string_packet(), false, "was_string_packet after binary")
	b.put_packet("back".to_utf8_buffer())
	check_eq((await recv(a)).get_string_from_utf8(), "back", "other direction")
	a.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT
	check_eq(a.put_packet(PackedByteArray([0xff, 0xfe])), ERR_INVALID_PARAMETER, "text that is not UTF-8")
	check_eq(a.get_packet_error(), OK, "no error pending")
	a.get_packet()
	check_eq(a.get_packet_error(), ERR_UNAVAILABLE, "get_packet on an empty queue")

func test_sizes_up_to_the_maximum() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var a: WebRTCDataChannel = r[1]
	var b: WebRTCDataChannel = r[2]
	var max_size: int = a.call("get_max_message_size")
	check_eq(max_size, 262144, "max packet size")
	# 0 bytes is covered by the engine tests: Godot's PacketPeer.put_packet() returns OK for an
	# empty array without calling the extension.
	for size in [1, 1199, 1200, 16384, 65536, max_size]:
		var data := PackedByteArray()
		data.resize(size)
		for i in range(0, size, 997):
			data[i] = i % 251
		check_eq(a.put_packet(data), OK, "put %d bytes" % size)
		var got := await recv(b)
		check(got == data, "%d bytes arrive intact (got %d)" % [size, got.size()])
	var too_big := PackedByteArray()
	too_big.resize(max_size + 1)
	check_eq(a.put_packet(too_big), ERR_INVALID_PARAMETER, "one byte over the maximum")
	check_eq(a.get_buffered_amount(), 0, "nothing of it was sent")

func test_order_and_count() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	for i in 200:
		r[1].put_packet(PackedByteArray([i % 256, i / 256]))
	check(await wait_until(func(): return r[2].get_available_packet_count() == 200), "200 packets queued")
	var in_order := true
	for i in 200:
		var p: PackedByteArray = r[2].get_packet()
		in_order = in_order and p.size() == 2 and p[0] + p[1] * 256 == i
	check(in_order, "ordered channel keeps order")
	check_eq(r[2].get_available_packet_count(), 0, "queue drained")

func test_put_packet_in_the_wrong_state() -> void:
	var pc := WebRTCPeerConnection.new()
	var ch := pc.create_data_channel("x", {})
	check_eq(ch.put_packet(PackedByteArray([1])), ERR_UNCONFIGURED, "CONNECTING")
	pc.close()
	check_eq(ch.put_packet(PackedByteArray([1])), ERR_UNCONFIGURED, "CLOSED")

func test_buffered_amount_rises_and_drains() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var data := PackedByteArray()
	data.resize(16384)
	for i in 64:
		r[1].put_packet(data)
	check(r[1].get_buffered_amount() > 0, "1 MiB in flight is buffered")
	check(await wait_until(func():
		while r[2].get_available_packet_count() > 0:
			r[2].get_packet()
		return r[1].get_buffered_amount() == 0), "buffered amount drains to 0")

## A pair whose peers read the receive bound `kb` (KiB) at creation; a opens channel "q"
## with opts. Returns [pair, a_channel, b_channel], or [] after recording a failure.
func _pair_with_bound(kb: int, opts: Dictionary) -> Array:
	var key := "network/limits/webrtc/max_channel_in_buffer_kb"
	var old = ProjectSettings.get_setting(key)
	ProjectSettings.set_setting(key, kb)
	var p := new_pair()
	ProjectSettings.set_setting(key, old)
	var ch := p.a.create_data_channel("q", opts)
	p.a.create_offer()
	if not await wait_until(func(): return p.received_b.size() == 1 and p.received_b[0].get_ready_state() == OPEN and ch.get_ready_state() == OPEN):
		check(false, "connect")
		return []
	return [p, ch, p.received_b[0]]

static func _numbered(i: int, size: int) -> PackedByteArray:
	var m := PackedByteArray()
	m.resize(size)
	m.encode_u32(0, i)
	return m

func test_reliable_channel_never_drops_at_a_small_bound() -> void:
	var r: Array = await _pair_with_bound(2, {})
	if r.is_empty():
		return
	var total := 300 # 4.7 MiB: more than the receiving side buffers below the game (SCTP's window and a few queued messages)
	r[1].put_packet(_numbered(0, 10000)) # larger than the bound
	for i in range(1, total):
		r[1].put_packet(_numbered(i, 16384))
	# Not reading for a while: the receiver holds the sender instead of dropping.
	await wait_until(func(): return false, 0.5)
	check(r[1].get_buffered_amount() > 1048576, "the sender holds what the receiver has not taken (%d bytes)" % r[1].get_buffered_amount())
	check(r[2].get_stats().messages_received < total / 2, "the receiver took only what fits")
	var got := []
	await wait_until(func():
		while r[2].get_available_packet_count() > 0:
			got.append(r[2].get_packet().decode_u32(0))
		return got.size() == total, 30.0)
	check_eq(got, range(total), "every reliable message arrives, in order")
	check_eq(r[2].get_stats().messages_dropped, 0, "nothing dropped")

## Godot's default bound (64 KiB), a game that reads only every 100 ms while the peer sends as
## fast as its buffered amount allows: every reliable message arrives, in order.
func test_slow_reader_at_the_default_setting_gets_every_reliable_message() -> void:
	check_eq(ProjectSettings.get_setting("network/limits/webrtc/max_channel_in_buffer_kb"), 64, "default setting")
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var total := 250 # 3.9 MiB in 16 KiB messages
	var sent := 0
	var next := 0
	var in_order := true
	var deadline := Time.get_ticks_msec() + 60000
	var last_read := 0
	while next < total and Time.get_ticks_msec() < deadline:
		while sent < total and r[1].get_buffered_amount() < 1048576:
			r[1].put_packet(_numbered(sent, 16384))
			sent += 1
		r[0].poll()
		if Time.get_ticks_msec() - last_read >= 100:
			last_read = Time.get_ticks_msec()
			while r[2].get_available_packet_count() > 0:
				in_order = in_order and r[2].get_packet().decode_u32(0) == next
				next += 1
		await tree.process_frame
	check_eq(next, total, "every message arrived")
	check(in_order, "in order")
	check_eq(r[2].get_stats().messages_dropped, 0, "nothing dropped")

func test_unreliable_channel_drops_the_oldest_at_the_bound() -> void:
	var r: Array = await _pair_with_bound(2, {"ordered": false, "maxRetransmits": 0})
	if r.is_empty():
		return
	check_eq(r[2].get_max_retransmits(), 0, "the receiver knows the channel is unreliable")
	for i in 10:
		r[1].put_packet(_numbered(i, 1000))
		OS.delay_usec(300) # no loss on the way: only the queue drops
	var rb: WebRTCDataChannel = r[2]
	check(await wait_until(func(): return rb.get_stats().messages_received == 10), "every message reached the queue")
	r[0].b.poll() # what arrived becomes readable in poll()
	check_eq(rb.get_stats().messages_dropped, 0, "nothing was dropped before the game looked")
	check(rb.get_available_packet_count() >= 2, "the game looks: messages are readable")
	r[0].b.poll() # the game looked and read nothing: what it left may go
	var got := []
	while rb.get_available_packet_count() > 0:
		got.append(rb.get_packet().decode_u32(0))
	got.sort()
	check_eq(got, [8, 9], "the two newest fit in 2 KiB")
	check_eq(rb.get_stats().messages_dropped, 8, "the oldest were dropped and counted")

## A game that sends unreliable 1200 B messages in bursts (64 per loop, keeping the buffered
## amount under 1 MiB) and, every loop, polls the connections and the channel and then reads every
## readable packet, at Godot's default receive bound: nothing is dropped by the receive queue
## (two polls with no read between are no chance to read) and, on loopback, nothing is lost.
func test_bursty_unreliable_reader_that_reads_everything_loses_nothing() -> void:
	var r: Array = await connected_pair({"ordered": false, "maxRetransmits": 0})
	if r.is_empty():
		return
	var p: Pair = r[0]
	var tx: WebRTCDataChannel = r[1]
	var rx: WebRTCDataChannel = r[2]
	var msg := PackedByteArray()
	msg.resize(1200)
	var sent := 0
	var got := 0
	var end := Time.get_ticks_msec() + 1500
	while Time.get_ticks_msec() < end:
		if tx.get_buffered_amount() < 1048576:
			for i in 64:
				if tx.put_packet(msg) == OK:
					sent += 1
		p.poll()
		rx.poll()
		while rx.get_available_packet_count() > 0:
			rx.get_packet()
			got += 1
		OS.delay_usec(50)
	var quiet := Time.get_ticks_msec() + 2000
	while got < sent and Time.get_ticks_msec() < quiet:
		p.poll()
		while rx.get_available_packet_count() > 0:
			rx.get_packet()
			got += 1
		OS.delay_usec(1000)
	note("%d of %d bursty unreliable messages read" % [got, sent])
	check(sent > 10000, "the burst sender sent %d messages" % sent)
	check_eq(rx.get_stats().messages_dropped, 0, "the receive queue dropped nothing")
	check_eq(got, sent, "every message sent was read")

## A game that never looks at get_buffered_amount() while its peer reads nothing: put_packet
## refuses with ERR_BUSY once 16 MiB wait to be sent, instead of growing memory without bound.
func test_put_packet_past_16_mib_is_refused() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var msg := PackedByteArray()
	msg.resize(16384)
	var err := OK
	var accepted := 0
	while accepted < 2000:
		err = r[1].put_packet(msg)
		if err != OK:
			break
		accepted += 1
	check_eq(err, ERR_BUSY, "refused with ERR_BUSY")
	# The receiving side's buffers (SCTP's window) take a little, so a bit more than 16 MiB goes.
	check(accepted >= 1000 and accepted < 1400, "about 16 MiB accepted (%d messages of 16 KiB)" % accepted)
	check(r[1].get_buffered_amount() <= 16 * 1048576, "buffered amount within 16 MiB")

func test_close_channel_from_either_side() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	r[1].close()
	check(r[1].get_ready_state() == WebRTCDataChannel.STATE_CLOSING or r[1].get_ready_state() == CLOSED, "CLOSING after close()")
	check(await wait_until(func(): return r[2].get_ready_state() == CLOSED and r[1].get_ready_state() == CLOSED, 5.0), "both ends CLOSED")
	var q: Array = await connected_pair()
	if q.is_empty():
		return
	q[2].close()
	check(await wait_until(func(): return q[1].get_ready_state() == CLOSED, 5.0), "remote-initiated close reaches the offerer")
	check_eq(q[0].a.get_connection_state(), WebRTCPeerConnection.STATE_CONNECTED, "closing a channel keeps the connection")

func test_stats() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	r[1].put_packet(PackedByteArray([1, 2, 3]))
	await recv(r[2])
	var s: Dictionary = r[1].get_stats()
	check_eq(s.messages_sent, 1, "messages_sent")
	check_eq(s.bytes_sent, 3, "bytes_sent")
	check_eq(r[2].get_stats().bytes_received, 3, "bytes_received")
