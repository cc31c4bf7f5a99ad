# Registration and the constructor (contract: "Registration / factory", "ctor").
extends "res://tests/case.gd"

func test_new_gives_our_extension() -> void:
	var pc := WebRTCPeerConnection.new()
	check_eq(pc.get_class(), "WebRTCRsPeerConnection", "WebRTCPeerConnection.new() class")
	check(pc is WebRTCPeerConnectionExtension, "extends WebRTCPeerConnectionExtension")
	check(ClassDB.is_parent_class("WebRTCRsPeerConnection", "WebRTCPeerConnectionExtension"), "ClassDB parent")
	check(ClassDB.is_parent_class("WebRTCRsDataChannel", "WebRTCDataChannelExtension"), "channel class registered")
	pc.close()

## The extension's own project settings (the link simulator's) are registered at load: present,
## 0 by default (so a project that never set them simulates nothing), and shown in the editor
## with a range. (The receive bound network/limits/webrtc/max_channel_in_buffer_kb is Godot's
## setting; what this addon does with it is tested in test_data.gd and test_messages.gd.)
func test_simulator_settings_are_registered() -> void:
	var listed := {}
	for info in ProjectSettings.get_property_list():
		listed[info["name"]] = info
	for name in ["network/webrtc_rs/simulate_delay_ms", "network/webrtc_rs/simulate_jitter_ms", "network/webrtc_rs/simulate_loss_percent"]:
		check(ProjectSettings.has_setting(name), "%s defined" % name)
		check_eq(ProjectSettings.property_get_revert(name), 0.0, "%s defaults to 0" % name)
		check(listed.has(name) and listed[name]["hint"] == PROPERTY_HINT_RANGE, "%s shown with a range" % name)

func test_constructor_leaves_a_usable_connection() -> void:
	var pc := WebRTCPeerConnection.new()
	check_eq(pc.get_connection_state(), WebRTCPeerConnection.STATE_NEW, "state")
	check_eq(pc.get_gathering_state(), WebRTCPeerConnection.GATHERING_STATE_NEW, "gathering state")
	check_eq(pc.get_signaling_state(), WebRTCPeerConnection.SIGNALING_STATE_STABLE, "signaling state")
	check_eq(pc.poll(), OK, "poll() without initialize()")
	check(pc.create_data_channel("x", {}) != null, "create_data_channel without initialize()")
	pc.close()
	check_eq(pc.get_connection_state(), WebRTCPeerConnection.STATE_CLOSED, "state after close")
	check_eq(pc.get_signaling_state(), WebRTCPeerConnection.SIGNALING_STATE_CLOSED, "signaling after close")

func test_two_connections_are_independent() -> void:
	var r: Array = await connected_pair()
	if r.is_empty():
		return
	var q: Array = await connected_pair()
	if q.is_empty():
		return
	r[0].close()
	# Once the closed pair's remote end has seen the close, the other pair must still be open.
	check(await wait_until(func(): return r[2].get_ready_state() == CLOSED, 5.0), "the closed pair's remote end closes")
	check_eq(q[1].get_ready_state(), OPEN, "the other pair's channel is still open")
	check_eq(q[2].get_ready_state(), OPEN, "and its remote end")
	check_eq(q[0].a.get_connection_state(), WebRTCPeerConnection.STATE_CONNECTED, "the other pair is still connected")
	q[1].put_packet("still".to_utf8_buffer())
	check_eq((await recv(q[2])).get_string_from_utf8(), "still", "other pair still carries data")
