# Handlers of the connection's signals calling back into it: close(), poll(), initialize(),
# create_data_channel(), set_remote_description(), and dropping the game's last reference to
# the connection that is emitting. Each case runs in its own process (test_isolated.gd).
extends "res://tests/case.gd"

# The connections live in members, not in locals, so a handler can drop the last reference.
var a: WebRTCPeerConnection
var b: WebRTCPeerConnection
var events_a: Array = [] # [signal, detail] in the order a emitted them
var channels_b: Array = []
var action := "" # what a's handlers do (set by each test)

func _wire() -> void:
	a = WebRTCPeerConnection.new()
	b = WebRTCPeerConnection.new()
	a.session_description_created.connect(_on_a_description)
	a.ice_candidate_created.connect(_on_a_candidate)
	b.session_description_created.connect(_on_b_description)
	b.ice_candidate_created.connect(_on_b_candidate)
	b.data_channel_received.connect(_on_b_channel)

## Polls a and b (whichever is still there) until cond() or the deadline.
func pump(cond: Callable, timeout_s := 10.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while not cond.call():
		if a != null:
			a.poll()
		if b != null:
			b.poll()
		if Time.get_ticks_msec() > deadline:
			return false
		await tree.process_frame
	return true

func _on_a_description(type: String, sdp: String) -> void:
	events_a.append(["description", type])
	match action:
		"close on description":
			a.close()
			return
		"free on description":
			a = null
			return
		"initialize on description":
			check_eq(a.initialize({}), OK, "initialize() inside the handler")
			return
		"poll on description":
			check_eq(a.poll(), OK, "poll() inside the handler")
		"channel on description":
			check(a.create_data_channel("late", {}) == null, "create_data_channel() after create_offer() gives null, also in a handler")
	a.set_local_description(type, sdp)
	if b != null:
		b.set_remote_description(type, sdp)

func _on_a_candidate(mid: String, index: int, cand: String) -> void:
	events_a.append(["candidate", cand])
	match action:
		"close on candidate":
			a.close()
			return
		"free on candidate":
			a = null
			return
		"poll on description":
			check_eq(a.poll(), OK, "poll() inside the candidate handler")
	if b != null:
		b.add_ice_candidate(mid, index, cand)

func _on_b_description(type: String, sdp: String) -> void:
	b.set_local_description(type, sdp)
	if action == "remote description on candidate":
		# A second remote offer from inside b's own handler: refused, nothing breaks.
		check_eq(b.set_remote_description("offer", sdp), FAILED, "a second remote description inside a handler")
	if a != null:
		a.set_remote_description(type, sdp)

func _on_b_candidate(mid: String, index: int, cand: String) -> void:
	if action == "remote description on candidate":
		check_eq(b.set_remote_description("offer", "garbage"), FAILED, "garbage SDP inside a candidate handler")
	if a != null:
		a.add_ice_candidate(mid, index, cand)

func _on_b_channel(ch: WebRTCDataChannel) -> void:
	channels_b.append(ch)
	match action:
		"free on channel":
			b = null
		"close channel on channel":
			ch.close()

func _count(kind: String) -> int:
	return events_a.filter(func(e): return e[0] == kind).size()

## The fd count with the process's shared resources (the runtime, started by the first
## connection) already open: a connected pair made and closed first.
func _fd_baseline() -> int:
	var ch := _connect("") # kept: a channel whose last reference goes is closed
	check(await pump(func(): return _open(ch)), "a first pair connects")
	a.close()
	b.close()
	a = null
	b = null
	channels_b.clear()
	events_a.clear()
	return await settled_fd_count()

func _connect(act: String) -> WebRTCDataChannel:
	action = act
	_wire()
	var ch := a.create_data_channel("x", {})
	a.create_offer()
	return ch

func _open(ch: WebRTCDataChannel) -> bool:
	return ch.get_ready_state() == OPEN and channels_b.size() == 1 and channels_b[0].get_ready_state() == OPEN

func test_close_inside_session_description_created() -> void:
	_connect("close on description")
	await pump(func(): return not events_a.is_empty())
	check_eq(a.get_connection_state(), WebRTCPeerConnection.STATE_CLOSED, "CLOSED")
	await pump(func(): return false, 0.5)
	check_eq(events_a.size(), 1, "nothing is emitted after close() (got %s)" % [events_a])
	check_eq(a.poll(), OK, "poll() after")

func test_close_inside_ice_candidate_created() -> void:
	_connect("close on candidate")
	await pump(func(): return _count("candidate") > 0)
	await pump(func(): return false, 0.5)
	check_eq(_count("candidate"), 1, "no candidate after the handler closed the connection")
	check_eq(a.get_connection_state(), WebRTCPeerConnection.STATE_CLOSED, "CLOSED")

func test_initialize_inside_session_description_created() -> void:
	_connect("initialize on description")
	await pump(func(): return not events_a.is_empty())
	await pump(func(): return false, 0.5)
	check_eq(events_a.size(), 1, "the old connection's candidates are not emitted by the new one (got %s)" % [events_a])
	check_eq(a.get_connection_state(), WebRTCPeerConnection.STATE_NEW, "a fresh connection")
	# The fresh connection works.
	action = ""
	events_a.clear()
	var ch := a.create_data_channel("again", {})
	check_eq(a.create_offer(), OK, "create_offer on the re-initialized connection")
	check(await pump(func(): return _open(ch)), "the re-initialized connection connects")

func test_poll_inside_handlers() -> void:
	var ch := _connect("poll on description")
	check(await pump(func(): return _open(ch)), "connects")
	check_eq(_count("description"), 1, "one description")
	check(not events_a.is_empty() and events_a[0][0] == "description", "the description comes first")
	var cands: Array = events_a.filter(func(e): return e[0] == "candidate").map(func(e): return e[1])
	var unique := {}
	for c in cands:
		unique[c] = true
	check_eq(unique.size(), cands.size(), "each candidate once")

func test_create_data_channel_inside_session_description_created() -> void:
	var ch := _connect("channel on description")
	check(await pump(func(): return _open(ch)), "connects")

func test_set_remote_description_inside_handlers() -> void:
	var ch := _connect("remote description on candidate")
	check(await pump(func(): return _open(ch)), "connects")

func test_close_channel_inside_data_channel_received() -> void:
	var ch := _connect("close channel on channel")
	check(await pump(func(): return channels_b.size() == 1 and channels_b[0].get_ready_state() == CLOSED \
		and ch.get_ready_state() == CLOSED), "the channel closed from the handler is CLOSED on both ends")
	check_eq(a.get_connection_state(), WebRTCPeerConnection.STATE_CONNECTED, "the connection stays")

## The handler drops the game's last reference to the connection that emits: no crash, the
## object is freed soon after, and its sockets are closed.
func _check_freed(what: String, gone: WeakRef, fds_before: int) -> void:
	check(await pump(func(): return gone.get_ref() == null, 2.0), "%s: the connection is freed" % what)
	check(await pump(func(): return ProcStats.fd_count() <= fds_before, 5.0),
		"%s: its sockets are closed (%d fds, %d before)" % [what, ProcStats.fd_count(), fds_before])

func test_free_inside_session_description_created() -> void:
	var fds: int = await _fd_baseline()
	_connect("free on description")
	var gone: WeakRef = weakref(a)
	await pump(func(): return not events_a.is_empty())
	check_eq(events_a.size(), 1, "the offer was emitted")
	check(a == null, "the handler dropped it")
	b = null
	await _check_freed("freed in session_description_created", gone, fds)

func test_free_inside_ice_candidate_created() -> void:
	var fds: int = await _fd_baseline()
	_connect("free on candidate")
	var gone: WeakRef = weakref(a)
	await pump(func(): return _count("candidate") > 0)
	await pump(func(): return false, 0.3)
	check_eq(_count("candidate"), 1, "nothing is emitted once the game let the connection go")
	b = null
	await _check_freed("freed in ice_candidate_created", gone, fds)

func test_free_inside_data_channel_received() -> void:
	var fds: int = await _fd_baseline()
	var ch := _connect("free on channel")
	var gone: WeakRef = weakref(b)
	await pump(func(): return channels_b.size() == 1)
	check(b == null, "the handler dropped the answering connection")
	check(await pump(func(): return ch.get_ready_state() == CLOSED), "the offerer's channel closes")
	check_eq(channels_b[0].get_ready_state(), CLOSED, "the received channel, kept by the game, is CLOSED")
	channels_b.clear()
	a = null
	ch = null
	await _check_freed("freed in data_channel_received", gone, fds)
