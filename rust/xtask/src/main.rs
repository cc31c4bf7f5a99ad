//! `cargo xtask`: everything a developer runs.
//!
//! - `cargo xtask build [--release]`  build the extension into `addons/webrtc_rs/bin/`
//! - `cargo xtask godot`              find or install Godot 4.3+, print its path
//! - `cargo xtask test`               engine tests, then the headless Godot suites
//! - `cargo xtask demo [--debug]`     two peers, then multiplayer sessions (release build)
//! - `cargo xtask bench`              side-by-side benchmark: engine, GDScript, libdatachannel
//! - `cargo xtask package`            release build laid out as `target/package/addons/webrtc_rs`
//!
//! # Structure
//! - `debian`: find a program on PATH or install Debian's package privately (`install-debian.sh`).
//! - `godot`: find or install Godot, run it under a timeout.
//! - `project`: build the extension and lay it into a Godot project.
//! - `session`: the multi-process multiplayer session (signaling server + 4 Godot processes).
//! - `interop`: the addon against other WebRTC stacks (aiortc, Chromium, coturn).
//! - `bench`, `chart`: the benchmark run, its table and its PNG chart.

mod bench;
mod chart;
mod debian;
mod godot;
mod interop;
mod project;
mod session;

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let release = args.iter().any(|a| a == "--release");
    let result = match args.first().map(String::as_str) {
        Some("build") => project::build_extension(release).map(|_| ()),
        Some("godot") => godot::find_or_install().map(|g| println!("{}", g.display())),
        Some("test") => test(),
        // The demo's figures are what players get, so it runs the release build unless asked.
        Some("demo") => demo(!args.iter().any(|a| a == "--debug")),
        Some("package") => project::package(),
        Some("bench") => bench::bench(),
        _ => Err("usage: cargo xtask <build [--release] | godot | test | demo [--debug] | bench | package>".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (the workspace's top folder).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result<()> {
    let status = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}

/// Engine tests with cargo, then every Godot suite. Prints a summary of the suites and fails
/// if any failed.
fn test() -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["test", "-p", "webrtc-rs-engine", "-p", "webrtc-rs-signaling", "-p", "xtask"]);
    run(cmd, "cargo test")?;

    let lib = project::build_extension(false)?;
    let godot = godot::find_or_install()?;
    let project_dir = root().join("godot_project");
    project::install_addon(&lib, &project_dir)?;

    let mut failures = Vec::new();
    println!("== Godot suite (godot_project/tests)");
    if let Err(e) = godot::run_script(&godot, &project_dir, "res://tests/run_tests.gd", &[], Duration::from_secs(600)) {
        failures.push(format!("GDScript suite: {e}"));
    }

    println!("== A bare project: only addons/webrtc_rs and one script");
    let bare = root().join("target/bare_project");
    if let Err(e) = project::bare_project(&lib, &bare).and_then(|()| {
        godot::run_script(&godot, &bare, "res://bare_test.gd", &[], Duration::from_secs(120))
    }) {
        failures.push(format!("bare project: {e}"));
    }
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
                println!("FAIL session {mode}: {e}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        failures.push(format!("{failed} multi-process sessions failed"));
    }

    println!("== Interop: Godot with this addon against aiortc and Chromium (both roles), and coturn");
    match interop::run_all(&godot, &project_dir, &signaling) {
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
            println!("FAIL interop: {e}\n0 passed, 1 failed");
            failures.push(format!("interop: {e}"));
        }
    }
    if failures.is_empty() {
        println!("xtask test: all suites passed");
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// Two peers in one process (connect time, round trip), then the 4-process multiplayer session
/// in server/client and mesh modes, with its table.
fn demo(release: bool) -> Result<()> {
    let lib = project::build_extension(release)?;
    let signaling = project::build_signaling(release)?;
    let godot = godot::find_or_install()?;
    let project_dir = root().join("godot_project");
    project::install_addon(&lib, &project_dir)?;
    godot::run_script(&godot, &project_dir, "res://demo/demo.gd", &[], Duration::from_secs(120))?;
    let mut problems = Vec::new();
    for mode in ["server", "mesh"] {
        let outcome = session::run(&godot, &project_dir, &signaling, mode, 4, 100)?;
        println!("\n{}", outcome.report);
        problems.extend(outcome.problems.into_iter().map(|p| format!("{mode}: {p}")));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}
