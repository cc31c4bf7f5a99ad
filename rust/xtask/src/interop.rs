//! Interop with independent WebRTC stacks: a headless Godot peer using this addon
//! (`godot_project/interop/interop_peer.gd`) meets the other stack in a lobby of our signaling
//! server, once as offerer and once as answerer. The other side echoes what it receives.
//! Stacks: aiortc (PyPI, pure Python) through `interop/aiortc_peer.py`; headless Chromium (the
//! browser's own RTCPeerConnection, as Godot web exports use it, mDNS hiding of host addresses
//! left on) through `interop/browser_peer.html`; and a real
//! STUN/TURN server, Debian's coturn, started here on 127.0.0.1 (`interop/turn_test.gd`).
//! Chromium and coturn come from `PATH`, else from Debian's archive into a private cache
//! folder (`debian`, `install-debian.sh`); aiortc from PyPI into a venv under `target/`.

use crate::debian::{self, Program};
use crate::session::{spawn, start_signaling, wait_line};
use crate::{Result, root, run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const AIORTC: &[&str] = &["aiortc==1.16.0", "websockets==17.4"];

/// Debian's chromium, whose real binary (resources beside it) re-executes itself through
/// `/proc/self/exe`, which the recipe's relocation keeps working. Left out: what headless
/// Chromium never loads (the GTK stack and its image loaders, icon themes and schemas, X11
/// tools, systemd/D-Bus/PAM, Mesa's GL drivers: Chromium renders with its own SwiftShader),
/// and the Vulkan validation layer. Measured on forky's 156: 157 MB download, 433 MB on disk
/// (the full closure: 242 MB, 838 MB). A library still missing makes the recipe install the
/// full closure instead.
const CHROMIUM: Program = Program {
    names: &["chromium", "chromium-browser"],
    package: "chromium",
    binary: "/usr/lib/chromium/chromium",
    dir: "chromium",
    dir_env: "WEBRTC_RS_CHROMIUM_DIR",
    env: &[
        (
            "DEB_PRUNE_MORE",
            "systemd|systemd-sysv|libsystemd-shared|init-system-helpers|libpam-.*|libpam0g|dbus|dbus-.*|bubblewrap\
             |procps|libproc2-[0-9]+|libncursesw6|glycin-.*|libglycin-.*|librsvg2-.*|libheif.*|libde265-.*|libjxl.*\
             |libhwy.*|adwaita-icon-theme|hicolor-icon-theme|gtk-update-icon-cache|libgtk-3-.*|gsettings-desktop-schemas\
             |dconf-.*|libdconf1|user-session-migration|libcloudproviders0|libcolord2|libgdk-pixbuf.*|shared-mime-info\
             |xkb-data|x11-utils|xdg-utils|libxaw7|libxmu6|libxmuu1|libxpm4|libxt6t64|libsm6|libice6|x11-common\
             |libxkbfile1|libxft2|libxtst6|libxv1|libxxf86dga1|libxxf86vm1|libgl1-mesa-dri|libglx-mesa0|libglx0|libgl1\
             |libglvnd0|libxcb-glx0|libepoxy0|libwayland-cursor0|libwayland-egl1|libxcursor1|libxinerama1|libvulkan1\
             |libcrypt1|libaudit.*|libcap-ng0|libdb5\\.3t64|libapparmor1|libseccomp2|libc-gconv-modules-extra",
        ),
        ("DEB_PRUNE_FILES", "usr/lib/chromium/libVkLayer_khronos_validation.so*"),
        // The prefix's fonts and GLib modules, not whatever the host has (or lacks).
        ("DEB_FONTCONFIG", "1"),
        (
            "DEB_WRAPPER_PRELUDE",
            "# GLib modules of the prefix only.\n\
             : \"${GIO_MODULE_DIR:=@DEST@/root/usr/lib/x86_64-linux-gnu/gio/modules}\"\n\
             export GIO_MODULE_DIR",
        ),
    ],
};

/// Debian's coturn: its `turnserver`. Left out: systemd and the command-line clients
/// (sqlite3, telnet) the package depends on. 13 MB download, 37 MB on disk.
const COTURN: Program = Program {
    names: &["turnserver"],
    package: "coturn",
    binary: "/usr/bin/turnserver",
    dir: "coturn",
    dir_env: "WEBRTC_RS_COTURN_DIR",
    env: &[("DEB_PRUNE_MORE", "systemd|libsystemd-shared|sqlite3|telnet|inetutils-telnet|libreadline8t64|readline-common")],
};

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
    let (_server, url) = start_signaling(signaling, &tx, &rx, &work)?;
    let mut checks = Vec::new();
    let mut problems = Vec::new();
    let chromium = debian::find_or_install(&CHROMIUM).map_err(|e| problems.push(format!("chromium: {e}"))).ok();
    for stack in ["aiortc", "chromium"] {
        for (role, other) in [("offer", "answer"), ("answer", "offer")] {
            let name = format!("godot-{stack}-{role}");
            let mut cmd = crate::godot::command(godot, project, "res://interop/interop_peer.gd");
            cmd.args(["--", "--url", &url, "--role", role, "--stack", stack]);
            let mut godot_proc = spawn(cmd, &name, &tx, &work)?;
            let lobby = match wait_line(&rx, &name, &["LOBBY "], Duration::from_secs(30)) {
                Ok(l) => l.split_whitespace().nth(1).unwrap_or("").to_string(),
                Err(e) => {
                    problems.push(format!("{stack}/{role}: {e}"));
                    continue;
                }
            };
            let peer_cmd = match (stack, &chromium) {
                ("aiortc", _) => {
                    let mut cmd = Command::new(&python);
                    cmd.arg(root().join("interop/aiortc_peer.py")).args(["--url", &url, "--lobby", &lobby, "--role", other]);
                    cmd
                }
                (_, Some(browser)) => {
                    let profile = work.join(format!("chromium-profile-{role}"));
                    let _ = std::fs::remove_dir_all(&profile);
                    let page = format!("file://{}?url={url}&lobby={lobby}&role={other}", root().join("interop/browser_peer.html").display());
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
                _ => continue,
            };
            let mut peer = spawn(peer_cmd, &format!("{stack}-{other}"), &tx, &work)?;
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut godot_status = None;
            while Instant::now() < deadline {
                take_checks(&rx, &name, &mut checks);
                godot_status = godot_proc.child.try_wait().map_err(|e| e.to_string())?;
                if godot_status.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            std::thread::sleep(Duration::from_millis(200)); // lines printed just before exit
            take_checks(&rx, &name, &mut checks);
            match godot_status {
                Some(s) if s.success() => {}
                Some(s) => problems.push(format!("{stack}, Godot {role}: exited with {s} (logs: {})", work.display())),
                None => problems.push(format!("{stack}, Godot {role}: did not finish within 120 s")),
            }
            if stack == "aiortc" {
                // The aiortc peer ends by itself after "bye".
                let end = Instant::now() + Duration::from_secs(10);
                while Instant::now() < end && matches!(peer.child.try_wait(), Ok(None)) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                match peer.child.try_wait() {
                    Ok(Some(s)) if s.success() => {}
                    status => problems.push(format!("aiortc as {other}: the aiortc peer did not end cleanly ({status:?})")),
                }
            } // a browser page never ends by itself: dropping `peer` kills it
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
    let turnserver = debian::find_or_install(&COTURN)?;
    // coturn 4.7+ starts neither DTLS nor its CLI unless asked, and dropped `--no-dtls`.
    let help = Command::new(&turnserver).arg("-h").output().map_err(|e| format!("{}: {e}", turnserver.display()))?;
    let help = String::from_utf8_lossy(&help.stdout).into_owned() + &String::from_utf8_lossy(&help.stderr);
    let has = |flag: &str| help.lines().any(|l| l.split_whitespace().next() == Some(flag));
    let port = free_udp_port()?.to_string();
    let (user, password) = ("godot", "webrtc-rs-secret");
    let mut cmd = Command::new(turnserver);
    cmd.args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--lt-cred-mech", "--realm=webrtc-rs.test"])
        .arg(format!("--listening-port={port}"))
        .arg(format!("--user={user}:{password}"))
        // Peers are on loopback too; coturn refuses to relay to loopback unless told.
        .args(["--allow-loopback-peers", "--no-tls", "--log-file=stdout", "--simple-log"])
        .args(["--no-dtls", "--no-cli"].into_iter().filter(|f| has(f)));
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
