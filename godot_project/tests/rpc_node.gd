# A node with one RPC per transfer mode, for the multiplayer tests: records what arrived.
extends Node

var got: Array = [] # [mode, value, sender]

@rpc("any_peer", "call_remote", "reliable")
func on_reliable(value: int) -> void:
	got.append(["reliable", value, multiplayer.get_remote_sender_id()])

@rpc("any_peer", "call_remote", "unreliable_ordered")
func on_unreliable_ordered(value: int) -> void:
	got.append(["unreliable_ordered", value, multiplayer.get_remote_sender_id()])

@rpc("any_peer", "call_remote", "unreliable")
func on_unreliable(value: int) -> void:
	got.append(["unreliable", value, multiplayer.get_remote_sender_id()])

@rpc("any_peer", "call_remote", "reliable", 1)
func on_custom_channel(value: int) -> void:
	got.append(["channel1", value, multiplayer.get_remote_sender_id()])

func count(mode: String) -> int:
	var n := 0
	for g in got:
		if g[0] == mode:
			n += 1
	return n
