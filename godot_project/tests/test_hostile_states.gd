# Every method in every state: a connection NEW, CONNECTING, CONNECTED, closed by close() and
# left by its remote; a channel CONNECTING, OPEN, closed by itself, by its connection and by
# the remote, and one whose connection was freed. Each call gives its documented code.
extends "res://tests/case.gd"

const CAND := "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"

var offer := ""

func _offer() -> String:
	var p := new_pair()
	p.b = null
	p.a.create_data_channel("x", {})
	p.a.create_offer()
	await wait_until(func(): return not p.descriptions_a.is_empty(), 5.0)
	return p.descriptions_a[0][1] if not p.descriptions_a.is_empty() else ""

## Calls every method of pc; want: {channel: bool, offer, remote_offer, candidate} codes.
func _every_method(pc: WebRTCPeerConnection, state: String, want: Dictionary) -> void:
	check_eq(pc.create_data_channel("late", {}) != null, want.channel, "%s: create_data_channel gives a channel" % state)
	check_eq(pc.create_offer(), want.offer, "%s: create_offer" % state)
	check_eq(pc.set_remote_description("offer", offer), want.remote_offer, "%s: set_remote_description(offer)" % state)
	check_eq(pc.set_local_description("offer", "garbage"), FAILED, "%s: set_local_description(garbage)" % state)
	check_eq(pc.add_ice_candidate("0", 0, CAND), want.candidate, "%s: add_ice_candidate" % state)
	check_eq(pc.poll(), OK, "%s: poll" % state)
	check(pc.get_gathering_state() in [0, 1, 2], "%s: gathering state" % state)
	check(pc.get_signaling_state() in [0, 1, 2, 5], "%s: signaling state" % state)

func test_connection_methods_in_every_state() -> void:
	offer = await _offer()
	var fresh := WebRTCPeerConnection.new()
	_every_method(fresh, "NEW", {channel = true, offer = OK, remote_offer = FAILED, candidate = OK})
	fresh.close()

	var connecting := WebRTCPeerConnection.new()
	connecting.create_data_channel("x", {})
	check_eq(connecting.create_offer(), OK, "offer")
	check_eq(connecting.get_connection_state(), WebRTCPeerConnection.STATE_CONNECTING, "CONNECTING")
	_every_method(connecting, "CONNECTING", {channel = false, offer = FAILED, remote_offer = FAILED, candidate = OK})
	connecting.close()

	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var pc: WebRTCPeerConnection = r[0].a
	_every_method(pc, "CONNECTED", {channel = false, offer = FAILED, remote_offer = FAILED, candidate = OK})
	check_eq(pc.get_connection_state(), WebRTCPeerConnection.STATE_CONNECTED, "still CONNECTED after all that")
	check_eq(r[1].put_packet("still".to_utf8_buffer()), OK, "and its channel still works")
	check_eq((await recv(r[2])).get_string_from_utf8(), "still", "message")

	pc.close()
	pc.close() # twice
	check_eq(pc.get_connection_state(), WebRTCPeerConnection.STATE_CLOSED, "CLOSED")
	_every_method(pc, "CLOSED", {channel = false, offer = FAILED, remote_offer = FAILED, candidate = FAILED})
	check_eq(pc.get_signaling_state(), WebRTCPeerConnection.SIGNALING_STATE_CLOSED, "signaling CLOSED")

	# The remote side, left by pc: its methods still answer; it leaves CONNECTED.
	var left: WebRTCPeerConnection = r[0].b
	check(await wait_until(func(): return left.get_connection_state() != WebRTCPeerConnection.STATE_CONNECTED, 10.0), "the remote leaves CONNECTED")
	_every_method(left, "left by its remote", {channel = false, offer = FAILED, remote_offer = FAILED,
		candidate = FAILED if left.get_connection_state() == WebRTCPeerConnection.STATE_CLOSED else OK})

	# initialize() works in every state and gives a NEW connection.
	for p in [pc, left]:
		check_eq(p.initialize({}), OK, "initialize() after close")
		check_eq(p.get_connection_state(), WebRTCPeerConnection.STATE_NEW, "NEW again")

## Calls every method of ch; put: the code put_packet must give.
func _every_channel_method(ch: WebRTCDataChannel, state: String, put: int) -> void:
	check_eq(ch.put_packet(PackedByteArray([1, 2, 3])), put, "%s: put_packet" % state)
	check_eq(ch.get_packet(), PackedByteArray(), "%s: get_packet on an empty queue" % state)
	check(ch.get_packet_error() in [ERR_UNAVAILABLE, ERR_UNCONFIGURED], "%s: get_packet's error (%d)" % [state, ch.get_packet_error()])
	check(ch.get_available_packet_count() >= 0, "%s: packet count" % state)
	check(ch.get_buffered_amount() >= 0, "%s: buffered amount" % state)
	check_eq(ch.poll(), OK, "%s: poll" % state)
	ch.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT
	check_eq(ch.get_write_mode(), WebRTCDataChannel.WRITE_MODE_TEXT, "%s: write mode" % state)
	ch.write_mode = WebRTCDataChannel.WRITE_MODE_BINARY
	check_eq(ch.get_label(), "chat", "%s: label" % state)
	check(ch.get_id() >= 0 and ch.get_id() <= 65535, "%s: id" % state)
	check(ch.call("get_max_message_size") > 0, "%s: max message size" % state)
	check(ch.call("get_stats") is Dictionary, "%s: stats" % state)

func test_channel_methods_in_every_state() -> void:
	var pc := WebRTCPeerConnection.new()
	var connecting := pc.create_data_channel("chat", {})
	_every_channel_method(connecting, "CONNECTING", ERR_UNCONFIGURED)
	pc.close()
	check_eq(connecting.get_ready_state(), CLOSED, "closed with its connection before it opened")
	_every_channel_method(connecting, "CLOSED with its connection before opening", ERR_UNCONFIGURED)

	var r: Array = await connected_pair()
	if r.is_empty():
		return
	_every_channel_method(r[1], "OPEN", OK)
	r[1].close()
	r[1].close() # twice
	check(r[1].get_ready_state() in [WebRTCDataChannel.STATE_CLOSING, CLOSED], "CLOSING or CLOSED after close()")
	_every_channel_method(r[1], "closed by close()", ERR_UNCONFIGURED)
	check(await wait_until(func(): return r[2].get_ready_state() == CLOSED, 5.0), "the remote end closes")
	# The packet OPEN sent before its close stays readable at the remote (documented); the
	# queue is then empty.
	while r[2].get_available_packet_count() > 0:
		check_eq(r[2].get_packet(), PackedByteArray([1, 2, 3]), "closed by the remote: the packet sent before the close")
	_every_channel_method(r[2], "closed by the remote", ERR_UNCONFIGURED)

	var q: Array = await connected_pair()
	if q.is_empty():
		return
	q[0].a.close()
	_every_channel_method(q[1], "closed with its connection", ERR_UNCONFIGURED)
	# A channel that outlives its connection object.
	var orphan: WebRTCDataChannel = q[2]
	q[0].b = null
	q[0].received_b.clear()
	await wait_until(func(): return orphan.get_ready_state() == CLOSED, 5.0)
	check_eq(orphan.get_ready_state(), CLOSED, "a channel whose connection was freed is CLOSED")
	_every_channel_method(orphan, "connection freed", ERR_UNCONFIGURED)

func test_multiplayer_peer_after_close() -> void:
	var mp := WebRTCMultiplayerPeer.new()
	check_eq(mp.create_server(), OK, "server")
	mp.close()
	check_eq(mp.get_connection_status(), MultiplayerPeer.CONNECTION_DISCONNECTED, "disconnected")
	check_eq(mp.add_peer(WebRTCPeerConnection.new(), 2), ERR_UNCONFIGURED, "add_peer after close")
	check_eq(mp.get_available_packet_count(), 0, "no packets")
	check(mp.get_peers().is_empty(), "no peers")
	check_eq(mp.create_client(2), OK, "usable again")
	mp.close()
