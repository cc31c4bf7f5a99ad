# Two peers in one process, wired like a game wires its signaling: each description and
# candidate goes straight to the other peer. Handlers use bound methods (no lambdas) so the
# peers hold no reference back to this object, and freeing works.
extends RefCounted

var a: WebRTCPeerConnection = WebRTCPeerConnection.new()
var b: WebRTCPeerConnection = WebRTCPeerConnection.new()
var received_a: Array = []
var received_b: Array = []
var descriptions_a: Array = []
var descriptions_b: Array = []
var candidates_a: Array = []
var candidates_b: Array = []

func _init() -> void:
	wire()

func wire() -> void:
	a.session_description_created.connect(_on_a_description)
	a.ice_candidate_created.connect(_on_a_candidate)
	a.data_channel_received.connect(_on_a_channel)
	_wire_b()

func _wire_b() -> void:
	b.session_description_created.connect(_on_b_description)
	b.ice_candidate_created.connect(_on_b_candidate)
	b.data_channel_received.connect(_on_b_channel)

## Puts a new peer in b's place, wired the same way (to connect a re-initialized a again).
func replace_b(pc: WebRTCPeerConnection) -> void:
	b = pc
	_wire_b()

func poll() -> void:
	if a != null:
		a.poll()
	if b != null:
		b.poll()

func close() -> void:
	if a != null:
		a.close()
	if b != null:
		b.close()

# The usual game code: set the description locally (a handler calling back into the object
# that emitted), then send it to the other side.
func _on_a_description(type: String, sdp: String) -> void:
	descriptions_a.append([type, sdp])
	a.set_local_description(type, sdp)
	if b != null:
		b.set_remote_description(type, sdp)

func _on_b_description(type: String, sdp: String) -> void:
	descriptions_b.append([type, sdp])
	b.set_local_description(type, sdp)
	if a != null:
		a.set_remote_description(type, sdp)

func _on_a_candidate(mid: String, index: int, cand: String) -> void:
	candidates_a.append([mid, index, cand])
	if b != null:
		b.add_ice_candidate(mid, index, cand)

func _on_b_candidate(mid: String, index: int, cand: String) -> void:
	candidates_b.append([mid, index, cand])
	if a != null:
		a.add_ice_candidate(mid, index, cand)

func _on_a_channel(ch: WebRTCDataChannel) -> void:
	received_a.append(ch)

func _on_b_channel(ch: WebRTCDataChannel) -> void:
	received_b.append(ch)
