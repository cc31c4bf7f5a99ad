# A Pair whose signaling edits what it carries, as a broken or hostile signaling path would:
# offer_edit / answer_edit (String -> String) rewrite the SDP on its way; carry_candidates
# false drops every candidate (only the descriptions cross); remote_errors keeps what each
# set_remote_description() returned.
extends "res://tests/pair.gd"

var offer_edit := Callable()
var answer_edit := Callable()
var carry_candidates := true
var remote_errors: Array = []

func _on_a_description(type: String, sdp: String) -> void:
	descriptions_a.append([type, sdp])
	a.set_local_description(type, sdp)
	if b != null:
		remote_errors.append(b.set_remote_description(type, offer_edit.call(sdp) if offer_edit.is_valid() else sdp))

func _on_b_description(type: String, sdp: String) -> void:
	descriptions_b.append([type, sdp])
	b.set_local_description(type, sdp)
	if a != null:
		remote_errors.append(a.set_remote_description(type, answer_edit.call(sdp) if answer_edit.is_valid() else sdp))

func _on_a_candidate(mid: String, index: int, cand: String) -> void:
	if carry_candidates:
		super(mid, index, cand)

func _on_b_candidate(mid: String, index: int, cand: String) -> void:
	if carry_candidates:
		super(mid, index, cand)
