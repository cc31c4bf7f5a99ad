# Run by tests/godot_resume.rs. Two signaling instances sharing lobbies through Redis: a host on instance A and a client on
# B connect over WebRTC; A is killed; the host resumes on B and a newcomer joining through B
# connects to it. Args after "--": URL_A URL_B PID_A.
extends SceneTree

const Signaling = preload("res://addons/webrtc_rs/signaling_client.gd")

var clients: Array = []

func _connected(c, remote: int) -> bool:
	return c.peer.has_peer(remote) and c.peer.get_peer(remote).connected

func _wait(cond: Callable, seconds: float, what: String) -> bool:
	var deadline := Time.get_ticks_msec() + int(seconds * 1000)
	while not cond.call():
		if Time.get_ticks_msec() > deadline:
			printerr("FAIL: ", what)
			return false
		for c in clients:
			c.peer.poll()
		await process_frame
	print("ok: ", what)
	return true

func _client(url: String, code: String, others: Array[String] = []):
	var c = Signaling.new()
	c.resume_urls = others
	root.add_child(c)
	clients.append(c)
	c.join_lobby(url, code, false)
	return c

func _initialize() -> void:
	_run.call_deferred()

func _run() -> void:
	var args := OS.get_cmdline_user_args()
	var a: String = args[0]
	var b: String = args[1]
	var host = _client(a, "", [b])
	if not await _wait(func(): return host.id == 1, 10, "host joined on A"):
		quit(1); return
	var guest = _client(b, host.lobby)
	if not await _wait(func(): return guest.id > 1 and _connected(guest, 1) and _connected(host, guest.id), 15, "host and guest connected over WebRTC through A and B"):
		quit(1); return
	var resumed := [false]
	host.signaling_resumed.connect(func(): resumed[0] = true)
	OS.kill(int(args[2]))
	if not await _wait(func(): return resumed[0], 15, "host resumed on B after A was killed"):
		quit(1); return
	if host.id != 1 or not _connected(guest, 1):
		printerr("FAIL: host kept id 1 and its WebRTC connection"); quit(1); return
	var late = _client(b, host.lobby)
	if not await _wait(func(): return late.id > 1 and _connected(late, 1) and _connected(host, late.id), 15, "newcomer through B connected to the resumed host"):
		quit(1); return
	print("PASS")
	quit(0)
