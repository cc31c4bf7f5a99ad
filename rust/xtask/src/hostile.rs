//! Hostile players: an attacker on aiortc (`hostile/attacker.py`, its SCTP plain Python, so
//! hand-made chunks are easy) against a well-behaved game in headless Godot with this addon
//! (`hostile/godot/game.gd`: polls every frame, reads every packet of every channel, applies
//! every candidate), meeting in a lobby of our signaling server. Each attack runs for a fixed
//! time; the game's RSS and CPU are read from `/proc` while it runs, its frame times and
//! connection state from its own report. Bounds (issue "Hostile players"): RSS growth
//! <= 32 MB, CPU <= 0.5 core, no frame over 50 ms, and the documented outcome of each attack.
//! Linux only (`/proc`). Logs under `target/hostile/`.

use crate::session::{spawn, start_signaling_with, wait_line, Said};
use anyhow::{Context, Result, anyhow, bail};
use crate::workspace::root;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Every attack of `hostile/attacker.py`, in the order they run.
pub const ATTACKS: &[&str] = &[
    "control",
    "ordered-unending",
    "unordered-unending",
    "dcep-flood",
    "dcep-flood-big-labels",
    "dcep-garbage",
    "candidate-flood",
];

const MAX_RSS_GROWTH_MB: f64 = 32.0;
const MAX_CPU_CORES: f64 = 0.5;
const MAX_FRAME_MS: f64 = 50.0;
/// The most channels a remote peer may make a connection hold (vendored patch 0023).
const MAX_CHANNELS: u64 = 512;
/// The most remote candidates a connection takes (`engine::MAX_REMOTE_CANDIDATES`).
const MAX_CANDIDATES: u64 = 256;

/// `cargo xtask hostile [--attack NAME] [--seconds N]`: every attack (or `only`), `seconds` each.
pub fn command(only: Option<&str>, seconds: u64) -> Result<()> {
    let attacks: Vec<&str> = ATTACKS.iter().copied().filter(|a| only.is_none_or(|o| o == *a)).collect();
    if attacks.is_empty() {
        bail!("no attack named {only:?}; they are {ATTACKS:?}");
    }
    let lib = match std::env::var("WEBRTC_RS_EXTENSION") {
        Ok(p) => p.into(),
        Err(_) => crate::project::build_library(false)?,
    };
    let signaling = match std::env::var("WEBRTC_RS_SIGNALING") {
        Ok(p) => p.into(),
        Err(_) => crate::project::build_signaling(false)?,
    };
    let godot = crate::godot::find_or_install()?;
    let (passed, failed) = run(&godot, &lib, &signaling, &attacks, seconds)?;
    println!("{passed} passed, {failed} failed");
    if failed > 0 { Err(anyhow!("{failed} hostile-peer attacks failed")) } else { Ok(()) }
}

/// Runs `attacks` for `seconds` each; prints a PASS/FAIL line per attack; returns the counts.
pub fn run(godot: &Path, lib: &Path, signaling: &Path, attacks: &[&str], seconds: u64) -> Result<(u32, u32)> {
    let work = root().join("target/hostile");
    std::fs::create_dir_all(&work)?;
    let project = crate::project::project_copy(&root().join("hostile/godot"), "hostile", lib)?;
    let python = crate::interop::aiortc_python()?;
    let (mut passed, mut failed) = (0, 0);
    for attack in attacks {
        match run_one(godot, &project, signaling, &python, &work, attack, seconds) {
            Ok(outcome) if outcome.problems.is_empty() => {
                passed += 1;
                println!("PASS hostile {attack}: {}", outcome.figures);
            }
            Ok(outcome) => {
                failed += 1;
                println!("FAIL hostile {attack}: {} ({})", outcome.problems.join("; "), outcome.figures);
            }
            Err(e) => {
                failed += 1;
                println!("FAIL hostile {attack}: {e:#} (logs: {})", work.display());
            }
        }
    }
    Ok((passed, failed))
}

struct Outcome {
    figures: String,
    problems: Vec<String>,
}

/// RSS (bytes) and CPU time (seconds) of a process, from `/proc`.
fn sample(pid: u32) -> Option<(u64, f64)> {
    let process = procfs::process::Process::new(pid as i32).ok()?;
    let rss_kib = process.status().ok()?.vmrss?;
    let stat = process.stat().ok()?;
    Some((rss_kib * 1024, (stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64))
}

/// `key=value` pairs of a RESULT / SENT line.
fn fields(line: &str) -> HashMap<String, String> {
    line.split_whitespace().filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn run_one(godot: &Path, project: &Path, signaling: &Path, python: &Path, work: &Path, attack: &str, seconds: u64) -> Result<Outcome> {
    let (tx, rx) = mpsc::channel::<Said>();
    // The candidate flood must reach the game: a hostile player need not use a rate-limited
    // server like ours, so this one lets 20,000 messages (1.2 MB) through at once.
    let flags = ["--burst", "100000", "--per-second", "100000", "--max-unsent-bytes", "16777216"];
    let (_server, url) = start_signaling_with(signaling, &flags, &tx, &rx, work)?;
    let game_name = format!("game-{attack}");
    let mut cmd = crate::godot::command(godot, project, "res://game.gd");
    cmd.args(["--", "--url", &url, "--seconds", &seconds.to_string()]);
    // A game runs without it: with RUST_BACKTRACE set, godot-rust's debug build captures a
    // backtrace on every bind of an object (its borrow tracker), which was 20 % of the game's
    // CPU with 512 channels polled every frame.
    cmd.env_remove("RUST_BACKTRACE");
    let mut game = spawn(cmd, &game_name, &tx, work)?;
    let pid = game.child.id();
    let lobby = wait_line(&rx, &game_name, &["LOBBY "], Duration::from_secs(30))?;
    let lobby = lobby.split_whitespace().nth(1).unwrap_or("").to_string();
    let attacker_name = format!("attacker-{attack}");
    let mut cmd = Command::new(python);
    cmd.arg(root().join("hostile/attacker.py")).args(["--url", &url, "--lobby", &lobby, "--attack", attack, "--seconds", &seconds.to_string()]);
    let _attacker = spawn(cmd, &attacker_name, &tx, work)?;
    wait_line(&rx, &game_name, &["READY"], Duration::from_secs(30))?;
    let (rss_start, cpu_start) = sample(pid).context("the game exited before the attack")?;
    let start = Instant::now();
    let (mut rss_peak, mut last) = (rss_start, (rss_start, cpu_start, Instant::now()));
    let (mut result, mut sent) = (None, None);
    let deadline = start + Duration::from_secs(seconds + 45);
    let mut game_ended = false;
    while !game_ended && Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(250)) {
            Ok((from, Some(line))) if from == game_name && line.starts_with("RESULT ") => result = Some(line),
            Ok((from, Some(line))) if from == attacker_name && line.starts_with("SENT ") => sent = Some(line),
            Ok((from, None)) if from == game_name => game_ended = true,
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        // Sampled until the game reports (it quits right after; its exit is not the attack).
        if result.is_none() {
            if let Some((rss, cpu)) = sample(pid) {
                rss_peak = rss_peak.max(rss);
                last = (rss, cpu, Instant::now());
            }
        }
    }
    let status = if game_ended { game.child.wait().ok() } else { None };
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    let cpu = (last.1 - cpu_start) / last.2.duration_since(start).as_secs_f64().max(0.001);
    let growth = mb(rss_peak.saturating_sub(rss_start));
    let r = result.as_deref().map(fields).unwrap_or_default();
    let s = sent.as_deref().map(fields).unwrap_or_default();
    let num = |k: &str| r.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(-1.0);
    let state = r.get("state").cloned().unwrap_or_else(|| "?".into());
    let figures = format!(
        "RSS {:.1} -> peak {:.1} MiB (+{growth:.1}), CPU {cpu:.2} core, max frame {:.1} ms (WebSocket/signals/addon/outside: {} ms), state {state}, channels {}, messages {}, still alive {}, candidates ok {} / refused {} ({:.0} ms in add_ice_candidate); the attacker sent {} chunks, {:.1} MB in {} s",
        mb(rss_start), mb(rss_peak), num("max_frame_ms"), r.get("slowest_frame").map_or("?", String::as_str), num("channels"), num("msgs"), num("alive"), num("cand_ok"), num("cand_refused"), num("cand_ms"),
        s.get("chunks").map_or("?", String::as_str),
        s.get("bytes").and_then(|b| b.parse::<f64>().ok()).unwrap_or(0.0) / 1e6,
        s.get("seconds").map_or("?", String::as_str),
    );
    let mut problems = Vec::new();
    if result.is_none() {
        problems.push(format!("the game gave no RESULT (exit {status:?}; logs: {})", work.display()));
        return Ok(Outcome { figures, problems });
    }
    if sent.is_none() {
        problems.push("the attacker did not finish its attack".into());
    }
    if !matches!(status, Some(s) if s.success()) {
        problems.push(format!("the game exited with {status:?}"));
    }
    if growth > MAX_RSS_GROWTH_MB {
        problems.push(format!("RSS grew {growth:.1} MiB (bound {MAX_RSS_GROWTH_MB})"));
    }
    if cpu > MAX_CPU_CORES {
        problems.push(format!("CPU {cpu:.2} core (bound {MAX_CPU_CORES})"));
    }
    if num("max_frame_ms") > MAX_FRAME_MS {
        problems.push(format!("a frame of {:.1} ms (bound {MAX_FRAME_MS})", num("max_frame_ms")));
    }
    let connected_and_alive = |problems: &mut Vec<String>| {
        if state != "CONNECTED" || num("alive") != 1.0 {
            problems.push(format!("the connection should keep working: state {state}, a message after the attack arrived: {}", num("alive") == 1.0));
        }
    };
    match attack {
        "control" => {
            connected_and_alive(&mut problems);
            if num("msgs") < 1000.0 {
                problems.push("the game read almost nothing".into());
            }
        }
        // Either outcome is documented: the message is aborted at the maximum message size
        // (FAILED, with the reason logged), or it is absorbed within the window.
        "ordered-unending" | "unordered-unending" => {
            if state != "FAILED" && state != "CONNECTED" {
                problems.push(format!("state {state}: neither kept working nor failed with a reason"));
            }
        }
        "dcep-flood" | "dcep-flood-big-labels" => {
            connected_and_alive(&mut problems);
            if num("channels") > MAX_CHANNELS as f64 {
                problems.push(format!("{} channels (bound {MAX_CHANNELS})", num("channels")));
            }
        }
        "dcep-garbage" => connected_and_alive(&mut problems),
        "candidate-flood" => {
            connected_and_alive(&mut problems);
            if num("cand_ok") > MAX_CANDIDATES as f64 || num("cand_refused") < 1.0 {
                problems.push(format!("candidates: {} taken, {} refused (at most {MAX_CANDIDATES} taken)", num("cand_ok"), num("cand_refused")));
            }
        }
        _ => {}
    }
    Ok(Outcome { figures, problems })
}
