//! `cargo xtask bench`: the same workloads through our engine's Rust API, through the GDScript
//! API in headless Godot (a tight poll loop, and once per frame at 60 fps), and through
//! libdatachannel (the engine of Godot's official plugin, from PyPI) in one run, side by side.
//! Everything runs at Godot's default settings (`max_channel_in_buffer_kb` 64); one extra column
//! repeats the GDScript bulk and unreliable workloads with the limit raised to 4096 KiB.
//! The lossy workload (60 Hz game traffic through `netsim` relays, 25 ms and 10 % loss each way)
//! runs in the engine and the libdatachannel runners, through the same relay code.
//! The dedicated-server workload (64 connections from a second process, both at 60 fps) runs in
//! Godot (`bench/godot/server.gd`) and libdatachannel (`bench/libdatachannel_server.py`).
//! The runners are in `bench/` (`engine/`, `godot/`, `libdatachannel_bench.py`), the table and the
//! chart in `bench/report`. Writes `target/bench/results.{json,md}` and `chart.png`, nothing else.

use anyhow::{Context, Result, anyhow};
use crate::workspace::root;
use webrtc_rs_bench_report as report;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The table of the last run (what `cargo xtask readme` copies into README.md).
pub const TABLE: &str = "target/bench/results.md";

const LIBDATACHANNEL_PY: &str = "libdatachannel-py==2026.1.0";

fn json_line(out: &[u8], prefix: &str) -> Result<Value> {
    let text = String::from_utf8_lossy(out);
    let line = text.lines().rev().find(|l| l.trim_start().starts_with(prefix)).with_context(|| format!("no result line in:\n{text}"))?;
    Ok(serde_json::from_str(line.trim_start().trim_start_matches(prefix).trim())?)
}

fn output(mut cmd: Command, what: &str, limit: Duration) -> Result<Vec<u8>> {
    // Bounded like every other run: a stalled workload is killed, not waited on forever.
    let tmp = root().join(format!("target/bench/{}.out", what.replace(' ', "_")));
    let file = std::fs::File::create(&tmp)?;
    let mut child = cmd.stdout(file).spawn().with_context(|| what.to_string())?;
    match crate::process::wait_for(&mut child, limit)? {
        Some(status) => {
            let out = std::fs::read(&tmp)?;
            if status.success() { Ok(out) } else { Err(anyhow!("{what} failed ({status})")) }
        }
        None => Err(anyhow!("{what}: no result within {} s", limit.as_secs())),
    }
}

/// A CPython 3.12 (libdatachannel-py ships wheels for it only).
fn python312() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = vec!["python3.12".into()];
    if let Ok(home) = std::env::var("HOME") {
        if let Ok(dir) = std::fs::read_dir(Path::new(&home).join(".pyenv/versions")) {
            candidates.extend(dir.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("3.12")).map(|e| e.path().join("bin/python3.12")));
        }
    }
    candidates.into_iter().find(|p| Command::new(p).arg("--version").output().map(|o| o.status.success()).unwrap_or(false))
}

/// Creates (once) a venv with libdatachannel-py; returns its python.
fn libdatachannel_python() -> Result<PathBuf> {
    let venv = root().join("target/bench/venv-libdatachannel");
    let base = python312().context("libdatachannel-py needs CPython 3.12 (python3.12 on PATH or under ~/.pyenv/versions)")?;
    crate::venv::ensure(&base, &venv, &[LIBDATACHANNEL_PY], |dir| crate::venv::imports(dir, "libdatachannel"))
}

pub fn bench() -> Result<()> {
    let out_dir = root().join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    let lib = crate::project::cargo_build("webrtc-rs-extension", true)?.join(crate::project::lib_name());
    crate::project::cargo_build("webrtc-rs-bench", true)?;
    // The relay of the lossy workload, as a binary for the libdatachannel runner.
    let relay = crate::project::cargo_build("netsim", true)?.join("netsim-relay");
    let godot = crate::godot::find_or_install()?;
    // The GDScript runner's own project, copied under target/ with the release library: no
    // debug build laid there by a test run meanwhile can be measured as ours.
    let project_dir = crate::project::project_copy(&root().join("bench/godot"), "bench", &lib)?;

    let mut results = Map::new();
    let mut notes = vec![format!("load average at the start: {}", loadavg())];
    let mut record = |stack: &str, r: Result<Value>| match r {
        Ok(v) => {
            println!("{stack}: {v}");
            results.insert(stack.to_string(), v);
        }
        Err(e) => {
            eprintln!("xtask bench: {stack}: {e:#}");
            notes.push(format!("{stack}: {e:#}"));
        }
    };

    let bin = crate::project::target_dir().join("release/webrtc-rs-bench");
    record("engine", output(Command::new(&bin), "engine", Duration::from_secs(600)).and_then(|o| json_line(&o, "")));
    // At Godot's default limit; then, as an extra column, the two workloads the limit changes
    // with it raised to 4096 KiB (the maximum).
    let gdscript: [(&str, &[&str]); 3] = [
        ("gdscript", &["--mode", "tight"]),
        ("gdscript_60fps", &["--mode", "frame"]),
        ("gdscript_raised", &["--mode", "tight", "--only", "bulk,unreliable", "--limit-kb", "4096"]),
    ];
    for (stack, args) in gdscript {
        let mut cmd = crate::godot::command(&godot, &project_dir, "res://bench.gd");
        cmd.arg("--").args(args);
        record(stack, output(cmd, stack, Duration::from_secs(900)).and_then(|o| json_line(&o, "BENCH_JSON ")));
    }
    // The dedicated server: a server process with 64 connections to a client process, both at
    // 60 fps (its figures join the 60 fps column and libdatachannel's).
    let mut server_runs: Vec<(&str, Result<Value>)> = Vec::new();
    server_runs.push(("gdscript_60fps", server_workload("godot server", |role, port| {
        let mut cmd = crate::godot::command(&godot, &project_dir, "res://server.gd");
        cmd.args(["--", "--role", role, "--port", &port.to_string()]);
        cmd
    })));
    if let Ok(py) = libdatachannel_python() {
        server_runs.push(("libdatachannel", server_workload("libdatachannel server", |role, port| {
            let mut cmd = Command::new(&py);
            cmd.arg(root().join("bench/libdatachannel_server.py")).args(["--role", role, "--port", &port.to_string()]);
            cmd
        })));
    }
    record("libdatachannel", libdatachannel_python().and_then(|py| {
        let mut cmd = Command::new(py);
        cmd.arg(root().join("bench/libdatachannel_bench.py")).env("NETSIM_RELAY", &relay);
        output(cmd, "libdatachannel", Duration::from_secs(900)).and_then(|o| json_line(&o, ""))
    }));
    for (stack, r) in server_runs {
        match r {
            Ok(Value::Object(m)) => {
                if let Some(Value::Object(into)) = results.get_mut(stack) {
                    into.extend(m);
                } else {
                    results.insert(stack.to_string(), Value::Object(m));
                }
            }
            Ok(other) => notes.push(format!("{stack} server: not an object: {other}")),
            Err(e) => notes.push(format!("{stack} server: {e:#}")),
        }
    }
    // The throughput workloads again, the stacks taking turns, folded into their median (the
    // 60 fps column keeps its one run: 64 MiB at 60 fps takes half a minute).
    let repeated = report::rounds::REPEATED;
    let gdscript_rounds: [(&str, &[&str]); 2] = [
        ("gdscript", &["--mode", "tight", "--only", "bulk,unreliable"]),
        ("gdscript_raised", &["--mode", "tight", "--only", "bulk,unreliable", "--limit-kb", "4096"]),
    ];
    let ldc_python = libdatachannel_python();
    let mut rounds: BTreeMap<&str, Vec<Map<String, Value>>> = BTreeMap::new();
    for round in 2..=report::rounds::ROUNDS {
        println!("throughput round {round} of {}", report::rounds::ROUNDS);
        let mut runs: Vec<(&str, String, Command, &str)> = Vec::new();
        for w in repeated {
            let mut cmd = Command::new(&bin);
            cmd.arg(w);
            runs.push(("engine", format!("engine {w}"), cmd, ""));
        }
        for (stack, args) in gdscript_rounds {
            let mut cmd = crate::godot::command(&godot, &project_dir, "res://bench.gd");
            cmd.arg("--").args(args);
            runs.push((stack, stack.to_string(), cmd, "BENCH_JSON "));
        }
        if let Ok(py) = &ldc_python {
            for w in repeated {
                let mut cmd = Command::new(py);
                cmd.arg(root().join("bench/libdatachannel_bench.py")).arg(w);
                runs.push(("libdatachannel", format!("libdatachannel {w}"), cmd, ""));
            }
        }
        let mut got: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        for (stack, label, cmd, prefix) in runs {
            // Each run's output kept apart (`target/bench/<stack>[_<workload>]_round_<n>.out`).
            match output(cmd, &format!("{label} round {round}"), Duration::from_secs(300)).and_then(|o| json_line(&o, prefix)) {
                Ok(Value::Object(m)) => got.entry(stack).or_default().extend(m),
                Ok(other) => notes.push(format!("{stack}, round {round}: not an object: {other}")),
                Err(e) => notes.push(format!("{stack}, round {round}: {e:#}")),
            }
        }
        for (stack, m) in got {
            rounds.entry(stack).or_default().push(m);
        }
    }
    for (stack, r) in &rounds {
        if let Some(Value::Object(first)) = results.get_mut(*stack) {
            report::rounds::fold(first, r);
        }
    }

    let so_mb = std::fs::metadata(&lib).map(|m| m.len() as f64 / 1e6).unwrap_or(f64::NAN);
    for stack in ["gdscript", "gdscript_60fps"] {
        if let Some(Value::Object(m)) = results.get_mut(stack) {
            m.insert("so_mb".into(), json!(so_mb));
        }
    }

    for (stack, r) in &results {
        if r.get("bulk_stalled").and_then(Value::as_bool) == Some(true) {
            notes.push(format!("{stack}: bulk did not deliver all 64 MiB ({} messages lost or stuck)", r.get("bulk_lost_messages").unwrap_or(&Value::Null)));
        }
    }
    notes.push(format!("load average at the end: {}", loadavg()));
    if let Err(e) = report::chart::draw(&results, &out_dir.join("chart.png")) {
        notes.push(format!("chart: {e}"));
    }
    let table = report::markdown(&results);
    let all = json!({"results": results, "notes": notes});
    std::fs::write(out_dir.join("results.json"), serde_json::to_string_pretty(&all).unwrap())?;
    std::fs::write(root().join(TABLE), &table)?;
    println!("\n{table}");
    println!("written: target/bench/results.json, results.md, chart.png (`cargo xtask readme` copies the table into README.md)");
    for n in &notes {
        println!("note: {n}");
    }
    Ok(())
}

/// The 1, 5 and 15 minute load averages (Linux): numbers taken on a busy machine are not comparable.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "?".into())
}

/// The dedicated-server workload of one stack: its server process (`make("server", port)`),
/// then its client process a second later; the server's `SERVER_JSON` line. Both bounded.
fn server_workload(what: &str, make: impl Fn(&str, u16) -> Command) -> Result<Value> {
    let port = std::net::TcpListener::bind(("127.0.0.1", 0)).and_then(|l| l.local_addr())?.port();
    let out_path = root().join(format!("target/bench/{}.out", what.replace(' ', "_")));
    let file = std::fs::File::create(&out_path)?;
    let mut server = make("server", port).stdout(file).spawn().with_context(|| what.to_string())?;
    std::thread::sleep(Duration::from_secs(1));
    let client = output(make("client", port), &format!("{what} client"), Duration::from_secs(180));
    let status = crate::process::wait_for(&mut server, Duration::from_secs(60))?;
    client?;
    match status {
        Some(s) if s.success() => json_line(&std::fs::read(&out_path)?, "SERVER_JSON "),
        Some(s) => Err(anyhow!("{what} failed ({s})")),
        None => Err(anyhow!("{what}: no result within 60 s of its client's end")),
    }
}
