# Objects freed mid-connection (the game drops its last reference, no close()): the remote
# sees the close, the sockets are given back, nothing crashes, also at exit. Each case runs in
# its own process (test_isolated.gd).
extends "res://tests/case.gd"

func test_free_peer_mid_connection() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var p = r[0]
	var remote: WebRTCDataChannel = r[2]
	# Drop every reference to a's side: the connection and its channel are freed.
	r[1] = null
	p.a = null
	check(await wait_until(func(): return remote.get_ready_state() == CLOSED, 10.0), "the remote sees the channel close within 10 s")

func test_free_channel_mid_connection() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var remote: WebRTCDataChannel = r[2]
	r[1] = null # the last reference to a's channel
	check(await wait_until(func(): return remote.get_ready_state() == CLOSED, 10.0), "freeing a channel closes it")
	check_eq(r[0].a.get_connection_state(), WebRTCPeerConnection.STATE_CONNECTED, "the connection stays")

func test_free_received_channel_mid_connection() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var opener: WebRTCDataChannel = r[1]
	r[2] = null
	r[0].received_b.clear() # the last reference to b's channel
	check(await wait_until(func(): return opener.get_ready_state() == CLOSED, 10.0), "freeing the received channel closes it")

func test_free_during_negotiation_gives_the_sockets_back() -> void:
	# A first pair starts what every connection shares (the runtime): count after it.
	var warm: Array = await connected_pair()
	if warm.is_empty():
		return
	warm[0].close()
	pairs.clear()
	warm.clear()
	var fds: int = await settled_fd_count()
	var p := new_pair()
	p.a.create_data_channel("x", {})
	p.a.create_offer()
	check(await wait_until(func(): return not p.candidates_a.is_empty() and not p.candidates_b.is_empty(), 5.0), "both gather")
	check(ProcStats.fd_count() > fds, "the connections hold sockets")
	p.b = null
	p.a = null
	check(await wait_until(func(): return ProcStats.fd_count() <= fds, 5.0),
		"their sockets are closed once both are freed (%d fds, %d before)" % [ProcStats.fd_count(), fds])

## Floods ch with 16 KiB messages for a frame, as fast as put_packet takes them; the count sent.
static func _flood(ch: WebRTCDataChannel) -> int:
	var msg := PackedByteArray()
	msg.resize(16384)
	var n := 0
	while n < 64 and ch.get_ready_state() == OPEN and ch.put_packet(msg) == OK:
		n += 1
	return n

func test_free_peer_while_the_remote_floods() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var flooder: WebRTCDataChannel = r[2]
	for i in 10:
		_flood(flooder)
		await tree.process_frame
	r[1] = null
	r[0].a = null
	check(await wait_until(func():
		_flood(flooder)
		return flooder.get_ready_state() == CLOSED, 10.0), "the flooding side sees the close within 10 s")
	check_eq(flooder.put_packet(PackedByteArray([1])), ERR_UNCONFIGURED, "its put_packet then fails cleanly")

func test_free_peer_while_it_floods() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var receiver: WebRTCDataChannel = r[2]
	var sent := 0
	for i in 10:
		sent += _flood(r[1])
		await tree.process_frame
	check(sent > 0 and r[1].get_buffered_amount() > 0, "MiBs queued to send (%d messages)" % sent)
	r[1] = null
	r[0].a = null
	check(await wait_until(func():
		while receiver.get_available_packet_count() > 0:
			receiver.get_packet()
		return receiver.get_ready_state() == CLOSED, 10.0), "the receiver sees the close within 10 s")

func test_free_multiplayer_peer_with_live_peers() -> void:
	var server := WebRTCMultiplayerPeer.new()
	check_eq(server.create_server(), OK, "server")
	var clients: Array = []
	var lost: Array = []
	var links: Array = [] # the signaling between them: each Pair's handlers
	for id in [2, 3]:
		var c := WebRTCMultiplayerPeer.new()
		check_eq(c.create_client(id), OK, "client")
		c.peer_disconnected.connect(func(pid): lost.append([id, pid]))
		var p := Pair.new()
		check_eq(server.add_peer(p.a, id), OK, "add_peer on the server")
		check_eq(c.add_peer(p.b, 1), OK, "add_peer on the client")
		p.a.create_offer()
		links.append(p)
		clients.append(c)
	var ok: bool = await _wait_mp([server] + clients, func():
		return clients.all(func(c): return c.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED))
	check(ok, "both clients connect")
	for p in links:
		p.a = null # the multiplayer peers hold the connections now
		p.b = null
	server = null # the last reference: the server and its connections are freed
	check(await _wait_mp(clients, func(): return lost.size() == 2, 10.0), "each client loses the server within 10 s (%s)" % [lost])
	for c in clients:
		check_eq(c.get_connection_status(), MultiplayerPeer.CONNECTION_DISCONNECTED, "client disconnected")

func _wait_mp(mps: Array, cond: Callable, timeout_s := 15.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while not cond.call():
		for mp in mps:
			if mp != null:
				mp.poll()
		if Time.get_ticks_msec() > deadline:
			return false
		await tree.process_frame
	return true

## The process quits while a connection floods its peer: the exit is clean (exit status 0,
## checked by test_isolated.gd).
func test_quit_with_live_connections() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	for i in 5:
		_flood(r[1])
		await tree.process_frame
	check(r[1].get_buffered_amount() > 0, "data in flight")
	pairs.clear() # cleanup() will not close them
	tree.set_meta("live_connections", r) # they live until the SceneTree goes at exit
