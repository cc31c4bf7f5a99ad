//! The multi-process multiplayer session: the signaling server and four headless Godot
//! processes (`godot_project/demo/mp_node.gd`: a host and three clients) join one lobby,
//! connect, ping each other with RPCs in the three transfer modes, then one leaves and one is
//! killed with SIGKILL; the others must report both as disconnected through WebRTC.

use crate::Result;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a peer may take to report that a peer left (closed its connections).
pub const LEAVE_LIMIT_MS: u64 = 2000;
/// How long a peer may take to notice a peer killed with SIGKILL.
pub const KILL_LIMIT_MS: u64 = 10_000;
const ROLES: [&str; 4] = ["host", "client", "leave", "kill"];
const MODES: [&str; 3] = ["reliable", "unreliable_ordered", "unreliable"];

/// What one session measured, and what went wrong.
pub struct Outcome {
    /// Markdown table and disconnect lines.
    pub report: String,
    /// Everything that should have happened and did not.
    pub problems: Vec<String>,
}

struct Proc {
    name: String,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Starts `cmd` with its stdout lines sent to `tx` as `(name, line)` (and copied to
/// `<name>.out`); stderr goes to `<name>.log`.
fn spawn(mut cmd: Command, name: &str, tx: &mpsc::Sender<(String, String)>, logs: &Path) -> Result<Proc> {
    let log = std::fs::File::create(logs.join(format!("{name}.log"))).map_err(|e| e.to_string())?;
    cmd.stdout(Stdio::piped()).stderr(log);
    let mut child = cmd.spawn().map_err(|e| format!("start {name}: {e}"))?;
    let out = child.stdout.take().expect("piped stdout");
    let (tx, owner) = (tx.clone(), name.to_string());
    let mut copy = std::fs::File::create(logs.join(format!("{name}.out"))).map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        use std::io::Write;
        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
            let _ = writeln!(copy, "{line}"); // kept for reading after a failure
            if tx.send((owner.clone(), line)).is_err() {
                break;
            }
        }
    });
    Ok(Proc { name: name.to_string(), child })
}

/// Waits for a line that `want` accepts, up to `limit`; other lines go to `seen`.
fn wait_for(rx: &mpsc::Receiver<(String, String)>, limit: Duration, seen: &mut Vec<(String, String)>, mut want: impl FnMut(&str, &str) -> bool) -> Option<(String, String)> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let (name, line) = rx.recv_timeout(left).ok()?;
        if want(&name, &line) {
            return Some((name, line));
        }
        seen.push((name, line));
    }
}

/// Runs one session in `mode` ("server" or "mesh") with `pings` pings per peer and mode.
pub fn run(godot: &Path, project: &Path, signaling: &Path, mode: &str, pings: u32) -> Result<Outcome> {
    let work: PathBuf = crate::root().join(format!("target/session-{mode}"));
    let _ = std::fs::remove_dir_all(&work);
    let control = work.join("control");
    std::fs::create_dir_all(&control).map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel();
    let mut seen = Vec::new();
    let mut problems = Vec::new();

    let mut server_cmd = Command::new(signaling);
    server_cmd.args(["--listen", "127.0.0.1:0"]);
    let _server = spawn(server_cmd, "signaling", &tx, &work)?;
    let (_, line) = wait_for(&rx, Duration::from_secs(10), &mut seen, |n, l| n == "signaling" && l.starts_with("listening on "))
        .ok_or("the signaling server did not start")?;
    let url = line.trim_start_matches("listening on ").to_string();

    let node = |role: &str, lobby: &str| {
        let mut cmd = crate::godot::command(godot, project, "res://demo/mp_node.gd");
        cmd.arg("--").args(["--url", &url, "--mode", mode, "--role", role, "--lobby", lobby, "--players", "4"])
            .args(["--pings", &pings.to_string(), "--control"]).arg(&control);
        cmd
    };
    let mut procs: Vec<Proc> = vec![spawn(node("host", ""), "host", &tx, &work)?];
    let (_, line) = wait_for(&rx, Duration::from_secs(30), &mut seen, |n, l| n == "host" && (l.starts_with("LOBBY ") || l.starts_with("FAIL")))
        .ok_or("the host did not create a lobby within 30 s")?;
    if line.starts_with("FAIL") {
        return Err(format!("host: {line}"));
    }
    let lobby = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut ids: HashMap<String, u64> = HashMap::from([("host".to_string(), 1)]);
    for role in &ROLES[1..] {
        procs.push(spawn(node(role, &lobby), role, &tx, &work)?);
    }

    // Phase 1: every player connects and reports its pings.
    let mut connect_ms: HashMap<String, u64> = HashMap::new();
    let mut results: HashMap<String, Value> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while results.len() < ROLES.len() && Instant::now() < deadline {
        let Ok((name, line)) = rx.recv_timeout(Duration::from_millis(200)) else { continue };
        let mut words = line.split_whitespace();
        match words.next() {
            Some("LOBBY") => {
                ids.insert(name, words.nth(1).and_then(|w| w.parse().ok()).unwrap_or(0));
            }
            Some("CONNECTED") => {
                connect_ms.insert(name, words.next().and_then(|w| w.parse().ok()).unwrap_or(0));
                if connect_ms.len() == ROLES.len() {
                    // All know all: pings may start everywhere.
                    std::fs::write(control.join("start"), "").map_err(|e| e.to_string())?;
                }
            }
            Some("RESULT") => {
                let json: Value = serde_json::from_str(line.trim_start_matches("RESULT ")).unwrap_or(Value::Null);
                results.insert(name, json);
            }
            Some("FAIL") => problems.push(format!("{name}: {line}")),
            _ => seen.push((name, line)),
        }
    }
    for role in ROLES {
        if !results.contains_key(role) {
            problems.push(format!("{role} reported no result (logs: {})", work.display()));
        }
    }

    // Phase 2: one leaves, one is killed; the host and the remaining client must notice.
    let mut gone: HashMap<(String, u64), u64> = HashMap::new();
    let (mut leave_at, mut kill_at) = (0, 0);
    if problems.is_empty() {
        leave_at = unix_ms();
        std::fs::write(control.join("leave"), "").map_err(|e| e.to_string())?;
        if let Some(p) = procs.iter_mut().find(|p| p.name == "kill") {
            kill_at = unix_ms();
            let _ = p.child.kill(); // SIGKILL: no goodbye of any kind
        }
        let want: Vec<(String, u64)> = ["host", "client"]
            .iter()
            .flat_map(|w| ["leave", "kill"].map(|v| (w.to_string(), ids.get(v).copied().unwrap_or(0))))
            .collect();
        let deadline = Instant::now() + Duration::from_millis(KILL_LIMIT_MS + 5000);
        while want.iter().any(|k| !gone.contains_key(k)) && Instant::now() < deadline {
            let Ok((name, line)) = rx.recv_timeout(Duration::from_millis(200)) else { continue };
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.len() == 3 && w[0] == "GONE" {
                if let (Ok(id), Ok(at)) = (w[1].parse::<u64>(), w[2].parse::<u64>()) {
                    gone.entry((name, id)).or_insert(at);
                }
            }
        }
        std::fs::write(control.join("done"), "").map_err(|e| e.to_string())?;
    }

    // Report.
    let mut report = format!(
        "### {} session: 4 Godot processes, {pings} pings per peer and mode\n\n| peer | id | connect ms |{}\n|---|---|---|{}\n",
        if mode == "mesh" { "mesh" } else { "server/client (relay)" },
        MODES.iter().map(|m| format!(" {m} p50/p99 µs | {m} sent/recv/lost |")).collect::<String>(),
        "---|---|".repeat(MODES.len()),
    );
    for role in ROLES {
        let Some(r) = results.get(role) else { continue };
        report += &format!("| {role} | {} | {} |", ids.get(role).copied().unwrap_or(0), connect_ms.get(role).copied().unwrap_or(0));
        for m in MODES {
            let s = &r["modes"][m];
            report += &format!(" {}/{} | {}/{}/{} |", s["p50_us"], s["p99_us"], s["sent"], s["received"], s["lost"]);
            if m == "reliable" && s["lost"].as_i64() != Some(0) {
                problems.push(format!("{role}: {} reliable RPCs lost", s["lost"]));
            }
            if s["received"].as_i64().unwrap_or(0) == 0 {
                problems.push(format!("{role}: no {m} RPC came back"));
            }
        }
        report += "\n";
    }
    if leave_at > 0 {
        report += "\n";
        for (what, at, limit) in [("leave", leave_at, LEAVE_LIMIT_MS), ("kill", kill_at, KILL_LIMIT_MS)] {
            let id = ids.get(what).copied().unwrap_or(0);
            for watcher in ["host", "client"] {
                match gone.get(&(watcher.to_string(), id)) {
                    Some(t) => {
                        let ms = t.saturating_sub(at);
                        report += &format!("- {watcher} saw the peer that {} gone after {ms} ms (limit {limit} ms)\n",
                            if what == "leave" { "left" } else { "was killed (SIGKILL)" });
                        if ms > limit {
                            problems.push(format!("{watcher} took {ms} ms to notice '{what}'"));
                        }
                    }
                    None => problems.push(format!("{watcher} never reported '{what}' (peer {id}) as disconnected")),
                }
            }
        }
    }
    // Let the rest quit by themselves (they saw 'done'); Drop kills any straggler.
    let deadline = Instant::now() + Duration::from_secs(5);
    for p in procs.iter_mut() {
        while Instant::now() < deadline && matches!(p.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(Outcome { report, problems })
}
