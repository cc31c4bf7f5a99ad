//! Interop with independent WebRTC stacks: a headless Godot peer using this addon
//! (`godot_project/interop/interop_peer.gd`) meets the other stack in a lobby of our signaling
//! server, once as offerer and once as answerer. The other side echoes what it receives.
//! Stacks so far: aiortc (PyPI, pure Python), through `interop/aiortc_peer.py`.

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
            while let Ok((from, line)) = rx.try_recv() {
                if from != name {
                    continue;
                }
                for (prefix, passed) in [("PASS ", true), ("FAIL ", false)] {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        let what = rest.splitn(3, ' ').nth(2).unwrap_or(rest).to_string();
                        checks.push(Check { stack: "aiortc".into(), role: role.into(), what, passed });
                        println!("{line}");
                    }
                }
            }
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
