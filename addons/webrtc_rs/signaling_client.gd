## Joins a lobby on the webrtc-rs signaling server (rust/signaling, protocol in the README) and
## wires it to a WebRTCMultiplayerPeer, so a game goes online in a few lines:
##
##     var client = preload("res://addons/webrtc_rs/signaling_client.gd").new()
##     add_child(client)
##     client.join_lobby("ws://127.0.0.1:9080")          # "" creates a lobby; pass a code to join
##     await client.lobby_joined
##     multiplayer.multiplayer_peer = client.peer        # RPCs now go over WebRTC
##
## The host (peer 1) offers to each client (server/client) and, in a mesh, the peer already in
## the lobby offers to each newcomer. Signaling needs the server only until peers are connected.
##
## With several server instances sharing lobbies (`--redis`), a client whose instance goes away
## reconnects (to `url`, or the next of `resume_urls`) and takes its seat back with the resume
## token of its `joined`: same id, same lobby, WebRTC connections untouched.
extends Node

## Joined: the lobby code to share and this peer's id.
signal lobby_joined(lobby: String, id: int)
## The host sealed the lobby: nobody else can join.
signal lobby_sealed
## The server refused a message or a join.
signal signaling_error(code: String, message: String)
## The signaling connection ended (left, lobby closed, server gone and no seat to resume).
signal signaling_closed(reason: String)
## The connection was lost and the seat taken back on a server instance.
signal signaling_resumed

## The multiplayer peer to give to `multiplayer.multiplayer_peer`.
var peer := WebRTCMultiplayerPeer.new()
## Passed to every WebRTCPeerConnection.initialize() (e.g. iceServers).
var rtc_config := {}
## Custom channels, passed to create_server/create_client/create_mesh.
var channels_config: Array = []
var lobby := ""
var id := 0
var mesh := false
## Other addresses of the same service, tried in turn when resuming (a load balancer's one
## address is enough).
var resume_urls: Array[String] = []
## How long to keep trying to resume after the connection is lost, in seconds.
var resume_timeout := 20.0

var _ws := WebSocketPeer.new()
var _join = null
var _closed := true
var _url := ""
var _token := ""
var _ended := false  # left, or the lobby closed: nothing to resume
var _resuming := -1.0  # seconds spent resuming, -1 when not
var _retry_in := 0.0
var _attempt := 0

## Connects and creates (empty code) or joins a lobby. `lobby_joined` follows.
func join_lobby(url: String, lobby_code: String = "", use_mesh: bool = false) -> Error:
	var err := _ws.connect_to_url(url)
	if err == OK:
		_closed = false
		_ended = false
		_url = url
		_join = {"type": "join", "lobby": lobby_code, "mesh": use_mesh}
	return err

## Host only: closes the lobby to newcomers.
func seal() -> void:
	_send({"type": "seal"})

## Leaves the lobby and closes every WebRTC connection.
func leave() -> void:
	_ended = true
	_send({"type": "leave"})
	_ws.close()
	peer.close()

func _process(delta: float) -> void:
	if _resuming >= 0.0:
		_resuming += delta
		_retry_in -= delta
	poll()

## Reads the signaling connection (called every frame while in the tree).
func poll() -> void:
	_ws.poll()
	var state := _ws.get_ready_state()
	if state == WebSocketPeer.STATE_OPEN and _join != null:
		_send(_join)
		_join = null
	while _ws.get_available_packet_count() > 0:
		var msg = JSON.parse_string(_ws.get_packet().get_string_from_utf8())
		if msg is Dictionary:
			_handle(msg)
	if state == WebSocketPeer.STATE_CLOSED and not _closed:
		if _token != "" and not _ended:
			_resume()
		else:
			_closed = true
			_resuming = -1.0
			signaling_closed.emit(_ws.get_close_reason())

## The connection is lost with a seat to take back: reconnect, once a second, in turn to `url`
## and `resume_urls`, until `resume_timeout`.
func _resume() -> void:
	if _resuming < 0.0:
		_resuming = 0.0
		_retry_in = 0.0
	if _resuming > resume_timeout:
		_token = ""
		return
	if _retry_in > 0.0:
		return
	_retry_in = 1.0
	var urls: Array[String] = [_url]
	urls.append_array(resume_urls)
	_ws = WebSocketPeer.new()
	if _ws.connect_to_url(urls[_attempt % urls.size()]) == OK:
		_join = {"type": "resume", "token": _token}
	_attempt += 1

func _send(msg: Dictionary) -> void:
	if _ws.get_ready_state() == WebSocketPeer.STATE_OPEN:
		_ws.send_text(JSON.stringify(msg))

func _handle(msg: Dictionary) -> void:
	match msg.get("type", ""):
		"joined":
			_token = str(msg.get("resume", ""))
			if _resuming >= 0.0:
				_resumed(msg)
				return
			id = int(msg.id)
			lobby = msg.lobby
			mesh = msg.mesh
			if mesh:
				peer.create_mesh(id, channels_config)
			elif id == 1:
				peer.create_server(channels_config)
			else:
				peer.create_client(id, channels_config)
			# Wait for offers from those already here (server/client: only the host).
			for other in msg.peers:
				if mesh or int(other) == 1:
					_connect_to(int(other), false)
			lobby_joined.emit(lobby, id)
		"peer_joined":
			if mesh or id == 1:
				_connect_to(int(msg.id), true)
		"peer_left":
			# A connected peer's departure is detected by WebRTC itself (closed channels or ICE
			# timeout); the server's word only ends connections that never came up.
			var left := int(msg.id)
			if peer.has_peer(left) and not peer.get_peer(left).connected:
				peer.remove_peer(left)
		"offer", "answer":
			var pc = _connection(int(msg.from))
			if pc != null and msg.data is Dictionary:
				pc.set_remote_description(msg.type, str(msg.data.get("sdp", "")))
		"candidate":
			var pc = _connection(int(msg.from))
			var d = msg.data
			if pc != null and d is Dictionary:
				pc.add_ice_candidate(str(d.get("mid", "")), int(d.get("index", 0)), str(d.get("candidate", "")))
		"sealed":
			lobby_sealed.emit()
		"lobby_closed":
			_ended = true
			_ws.close()
		"error":
			if _resuming >= 0.0:
				if msg.get("code", "") == "bad_resume":
					_token = ""  # the seat is gone: end as a lost connection does
				_ws.close()  # else (e.g. `unavailable`) try again in a second
			push_warning("signaling: %s: %s" % [msg.get("code", "?"), msg.get("message", "")])
			signaling_error.emit(str(msg.get("code", "")), str(msg.get("message", "")))

## Back in the lobby after a lost connection. Those who joined meanwhile were told about us but
## we missed their arrival: offer to them as `peer_joined` would have had us do.
func _resumed(msg: Dictionary) -> void:
	_resuming = -1.0
	_attempt = 0
	for other in msg.peers:
		if not peer.has_peer(int(other)) and (mesh or id == 1):
			_connect_to(int(other), true)
	signaling_resumed.emit()

func _connection(remote: int) -> WebRTCPeerConnection:
	if not peer.has_peer(remote):
		return null
	return peer.get_peer(remote).connection

func _connect_to(remote: int, offer: bool) -> void:
	var pc := WebRTCPeerConnection.new()
	pc.initialize(rtc_config)
	# Bound by id, not by object: a connection must not hold a reference to itself.
	pc.session_description_created.connect(_on_description.bind(remote))
	pc.ice_candidate_created.connect(_on_candidate.bind(remote))
	peer.add_peer(pc, remote)
	if offer:
		pc.create_offer()

func _on_description(type: String, sdp: String, remote: int) -> void:
	var pc := _connection(remote)
	if pc != null:
		pc.set_local_description(type, sdp)
	_send({"type": type, "to": remote, "data": {"sdp": sdp}})

func _on_candidate(mid: String, index: int, candidate: String, remote: int) -> void:
	_send({"type": "candidate", "to": remote, "data": {"mid": mid, "index": index, "candidate": candidate}})
