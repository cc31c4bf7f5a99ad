# The dedicated-server workload through the GDScript API, as two Godot processes: one server
# with N connections (default 64) to one client process holding the N client ends, both at
# 60 fps, signaled over a local TCP socket. Each client sends 64 B inputs at 30 Hz on an
# unreliable channel (unordered, maxRetransmits 0); the server sends each client a 400 B state at
# 30 Hz on the unreliable channel and a 100 B event once a second on a reliable one. Both
# channels are negotiated (ids 1 and 2), so the shape is the same in every stack.
#
#   godot --headless --path bench/godot -s res://server.gd -- --role server --port P [--clients N] [--seconds S]
#   godot --headless --path bench/godot -s res://server.gd -- --role client --port P
#
# The server prints one line: SERVER_JSON {...}: server_cpu_s (process CPU over the measured
# seconds), server_rss_kib_per_connection (RSS growth from before the first connection to the
# end, per connection), server_open_s (first offer received to every channel open on both
# ends), server_frame_max_ms (longest frame while measuring), server_inputs_delivered_pct,
# server_states_delivered_pct, server_events_delivered_pct (reported by the client).
extends SceneTree

const Bench = preload("res://bench.gd")
const STATE_HZ := 30
var role := "server"
var port := 0
var clients := 64
var seconds := 20.0
var peers: Array = []     # one Dictionary per connection: pc, reliable, unreliable
var tcp: StreamPeerTCP
var listener: TCPServer

func _init() -> void:
	var a := OS.get_cmdline_user_args()
	for i in range(0, a.size() - 1, 2):
		match a[i]:
			"--role": role = a[i + 1]
			"--port": port = int(a[i + 1])
			"--clients": clients = int(a[i + 1])
			"--seconds": seconds = float(a[i + 1])
	Engine.max_fps = 60
	create_timer(seconds + 120.0).timeout.connect(func():
		printerr("server.gd (%s): watchdog" % role)
		quit(1))
	if role == "server":
		_serve()
	else:
		_client()

func _send(msg: Dictionary) -> void:
	tcp.put_var(msg)

## Signaling messages that have arrived, in order.
func _received() -> Array:
	var out: Array = []
	tcp.poll()
	while tcp.get_status() == StreamPeerTCP.STATUS_CONNECTED and tcp.get_available_bytes() > 0:
		out.append(tcp.get_var())
	return out

## A connection with the two negotiated channels; its signals go to the other process.
func _new_peer(i: int) -> Dictionary:
	var pc := WebRTCPeerConnection.new()
	pc.initialize({})
	pc.session_description_created.connect(func(type: String, sdp: String):
		pc.set_local_description(type, sdp)
		_send({"i": i, "type": type, "sdp": sdp}))
	pc.ice_candidate_created.connect(func(mid: String, index: int, cand: String):
		_send({"i": i, "mid": mid, "index": index, "cand": cand}))
	var reliable := pc.create_data_channel("events", {"negotiated": true, "id": 1})
	var unreliable := pc.create_data_channel("state", {"negotiated": true, "id": 2, "ordered": false, "maxRetransmits": 0})
	return {"pc": pc, "reliable": reliable, "unreliable": unreliable}

func _apply(msg: Dictionary) -> void:
	var p: Dictionary = peers[msg.i]
	if msg.has("sdp"):
		p.pc.set_remote_description(msg.type, msg.sdp)
	else:
		p.pc.add_ice_candidate(msg.mid, msg.index, msg.cand)

func _all_open() -> bool:
	for p in peers:
		if p.reliable.get_ready_state() != WebRTCDataChannel.STATE_OPEN or p.unreliable.get_ready_state() != WebRTCDataChannel.STATE_OPEN:
			return false
	return peers.size() == clients

func _drain(ch: WebRTCDataChannel) -> int:
	var n := 0
	while ch.get_available_packet_count() > 0:
		ch.get_packet()
		n += 1
	return n

func _serve() -> void:
	listener = TCPServer.new()
	if listener.listen(port, "127.0.0.1") != OK:
		printerr("server.gd: cannot listen on %d" % port)
		quit(1)
		return
	while not listener.is_connection_available():
		await process_frame
	tcp = listener.take_connection()
	tcp.set_no_delay(true)
	var rss0 := Bench.rss() / 1024.0
	for i in clients:
		peers.append(_new_peer(i))
	var opened_from := -1
	var open_deadline := Time.get_ticks_msec() + 30000
	while true:
		for msg in _received():
			if opened_from < 0:
				opened_from = Time.get_ticks_usec()
			_apply(msg)
		for p in peers:
			p.pc.poll()
		if _all_open():
			break
		if Time.get_ticks_msec() > open_deadline:
			printerr("server.gd: the connections did not open within 30 s")
			quit(1)
			return
		await process_frame
	var open_s := (Time.get_ticks_usec() - opened_from) / 1e6
	# Both ends open: the client starts sending now.
	_send({"go": true})
	var state := PackedByteArray()
	state.resize(400)
	var event := PackedByteArray()
	event.resize(100)
	var inputs := 0
	var frame_max := 0.0
	var cpu0 := Bench.cpu_ms() / 1000.0
	var t0 := Time.get_ticks_usec()
	var last_frame := t0
	var states_sent := 0
	var events_sent := 0
	while true:
		var now := Time.get_ticks_usec()
		var elapsed := (now - t0) / 1e6
		if elapsed >= seconds:
			break
		frame_max = maxf(frame_max, (now - last_frame) / 1000.0)
		last_frame = now
		for p in peers:
			p.pc.poll()
			inputs += _drain(p.unreliable)
			_drain(p.reliable)
		var due_states := int(elapsed * STATE_HZ) + 1
		while states_sent < due_states:
			for p in peers:
				p.unreliable.put_packet(state)
			states_sent += 1
		var due_events := int(elapsed) + 1
		while events_sent < due_events:
			for p in peers:
				p.reliable.put_packet(event)
			events_sent += 1
		await process_frame
	var cpu := Bench.cpu_ms() / 1000.0 - cpu0
	var rss := (Bench.rss() / 1024.0 - rss0) / clients
	_send({"done": true, "states": states_sent, "events": events_sent})
	# The client's counts, then the inputs still on their way.
	var report := {}
	var deadline := Time.get_ticks_msec() + 10000
	while report.is_empty() and Time.get_ticks_msec() < deadline:
		for p in peers:
			p.pc.poll()
			inputs += _drain(p.unreliable)
		for msg in _received():
			if msg.has("report"):
				report = msg
		await process_frame
	if report.is_empty():
		printerr("server.gd: no report from the client")
		quit(1)
		return
	var expected_inputs: float = report.inputs_sent
	print("SERVER_JSON " + JSON.stringify({
		"server_cpu_s": cpu,
		"server_rss_kib_per_connection": rss,
		"server_open_s": open_s,
		"server_frame_max_ms": frame_max,
		"server_inputs_delivered_pct": 100.0 * inputs / maxf(expected_inputs, 1.0),
		"server_states_delivered_pct": 100.0 * report.states / maxf(states_sent * clients, 1.0),
		"server_events_delivered_pct": 100.0 * report.events / maxf(events_sent * clients, 1.0),
	}))
	for p in peers:
		p.pc.close()
	quit(0)

func _client() -> void:
	tcp = StreamPeerTCP.new()
	tcp.connect_to_host("127.0.0.1", port)
	var deadline := Time.get_ticks_msec() + 10000
	while tcp.get_status() != StreamPeerTCP.STATUS_CONNECTED:
		tcp.poll()
		if Time.get_ticks_msec() > deadline:
			printerr("server.gd (client): cannot reach the server on %d" % port)
			quit(1)
			return
		await process_frame
	tcp.set_no_delay(true)
	for i in clients:
		peers.append(_new_peer(i))
		peers[i].pc.create_offer()
	var input := PackedByteArray()
	input.resize(64)
	var going := false
	var done := false
	var t0 := 0
	var inputs_sent := 0
	var states := 0
	var events := 0
	var linger_until := 0
	while true:
		for msg in _received():
			if msg.has("go"):
				going = true
				t0 = Time.get_ticks_usec()
			elif msg.has("done"):
				done = true
				going = false
				linger_until = Time.get_ticks_msec() + 1000
			else:
				_apply(msg)
		for p in peers:
			p.pc.poll()
			states += _drain(p.unreliable)
			events += _drain(p.reliable)
		if going:
			var due := int((Time.get_ticks_usec() - t0) / 1e6 * STATE_HZ) + 1
			while inputs_sent < due * clients:
				for p in peers:
					p.unreliable.put_packet(input)
				inputs_sent += clients
		if done and Time.get_ticks_msec() >= linger_until:
			break
		await process_frame
	_send({"report": true, "inputs_sent": inputs_sent, "states": states, "events": events})
	tcp.poll()
	await create_timer(1.0).timeout
	for p in peers:
		p.pc.close()
	quit(0)
