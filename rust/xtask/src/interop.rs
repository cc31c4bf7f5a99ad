//! Interop with independent WebRTC stacks: a headless Godot peer using this addon
//! (`interop/godot/interop_peer.gd`) meets the other stack in a lobby of our signaling server,
//! once as offerer and once as answerer. The other side echoes what it receives.
//! Stacks: aiortc (PyPI, pure Python) through `interop/aiortc_peer.py`; headless Chromium and
//! headless Firefox (the browsers' own RTCPeerConnection, as Godot web exports use it, mDNS
//! hiding of host addresses left on) through the same page, `interop/browser_peer.html`
//! (Firefox in a fresh profile with `interop/firefox_user.js`); and a real STUN/TURN server,
//! Debian's coturn, started here on 127.0.0.1 (`interop/godot/turn_test.gd`).
//! Chromium, Firefox and coturn come from `PATH`, else from Debian's archive into a private cache
//! folder (`debian`, `programs`); aiortc from PyPI into a venv under `target/`. Writes the logs and the
//! table of the checks under `target/interop/`, nothing else (`cargo xtask readme` copies the
//! table into README.md).

use crate::debian;
use crate::programs::{CHROMIUM, COTURN, FIREFOX};
use crate::session::{Said, spawn, start_signaling, wait_line};
use anyhow::{Context, Result, anyhow, bail};
use crate::workspace::root;
use std::collections::HashSet;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The table of the last run (what `cargo xtask readme` copies into README.md).
pub const TABLE: &str = "target/interop/table.md";

const AIORTC: &[&str] = &["aiortc==1.16.0", "websockets==17.4"];

/// A venv with aiortc, created once under `target/interop`.
pub(crate) fn aiortc_python() -> Result<PathBuf> {
    let venv = root().join("target/interop/venv-aiortc");
    crate::venv::ensure(Path::new("python3"), &venv, AIORTC, |dir| crate::venv::imports(dir, "aiortc, websockets"))
}

/// One check line of the Godot peer: (stack, Godot's role, what, passed).
pub struct Check {
    pub stack: String,
    pub role: String,
    pub what: String,
    pub passed: bool,
}

/// Runs every stack in both roles with the addon built as `lib`, laid into the Godot project
/// `interop/godot`; returns the checks and the problems.
pub fn run_all(godot: &Path, lib: &Path, signaling: &Path) -> Result<(Vec<Check>, Vec<String>)> {
    let work = root().join("target/interop");
    std::fs::create_dir_all(&work)?;
    let project = crate::project::project_copy(&root().join("interop/godot"), "interop", lib)?;
    let python = aiortc_python()?;
    let (tx, rx) = mpsc::channel();
    let (_server, url) = start_signaling(signaling, &tx, &rx, &work)?;
    let mut checks = Vec::new();
    let mut problems = Vec::new();
    let mut ended = HashSet::new();
    let chromium = debian::find_or_install(&CHROMIUM).map_err(|e| problems.push(format!("chromium: {e:#}"))).ok();
    let firefox = debian::find_or_install(&FIREFOX).map_err(|e| problems.push(format!("firefox: {e:#}"))).ok();
    for stack in ["aiortc", "chromium", "firefox"] {
        for (role, other) in [("offer", "answer"), ("answer", "offer")] {
            let name = format!("godot-{stack}-{role}");
            let mut cmd = crate::godot::command(godot, &project, "res://interop_peer.gd");
            cmd.args(["--", "--url", &url, "--role", role, "--stack", stack]);
            let mut godot_proc = spawn(cmd, &name, &tx, &work)?;
            let lobby = match wait_line(&rx, &name, &["LOBBY "], Duration::from_secs(30)) {
                Ok(l) => l.split_whitespace().nth(1).unwrap_or("").to_string(),
                Err(e) => {
                    problems.push(format!("{stack}/{role}: {e:#}"));
                    continue;
                }
            };
            let page = format!("file://{}?url={url}&lobby={lobby}&role={other}", root().join("interop/browser_peer.html").display());
            let profile = work.join(format!("{stack}-profile-{role}"));
            let peer_cmd = match (stack, &chromium, &firefox) {
                ("aiortc", _, _) => {
                    let mut cmd = Command::new(&python);
                    cmd.arg(root().join("interop/aiortc_peer.py")).args(["--url", &url, "--lobby", &lobby, "--role", other]);
                    cmd
                }
                ("chromium", Some(browser), _) => {
                    let _ = std::fs::remove_dir_all(&profile);
                    let mut cmd = Command::new(browser);
                    // Headless, as root, and quiet on a machine with no network but loopback;
                    // /dev/shm is small in containers (Debian's launcher script adds this there).
                    cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
                        .arg("--disable-dev-shm-usage")
                        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
                        .arg(format!("--user-data-dir={}", profile.display()))
                        .arg(page);
                    cmd
                }
                ("firefox", _, Some(browser)) => {
                    // A fresh profile holding only our preferences (`interop/firefox_user.js`).
                    let _ = std::fs::remove_dir_all(&profile);
                    std::fs::create_dir_all(&profile)?;
                    std::fs::copy(root().join("interop/firefox_user.js"), profile.join("user.js")).context("firefox_user.js")?;
                    let mut cmd = Command::new(browser);
                    cmd.args(["--headless", "--no-remote", "--profile"]).arg(&profile).arg(page);
                    cmd
                }
                _ => continue, // the browser is missing (said in `problems`)
            };
            let peer_name = format!("{stack}-{other}");
            let mut peer = spawn(peer_cmd, &peer_name, &tx, &work)?;
            let godot_ended = read_until_end(&rx, &name, Duration::from_secs(120), &mut ended, |line| checks.extend(check(line)));
            // Its output is closed: it has exited (or is exiting), so this returns at once.
            let godot_status = if godot_ended { Some(godot_proc.child.wait()?) } else { None };
            match godot_status {
                Some(s) if s.success() => {}
                Some(s) => problems.push(format!("{stack}, Godot {role}: exited with {s} (logs: {})", work.display())),
                None => problems.push(format!("{stack}, Godot {role}: did not finish within 120 s")),
            }
            if stack == "aiortc" {
                // The aiortc peer ends by itself after "bye".
                let status = match read_until_end(&rx, &peer_name, Duration::from_secs(10), &mut ended, |_| {}) {
                    true => peer.child.wait().map_err(|e| e.to_string()),
                    false => Err("still running after 10 s".into()),
                };
                if !matches!(&status, Ok(s) if s.success()) {
                    problems.push(format!("aiortc as {other}: the aiortc peer did not end cleanly ({status:?})"));
                }
            } // a browser page never ends by itself: dropping `peer` kills it
        }
    }
    match run_turn(godot, &project, &work, &tx, &rx, &mut ended) {
        Ok(mut c) => checks.append(&mut c),
        Err(e) => problems.push(format!("coturn: {e:#}")),
    }
    std::fs::write(root().join(TABLE), table(&checks))?;
    Ok((checks, problems))
}

/// Reads what the processes say until process `name` has ended (its stdout closed, so every
/// line it printed has been read) or `limit` passed; hands its lines to `on_line` and notes in
/// `ended` every process whose end goes by. Returns whether `name` ended.
fn read_until_end(rx: &mpsc::Receiver<Said>, name: &str, limit: Duration, ended: &mut HashSet<String>, mut on_line: impl FnMut(&str)) -> bool {
    let deadline = Instant::now() + limit;
    while !ended.contains(name) {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else { return false };
        match rx.recv_timeout(left) {
            Ok((from, Some(line))) if from == name => on_line(&line),
            Ok((from, None)) => {
                ended.insert(from);
            }
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return false,
        }
    }
    true
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
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    Ok(sock.local_addr()?.port())
}

/// Waits until a STUN server answers a Binding request on 127.0.0.1:`port` (RFC 8489: no
/// credentials needed), asking again every 100 ms, for at most `limit`.
fn wait_stun(port: u16, limit: Duration) -> Result<()> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.connect(("127.0.0.1", port))?;
    sock.set_read_timeout(Some(Duration::from_millis(100)))?;
    // Type Binding request, no attributes, the magic cookie, a transaction id.
    let mut request = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    request.extend_from_slice(&std::process::id().to_be_bytes());
    request.extend_from_slice(b"xtask-rs");
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 1500];
    while Instant::now() < deadline {
        // Refused (nothing bound there yet) or no answer: ask again.
        let _ = sock.send(&request);
        if let Ok(n) = sock.recv(&mut buf) {
            // A Binding success response to our transaction.
            if n >= 20 && buf[..2] == [0x01, 0x01] && buf[8..20] == request[8..20] {
                return Ok(());
            }
        }
    }
    Err(anyhow!("no STUN answer on 127.0.0.1:{port} within {} s", limit.as_secs()))
}

/// coturn with a user on 127.0.0.1, and the Godot TURN/STUN checks against it.
fn run_turn(godot: &Path, project: &Path, work: &Path, tx: &mpsc::Sender<Said>, rx: &mpsc::Receiver<Said>, ended: &mut HashSet<String>) -> Result<Vec<Check>> {
    let turnserver = debian::find_or_install(&COTURN)?;
    // coturn 4.7+ starts neither DTLS nor its CLI unless asked, and dropped `--no-dtls`.
    let help = Command::new(&turnserver).arg("-h").output().with_context(|| turnserver.display().to_string())?;
    let help = String::from_utf8_lossy(&help.stdout).into_owned() + &String::from_utf8_lossy(&help.stderr);
    let has = |flag: &str| help.lines().any(|l| l.split_whitespace().next() == Some(flag));
    let port = free_udp_port()?;
    // TURN over TLS on another port, with a certificate for 127.0.0.1 from a CA made here and
    // handed to the addon (`turnCaFile`); TURN over TCP shares the plain port.
    let tls_port = free_udp_port()?;
    let ca = tls_files(work)?;
    let (user, password) = ("godot", "webrtc-rs-secret");
    let mut cmd = Command::new(turnserver);
    cmd.args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--lt-cred-mech", "--realm=webrtc-rs.test"])
        .arg(format!("--listening-port={port}"))
        .arg(format!("--tls-listening-port={tls_port}"))
        .arg(format!("--cert={}", work.join("turn-cert.pem").display()))
        .arg(format!("--pkey={}", work.join("turn-key.pem").display()))
        .arg(format!("--user={user}:{password}"))
        // Peers are on loopback too; coturn refuses to relay to loopback unless told.
        .args(["--allow-loopback-peers", "--log-file=stdout", "--simple-log"])
        .args(["--no-dtls", "--no-cli"].into_iter().filter(|f| has(f)));
    let _coturn = spawn(cmd, "coturn", tx, work)?;
    wait_stun(port, Duration::from_secs(10))?;
    let mut cmd = crate::godot::command(godot, project, "res://turn_test.gd");
    cmd.args(["--", "--port", &port.to_string(), "--user", user, "--password", password]);
    cmd.args(["--tls_port", &tls_port.to_string(), "--ca", &ca.display().to_string()]);
    let mut proc_ = spawn(cmd, "godot-turn", tx, work)?;
    let mut checks = Vec::new();
    if !read_until_end(rx, "godot-turn", Duration::from_secs(150), ended, |line| checks.extend(check(line))) {
        bail!("turn_test.gd did not finish within 150 s");
    }
    match proc_.child.wait()? {
        status if status.success() => Ok(checks),
        status => Err(anyhow!("turn_test.gd exited with {status}; checks so far: {}", checks.len())),
    }
}

/// Writes `turn-cert.pem` and `turn-key.pem` (for 127.0.0.1) and the CA that issued them
/// into `dir`; returns the CA file's path.
fn tls_files(dir: &Path) -> Result<PathBuf> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let fail = "making the TURN test certificate";
    let mut params = CertificateParams::new(Vec::<String>::new()).context(fail)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().context(fail)?).context(fail)?;
    let key = KeyPair::generate().context(fail)?;
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()]).context(fail)?.signed_by(&key, &ca).context(fail)?;
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text).with_context(|| name.to_string());
    write("turn-cert.pem", cert.pem())?;
    write("turn-key.pem", key.serialize_pem())?;
    write("turn-ca.pem", ca.pem())?;
    Ok(dir.join("turn-ca.pem"))
}

/// The check of a `PASS|FAIL <stack> <role>: <what>` line (echoed), if it is one.
fn check(line: &str) -> Option<Check> {
    let passed = line.starts_with("PASS ");
    if !passed && !line.starts_with("FAIL ") {
        return None;
    }
    let mut words = line[5..].splitn(3, ' ');
    let (stack, role, what) = (words.next()?, words.next()?, words.next()?);
    println!("{line}");
    Some(Check { stack: stack.into(), role: role.trim_end_matches(':').into(), what: what.into(), passed })
}
