# Base of every test file: assertions that record failures, a connected-pair helper, and waits
# that poll the peers and give up at a deadline (a test never hangs the suite).
extends RefCounted

const Pair = preload("res://tests/pair.gd")
const ProcStats = preload("res://tests/proc_stats.gd")
const OPEN := WebRTCDataChannel.STATE_OPEN
const CLOSED := WebRTCDataChannel.STATE_CLOSED

var tree: SceneTree
var failures: Array = []
var skipped := "" # why the test could not check what it is about (the runner reports SKIP)
var pairs: Array = []

func check(cond: bool, msg: String) -> void:
	if not cond:
		failures.append(msg)

func check_eq(got, want, msg: String) -> void:
	if typeof(got) != typeof(want) or got != want:
		failures.append("%s: got %s, want %s" % [msg, var_to_str(got), var_to_str(want)])

## Prints a line of what the test measured (test_isolated.gd forwards these from its processes).
func note(text: String) -> void:
	print("  > ", text)

## Marks the test as not run, with the reason: it is reported as SKIP, never as a pass.
func skip(why: String) -> void:
	skipped = why

## Position in the captured error output (Godot 4.5+ Logger, else the file log that
## `cargo xtask suite` turns on); -1 (and the test skipped) without either.
func log_mark() -> int:
	var log = tree.get("script_errors")
	if log == null:
		skip("no Logger (Godot < 4.5) and no file log: error messages cannot be checked")
		return -1
	return log.mark()

## True if an error (a warning: want_warning) containing text was logged since mark.
func logged(mark: int, text: String, want_warning := false) -> bool:
	var log = tree.get("script_errors")
	return log != null and mark >= 0 and log.logged_since(mark, text, want_warning)

## The errors and warnings logged since mark, as text.
func log_since(mark: int) -> Array:
	var log = tree.get("script_errors")
	return [] if log == null or mark < 0 else log.texts_since(mark)

## Checks that `what` was refused with error code want (OK: accepted) and, when refused, that
## one short error (at most 1,500 bytes, however large the input) was logged since mark.
func check_refused(got: int, want: int, what: String, mark: int) -> void:
	check_eq(got, want, what)
	if want == OK or mark < 0:
		return
	var errors := log_since(mark)
	check(not errors.is_empty(), "%s: no error message" % what)
	for e in errors:
		check(e.length() <= 1500, "%s: an error message of %d characters" % [what, e.length()])

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

## The open file descriptor count once it has stopped changing for 300 ms (closed connections
## give their sockets back asynchronously); the last count after timeout_s.
func settled_fd_count(timeout_s: float = 5.0) -> int:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	var last := ProcStats.fd_count()
	var since := Time.get_ticks_msec()
	while Time.get_ticks_msec() - since < 300 and Time.get_ticks_msec() < deadline:
		for p in pairs:
			p.poll()
		await tree.process_frame
		var now := ProcStats.fd_count()
		if now != last:
			last = now
			since = Time.get_ticks_msec()
	return last

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
