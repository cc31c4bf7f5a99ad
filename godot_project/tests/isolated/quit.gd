# Quitting with connections alive in every state: gathering, checking behind hundreds of
# candidates that lead nowhere, flooding a channel, and all of them at once. Nothing is closed:
# the connections are still referenced when the game quits, so they are freed while Godot exits
# and the runtime must have stopped every thread before the library is unloaded. A crash at exit
# fails the case (test_isolated.gd checks the exit status). Four scenarios, five quits each.
extends "res://tests/case.gd"

const LIMIT_S := 40
const HOST := "candidate:1 1 udp 2130706431 127.0.0.%d %d typ host"
const MutatingPair = preload("res://tests/mutating_pair.gd")

## Alive until the process exits (not in `pairs`, which cleanup() closes).
static var kept: Array = []

func _gathering() -> void:
	var pc := WebRTCPeerConnection.new()
	# A STUN server that never answers keeps gathering going.
	pc.initialize({"iceServers": [{"urls": ["stun:127.0.0.1:9"]}]})
	pc.create_data_channel("x", {})
	pc.create_offer()
	kept.append(pc)
	for i in 3:
		pc.poll()
		await tree.process_frame
	check(pc.get_connection_state() != WebRTCPeerConnection.STATE_CLOSED, "the connection is alive at quit")

func _checking_behind_bogus_candidates() -> void:
	# Descriptions only: b's real candidates never reach a, 256 that lead nowhere do.
	var p := MutatingPair.new()
	p.carry_candidates = false
	kept.append(p)
	var a := p.a
	var b := p.b
	a.create_data_channel("x", {})
	a.create_offer()
	var ok := await _wait(func(): return a.get_signaling_state() == WebRTCPeerConnection.SIGNALING_STATE_STABLE, [a, b])
	check(ok, "offer and answer exchanged")
	for i in 256:
		a.add_ice_candidate("0", 0, HOST % [2 + i % 200, 20000 + i])
	await _wait(func(): return false, [a, b], 0.5)
	check(a.get_connection_state() == WebRTCPeerConnection.STATE_CONNECTING, "a is still checking at quit")

func _flooding() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var p = r[0]
	pairs.erase(p) # not closed by cleanup()
	kept.append(p)
	var ch: WebRTCDataChannel = r[1]
	var remote: WebRTCDataChannel = r[2]
	var data := PackedByteArray()
	data.resize(16384)
	var sent := 0
	var until := Time.get_ticks_msec() + 500
	while Time.get_ticks_msec() < until:
		while ch.get_buffered_amount() < 4 << 20 and ch.put_packet(data) == OK:
			sent += 1
		p.poll()
		while remote.get_available_packet_count() > 0:
			remote.get_packet()
		await tree.process_frame
	for i in 200: # and more queued at the moment of quitting
		ch.put_packet(data)
	check(sent > 0, "the flood ran")

func _all_at_once() -> void:
	await _gathering()
	await _checking_behind_bogus_candidates()
	await _flooding()
	var closing := WebRTCPeerConnection.new()
	closing.create_data_channel("x", {})
	closing.create_offer()
	closing.close()
	kept.append(closing)
	kept.append(WebRTCPeerConnection.new()) # never used

func _wait(cond: Callable, pcs: Array, timeout_s: float = 10.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while not cond.call():
		for pc in pcs:
			pc.poll()
		if Time.get_ticks_msec() > deadline:
			return false
		await tree.process_frame
	return true

func test_quit_while_gathering_1() -> void: await _gathering()
func test_quit_while_gathering_2() -> void: await _gathering()
func test_quit_while_gathering_3() -> void: await _gathering()
func test_quit_while_gathering_4() -> void: await _gathering()
func test_quit_while_gathering_5() -> void: await _gathering()
func test_quit_while_checking_1() -> void: await _checking_behind_bogus_candidates()
func test_quit_while_checking_2() -> void: await _checking_behind_bogus_candidates()
func test_quit_while_checking_3() -> void: await _checking_behind_bogus_candidates()
func test_quit_while_checking_4() -> void: await _checking_behind_bogus_candidates()
func test_quit_while_checking_5() -> void: await _checking_behind_bogus_candidates()
func test_quit_while_flooding_1() -> void: await _flooding()
func test_quit_while_flooding_2() -> void: await _flooding()
func test_quit_while_flooding_3() -> void: await _flooding()
func test_quit_while_flooding_4() -> void: await _flooding()
func test_quit_while_flooding_5() -> void: await _flooding()
func test_quit_with_all_of_them_1() -> void: await _all_at_once()
func test_quit_with_all_of_them_2() -> void: await _all_at_once()
func test_quit_with_all_of_them_3() -> void: await _all_at_once()
func test_quit_with_all_of_them_4() -> void: await _all_at_once()
func test_quit_with_all_of_them_5() -> void: await _all_at_once()
