//! `cargo xtask test`: the engine's and the signaling server's cargo tests (with coturn and
//! Redis), then the workflows, the version banner, the class reference, the Godot suites, the
//! multi-process sessions, interop and the hostile players; a summary line per part.

use anyhow::{Result, bail};
use crate::{banner, class_reference, debian, godot, hostile, interop, programs, project, session, suite, workflows, workspace};

/// Engine tests with cargo, then every Godot suite. Prints a summary of the suites and fails
/// if any failed.
pub fn run() -> Result<()> {
    // The engine's TURN tests run against coturn (ignored under a plain `cargo test`).
    let coturn = debian::find_or_install(&programs::COTURN)?;
    let mut cmd = workspace::cargo();
    // `--include-ignored`: the tests that need coturn are ignored under a plain `cargo test`.
    cmd.args(["test", "-p", "webrtc-rs-engine", "-p", "xtask", "-p", "webrtc-rs-bench-report", "--", "--include-ignored"])
        .env("WEBRTC_RS_TURNSERVER", &coturn);
    workspace::run(cmd, "cargo test")?;

    let lib = project::build_library(false)?;
    let godot = godot::find_or_install()?;
    // The signaling server's tests: several instances over a real Redis, and Godot processes
    // resuming through them (ignored under a plain `cargo test`).
    let redis = debian::find_or_install(&programs::REDIS)?;
    let mut cmd = workspace::cargo();
    cmd.args(["test", "-p", "webrtc-rs-signaling", "--", "--include-ignored"])
        .env("WEBRTC_RS_REDIS_SERVER", &redis)
        .env("WEBRTC_RS_GODOT", &godot)
        .env("WEBRTC_RS_EXTENSION", &lib);
    workspace::run(cmd, "cargo test -p webrtc-rs-signaling")?;
    let project_dir = project::project_copy(&workspace::root().join("godot_project"), "godot_project", &lib)?;

    let mut failures = Vec::new();
    println!("== GitHub workflows (actionlint)");
    if let Err(e) = workflows::lint() {
        failures.push(format!("workflows: {e:#}"));
    }
    println!("== The version under --verbose");
    if let Err(e) = banner::check(&godot, &project_dir) {
        failures.push(format!("version banner: {e:#}"));
    }
    println!("== Class reference (godot --doctool, doc comments)");
    if let Err(e) = class_reference::check(&godot, &project_dir) {
        failures.push(format!("class reference: {e:#}"));
    }
    suite::godot_suites(&godot, &project_dir, &lib, &mut failures);
    println!("== Multi-process sessions (signaling server + 4 Godot processes)");
    let signaling = project::build_signaling(false)?;
    let (mut passed, mut failed) = (0, 0);
    // Server/client with relay (4 players) and a 6-player mesh.
    for (mode, players) in [("server", 4), ("mesh", 6)] {
        match session::run(&godot, &project_dir, &signaling, mode, players, 20) {
            Ok(outcome) if outcome.problems.is_empty() => {
                passed += 1;
                println!("PASS session {mode}\n{}", outcome.report);
            }
            Ok(outcome) => {
                failed += 1;
                println!("FAIL session {mode}: {}\n{}", outcome.problems.join("; "), outcome.report);
            }
            Err(e) => {
                failed += 1;
                println!("FAIL session {mode}: {e:#}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        failures.push(format!("{failed} multi-process sessions failed"));
    }

    println!("== Interop: Godot with this addon against aiortc, Chromium and Firefox (both roles), and coturn");
    match interop::run_all(&godot, &lib, &signaling) {
        Ok((checks, problems)) => {
            let ok = checks.iter().filter(|c| c.passed).count();
            println!("{ok} passed, {} failed", checks.len() - ok + problems.len());
            for p in &problems {
                println!("FAIL interop: {p}");
            }
            if ok != checks.len() || !problems.is_empty() || checks.is_empty() {
                failures.push("interop checks failed".into());
            }
        }
        Err(e) => {
            println!("FAIL interop: {e:#}\n0 passed, 1 failed");
            failures.push(format!("interop: {e:#}"));
        }
    }
    println!("== Hostile players: an aiortc attacker against a game that reads everything (hostile/)");
    match hostile::run(&godot, &lib, &signaling, hostile::ATTACKS, 30) {
        Ok((passed, failed)) => {
            println!("{passed} passed, {failed} failed");
            if failed > 0 {
                failures.push(format!("{failed} hostile-peer attacks failed"));
            }
        }
        Err(e) => {
            println!("FAIL hostile: {e:#}\n0 passed, 1 failed");
            failures.push(format!("hostile: {e:#}"));
        }
    }
    if failures.is_empty() {
        println!("xtask test: all suites passed");
        Ok(())
    } else {
        bail!("{}", failures.join("; "))
    }
}
