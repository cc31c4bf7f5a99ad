# The victim of `cargo xtask hostile`: a well-behaved game that meets one remote peer (the
# attacker, hostile/attacker.py) in a lobby of our signaling server, answers its offer, polls
# every frame and reads every packet of every channel, and applies every candidate it is sent.
# Prints machine-readable lines for xtask:
#   LOBBY <code> <id>      the lobby it created
#   READY                  connected, a channel open: the attack may start
#   STAT t=<s> state=<n> channels=<n> msgs=<n> bytes=<n> max_frame_ms=<f>   once a second
#   RESULT state=<name> channels=<n> open_channels=<n> msgs=<n> bytes=<n> alive=<0|1>
#          max_frame_ms=<f> slowest_frame=<ws>/<signals>/<addon>/<outside> cand_ok=<n>
#          cand_refused=<n> cand_codes=<code:n,...> cand_ms=<f>
#   (slowest_frame: where the longest frame's time went, in ms: Godot's WebSocketPeer.poll(), the
#   signaling messages (JSON and what they call: add_ice_candidate()...), pc.poll() and the
#   channel reads, and the rest of the frame, outside _process: Godot's loop and the scheduler)
# It ends when the attacker says "done" (through signaling) or after its watchdog.
# Arguments after `--`: --url URL --seconds N (the attack's length, for the watchdog)
extends SceneTree

const STATES := ["NEW", "CONNECTING", "CONNECTED", "DISCONNECTED", "FAILED", "CLOSED"]

var args := {"url": "", "seconds": "30"}
var ws := WebSocketPeer.new()
var pc := WebRTCPeerConnection.new()
var remote_id := 0
var channels: Array[WebRTCDataChannel] = []
var msgs := 0
var bytes := 0
var alive := false # "still-alive" arrived after the attack
var cand_codes := {}
var cand_us := 0 # time spent in add_ice_candidate()
var done := false
var ready_at := -1
var last_frame := 0
var max_frame_us := 0
var slowest_frame := "0/0/0/0"
var last_work_us := 0 # the previous frame's time inside _process
var last_parts := [0, 0, 0]
var next_stat := 0

func _init() -> void:
	var a := OS.get_cmdline_user_args()
	for i in range(0, a.size() - 1, 2):
		args[a[i].trim_prefix("--")] = a[i + 1]
	pc.session_description_created.connect(func(type, sdp):
		pc.set_local_description(type, sdp)
		_send({"type": type, "to": remote_id, "data": {"sdp": sdp}}))
	pc.ice_candidate_created.connect(func(mid, index, cand):
		_send({"type": "candidate", "to": remote_id, "data": {"mid": mid, "index": index, "candidate": cand}}))
	pc.data_channel_received.connect(func(ch): channels.append(ch))
	ws.inbound_buffer_size = 1 << 24 # the candidate flood arrives at once
	ws.max_queued_packets = 1 << 16
	ws.connect_to_url(args.url)
	create_timer(float(args.seconds) + 40.0).timeout.connect(func(): _finish())

func _send(msg: Dictionary) -> void:
	ws.send_text(JSON.stringify(msg))

func _process(_delta: float) -> bool:
	var now := Time.get_ticks_usec()
	if ready_at >= 0 and last_frame > 0 and now - last_frame > max_frame_us:
		max_frame_us = now - last_frame
		slowest_frame = "%.1f/%.1f/%.1f/%.1f" % [last_parts[0] / 1000.0, last_parts[1] / 1000.0, last_parts[2] / 1000.0,
			(now - last_frame - last_work_us) / 1000.0]
	last_frame = now
	ws.poll()
	var t_ws := Time.get_ticks_usec()
	# At most 500 signaling messages a frame, as a game should take from a stranger: parsing
	# 20,000 JSON messages in one frame is ~80 ms of GDScript alone. The time the addon's
	# add_ice_candidate() takes is counted apart (cand_ms in RESULT).
	var budget := 500
	while ws.get_available_packet_count() > 0 and budget > 0:
		budget -= 1
		_on_signal(JSON.parse_string(ws.get_packet().get_string_from_utf8()))
	if ws.get_ready_state() == WebSocketPeer.STATE_OPEN and remote_id == 0 and not has_meta("joined"):
		set_meta("joined", true)
		_send({"type": "join", "lobby": "", "mesh": true})
	var t_signals := Time.get_ticks_usec()
	pc.poll()
	for ch in channels:
		while ch.get_available_packet_count() > 0:
			var p := ch.get_packet()
			msgs += 1
			bytes += p.size()
			if p == "still-alive".to_utf8_buffer():
				alive = true
	var t_addon := Time.get_ticks_usec()
	last_parts = [t_ws - now, t_signals - t_ws, t_addon - t_signals]
	last_work_us = t_addon - now
	if ready_at < 0 and pc.get_connection_state() == WebRTCPeerConnection.STATE_CONNECTED \
			and channels.any(func(c): return c.get_ready_state() == WebRTCDataChannel.STATE_OPEN):
		ready_at = Time.get_ticks_msec()
		print("READY")
	if ready_at >= 0 and Time.get_ticks_msec() >= next_stat:
		next_stat = Time.get_ticks_msec() + 1000
		print("STAT t=%.1f state=%s channels=%d msgs=%d bytes=%d max_frame_ms=%.1f" % [
			(Time.get_ticks_msec() - ready_at) / 1000.0, STATES[pc.get_connection_state()], channels.size(), msgs, bytes, max_frame_us / 1000.0])
	if done:
		_finish()
		return true
	return false

func _on_signal(msg) -> void:
	if not msg is Dictionary:
		return
	match msg.get("type", ""):
		"joined":
			print("LOBBY %s %d" % [msg.lobby, msg.id])
		"peer_joined":
			remote_id = int(msg.id)
		"offer", "answer":
			pc.set_remote_description(msg.type, msg.data.sdp)
		"candidate":
			var data: Dictionary = msg.get("data", {})
			if data.get("done", false):
				done = true
				return
			var mid := str(data.get("mid", "0"))
			var cand := str(data.get("candidate", ""))
			var t := Time.get_ticks_usec()
			var err := pc.add_ice_candidate(mid, int(data.get("index", 0)), cand)
			cand_us += Time.get_ticks_usec() - t
			cand_codes[err] = cand_codes.get(err, 0) + 1

func _finish() -> void:
	var open := channels.filter(func(c): return c.get_ready_state() == WebRTCDataChannel.STATE_OPEN).size()
	var codes := []
	for k in cand_codes:
		codes.append("%d:%d" % [k, cand_codes[k]])
	var refused := 0
	for k in cand_codes:
		if k != OK:
			refused += cand_codes[k]
	print("RESULT state=%s channels=%d open_channels=%d msgs=%d bytes=%d alive=%d max_frame_ms=%.1f slowest_frame=%s cand_ok=%d cand_refused=%d cand_codes=%s cand_ms=%.1f" % [
		STATES[pc.get_connection_state()], channels.size(), open, msgs, bytes, 1 if alive else 0, max_frame_us / 1000.0,
		slowest_frame, cand_codes.get(OK, 0), refused, ",".join(codes), cand_us / 1000.0])
	pc.close()
	quit(0)
