# create_data_channel(): every option, its getter and default, and each invalid combination.
extends "res://tests/case.gd"

var pc: WebRTCPeerConnection

func _make(opts) -> WebRTCDataChannel:
	if pc == null:
		pc = WebRTCPeerConnection.new()
	return pc.create_data_channel("opt", opts)

func cleanup() -> void:
	if pc != null:
		pc.close()
	super.cleanup()

func test_defaults() -> void:
	var ch := _make({})
	check_eq(ch.get_label(), "opt", "label")
	check_eq(ch.get_protocol(), "", "protocol")
	check_eq(ch.is_ordered(), true, "ordered")
	check_eq(ch.is_negotiated(), false, "negotiated")
	check_eq(ch.get_id(), 65535, "in-band id before it is assigned")
	check_eq(ch.get_max_packet_life_time(), 65535, "lifetime unset")
	check_eq(ch.get_max_retransmits(), 65535, "retransmits unset")
	check_eq(ch.get_ready_state(), WebRTCDataChannel.STATE_CONNECTING, "state")
	check_eq(ch.get_write_mode(), WebRTCDataChannel.WRITE_MODE_BINARY, "write mode")
	check_eq(ch.get_buffered_amount(), 0, "buffered amount")
	check_eq(ch.get_available_packet_count(), 0, "packets")
	check_eq(ch.call("get_max_message_size"), 65536, "max packet size before the remote says (RFC 8841 default)")
	check_eq(ch.poll(), OK, "poll")
	check_eq(ch.was_string_packet(), false, "was_string_packet")

func test_each_option_reaches_its_getter() -> void:
	var ch := _make({"negotiated": true, "id": 42, "ordered": false, "maxRetransmits": 3, "protocol": "game/1"})
	check_eq(ch.is_negotiated(), true, "negotiated")
	check_eq(ch.get_id(), 42, "id")
	check_eq(ch.is_ordered(), false, "ordered")
	check_eq(ch.get_max_retransmits(), 3, "retransmits")
	check_eq(ch.get_max_packet_life_time(), 65535, "lifetime stays unset")
	check_eq(ch.get_protocol(), "game/1", "protocol")
	var life := _make({"maxPacketLifeTime": 250})
	check_eq(life.get_max_packet_life_time(), 250, "maxPacketLifeTime")
	var alias := _make({"maxPacketLifetime": 1, "ordered": false})
	check_eq(alias.get_max_packet_life_time(), 1, "maxPacketLifetime (WebRTCMultiplayerPeer's spelling) is honoured")
	var edge := _make({"negotiated": true, "id": 65534})
	check_eq(edge.get_id(), 65534, "largest id")
	var zero := _make({"negotiated": true, "id": 0, "maxRetransmits": 0})
	check_eq(zero.get_id(), 0, "id 0")
	check_eq(zero.get_max_retransmits(), 0, "0 retransmits")
	var json := _make({"negotiated": true, "id": 7.0})
	check(json != null and json.get_id() == 7, "integral floats (from JSON) are accepted")

func test_invalid_options_return_null() -> void:
	var bad := [
		{"negotiated": true},
		{"negotiated": true, "id": 65535},
		{"negotiated": true, "id": -1},
		{"negotiated": true, "id": 70000},
		{"maxPacketLifeTime": 10, "maxRetransmits": 1},
		{"maxPacketLifetime": 10, "maxRetransmits": 1},
		{"maxRetransmits": -1},
		{"maxRetransmits": 65536},
		{"ordered": "yes"},
		{"negotiated": 1},
		{"negotiated": true, "id": "3"},
		{"negotiated": true, "id": 2.5},
		{"protocol": 5},
	]
	for opts in bad:
		check(_make(opts) == null, "create_data_channel(%s) must return null" % var_to_str(opts))

func test_duplicate_negotiated_id_is_refused() -> void:
	check(_make({"negotiated": true, "id": 9}) != null, "first")
	check(_make({"negotiated": true, "id": 9}) == null, "duplicate id")
	check(_make({"negotiated": true, "id": 10}) != null, "other id")

func test_only_in_state_new() -> void:
	check(_make({}) != null, "before the offer")
	check_eq(pc.create_offer(), OK, "offer")
	check(_make({}) == null, "after create_offer()")
	pc.close()
	check(_make({}) == null, "after close()")

func test_write_mode_is_per_channel() -> void:
	var ch := _make({})
	ch.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT
	check_eq(ch.get_write_mode(), WebRTCDataChannel.WRITE_MODE_TEXT, "text")
	check_eq(_make({}).get_write_mode(), WebRTCDataChannel.WRITE_MODE_BINARY, "a new channel is binary")

func test_received_channel_reports_the_openers_reliability() -> void:
	var r: Array = await connected_pair({"ordered": false, "maxRetransmits": 2})
	if not r.is_empty():
		check_eq(r[2].get_max_retransmits(), 2, "maxRetransmits from the open message")
		check_eq(r[2].get_max_packet_life_time(), 65535, "lifetime unset")
		check_eq(r[2].is_ordered(), false, "unordered")
	var q: Array = await connected_pair({"maxPacketLifeTime": 150})
	if not q.is_empty():
		check_eq(q[2].get_max_packet_life_time(), 150, "maxPacketLifeTime from the open message")
		check_eq(q[2].get_max_retransmits(), 65535, "retransmits unset")
