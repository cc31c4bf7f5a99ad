//! `cargo xtask`: everything a developer runs, one job per command.
//!
//! - `cargo xtask build [--release]`  build the extension into `addons/webrtc_rs/bin/`
//! - `cargo xtask godot`              find or install Godot 4.3+, print its path
//! - `cargo xtask test`               engine tests, then the headless Godot suites and interop
//! - `cargo xtask suite`              the GDScript suites alone, on `GODOT` (the version matrix)
//! - `cargo xtask demo [--debug]`     two peers, then multiplayer sessions (release build)
//! - `cargo xtask bench`              side-by-side benchmark: engine, GDScript, libdatachannel
//! - `cargo xtask readme`             copy the tables of the last `test` and `bench` into README.md
//! - `cargo xtask package [--cross] [--run-arm64]`  the release zip for what this machine builds
//! - `cargo xtask notices`            regenerate the addon's third-party notices (cargo-about)
//!
//! `test` and `bench` write their results under `target/` only; `readme` is the one command that
//! changes README.md.
//!
//! # Structure
//! - `debian`: find a program on PATH or install Debian's package privately
//!   (`recipes/install-debian.sh`).
//! - `godot`: find or install Godot (`recipes/install-godot.sh`), run it under a timeout.
//! - `project`: build the extension and lay it into a Godot project.
//! - `package`: the release zip (`zig`: the glibc 2.28 Linux builds; `cross`: cross toolchains;
//!   `emulated`: the arm64 run).
//! - `suite`: the GDScript suites alone, on any Godot 4.3+ (file log where there is no Logger).
//! - `web_export`: a Web export of a project holding the addon leaves it out.
//! - `session`: the multi-process multiplayer session (signaling server + 4 Godot processes).
//! - `interop`: the addon against other WebRTC stacks (aiortc, Chromium, Firefox, coturn; `interop/`).
//! - `hostile`: an aiortc attacker against a game that reads everything (`hostile/`).
//! - `bench`: the benchmark run (runners in `bench/`, table and chart by `bench/report`).
//! - `readme`: the README's generated tables.

mod banner;
mod bench;
mod class_reference;
mod cross;
mod debian;
mod emulated;
mod godot;
mod hostile;
mod interop;
mod notices;
mod package;
mod project;
mod readme;
mod session;
mod suite;
mod venv;
mod web_export;
mod workflows;
mod zig;

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
        Some("suite") => suite::run(),
        Some("hostile") => hostile::command(&args[1..]),
        // The demo's figures are what players get, so it runs the release build unless asked.
        Some("demo") => demo(!args.iter().any(|a| a == "--debug")),
        Some("package") => package::package(&args[1..]),
        Some("bench") => bench::bench(),
        Some("readme") => readme::update(),
        Some("notices") => notices::generate(),
        _ => Err("usage: cargo xtask <build [--release] | godot | test | suite | demo [--debug] | hostile [--attack NAME] [--seconds N] | bench | readme | package [--cross] [--run-arm64] | notices>".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Debian's redis-server, for the signaling server's multi-instance tests (42 MB on disk).
const REDIS: debian::Program = debian::Program {
    names: &["redis-server"],
    package: "redis-server",
    binary: "/usr/bin/redis-server",
    dir: "redis",
    dir_env: "WEBRTC_RS_REDIS_DIR",
    env: &[],
};

/// The repository root (the workspace's top folder).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    // Without the variables `cargo run` set for xtask itself: build scripts that watch them
    // (ring's watches CARGO_MANIFEST_DIR, CARGO_PKG_NAME, ...) would otherwise rebuild, with
    // everything above them, at every switch between `cargo xtask` and a plain `cargo`.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_") || key.starts_with("CARGO_MANIFEST_") || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE", "OUT_DIR"].contains(&key.as_ref()) {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result<()> {
    let status = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}

/// Engine tests with cargo, then every Godot suite. Prints a summary of the suites and fails
/// if any failed.
fn test() -> Result<()> {
    // The engine's TURN tests run against coturn (ignored under a plain `cargo test`).
    let coturn = debian::find_or_install(&interop::COTURN)?;
    let mut cmd = cargo();
    // `--include-ignored`: the tests that need coturn are ignored under a plain `cargo test`.
    cmd.args(["test", "-p", "webrtc-rs-engine", "-p", "xtask", "-p", "webrtc-rs-bench-report", "--", "--include-ignored"])
        .env("WEBRTC_RS_TURNSERVER", &coturn);
    run(cmd, "cargo test")?;

    let lib = project::build_library(false)?;
    let godot = godot::find_or_install()?;
    // The signaling server's tests: several instances over a real Redis, and Godot processes
    // resuming through them (ignored under a plain `cargo test`).
    let redis = debian::find_or_install(&REDIS)?;
    let mut cmd = cargo();
    cmd.args(["test", "-p", "webrtc-rs-signaling", "--", "--include-ignored"])
        .env("WEBRTC_RS_REDIS_SERVER", &redis)
        .env("WEBRTC_RS_GODOT", &godot)
        .env("WEBRTC_RS_EXTENSION", &lib);
    run(cmd, "cargo test -p webrtc-rs-signaling")?;
    let project_dir = project::project_copy(&root().join("godot_project"), "godot_project", &lib)?;

    let mut failures = Vec::new();
    println!("== GitHub workflows (actionlint)");
    if let Err(e) = workflows::lint() {
        failures.push(format!("workflows: {e}"));
    }
    println!("== The version under --verbose");
    if let Err(e) = banner::check(&godot, &project_dir) {
        failures.push(format!("version banner: {e}"));
    }
    println!("== Class reference (godot --doctool, doc comments)");
    if let Err(e) = class_reference::check(&godot, &project_dir) {
        failures.push(format!("class reference: {e}"));
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
                println!("FAIL session {mode}: {e}");
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
            println!("FAIL interop: {e}\n0 passed, 1 failed");
            failures.push(format!("interop: {e}"));
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
            println!("FAIL hostile: {e}\n0 passed, 1 failed");
            failures.push(format!("hostile: {e}"));
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
    let lib = project::build_library(release)?;
    let signaling = project::build_signaling(release)?;
    let godot = godot::find_or_install()?;
    let project_dir = project::project_copy(&root().join("godot_project"), "godot_project", &lib)?;
    godot::run_script(&godot, &project_dir, "res://demo/demo.gd", &[], Duration::from_secs(120))?;
    let mut problems = Vec::new();
    for mode in ["server", "mesh"] {
        let outcome = session::run(&godot, &project_dir, &signaling, mode, 4, 100)?;
        println!("\n{}", outcome.report);
        problems.extend(outcome.problems.into_iter().map(|p| format!("{mode}: {p}")));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

#[cfg(test)]
mod tests {
    /// The version is set once, in the workspace; the README quotes it.
    #[test]
    fn the_readme_states_the_workspace_version() {
        let readme = std::fs::read_to_string(super::root().join("README.md")).unwrap();
        let version = env!("CARGO_PKG_VERSION");
        assert!(readme.contains(&format!("Version {version} ")), "README.md's Install section must say 'Version {version}'");
        assert!(readme.contains(&format!("webrtc-rs-godot-{version}.zip")), "README.md must name the release zip of {version}");
    }
}
