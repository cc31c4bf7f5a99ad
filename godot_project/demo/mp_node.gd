# One player of the multi-process session that `cargo xtask demo` (and the multi-process test)
# runs: joins a lobby through the signaling server, waits for every other player, pings each
# one in the three transfer modes, prints its results as one line, then waits for the
# orchestrator's word (files in --control: start, leave, done) to leave, or just waits to be
# killed.
#
# Arguments after `--`: --url URL --mode server|mesh --role host|client|leave|kill
#   --lobby CODE --players N --pings K --control DIR --fps F   (role rejoin: joins late, pings, stays)
# Output lines (stdout): LOBBY code id | CONNECTED ms | RESULT {json} | GONE id unix_ms | FAIL why
extends SceneTree

const Client = preload("res://addons/webrtc_rs/signaling_client.gd")
const Rpc = preload("res://demo/mp_rpc.gd")
const MODES := ["reliable", "unreliable_ordered", "unreliable"]

var args := {"url": "ws://127.0.0.1:9080", "mode": "server", "role": "client", "lobby": "",
	"players": "4", "pings": "100", "control": ""}
var client
var game
var sent := {} # "mode:peer:seq" -> ticks_usec
var rtts := {} # mode -> Array of usec
var counts := {} # mode -> [sent, received]

func _init() -> void:
	var user_args := OS.get_cmdline_user_args()
	for i in range(0, user_args.size() - 1, 2):
		args[user_args[i].trim_prefix("--")] = user_args[i + 1]
	create_timer(120.0).timeout.connect(func(): _fail("watchdog: 120 s"))
	# Headless Godot runs frames back to back; several players spinning on two cores would
	# measure the scheduler, not the network. A game caps its frame rate too.
	Engine.max_fps = int(args.get("fps", "1000"))
	# Headless Godot sleeps low_processor_usage_mode_sleep_usec (6.9 ms) after every frame,
	# since it cannot draw: a dedicated server would tune this too.
	OS.low_processor_usage_mode_sleep_usec = 0
	_run()

func _out(line: String) -> void:
	print(line)

func _fail(why: String) -> void:
	_out("FAIL " + why)
	quit(1)

func _control(name: String) -> bool:
	return args.control != "" and FileAccess.file_exists(args.control.path_join(name))

func _run() -> void:
	await process_frame
	client = Client.new()
	root.add_child(client)
	game = Rpc.new()
	game.name = "game"
	root.add_child(game)
	game.pong.connect(_on_pong)
	get_multiplayer().peer_disconnected.connect(func(id): _out("GONE %d %d" % [id, int(Time.get_unix_time_from_system() * 1000.0)]))
	var start := Time.get_ticks_msec()
	var lobby: String = args.lobby if args.role != "host" else ""
	if client.join_lobby(args.url, lobby, args.mode == "mesh") != OK:
		_fail("cannot connect to " + args.url)
		return
	await client.lobby_joined
	get_multiplayer().multiplayer_peer = client.peer
	_out("LOBBY %s %d" % [client.lobby, client.id])
	var others := int(args.players) - 1
	while get_multiplayer().get_peers().size() < others:
		if Time.get_ticks_msec() - start > 30000:
			_fail("only %d of %d peers after 30 s" % [get_multiplayer().get_peers().size(), others])
			return
		await process_frame
	_out("CONNECTED %d" % (Time.get_ticks_msec() - start))
	# Everyone must know everyone before pinging (a peer drops RPCs from a sender it has not
	# heard of yet): the orchestrator says "start" once all players printed CONNECTED.
	while args.control != "" and not _control("start"):
		await process_frame
	if args.role == "rejoin":
		# The others learn of a newcomer a frame or two after it learns of them.
		await create_timer(1.0).timeout
	var frames0 := Engine.get_process_frames()
	var ping_start := Time.get_ticks_usec()
	await _ping_everyone(int(args.pings))
	var fps := (Engine.get_process_frames() - frames0) / ((Time.get_ticks_usec() - ping_start) / 1e6)
	var result := {"id": client.id, "role": args.role, "connect_ms": Time.get_ticks_msec() - start, "modes": {},
		"fps": roundi(fps),
		"missing_reliable": sent.keys().filter(func(k): return k.begins_with("reliable:")).slice(0, 5)}
	# The result line names what did not come back, for reading after a failure.
	for mode in MODES:
		var r: Array = rtts.get(mode, [])
		r.sort()
		result.modes[mode] = {"sent": counts[mode][0], "received": counts[mode][1],
			"lost": counts[mode][0] - counts[mode][1],
			"p50_us": r[r.size() / 2] if r.size() > 0 else -1,
			"p99_us": r[min(r.size() - 1, int(r.size() * 0.99))] if r.size() > 0 else -1}
	_out("RESULT " + JSON.stringify(result))
	# Phase 2: leave when told, or stay (to be killed, or to report who is gone).
	while not _control("done"):
		if args.role == "leave" and _control("leave"):
			client.leave()
			await create_timer(0.3).timeout
			quit(0)
			return
		await process_frame
	quit(0)

func _ping_everyone(pings: int) -> void:
	for mode in MODES:
		counts[mode] = [0, 0]
		rtts[mode] = []
	var peers := get_multiplayer().get_peers()
	for seq in pings:
		var round_start := Time.get_ticks_msec()
		for p in peers:
			for mode in MODES:
				sent["%s:%d:%d" % [mode, p, seq]] = Time.get_ticks_usec()
				counts[mode][0] += 1
				game.rpc_id(p, "ping_" + mode, seq)
		# One round every 5 ms, as a game sends state: a round trip measures the network
		# path, not a queue of pings sent back to back.
		while Time.get_ticks_msec() - round_start < 5:
			await process_frame
	var deadline := Time.get_ticks_msec() + 3000
	while Time.get_ticks_msec() < deadline and counts.values().any(func(c): return c[1] < c[0]):
		await process_frame

func _on_pong(mode: String, seq: int, from: int) -> void:
	var key := "%s:%d:%d" % [mode, from, seq]
	if sent.has(key):
		rtts[mode].append(Time.get_ticks_usec() - sent[key])
		counts[mode][1] += 1
		sent.erase(key)
