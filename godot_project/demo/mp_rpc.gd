# The RPCs of the multi-process session: a ping and its pong in each transfer mode. The pong
# goes back in the mode it came in; the sender measures the round trip.
extends Node

signal pong(mode: String, seq: int, from: int)

@rpc("any_peer", "call_remote", "reliable")
func ping_reliable(seq: int) -> void:
	pong_reliable.rpc_id(multiplayer.get_remote_sender_id(), seq)

@rpc("any_peer", "call_remote", "unreliable_ordered")
func ping_unreliable_ordered(seq: int) -> void:
	pong_unreliable_ordered.rpc_id(multiplayer.get_remote_sender_id(), seq)

@rpc("any_peer", "call_remote", "unreliable")
func ping_unreliable(seq: int) -> void:
	pong_unreliable.rpc_id(multiplayer.get_remote_sender_id(), seq)

@rpc("any_peer", "call_remote", "reliable")
func pong_reliable(seq: int) -> void:
	pong.emit("reliable", seq, multiplayer.get_remote_sender_id())

@rpc("any_peer", "call_remote", "unreliable_ordered")
func pong_unreliable_ordered(seq: int) -> void:
	pong.emit("unreliable_ordered", seq, multiplayer.get_remote_sender_id())

@rpc("any_peer", "call_remote", "unreliable")
func pong_unreliable(seq: int) -> void:
	pong.emit("unreliable", seq, multiplayer.get_remote_sender_id())
