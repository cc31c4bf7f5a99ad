//! `cargo xtask bench`: the same workloads through our engine's Rust API, through the GDScript
//! API in headless Godot (a tight poll loop, and once per frame at 60 fps), and through
//! libdatachannel (the engine of Godot's official plugin, from PyPI) in one run, side by side.
//! Writes `target/bench/results.{json,md}` and `chart.png`, and the table into the README.

use crate::{Result, root, run};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// One measured quantity.
pub struct Metric {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub higher_is_better: bool,
    pub target: &'static str,
}

pub const METRICS: &[Metric] = &[
    Metric { key: "setup_ms_median", label: "setup: create_offer to channel open (median of 10)", unit: "ms", higher_is_better: false, target: "≤ 8 ms" },
    Metric { key: "rtt_p50_us", label: "round trip 64 B, p50", unit: "µs", higher_is_better: false, target: "≤ 200 µs" },
    Metric { key: "rtt_p99_us", label: "round trip 64 B, p99", unit: "µs", higher_is_better: false, target: "≤ 300 µs" },
    Metric { key: "bulk_mib_s", label: "reliable bulk, 64 MiB in 16 KiB", unit: "MiB/s", higher_is_better: true, target: "≥ 2× libdatachannel" },
    Metric { key: "bulk_cpu_ms_per_mib", label: "CPU per MiB of bulk", unit: "ms", higher_is_better: false, target: "≤ ½ libdatachannel" },
    Metric { key: "unreliable_rx_mib_s", label: "unreliable 1200 B for 2 s, received", unit: "MiB/s", higher_is_better: true, target: "≥ 2× libdatachannel" },
    Metric { key: "unreliable_loss_pct", label: "unreliable loss", unit: "%", higher_is_better: false, target: "≤ 0.5 %" },
    Metric { key: "many_open_s", label: "64 connections to one host, all open", unit: "s", higher_is_better: false, target: "≤ 2 s" },
    Metric { key: "rss_kib_per_connection", label: "RSS per idle connection", unit: "KiB", higher_is_better: false, target: "≤ 1024 KiB" },
    Metric { key: "so_mb", label: "stripped release library", unit: "MB", higher_is_better: false, target: "≤ 4 MB" },
];

/// The stacks, in table order: (key, column title).
pub const STACKS: &[(&str, &str)] = &[
    ("engine", "engine (Rust API)"),
    ("gdscript", "GDScript, tight loop"),
    ("gdscript_60fps", "GDScript, 60 fps"),
    ("libdatachannel", "libdatachannel (PyPI)"),
];

const LIBDATACHANNEL_PY: &str = "libdatachannel-py==2026.1.0";

fn json_line(out: &[u8], prefix: &str) -> Result<Value> {
    let text = String::from_utf8_lossy(out);
    let line = text.lines().rev().find(|l| l.trim_start().starts_with(prefix)).ok_or_else(|| format!("no result line in:\n{text}"))?;
    serde_json::from_str(line.trim_start().trim_start_matches(prefix).trim()).map_err(|e| e.to_string())
}

fn output(mut cmd: Command, what: &str, limit: Duration) -> Result<Vec<u8>> {
    // Bounded like every other run: a stalled workload is killed, not waited on forever.
    let tmp = root().join(format!("target/bench/{}.out", what.replace(' ', "_")));
    let file = std::fs::File::create(&tmp).map_err(|e| e.to_string())?;
    let mut child = cmd.stdout(file).spawn().map_err(|e| format!("{what}: {e}"))?;
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let out = std::fs::read(&tmp).map_err(|e| e.to_string())?;
            return if status.success() { Ok(out) } else { Err(format!("{what} failed ({status})")) };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            return Err(format!("{what}: no result within {} s", limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(100));
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
    let py = venv.join("bin/python");
    let ok = |p: &Path| Command::new(p).args(["-c", "import libdatachannel"]).output().map(|o| o.status.success()).unwrap_or(false);
    if py.exists() && ok(&py) {
        return Ok(py);
    }
    let base = python312().ok_or("libdatachannel-py needs CPython 3.12 (python3.12 on PATH or under ~/.pyenv/versions)")?;
    let mut cmd = Command::new(base);
    cmd.args(["-m", "venv"]).arg(&venv);
    run(cmd, "python3.12 -m venv")?;
    let mut cmd = Command::new(&py);
    cmd.args(["-m", "pip", "install", "-q", LIBDATACHANNEL_PY]);
    run(cmd, "pip install libdatachannel-py")?;
    if ok(&py) { Ok(py) } else { Err("libdatachannel-py does not import".into()) }
}

pub fn bench() -> Result<()> {
    let out_dir = root().join("target/bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let lib = crate::project::build_extension(true)?;
    crate::project::cargo_build("webrtc-rs-bench", true)?;
    let godot = crate::godot::find_or_install()?;
    let project_dir = root().join("godot_project");
    crate::project::install_addon(&lib, &project_dir)?;

    let mut results = Map::new();
    let mut notes = Vec::new();
    let mut record = |stack: &str, r: Result<Value>| match r {
        Ok(v) => {
            println!("{stack}: {v}");
            results.insert(stack.to_string(), v);
        }
        Err(e) => {
            eprintln!("xtask bench: {stack}: {e}");
            notes.push(format!("{stack}: {e}"));
        }
    };

    let bin = crate::project::target_dir().join("release/webrtc-rs-bench");
    record("engine", output(Command::new(&bin), "engine", Duration::from_secs(600)).and_then(|o| json_line(&o, "")));
    for (stack, mode) in [("gdscript", "tight"), ("gdscript_60fps", "frame")] {
        let mut cmd = crate::godot::command(&godot, &project_dir, "res://bench/bench.gd");
        cmd.args(["--", "--mode", mode]);
        record(stack, output(cmd, stack, Duration::from_secs(900)).and_then(|o| json_line(&o, "BENCH_JSON ")));
    }
    record("libdatachannel", libdatachannel_python().and_then(|py| {
        let mut cmd = Command::new(py);
        cmd.arg(root().join("bench/libdatachannel_bench.py"));
        output(cmd, "libdatachannel", Duration::from_secs(900)).and_then(|o| json_line(&o, ""))
    }));
    let so_mb = std::fs::metadata(&lib).map(|m| m.len() as f64 / 1e6).unwrap_or(f64::NAN);
    for stack in ["gdscript", "gdscript_60fps"] {
        if let Some(Value::Object(m)) = results.get_mut(stack) {
            m.insert("so_mb".into(), json!(so_mb));
        }
    }

    let table = markdown(&results);
    let all = json!({"results": results, "notes": notes});
    std::fs::write(out_dir.join("results.json"), serde_json::to_string_pretty(&all).unwrap()).map_err(|e| e.to_string())?;
    std::fs::write(out_dir.join("results.md"), &table).map_err(|e| e.to_string())?;
    match crate::chart::draw(&results, &out_dir.join("chart.png")) {
        Ok(note) => notes.extend(note),
        Err(e) => notes.push(format!("chart: {e}")),
    }
    crate::project::update_readme_section("bench", &table)?;
    println!("\n{table}");
    println!("written: target/bench/results.json, results.md, chart.png; README table updated");
    for n in &notes {
        println!("note: {n}");
    }
    Ok(())
}

/// `ours / libdatachannel`, oriented so that > 1 means ours is better.
pub fn advantage(metric: &Metric, ours: f64, theirs: f64) -> Option<f64> {
    if !(ours.is_finite() && theirs.is_finite()) || ours <= 0.0 || theirs <= 0.0 {
        return None;
    }
    Some(if metric.higher_is_better { ours / theirs } else { theirs / ours })
}

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn value(results: &Map<String, Value>, stack: &str, key: &str) -> f64 {
    results.get(stack).and_then(|r| r.get(key)).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

pub fn markdown(results: &Map<String, Value>) -> String {
    let mut t = String::from("| workload | unit |");
    for (_, title) in STACKS {
        t += &format!(" {title} |");
    }
    t += " GDScript vs libdatachannel | target (GDScript) |\n|---|---|";
    t += &"---|".repeat(STACKS.len() + 2);
    t += "\n";
    for m in METRICS {
        t += &format!("| {} | {} |", m.label, m.unit);
        for (stack, _) in STACKS {
            t += &format!(" {} |", fmt(value(results, stack, m.key)));
        }
        let ratio = advantage(m, value(results, "gdscript", m.key), value(results, "libdatachannel", m.key));
        t += &match ratio {
            Some(r) => format!(" {}× {} |", fmt(r), if r >= 1.0 { "better" } else { "worse" }),
            None => " – |".into(),
        };
        t += &format!(" {} |\n", m.target);
    }
    t += "\nLoopback, both peers in one process, this repository's 2-core machine; `cargo xtask bench`. \
          The ratio is oriented so that above 1 means ours is better.\n";
    t
}
