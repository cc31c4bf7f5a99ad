//! Interop with independent WebRTC stacks: a headless Godot peer using this addon
//! (`godot_project/interop/interop_peer.gd`) meets the other stack in a lobby of our signaling
//! server, once as offerer and once as answerer. The other side echoes what it receives.
//! Stacks so far: aiortc (PyPI, pure Python), through `interop/aiortc_peer.py`; and a real
//! STUN/TURN server, Debian's coturn, started here on 127.0.0.1 (`interop/turn_test.gd`).

use crate::session::spawn;
use crate::{Result, root, run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const AIORTC: &[&str] = &["aiortc==1.16.0", "websockets==17.4"];

/// A venv with aiortc, created once under `target/interop`.
fn aiortc_python() -> Result<PathBuf> {
    let venv = root().join("target/interop/venv-aiortc");
    let py = venv.join("bin/python");
    let ok = |p: &Path| Command::new(p).args(["-c", "import aiortc, websockets"]).output().map(|o| o.status.success()).unwrap_or(false);
    if ok(&py) {
        return Ok(py);
    }
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "venv"]).arg(&venv);
    run(cmd, "python3 -m venv")?;
    let mut cmd = Command::new(&py);
    cmd.args(["-m", "pip", "install", "-q"]).args(AIORTC);
    run(cmd, "pip install aiortc")?;
    if ok(&py) { Ok(py) } else { Err("aiortc does not import".into()) }
}

/// One check line of the Godot peer: (stack, Godot's role, what, passed).
pub struct Check {
    pub stack: String,
    pub role: String,
    pub what: String,
    pub passed: bool,
}

/// Runs every stack in both roles; returns the checks and the problems.
pub fn run_all(godot: &Path, project: &Path, signaling: &Path) -> Result<(Vec<Check>, Vec<String>)> {
    let work = root().join("target/interop");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let python = aiortc_python()?;
    let (tx, rx) = mpsc::channel();
    let mut server = Command::new(signaling);
    server.args(["--listen", "127.0.0.1:0"]);
    let _server = spawn(server, "signaling", &tx, &work)?;
    let url = wait_line(&rx, "signaling", "listening on ", Duration::from_secs(10))?.trim_start_matches("listening on ").to_string();
    let mut checks = Vec::new();
    let mut problems = Vec::new();
    for (role, other) in [("offer", "answer"), ("answer", "offer")] {
        let name = format!("godot-{role}");
        let mut cmd = crate::godot::command(godot, project, "res://interop/interop_peer.gd");
        cmd.args(["--", "--url", &url, "--role", role, "--stack", "aiortc"]);
        let mut godot_proc = spawn(cmd, &name, &tx, &work)?;
        let lobby = match wait_line(&rx, &name, "LOBBY ", Duration::from_secs(30)) {
            Ok(l) => l.split_whitespace().nth(1).unwrap_or("").to_string(),
            Err(e) => {
                problems.push(format!("aiortc/{role}: {e}"));
                continue;
            }
        };
        let mut cmd = Command::new(&python);
        cmd.arg(root().join("interop/aiortc_peer.py")).args(["--url", &url, "--lobby", &lobby, "--role", other]);
        let mut py_proc = spawn(cmd, &format!("aiortc-{other}"), &tx, &work)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut godot_status = None;
        while Instant::now() < deadline {
            take_checks(&rx, &name, &mut checks);
            if godot_status.is_none() {
                godot_status = godot_proc.child.try_wait().map_err(|e| e.to_string())?;
            }
            if godot_status.is_some() && matches!(py_proc.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        match godot_status {
            Some(s) if s.success() => {}
            Some(s) => problems.push(format!("aiortc, Godot {role}: exited with {s} (logs: {})", work.display())),
            None => problems.push(format!("aiortc, Godot {role}: did not finish within 120 s")),
        }
        match py_proc.child.try_wait() {
            Ok(Some(s)) if s.success() => {}
            status => problems.push(format!("aiortc as {other}: the aiortc peer did not end cleanly ({status:?})")),
        }
    }
    match run_turn(godot, project, &work, &tx, &rx) {
        Ok(mut c) => checks.append(&mut c),
        Err(e) => problems.push(format!("coturn: {e}")),
    }
    let table = table(&checks);
    std::fs::write(work.join("table.md"), &table).map_err(|e| e.to_string())?;
    // The README shows the table of the last run (a throwaway change in CI's clone).
    crate::project::update_readme_section("interop", &table)?;
    Ok((checks, problems))
}

fn wait_line(rx: &mpsc::Receiver<(String, String)>, from: &str, prefix: &str, limit: Duration) -> Result<String> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now()).ok_or_else(|| format!("no '{prefix}' line from {from}"))?;
        let (name, line) = rx.recv_timeout(left).map_err(|_| format!("no '{prefix}' line from {from}"))?;
        if name == from && line.starts_with(prefix) {
            return Ok(line);
        }
    }
}

/// Stack x role x feature, from the checks (written to target/interop/table.md).
pub fn table(checks: &[Check]) -> String {
    let mut features: Vec<&str> = Vec::new();
    for c in checks {
        if !features.contains(&c.what.as_str()) {
            features.push(&c.what);
        }
    }
    let mut stacks: Vec<&str> = Vec::new();
    for c in checks {
        if !stacks.contains(&c.stack.as_str()) {
            stacks.push(&c.stack);
        }
    }
    let mut t = String::from("| feature |");
    for s in &stacks {
        t += &format!(" {s}, Godot offers | {s}, Godot answers |");
    }
    t += &format!("\n|---|{}\n", "---|---|".repeat(stacks.len()));
    for f in features {
        t += &format!("| {f} |");
        for s in &stacks {
            t += &format!(" {} | {} |", cell(checks, s, "offer", f), cell(checks, s, "answer", f));
        }
        t += "\n";
    }
    t
}

fn cell(checks: &[Check], stack: &str, role: &str, what: &str) -> &'static str {
    match checks.iter().find(|c| c.stack == stack && c.what == what && c.role == role) {
        Some(c) if c.passed => "✔",
        Some(_) => "✘",
        None => "–",
    }
}

/// A UDP port free on 127.0.0.1 right now.
fn free_udp_port() -> Result<u16> {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(sock.local_addr().map_err(|e| e.to_string())?.port())
}

/// coturn with a user on 127.0.0.1, and the Godot TURN/STUN checks against it.
fn run_turn(godot: &Path, project: &Path, work: &Path, tx: &mpsc::Sender<(String, String)>, rx: &mpsc::Receiver<(String, String)>) -> Result<Vec<Check>> {
    let turnserver = ["/usr/bin/turnserver", "/usr/sbin/turnserver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or("coturn is not installed (Debian: apt-get install coturn; .ci/run does it)")?;
    let port = free_udp_port()?.to_string();
    let (user, password) = ("godot", "webrtc-rs-secret");
    let mut cmd = Command::new(turnserver);
    cmd.args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--lt-cred-mech", "--realm=webrtc-rs.test"])
        .arg(format!("--listening-port={port}"))
        .arg(format!("--user={user}:{password}"))
        // Peers are on loopback too; coturn refuses to relay to loopback unless told.
        .args(["--allow-loopback-peers", "--no-tls", "--no-dtls", "--no-cli", "--log-file=stdout", "--simple-log"]);
    let _coturn = spawn(cmd, "coturn", tx, work)?;
    std::thread::sleep(Duration::from_millis(500));
    let mut cmd = crate::godot::command(godot, project, "res://interop/turn_test.gd");
    cmd.args(["--", "--port", &port, "--user", user, "--password", password]);
    let mut proc_ = spawn(cmd, "godot-turn", tx, work)?;
    let mut checks = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        take_checks(rx, "godot-turn", &mut checks);
        match proc_.child.try_wait().map_err(|e| e.to_string())? {
            Some(status) if status.success() => break,
            Some(status) => return Err(format!("turn_test.gd exited with {status}; checks so far: {}", checks.len())),
            None if Instant::now() > deadline => return Err("turn_test.gd did not finish within 150 s".into()),
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    std::thread::sleep(Duration::from_millis(200)); // lines printed just before exit
    take_checks(rx, "godot-turn", &mut checks);
    Ok(checks)
}

/// Moves `PASS|FAIL <stack> <role>: <what>` lines of process `from` into `checks`, echoing them.
fn take_checks(rx: &mpsc::Receiver<(String, String)>, from: &str, checks: &mut Vec<Check>) {
    while let Ok((name, line)) = rx.try_recv() {
        if name != from {
            continue;
        }
        let passed = line.starts_with("PASS ");
        if !passed && !line.starts_with("FAIL ") {
            continue;
        }
        let mut words = line[5..].splitn(3, ' ');
        let (Some(stack), Some(role), Some(what)) = (words.next(), words.next(), words.next()) else { continue };
        println!("{line}");
        checks.push(Check { stack: stack.into(), role: role.trim_end_matches(':').into(), what: what.into(), passed });
    }
}
