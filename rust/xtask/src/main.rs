//! `cargo xtask`: everything a developer runs, one job per command.
//!
//! - `cargo xtask build [--release]`  build the extension into `addons/webrtc_rs/bin/`
//! - `cargo xtask godot`              find or install Godot 4.3+, print its path
//! - `cargo xtask test`               engine tests, then the headless Godot suites and interop
//! - `cargo xtask suite`              the GDScript suites alone, on `GODOT` (the version matrix)
//! - `cargo xtask demo [--debug]`     two peers, then multiplayer sessions (release build)
//! - `cargo xtask hostile [--attack NAME] [--seconds N]`  hostile players: an aiortc attacker against a game that reads everything (`hostile/`)
//! - `cargo xtask bench`              side-by-side benchmark: engine, GDScript, libdatachannel
//! - `cargo xtask readme`             copy the tables of the last `test` and `bench` into README.md
//! - `cargo xtask package [--cross] [--run-arm64]`  the release zip for what this machine builds
//! - `cargo xtask notices`            regenerate the addon's third-party notices (cargo-about)
//!
//! `test` and `bench` write their results under `target/` only; `readme` is the one command that
//! changes README.md.
//!
//! # Structure
//! `main` parses the command line (clap) and hands each command to its module.
//! - `banner`: the addon's version, printed once under `godot --verbose` and not otherwise.
//! - `bench`: the benchmark run (runners in `bench/`, table and chart by `bench/report`).
//! - `class_reference`: `godot --doctool` lists what the addon registers; the extension's test checks its doc comments.
//! - `cross`: cross C toolchains for `package` (Windows x86_64: Debian's mingw gcc, on PATH or private).
//! - `debian`: find a program on PATH or install Debian's package privately (`recipes/install-debian.sh`).
//! - `demo`: two peers, then the multiplayer sessions in both modes, with their tables.
//! - `emulated`: `package --run-arm64`, the zip's arm64 library in Debian's arm64 Godot under qemu-user.
//! - `godot`: find or install Godot (`recipes/install-godot.sh`), run a script under a timeout.
//! - `hostile`: an aiortc attacker against a game that reads everything (`hostile/`).
//! - `interop`: the addon against other WebRTC stacks (aiortc, Chromium, Firefox, coturn; `interop/`).
//! - `notices`: the addon's third-party notices (cargo-about), and the test that they are current.
//! - `package`: the release zip of what this machine builds.
//! - `process`: a child process bounded in time: killed and reported past its limit.
//! - `programs`: what is taken from Debian when PATH has none (Chromium, Firefox, coturn, redis-server, qemu-user).
//! - `project`: build the extension and lay it into a Godot project.
//! - `readme`: the README's generated tables.
//! - `session`: the multi-process multiplayer session (signaling server + 4 Godot processes).
//! - `suite`: the GDScript suites alone, on any Godot 4.3+ (file log where there is no Logger).
//! - `test_all`: `test`, every cargo test, Godot suite, session, interop and hostile run, with a summary.
//! - `venv`: Python venvs under `target/` for what comes from PyPI (pip from its wheel where ensurepip is missing).
//! - `web_export`: a Web export of a project holding the addon leaves it out.
//! - `workflows`: the GitHub workflows linted with actionlint.
//! - `workspace`: the repository root, `cargo` run from there, and running a command to its end.
//! - `zig`: the glibc 2.28 Linux builds (cargo-zigbuild, zig from PyPI).
//! - `zip_files`: the release zip, written reproducibly, and unpacked.

mod banner;
mod bench;
mod class_reference;
mod cross;
mod debian;
mod demo;
mod emulated;
mod godot;
mod hostile;
mod interop;
mod notices;
mod package;
mod process;
mod programs;
mod project;
mod readme;
mod session;
mod suite;
mod test_all;
mod venv;
mod web_export;
mod workflows;
mod workspace;
mod zig;
mod zip_files;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// `cargo xtask`: everything a developer runs, one job per command.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Job,
}

#[derive(Subcommand)]
enum Job {
    /// build the extension into `addons/webrtc_rs/bin/`
    Build {
        /// the release build (default: the debug build)
        #[arg(long)]
        release: bool,
    },
    /// find or install Godot 4.3+, print its path
    Godot,
    /// engine tests, then the headless Godot suites and interop
    Test,
    /// the GDScript suites alone, on `GODOT` (the version matrix)
    Suite,
    /// two peers, then multiplayer sessions (release build)
    Demo {
        /// the debug build instead
        #[arg(long)]
        debug: bool,
    },
    /// hostile players: an aiortc attacker against a game that reads everything (`hostile/`)
    Hostile {
        /// only this attack (default: every one)
        #[arg(long, value_name = "NAME")]
        attack: Option<String>,
        /// how long each attack runs
        #[arg(long, value_name = "N", default_value_t = 30)]
        seconds: u64,
    },
    /// side-by-side benchmark: engine, GDScript, libdatachannel
    Bench,
    /// copy the tables of the last `test` and `bench` into README.md
    Readme,
    /// the release zip for what this machine builds
    Package {
        /// install the missing cross toolchains (and Rust's standard libraries) privately
        #[arg(long)]
        cross: bool,
        /// then load the arm64 library in Debian's arm64 Godot under qemu-user
        #[arg(long)]
        run_arm64: bool,
    },
    /// regenerate the addon's third-party notices (cargo-about)
    Notices,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // The usage (and --help) from clap; a wrong command line fails as before.
            let _ = e.print();
            return if e.use_stderr() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        }
    };
    let result = match cli.command {
        Job::Build { release } => project::build_extension(release).map(|_| ()),
        Job::Godot => godot::find_or_install().map(|g| println!("{}", g.display())),
        Job::Test => test_all::run(),
        Job::Suite => suite::run(),
        Job::Hostile { attack, seconds } => hostile::command(attack.as_deref(), seconds),
        // The demo's figures are what players get, so it runs the release build unless asked.
        Job::Demo { debug } => demo::run(!debug),
        Job::Package { cross, run_arm64 } => package::package(cross, run_arm64),
        Job::Bench => bench::bench(),
        Job::Readme => readme::update(),
        Job::Notices => notices::generate(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
