# Interop: this addon in headless Godot against another WebRTC stack (aiortc, run by
# `cargo xtask test`), meeting in a lobby of our signaling server. Creates the lobby, waits for the
# other peer, connects (as offerer or answerer), and checks every channel kind, text and binary,
# sizes up to the other side's maximum, and closing from either side. The other side echoes.
#
# Arguments after `--`: --url URL --role offer|answer --stack NAME
# Prints LOBBY code, one PASS/FAIL line per check and "N passed, N failed"; exit code 0 if all passed.
extends SceneTree

var args := {"url": "", "role": "offer", "stack": "remote"}
var ws := WebSocketPeer.new()
var pc := WebRTCPeerConnection.new()
var remote_id := 0
var channels := {} # label -> WebRTCDataChannel
var passed := 0
var failed := 0
var remote_candidates: Array = [] # candidate lines the other side sent
var refused_candidates := 0

func _init() -> void:
	var a := OS.get_cmdline_user_args()
	for i in range(0, a.size() - 1, 2):
		args[a[i].trim_prefix("--")] = a[i + 1]
	create_timer(90.0).timeout.connect(func(): _finish("watchdog: 90 s"))
	_run()

func _check(ok: bool, what: String) -> void:
	if ok:
		passed += 1
		print("PASS %s %s: %s" % [args.stack, args.role, what])
	else:
		failed += 1
		print("FAIL %s %s: %s" % [args.stack, args.role, what])

func _finish(why: String = "") -> void:
	if why != "":
		_check(false, why)
	print("%d passed, %d failed" % [passed, failed])
	quit(0 if failed == 0 else 1)

func _send(msg: Dictionary) -> void:
	ws.send_text(JSON.stringify(msg))

func _pump() -> void:
	ws.poll()
	pc.poll()
	while ws.get_available_packet_count() > 0:
		var msg = JSON.parse_string(ws.get_packet().get_string_from_utf8())
		if not msg is Dictionary:
			continue
		match msg.get("type", ""):
			"joined":
				print("LOBBY %s %d" % [msg.lobby, msg.id])
			"peer_joined":
				remote_id = int(msg.id)
			"offer", "answer":
				var err := pc.set_remote_description(msg.type, msg.data.sdp)
				if err != OK:
					_check(false, "set_remote_description(%s) = %d" % [msg.type, err])
			"candidate":
				remote_candidates.append(str(msg.data.get("candidate", "")))
				if pc.add_ice_candidate(str(msg.data.get("mid", "0")), int(msg.data.get("index", 0)), str(msg.data.get("candidate", ""))) != OK:
					refused_candidates += 1

func _wait(cond: Callable, seconds: float) -> bool:
	var deadline := Time.get_ticks_msec() + int(seconds * 1000)
	while not cond.call():
		_pump()
		if Time.get_ticks_msec() > deadline:
			return false
		await process_frame
	return true

func _on_description(type: String, sdp: String) -> void:
	pc.set_local_description(type, sdp)
	_send({"type": type, "to": remote_id, "data": {"sdp": sdp}})

func _on_candidate(mid: String, index: int, cand: String) -> void:
	_send({"type": "candidate", "to": remote_id, "data": {"mid": mid, "index": index, "candidate": cand}})

func _on_channel(ch: WebRTCDataChannel) -> void:
	channels[ch.get_label()] = ch

func _open(label: String) -> bool:
	return channels.has(label) and channels[label].get_ready_state() == WebRTCDataChannel.STATE_OPEN

## Sends data on ch (as text or binary) and checks the echo.
func _echo(ch: WebRTCDataChannel, data: PackedByteArray, text: bool) -> bool:
	ch.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT if text else WebRTCDataChannel.WRITE_MODE_BINARY
	if ch.put_packet(data) != OK:
		return false
	if not await _wait(func(): return ch.get_available_packet_count() > 0, 10.0):
		return false
	return ch.get_packet() == data and ch.was_string_packet() == text

func _run() -> void:
	await process_frame
	pc.session_description_created.connect(_on_description)
	pc.ice_candidate_created.connect(_on_candidate)
	pc.data_channel_received.connect(_on_channel)
	# Before anything else: the other side's offer may arrive with the join, and channels can
	# only be created in STATE_NEW.
	channels["negotiated"] = pc.create_data_channel("negotiated", {"negotiated": true, "id": 5})
	if ws.connect_to_url(args.url) != OK:
		_finish("cannot reach the signaling server")
		return
	if not await _wait(func(): return ws.get_ready_state() == WebSocketPeer.STATE_OPEN, 10.0):
		_finish("signaling connection")
		return
	_send({"type": "join", "lobby": "", "mesh": true})
	if not await _wait(func(): return remote_id != 0, 30.0):
		_finish("the %s peer never joined" % args.stack)
		return
	if args.role == "offer":
		channels["reliable"] = pc.create_data_channel("reliable", {})
		channels["unordered"] = pc.create_data_channel("unordered", {"ordered": false, "maxRetransmits": 0})
		channels["closeme"] = pc.create_data_channel("closeme", {})
		pc.create_offer()
	var all_open := await _wait(func(): return _open("negotiated") and _open("reliable") and _open("unordered") and _open("closeme"), 20.0)
	_check(all_open, "connects; in-band and negotiated channels open")
	if not all_open:
		_finish()
		return
	_check(pc.get_connection_state() == WebRTCPeerConnection.STATE_CONNECTED, "STATE_CONNECTED")
	if args.stack in ["chromium", "firefox"]:
		# The browser's trickled candidates may come after the peers already met through a
		# peer-reflexive pair (Firefox: 1 run in several): wait for them, bounded.
		await _wait(func(): return remote_candidates.any(func(c): return c.contains(".local ")), 5.0)
	var mdns := remote_candidates.filter(func(c): return c.contains(".local "))
	print("remote candidates: %d, %d of them mDNS .local" % [remote_candidates.size(), mdns.size()])
	_check(refused_candidates == 0, "every remote candidate accepted")
	if args.stack in ["chromium", "firefox"]:
		# Browsers hide host addresses behind mDNS names unless told not to: they must work.
		_check(not mdns.is_empty(), "the browser's mDNS-hidden host candidates arrive and the peers connect")
	_check(not channels.unordered.is_ordered() and channels.reliable.is_ordered(), "ordered flags")
	_check(channels.reliable.get_id() != 65535 and channels.reliable.get_id() != channels.unordered.get_id(), "in-band ids assigned")
	var max_size: int = channels.reliable.call("get_max_message_size")
	print("max message size from the remote's SDP: %d" % max_size)
	_check(max_size >= 16384, "max message size from the remote's SDP")
	for label in ["reliable", "negotiated"]:
		for size in [1, 1200, 16384, max_size]:
			var data := PackedByteArray()
			data.resize(size)
			for i in size:
				data[i] = 97 + (i % 26) # ASCII, so it is valid text too
			var name := "max" if size == max_size else "%d B" % size
			_check(await _echo(channels[label], data, true), "%s: %s text echoed as text" % [label, name])
			data[0] = 255 # not UTF-8: only valid as binary
			_check(await _echo(channels[label], data, false), "%s: %s binary echoed as binary" % [label, name])
	# 0 bytes: Godot's put_packet() cannot send an empty packet, so the other side sends them.
	var r: WebRTCDataChannel = channels.reliable
	r.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT
	r.put_packet("empty-please".to_utf8_buffer())
	var two := await _wait(func(): return r.get_available_packet_count() >= 2, 5.0)
	var empty_ok := two and r.get_packet().is_empty() and r.was_string_packet() and r.get_packet().is_empty() and not r.was_string_packet()
	_check(empty_ok, "0 B text and 0 B binary arrive as empty packets")
	var u: WebRTCDataChannel = channels.unordered
	u.write_mode = WebRTCDataChannel.WRITE_MODE_BINARY
	for i in 20:
		var d := PackedByteArray()
		d.resize(1200)
		d.fill(i)
		u.put_packet(d)
	await _wait(func(): return u.get_available_packet_count() >= 20, 5.0)
	var intact := u.get_available_packet_count() > 0
	while u.get_available_packet_count() > 0:
		var p := u.get_packet()
		intact = intact and p.size() == 1200 and p.count(p[0]) == 1200
	_check(intact, "unordered, no retransmits: messages arrive intact")
	# Close from this side: CLOSED needs the remote's answer to the stream reset.
	channels.reliable.close()
	_check(await _wait(func(): return channels.reliable.get_ready_state() == WebRTCDataChannel.STATE_CLOSED, 5.0), "close from Godot completes")
	# Close from the other side.
	channels.closeme.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT
	channels.closeme.put_packet("close-please".to_utf8_buffer())
	_check(await _wait(func(): return channels.closeme.get_ready_state() == WebRTCDataChannel.STATE_CLOSED, 5.0), "close from %s reaches Godot" % args.stack)
	channels.negotiated.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT
	channels.negotiated.put_packet("bye".to_utf8_buffer())
	await _wait(func(): return false, 0.3)
	pc.close()
	_finish()
