# WebRTCMultiplayerPeer over our classes, all peers in one process: server/client with relay,
# mesh, every transfer mode, custom channels, RPCs through SceneMultiplayer, disconnects.
extends "res://tests/case.gd"

const RpcNode = preload("res://tests/rpc_node.gd")

var mps: Array = [] # every WebRTCMultiplayerPeer made here, polled by wait_mp
var links: Array = [] # the Pairs that connect them
var roots: Array = [] # scene branches added to the tree

## Connects mp_x (as peer id_x) and mp_y (as id_y) with a fresh pair of connections.
func link(mp_x: WebRTCMultiplayerPeer, id_x: int, mp_y: WebRTCMultiplayerPeer, id_y: int) -> void:
	var p := Pair.new()
	links.append(p)
	check_eq(mp_x.add_peer(p.a, id_y), OK, "add_peer %d on %d" % [id_y, id_x])
	check_eq(mp_y.add_peer(p.b, id_x), OK, "add_peer %d on %d" % [id_x, id_y])
	p.a.create_offer()

func wait_mp(cond: Callable, timeout_s: float = 15.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while not cond.call():
		for mp in mps:
			mp.poll()
		if Time.get_ticks_msec() > deadline:
			return false
		await tree.process_frame
	return true

func new_mp() -> WebRTCMultiplayerPeer:
	var mp := WebRTCMultiplayerPeer.new()
	mps.append(mp)
	return mp

func cleanup() -> void:
	for mp in mps:
		mp.close()
	for p in links:
		p.close()
	for r in roots:
		r.queue_free()
	super.cleanup()

func _server_with_clients(n: int, cfg: Array = []) -> Array:
	var server := new_mp()
	check_eq(server.create_server(cfg), OK, "create_server")
	var clients: Array = []
	for i in n:
		var c := new_mp()
		check_eq(c.create_client(i + 2, cfg), OK, "create_client")
		check_eq(c.get_connection_status(), MultiplayerPeer.CONNECTION_CONNECTING, "client CONNECTING until the server connects")
		link(server, 1, c, i + 2)
		clients.append(c)
	var ok: bool = await wait_mp(func():
		for c in clients:
			if c.get_connection_status() != MultiplayerPeer.CONNECTION_CONNECTED:
				return false
		return server.get_peers().size() == n and server.get_peers().values().all(func(v): return v.connected))
	check(ok, "%d clients connect to the server" % n)
	return [server, clients]

func test_argument_checks() -> void:
	var mp := new_mp()
	check_eq(mp.add_peer(WebRTCPeerConnection.new(), 2), ERR_UNCONFIGURED, "add_peer before create_*")
	check_eq(mp.create_client(1), ERR_INVALID_PARAMETER, "client id 1")
	check_eq(mp.create_mesh(0), ERR_INVALID_PARAMETER, "id 0")
	check_eq(mp.create_server(["not a mode"]), ERR_INVALID_PARAMETER, "bad channel config")
	var s := new_mp()
	s.create_server()
	var used := WebRTCPeerConnection.new()
	used.create_data_channel("x", {})
	used.create_offer()
	check_eq(s.add_peer(used, 2), ERR_INVALID_PARAMETER, "a connection that is not NEW")
	used.close()

func test_channels_follow_the_transfer_modes() -> void:
	var r: Array = await _server_with_clients(1, [MultiplayerPeer.TRANSFER_MODE_RELIABLE, MultiplayerPeer.TRANSFER_MODE_UNRELIABLE])
	var info: Dictionary = r[0].get_peer(2)
	check_eq(info.connected, true, "get_peer().connected")
	var chans: Array = info.channels
	check_eq(chans.size(), 5, "3 default channels + 2 custom")
	if chans.size() == 5:
		check_eq([chans[0].get_id(), chans[1].get_id(), chans[2].get_id(), chans[3].get_id(), chans[4].get_id()], [1, 2, 3, 4, 5], "negotiated ids")
		check(chans[0].is_ordered() and chans[0].get_max_packet_life_time() == 65535, "reliable channel")
		check(chans[1].is_ordered() and chans[1].get_max_packet_life_time() == 1, "UNRELIABLE_ORDERED is partially reliable (maxPacketLifetime 1)")
		check(not chans[2].is_ordered() and chans[2].get_max_packet_life_time() == 1, "UNRELIABLE is unordered and partially reliable")
		check_eq(chans[3].get_max_packet_life_time(), 65535, "custom reliable channel")
		check(not chans[4].is_ordered() and chans[4].get_max_packet_life_time() == 1, "custom unreliable channel")

func test_packets_in_every_mode_and_channel() -> void:
	var r: Array = await _server_with_clients(1, [MultiplayerPeer.TRANSFER_MODE_RELIABLE])
	var server: WebRTCMultiplayerPeer = r[0]
	var client: WebRTCMultiplayerPeer = r[1][0]
	var sent := 0
	for mode in [MultiplayerPeer.TRANSFER_MODE_RELIABLE, MultiplayerPeer.TRANSFER_MODE_UNRELIABLE_ORDERED, MultiplayerPeer.TRANSFER_MODE_UNRELIABLE]:
		for channel in [0, 1]:
			server.transfer_mode = mode
			server.transfer_channel = channel
			server.set_target_peer(2)
			check_eq(server.put_packet(PackedByteArray([mode, channel])), OK, "put mode %d channel %d" % [mode, channel])
			sent += 1
	var big := PackedByteArray()
	big.resize(5000) # SceneMultiplayer may send more than get_max_packet_size() (1200)
	server.transfer_mode = MultiplayerPeer.TRANSFER_MODE_RELIABLE
	server.transfer_channel = 0
	check_eq(server.put_packet(big), OK, "a packet larger than 1200 bytes")
	sent += 1
	check(await wait_mp(func(): return client.get_available_packet_count() == sent), "all %d packets arrive" % sent)
	var sizes := 0
	while client.get_available_packet_count() > 0:
		check_eq(client.get_packet_peer(), 1, "sender is the server")
		sizes += client.get_packet().size()
	check_eq(sizes, 2 * (sent - 1) + 5000, "payload bytes")

func test_rpcs_server_client_with_relay() -> void:
	var peers: Array = [new_mp(), new_mp(), new_mp()]
	peers[0].create_server([MultiplayerPeer.TRANSFER_MODE_RELIABLE])
	peers[1].create_client(2, [MultiplayerPeer.TRANSFER_MODE_RELIABLE])
	peers[2].create_client(3, [MultiplayerPeer.TRANSFER_MODE_RELIABLE])
	var nodes: Array = []
	var apis: Array = []
	# The MultiplayerAPI must own each peer before it connects, to see peer_connected.
	for i in 3:
		var root := Node.new()
		root.name = "mp%d" % i
		var game: Node = RpcNode.new()
		game.name = "game"
		root.add_child(game)
		tree.root.add_child(root)
		roots.append(root)
		var api := SceneMultiplayer.new()
		api.multiplayer_peer = peers[i]
		tree.set_multiplayer(api, root.get_path())
		nodes.append(game)
		apis.append(api)
	link(peers[0], 1, peers[1], 2)
	link(peers[0], 1, peers[2], 3)
	check(await wait_until(func(): return apis[0].get_peers().size() == 2 and apis[1].get_peers().size() == 2 \
		and apis[2].get_peers().size() == 2, 15.0), "every MultiplayerAPI knows the 2 others (clients via relay)")
	# client 2 -> server, every mode; client 2 -> client 3 through the server's relay.
	for v in 10:
		nodes[1].rpc_id(1, "on_reliable", v)
		nodes[1].rpc_id(1, "on_unreliable_ordered", v)
		nodes[1].rpc_id(1, "on_unreliable", v)
		nodes[1].rpc_id(1, "on_custom_channel", v)
		nodes[1].rpc_id(3, "on_reliable", v)
	check(await wait_until(func(): return nodes[0].got.size() == 40 and nodes[2].got.size() == 10, 15.0), \
		"RPCs arrive (server %d/40, relayed %d/10)" % [nodes[0].got.size(), nodes[2].got.size()])
	for mode in ["reliable", "unreliable_ordered", "unreliable", "channel1"]:
		check_eq(nodes[0].count(mode), 10, mode + " RPCs on the server")
	if nodes[2].got.size() > 0:
		check_eq(nodes[2].got[0][2], 2, "relayed RPC names its real sender")
	var ordered: Array = nodes[0].got.filter(func(g): return g[0] == "reliable").map(func(g): return g[1])
	check_eq(ordered, range(10), "reliable RPCs in order")
	for i in 3:
		tree.set_multiplayer(null, roots[i].get_path())

func test_mesh_of_six() -> void:
	var mesh: Array = []
	for i in 6:
		var mp := new_mp()
		check_eq(mp.create_mesh(i + 1), OK, "create_mesh")
		mesh.append(mp)
	for i in 6:
		for j in range(i + 1, 6):
			link(mesh[i], i + 1, mesh[j], j + 1)
	var ok: bool = await wait_mp(func():
		for mp in mesh:
			if mp.get_peers().size() != 5 or not mp.get_peers().values().all(func(v): return v.connected):
				return false
		return true, 30.0)
	check(ok, "every peer of a 6-peer mesh connects to the 5 others")
	mesh[0].set_target_peer(MultiplayerPeer.TARGET_PEER_BROADCAST)
	mesh[0].put_packet(PackedByteArray([42]))
	check(await wait_mp(func():
		for k in range(1, 6):
			if mesh[k].get_available_packet_count() < 1:
				return false
		return true), "a broadcast reaches all five")

func test_disconnects_are_reported() -> void:
	var r: Array = await _server_with_clients(3)
	var server: WebRTCMultiplayerPeer = r[0]
	var gone: Array = []
	server.peer_disconnected.connect(func(id): gone.append(id))
	var start := Time.get_ticks_msec()
	r[1][0].close() # client 2 leaves
	check(await wait_mp(func(): return gone.has(2), 2.0), "a client that closes is gone within 2 s")
	print("    closed peer reported after %d ms" % (Time.get_ticks_msec() - start))
	var lost: Array = []
	r[1][1].peer_disconnected.connect(func(id): lost.append(id))
	server.disconnect_peer(3)
	check(await wait_mp(func(): return lost.has(1) and gone.has(3), 2.0), "disconnect_peer reaches both sides within 2 s")
	check(not server.has_peer(3), "disconnect_peer removes the peer")
	# Freeing the last connection object of client 4 (no close()): noticed through WebRTC alone.
	start = Time.get_ticks_msec()
	var c4: WebRTCMultiplayerPeer = r[1][2]
	mps.erase(c4)
	r[1].clear()
	for p in links:
		if p.b != null and c4.has_peer(1) and c4.get_peer(1).connection == p.b:
			p.b = null
	c4 = null
	check(await wait_mp(func(): return gone.has(4), 10.0), "a freed client is gone within 10 s")
	print("    freed peer reported after %d ms" % (Time.get_ticks_msec() - start))
