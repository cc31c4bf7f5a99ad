# Base of every test file: assertions that record failures, a connected-pair helper, and waits
# that poll the peers and give up at a deadline (a test never hangs the suite).
extends RefCounted

const Pair = preload("res://tests/pair.gd")
const OPEN := WebRTCDataChannel.STATE_OPEN
const CLOSED := WebRTCDataChannel.STATE_CLOSED

var tree: SceneTree
var failures: Array = []
var pairs: Array = []

func check(cond: bool, msg: String) -> void:
	if not cond:
		failures.append(msg)

func check_eq(got, want, msg: String) -> void:
	if typeof(got) != typeof(want) or got != want:
		failures.append("%s: got %s, want %s" % [msg, var_to_str(got), var_to_str(want)])

func new_pair() -> Pair:
	var p := Pair.new()
	pairs.append(p)
	return p

## Polls the pairs every frame until cond() is true; false after timeout_s.
func wait_until(cond: Callable, timeout_s: float = 10.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while not cond.call():
		for p in pairs:
			p.poll()
		if Time.get_ticks_msec() > deadline:
			return false
		await tree.process_frame
	return true

## A pair whose peer a opened the in-band channel "chat" (options opts) and b received it,
## both ends open. Returns [pair, a_channel, b_channel], or [] after recording a failure.
func connected_pair(opts: Dictionary = {}) -> Array:
	var p := new_pair()
	var ch: WebRTCDataChannel = p.a.create_data_channel("chat", opts)
	if ch == null:
		failures.append("create_data_channel failed")
		return []
	p.a.create_offer()
	var ok: bool = await wait_until(func(): return p.received_b.size() == 1 \
		and ch.get_ready_state() == OPEN and p.received_b[0].get_ready_state() == OPEN)
	if not ok:
		failures.append("the pair did not connect within 10 s")
		return []
	return [p, ch, p.received_b[0]]

## Waits for one packet on ch and returns it (empty on timeout, with a failure recorded).
func recv(ch: WebRTCDataChannel, timeout_s: float = 10.0) -> PackedByteArray:
	if not await wait_until(func(): return ch.get_available_packet_count() > 0, timeout_s):
		failures.append("no packet arrived on '%s'" % ch.get_label())
		return PackedByteArray()
	return ch.get_packet()

func cleanup() -> void:
	for p in pairs:
		p.close()
	pairs.clear()
