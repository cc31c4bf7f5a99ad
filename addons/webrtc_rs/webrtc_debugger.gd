@tool
extends EditorDebuggerPlugin
## The debugger's "WebRTC" tab: the running game sends "webrtc_rs:connections" about every
## 500 ms (one Dictionary per live connection: its get_stats() keys, state, channels); each
## debug session gets a tab listing the connections with small graphs of round-trip time and
## throughput. A connection that failed stays listed with its failure reason.

const Tab := preload("res://addons/webrtc_rs/webrtc_debugger_tab.gd")

var _tabs := {} # session id -> tab

func _has_capture(capture: String) -> bool:
	return capture == "webrtc_rs"

func _capture(message: String, data: Array, session_id: int) -> bool:
	if message != "webrtc_rs:connections":
		return false
	var tab = _tabs.get(session_id)
	if tab != null:
		tab.update(data) # the Array of connections the game sent
	return true

func _setup_session(session_id: int) -> void:
	var tab := Tab.new()
	tab.name = "WebRTC"
	_tabs[session_id] = tab
	var session := get_session(session_id)
	session.started.connect(tab.clear)
	session.add_session_tab(tab)
