//! The multi-process multiplayer session: the signaling server and headless Godot processes
//! (`godot_project/demo/mp_node.gd`: a host and clients) join one lobby, connect, ping each
//! other with RPCs in the three transfer modes, then one leaves and one is killed with SIGKILL;
//! the others must report both as disconnected through WebRTC. Last, a new process joins the
//! same lobby with a new peer id.

use anyhow::{Context, Result, anyhow, bail};
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
const MODES: [&str; 3] = ["reliable", "unreliable_ordered", "unreliable"];

/// What one session measured, and what went wrong.
pub struct Outcome {
    /// Markdown table and disconnect lines.
    pub report: String,
    /// Everything that should have happened and did not.
    pub problems: Vec<String>,
}

pub(crate) struct Proc {
    name: String,
    pub(crate) child: Child,
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

/// What a process said: `(name, Some(line))` for each line of its stdout, then `(name, None)`
/// once its stdout closed (it exited): every line of it has been sent by then.
pub(crate) type Said = (String, Option<String>);

/// Starts `cmd` with its stdout lines sent to `tx` (and copied to `<name>.out`), then the end
/// of its output (see [`Said`]); stderr goes to `<name>.log`.
pub(crate) fn spawn(mut cmd: Command, name: &str, tx: &mpsc::Sender<Said>, logs: &Path) -> Result<Proc> {
    let log = std::fs::File::create(logs.join(format!("{name}.log")))?;
    cmd.stdout(Stdio::piped()).stderr(log);
    let mut child = cmd.spawn().with_context(|| format!("start {name}"))?;
    let out = child.stdout.take().expect("piped stdout");
    let (tx, owner) = (tx.clone(), name.to_string());
    let mut copy = std::fs::File::create(logs.join(format!("{name}.out")))?;
    std::thread::spawn(move || {
        use std::io::Write;
        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
            let _ = writeln!(copy, "{line}"); // kept for reading after a failure
            if tx.send((owner.clone(), Some(line))).is_err() {
                return;
            }
        }
        let _ = tx.send((owner, None));
    });
    Ok(Proc { name: name.to_string(), child })
}

/// Waits up to `limit` for a line of process `from` that starts with one of `prefixes`;
/// other lines are passed over. Fails at once if `from` ends first.
pub(crate) fn wait_line(rx: &mpsc::Receiver<Said>, from: &str, prefixes: &[&str], limit: Duration) -> Result<String> {
    let deadline = Instant::now() + limit;
    let missing = || format!("no {prefixes:?} line from {from} within {} s", limit.as_secs());
    loop {
        let left = deadline.checked_duration_since(Instant::now()).with_context(missing)?;
        match rx.recv_timeout(left).map_err(|_| anyhow!(missing()))? {
            (name, Some(line)) if name == from && prefixes.iter().any(|p| line.starts_with(p)) => return Ok(line),
            (name, None) if name == from => bail!("{from} ended without a {prefixes:?} line"),
            _ => {}
        }
    }
}

/// Starts the signaling server on a free loopback port; returns it and its `ws://` URL.
pub(crate) fn start_signaling(signaling: &Path, tx: &mpsc::Sender<Said>, rx: &mpsc::Receiver<Said>, logs: &Path) -> Result<(Proc, String)> {
    start_signaling_with(signaling, &[], tx, rx, logs)
}

/// [`start_signaling`] with more flags for the server.
pub(crate) fn start_signaling_with(signaling: &Path, flags: &[&str], tx: &mpsc::Sender<Said>, rx: &mpsc::Receiver<Said>, logs: &Path) -> Result<(Proc, String)> {
    let mut cmd = Command::new(signaling);
    cmd.args(["--listen", "127.0.0.1:0"]).args(flags);
    let server = spawn(cmd, "signaling", tx, logs)?;
    let line = wait_line(rx, "signaling", &["listening on "], Duration::from_secs(10))?;
    Ok((server, line.trim_start_matches("listening on ").to_string()))
}

/// What the players said so far.
struct Tally {
    ids: HashMap<String, u64>,
    connect_ms: HashMap<String, u64>,
    results: HashMap<String, Value>,
    problems: Vec<String>,
    /// Players of phase 1: once all are connected, they may start pinging.
    players: usize,
    control: PathBuf,
}

impl Tally {
    /// Reads player lines until `until(results)` or `limit`.
    fn collect(&mut self, rx: &mpsc::Receiver<Said>, until: impl Fn(&HashMap<String, Value>) -> bool, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        while !until(&self.results) && Instant::now() < deadline {
            let Ok((name, Some(line))) = rx.recv_timeout(Duration::from_millis(200)) else { continue };
            let mut words = line.split_whitespace();
            match words.next() {
                Some("LOBBY") => {
                    self.ids.insert(name, words.nth(1).and_then(|w| w.parse().ok()).unwrap_or(0));
                }
                Some("CONNECTED") => {
                    self.connect_ms.insert(name, words.next().and_then(|w| w.parse().ok()).unwrap_or(0));
                    if self.connect_ms.len() == self.players {
                        // All know all: pings may start everywhere.
                        std::fs::write(self.control.join("start"), "")?;
                    }
                }
                Some("RESULT") => {
                    let json: Value = serde_json::from_str(line.trim_start_matches("RESULT ")).unwrap_or(Value::Null);
                    self.results.insert(name, json);
                }
                Some("FAIL") => self.problems.push(format!("{name}: {line}")),
                _ => {}
            }
        }
        Ok(())
    }
}

/// The players of a session of `players` (at least 4): the host, a client that stays, one that
/// leaves, one that is killed, and more clients.
fn names(players: usize) -> Vec<String> {
    let mut v: Vec<String> = ["host", "client", "leave", "kill"].map(String::from).to_vec();
    v.extend((2..=players.saturating_sub(3)).map(|i| format!("client{i}")));
    v
}

/// The role a player's name gives it in `mp_node.gd`.
fn role(name: &str) -> &str {
    if name.starts_with("client") { "client" } else { name }
}

/// Runs one session in `mode` ("server" or "mesh") with `players` Godot processes and `pings`
/// pings per peer and mode. After the leave and the kill, a new process joins the same lobby
/// and must get a new peer id and connect to those who stayed.
pub fn run(godot: &Path, project: &Path, signaling: &Path, mode: &str, players: usize, pings: u32) -> Result<Outcome> {
    let work: PathBuf = crate::workspace::root().join(format!("target/session-{mode}"));
    let _ = std::fs::remove_dir_all(&work);
    let control = work.join("control");
    std::fs::create_dir_all(&control)?;
    let (tx, rx) = mpsc::channel();
    let mut problems = Vec::new();
    let everyone = names(players.max(4));

    let (_server, url) = start_signaling(signaling, &tx, &rx, &work)?;

    let node = |role: &str, lobby: &str, players: usize| {
        let mut cmd = crate::godot::command(godot, project, "res://demo/mp_node.gd");
        cmd.arg("--").args(["--url", &url, "--mode", mode, "--role", role, "--lobby", lobby, "--players", &players.to_string()])
            .args(["--pings", &pings.to_string(), "--control"]).arg(&control);
        cmd
    };
    let mut procs: Vec<Proc> = vec![spawn(node("host", "", everyone.len()), "host", &tx, &work)?];
    let line = wait_line(&rx, "host", &["LOBBY ", "FAIL"], Duration::from_secs(30))?;
    if line.starts_with("FAIL") {
        bail!("host: {line}");
    }
    let lobby = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let ids: HashMap<String, u64> = HashMap::from([("host".to_string(), 1)]);
    for name in &everyone[1..] {
        procs.push(spawn(node(role(name), &lobby, everyone.len()), name, &tx, &work)?);
    }

    // Phase 1: every player connects and reports its pings.
    let mut tally = Tally { ids, connect_ms: HashMap::new(), results: HashMap::new(), problems: Vec::new(), players: everyone.len(), control: control.clone() };
    tally.collect(&rx, |r| r.len() >= everyone.len(), Duration::from_secs(90))?;
    for name in &everyone {
        if !tally.results.contains_key(name) {
            tally.problems.push(format!("{name} reported no result (logs: {})", work.display()));
        }
    }
    problems.append(&mut tally.problems);

    // Phase 2: one leaves, one is killed; everyone who stays must notice both.
    let stayers: Vec<&String> = everyone.iter().filter(|n| !matches!(n.as_str(), "leave" | "kill")).collect();
    let mut gone: HashMap<(String, u64), u64> = HashMap::new();
    let (mut leave_at, mut kill_at) = (0, 0);
    if problems.is_empty() {
        leave_at = unix_ms();
        std::fs::write(control.join("leave"), "")?;
        if let Some(p) = procs.iter_mut().find(|p| p.name == "kill") {
            kill_at = unix_ms();
            let _ = p.child.kill(); // SIGKILL: no goodbye of any kind
        }
        let want: Vec<(String, u64)> = stayers
            .iter()
            .flat_map(|w| ["leave", "kill"].map(|v| (w.to_string(), tally.ids.get(v).copied().unwrap_or(0))))
            .collect();
        let deadline = Instant::now() + Duration::from_millis(KILL_LIMIT_MS + 5000);
        while want.iter().any(|k| !gone.contains_key(k)) && Instant::now() < deadline {
            let Ok((name, Some(line))) = rx.recv_timeout(Duration::from_millis(200)) else { continue };
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.len() == 3 && w[0] == "GONE" {
                if let (Ok(id), Ok(at)) = (w[1].parse::<u64>(), w[2].parse::<u64>()) {
                    gone.entry((name, id)).or_insert(at);
                }
            }
        }
    }

    // Phase 3: a newcomer joins the same lobby and connects to those who stayed.
    if problems.is_empty() {
        procs.push(spawn(node("rejoin", &lobby, stayers.len() + 1), "rejoin", &tx, &work)?);
        tally.collect(&rx, |r| r.contains_key("rejoin"), Duration::from_secs(60))?;
        problems.append(&mut tally.problems);
        match tally.ids.get("rejoin") {
            None => problems.push("the rejoining player got no peer id".into()),
            Some(id) if tally.ids.iter().any(|(n, other)| n != "rejoin" && other == id) => problems.push(format!("the rejoining player got a used id {id}")),
            Some(_) => {}
        }
        if !tally.results.contains_key("rejoin") {
            problems.push("the rejoining player did not connect and ping everyone".into());
        }
    }
    std::fs::write(control.join("done"), "")?;

    // Report.
    let mut report = format!(
        "### {} session: {} Godot processes, {pings} pings per peer and mode\n\n| peer | id | connect ms | fps |{}\n|---|---|---|---|{}\n",
        if mode == "mesh" { "mesh" } else { "server/client (relay)" },
        everyone.len(),
        MODES.iter().map(|m| format!(" {m} p50/p99 µs | {m} sent/recv/lost |")).collect::<String>(),
        "---|---|".repeat(MODES.len()),
    );
    let mut rows: Vec<&String> = everyone.iter().collect();
    let rejoin = "rejoin".to_string();
    rows.push(&rejoin);
    for name in rows {
        let Some(r) = tally.results.get(name) else { continue };
        report += &format!("| {name} | {} | {} | {} |", tally.ids.get(name).copied().unwrap_or(0), tally.connect_ms.get(name).copied().unwrap_or(0), r["fps"]);
        for m in MODES {
            let s = &r["modes"][m];
            report += &format!(" {}/{} | {}/{}/{} |", s["p50_us"], s["p99_us"], s["sent"], s["received"], s["lost"]);
            if m == "reliable" && s["lost"].as_i64() != Some(0) {
                problems.push(format!("{name}: {} reliable RPCs lost", s["lost"]));
            }
            if s["received"].as_i64().unwrap_or(0) == 0 {
                problems.push(format!("{name}: no {m} RPC came back"));
            }
        }
        report += "\n";
    }
    report += "\nRPCs are handled once per frame, so a round trip is bound by the frame rate (fps during the \
               pings; the processes share two cores).\n";
    if leave_at > 0 {
        report += "\n";
        for (what, at, limit) in [("leave", leave_at, LEAVE_LIMIT_MS), ("kill", kill_at, KILL_LIMIT_MS)] {
            let id = tally.ids.get(what).copied().unwrap_or(0);
            let mut seen_after = Vec::new();
            for watcher in &stayers {
                match gone.get(&(watcher.to_string(), id)) {
                    Some(t) => {
                        let ms = t.saturating_sub(at);
                        seen_after.push(format!("{watcher} {ms} ms"));
                        if ms > limit {
                            problems.push(format!("{watcher} took {ms} ms to notice '{what}'"));
                        }
                    }
                    None => problems.push(format!("{watcher} never reported '{what}' (peer {id}) as disconnected")),
                }
            }
            report += &format!("- the peer that {} was reported gone by: {} (limit {limit} ms)\n",
                if what == "leave" { "left" } else { "was killed (SIGKILL)" }, seen_after.join(", "));
        }
        if let Some(id) = tally.ids.get("rejoin") {
            report += &format!("- a new process rejoined lobby {lobby} as peer {id} and reached everyone\n");
        }
    }
    // Let the rest quit by themselves (they saw 'done'), within 5 s in all; a straggler is killed.
    let deadline = Instant::now() + Duration::from_secs(5);
    for p in procs.iter_mut() {
        let _ = crate::process::wait_for(&mut p.child, deadline.saturating_duration_since(Instant::now()));
    }
    Ok(Outcome { report, problems })
}
