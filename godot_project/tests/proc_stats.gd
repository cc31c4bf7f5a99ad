# What this process holds, read from Linux's /proc: resident memory, threads, open file
# descriptors. Used to show that connections give back what they took.
extends RefCounted

## {rss_kib, threads, fds}, or {} where there is no /proc (not Linux).
static func sample() -> Dictionary:
	var f := FileAccess.open("/proc/self/status", FileAccess.READ)
	if f == null:
		return {}
	var out := {}
	# /proc files report length 0: read line by line until the end.
	while not f.eof_reached():
		var line := f.get_line()
		if line.begins_with("VmRSS:"):
			out.rss_kib = line.split(":")[1].strip_edges().split(" ")[0].to_int()
	f.close()
	out.threads = DirAccess.get_directories_at("/proc/self/task").size()
	out.fds = fd_count()
	return out

## Open file descriptors (sockets, pipes, files); the listing's own descriptor counts too, the
## same every time.
static func fd_count() -> int:
	return DirAccess.get_files_at("/proc/self/fd").size() + DirAccess.get_directories_at("/proc/self/fd").size()

static func describe(s: Dictionary) -> String:
	return "RSS %.1f MiB, %d threads, %d fds" % [s.rss_kib / 1024.0, s.threads, s.fds]
