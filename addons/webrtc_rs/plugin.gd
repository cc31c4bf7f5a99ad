@tool
extends EditorPlugin
## Adds the "WebRTC" tab to the editor's debugger (see webrtc_debugger.gd).

const DebuggerPlugin := preload("res://addons/webrtc_rs/webrtc_debugger.gd")

var _debugger: EditorDebuggerPlugin

func _enter_tree() -> void:
	_debugger = DebuggerPlugin.new()
	add_debugger_plugin(_debugger)
	if OS.is_stdout_verbose():
		print("webrtc-rs: the debugger's WebRTC tab is ready")

func _exit_tree() -> void:
	remove_debugger_plugin(_debugger)
	_debugger = null
