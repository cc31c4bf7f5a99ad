@tool
extends VBoxContainer
## One debug session's "WebRTC" tab: a row per connection (state, candidate types, round-trip
## time, throughput, retransmissions, failure reason) and live graphs of round-trip time and
## throughput over the last minute. Filled by webrtc_debugger.gd from "webrtc_rs:connections".

const HISTORY := 120 # samples kept per connection: a minute at one every 500 ms
const COLUMNS := ["Connection", "State", "Local / remote", "RTT (ms)", "Sent (KiB/s)", "Received (KiB/s)", "Retransmissions", "Channels", "Failure reason"]
const COLORS := [Color(0.4, 0.8, 1.0), Color(1.0, 0.6, 0.3), Color(0.6, 1.0, 0.5), Color(1.0, 0.5, 0.8), Color(0.9, 0.9, 0.4)]

var _tree: Tree
var _rtt_graph: Control
var _rate_graph: Control
var _summary: Label
var _known := {} # connection id -> {row, last, rtt: Array, rate: Array, at: int, gone: bool}

func _init() -> void:
	_summary = Label.new()
	_summary.text = "No WebRTC connection yet (the game sends its figures every 500 ms while it runs under the debugger)."
	add_child(_summary)
	_tree = Tree.new()
	_tree.columns = COLUMNS.size()
	_tree.column_titles_visible = true
	_tree.hide_root = true
	_tree.size_flags_vertical = Control.SIZE_EXPAND_FILL
	_tree.custom_minimum_size = Vector2(0, 120)
	for i in COLUMNS.size():
		_tree.set_column_title(i, COLUMNS[i])
		_tree.set_column_expand(i, i == 0 or i == 2 or i == COLUMNS.size() - 1)
	_tree.create_item()
	add_child(_tree)
	var graphs := HBoxContainer.new()
	graphs.custom_minimum_size = Vector2(0, 110)
	_rtt_graph = _make_graph("Round-trip time (ms)", "rtt")
	_rate_graph = _make_graph("Throughput sent + received (KiB/s)", "rate")
	graphs.add_child(_rtt_graph)
	graphs.add_child(_rate_graph)
	add_child(graphs)

func _make_graph(title: String, key: String) -> Control:
	var g := Control.new()
	g.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	g.custom_minimum_size = Vector2(200, 100)
	g.set_meta("title", title)
	g.set_meta("key", key)
	g.draw.connect(_draw_graph.bind(g))
	return g

## A new run of the game: forget the previous one.
func clear() -> void:
	_known.clear()
	_tree.clear()
	_tree.create_item()
	_refresh_graphs()

## The game's latest figures: one Dictionary per live connection.
func update(connections: Array) -> void:
	var now := Time.get_ticks_msec()
	var seen := {}
	for c in connections:
		if not c is Dictionary or not c.has("id"):
			continue
		var id: int = c["id"]
		seen[id] = true
		var entry: Dictionary = _known.get(id, {})
		if entry.is_empty():
			entry = {"row": _tree.create_item(_tree.get_root()), "last": {}, "rtt": [], "rate": [], "at": now, "gone": false}
			_known[id] = entry
		var last: Dictionary = entry["last"]
		var seconds: float = max(0.001, (now - int(entry["at"])) / 1000.0)
		var sent_rate := 0.0
		var recv_rate := 0.0
		if not last.is_empty():
			sent_rate = max(0, int(c.get("bytes_sent", 0)) - int(last.get("bytes_sent", 0))) / 1024.0 / seconds
			recv_rate = max(0, int(c.get("bytes_received", 0)) - int(last.get("bytes_received", 0))) / 1024.0 / seconds
		_push(entry["rtt"], float(c.get("round_trip_time_ms", -1.0)))
		_push(entry["rate"], sent_rate + recv_rate)
		entry["last"] = c
		entry["at"] = now
		_fill_row(entry["row"], id, c, sent_rate, recv_rate)
	# A connection that is gone stays listed if it had failed (with its reason), else goes.
	for id in _known.keys():
		if seen.has(id):
			continue
		var entry: Dictionary = _known[id]
		if entry["last"].get("failure_reason", "") != "":
			if not entry["gone"]:
				entry["gone"] = true
				entry["row"].set_text(1, "FAILED (freed)")
		else:
			entry["row"].free()
			_known.erase(id)
	_summary.text = "%d connection(s) live, figures every 500 ms." % seen.size()
	_refresh_graphs()

func _push(history: Array, value: float) -> void:
	history.append(value)
	if history.size() > HISTORY:
		history.pop_front()

func _candidate(d) -> String:
	if not d is Dictionary or d.is_empty():
		return "-"
	return "%s/%s" % [d.get("type", "?"), d.get("protocol", "?")]

func _fill_row(row: TreeItem, id: int, c: Dictionary, sent: float, received: float) -> void:
	var rtt: float = c.get("round_trip_time_ms", -1.0)
	var reason: String = c.get("failure_reason", "")
	var channels: Array = c.get("channels", [])
	var labels := PackedStringArray()
	for ch in channels:
		labels.append("%s (%d msg out, %d in%s)" % [ch.get("label", ""), ch.get("messages_sent", 0), ch.get("messages_received", 0),
			", %d dropped" % ch["messages_dropped"] if ch.get("messages_dropped", 0) > 0 else ""])
	row.set_text(0, "#%d" % id)
	row.set_text(1, str(c.get("state_name", c.get("state", "?"))))
	row.set_text(2, "%s -> %s%s" % [_candidate(c.get("local_candidate")), _candidate(c.get("remote_candidate")), " (relayed)" if c.get("relayed", false) else ""])
	row.set_text(3, "-" if rtt < 0.0 else "%.1f" % rtt)
	row.set_text(4, "%.1f" % sent)
	row.set_text(5, "%.1f" % received)
	row.set_text(6, str(c.get("retransmissions", 0)))
	row.set_text(7, ", ".join(labels))
	row.set_text(8, reason)
	row.set_tooltip_text(8, reason)
	if reason != "":
		row.set_custom_color(8, Color(1.0, 0.4, 0.4))

func _refresh_graphs() -> void:
	_rtt_graph.queue_redraw()
	_rate_graph.queue_redraw()

func _draw_graph(g: Control) -> void:
	var size := g.size
	g.draw_rect(Rect2(Vector2.ZERO, size), Color(0, 0, 0, 0.25))
	var key: String = g.get_meta("key")
	var top := 1.0
	for entry in _known.values():
		for v in entry[key]:
			top = max(top, v)
	var font := g.get_theme_default_font()
	var font_size := g.get_theme_default_font_size()
	g.draw_string(font, Vector2(4, font_size + 2), "%s, max %.1f" % [g.get_meta("title"), top], HORIZONTAL_ALIGNMENT_LEFT, -1, font_size)
	var n := 0
	for entry in _known.values():
		var history: Array = entry[key]
		if history.size() >= 2:
			var points := PackedVector2Array()
			for i in history.size():
				var v: float = max(0.0, history[i])
				points.append(Vector2(size.x * i / float(HISTORY - 1), size.y - 2 - (size.y - font_size - 8) * v / top))
			g.draw_polyline(points, COLORS[n % COLORS.size()], 1.5)
		n += 1
