//! `cargo xtask bench`: the same workloads through our engine's Rust API, through the GDScript
//! API in headless Godot (a tight poll loop, and once per frame at 60 fps), and through
//! libdatachannel (the engine of Godot's official plugin, from PyPI) in one run, side by side.
//! Everything runs at Godot's default settings (`max_channel_in_buffer_kb` 64); one extra column
//! repeats the GDScript bulk and unreliable workloads with the limit raised to 4096 KiB.
//! The lossy workload (60 Hz game traffic through `netsim` relays, 25 ms and 10 % loss each way)
//! runs in the engine and the libdatachannel runners, through the same relay code.
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

/// The loopback workloads.
const LOOPBACK: &[Metric] = &[
    Metric { key: "setup_ms_median", label: "setup: create_offer to channel open (median of 10)", unit: "ms", higher_is_better: false, target: "≤ 8 ms" },
    Metric { key: "rtt_p50_us", label: "round trip 64 B, p50", unit: "µs", higher_is_better: false, target: "≤ 200 µs" },
    Metric { key: "rtt_p99_us", label: "round trip 64 B, p99", unit: "µs", higher_is_better: false, target: "≤ 300 µs" },
    Metric { key: "bulk_mib_s", label: "reliable bulk, 64 MiB in 16 KiB", unit: "MiB/s", higher_is_better: true, target: "≥ 2× libdatachannel" },
    Metric { key: "bulk_lost_messages", label: "reliable bulk: messages lost", unit: "msgs", higher_is_better: false, target: "0" },
    Metric { key: "bulk_cpu_ms_per_mib", label: "CPU per MiB of bulk", unit: "ms", higher_is_better: false, target: "≤ ½ libdatachannel" },
    Metric { key: "unreliable_rx_mib_s", label: "unreliable 1200 B for 2 s, received", unit: "MiB/s", higher_is_better: true, target: "≥ 2× libdatachannel" },
    Metric { key: "unreliable_loss_pct", label: "unreliable loss", unit: "%", higher_is_better: false, target: "≤ 0.5 %" },
    Metric { key: "many_open_s", label: "64 connections to one host, all open", unit: "s", higher_is_better: false, target: "≤ 2 s" },
    Metric { key: "rss_kib_per_connection", label: "RSS per idle connection", unit: "KiB", higher_is_better: false, target: "≤ 1024 KiB" },
    Metric { key: "so_mb", label: "stripped release library", unit: "MB", higher_is_better: false, target: "≤ 4 MB" },
];

/// The rows of one stream of the lossy workload (keys `<prefix>_delivered_pct` and so on, as
/// the runners write them); the targets are the issue's.
macro_rules! lossy_rows {
    ($prefix:literal, $what:literal, unreliable) => {
        [
            Metric { key: concat!($prefix, "_delivered_pct"), label: concat!($what, ": delivered"), unit: "%", higher_is_better: true, target: "≥ 85 %" },
            Metric { key: concat!($prefix, "_p50_ms"), label: concat!($what, ": latency p50"), unit: "ms", higher_is_better: false, target: "–" },
            Metric { key: concat!($prefix, "_p95_ms"), label: concat!($what, ": latency p95"), unit: "ms", higher_is_better: false, target: "–" },
            Metric { key: concat!($prefix, "_p99_ms"), label: concat!($what, ": latency p99"), unit: "ms", higher_is_better: false, target: "≤ 70 ms" },
            Metric { key: concat!($prefix, "_max_ms"), label: concat!($what, ": latency max"), unit: "ms", higher_is_better: false, target: "–" },
            Metric { key: concat!($prefix, "_gap_ms"), label: concat!($what, ": longest gap"), unit: "ms", higher_is_better: false, target: "≤ 250 ms" },
        ]
    };
    ($prefix:literal, $what:literal, reliable) => {
        [
            Metric { key: concat!($prefix, "_delivered_pct"), label: concat!($what, ": delivered"), unit: "%", higher_is_better: true, target: "100 %" },
            Metric { key: concat!($prefix, "_out_of_order"), label: concat!($what, ": arrivals out of order"), unit: "msgs", higher_is_better: false, target: "0" },
            Metric { key: concat!($prefix, "_p50_ms"), label: concat!($what, ": latency p50"), unit: "ms", higher_is_better: false, target: "–" },
            Metric { key: concat!($prefix, "_p95_ms"), label: concat!($what, ": latency p95"), unit: "ms", higher_is_better: false, target: "–" },
            Metric { key: concat!($prefix, "_p99_ms"), label: concat!($what, ": latency p99"), unit: "ms", higher_is_better: false, target: "≤ libdatachannel" },
            Metric { key: concat!($prefix, "_max_ms"), label: concat!($what, ": latency max"), unit: "ms", higher_is_better: false, target: "–" },
            Metric { key: concat!($prefix, "_gap_ms"), label: concat!($what, ": longest gap"), unit: "ms", higher_is_better: false, target: "–" },
        ]
    };
}

const LOSSY_UNREL_ALONE: [Metric; 6] = lossy_rows!("lossy_unrel_alone", "lossy: unreliable 200 B, alone", unreliable);
const LOSSY_BOTH_UNREL: [Metric; 6] = lossy_rows!("lossy_both_unrel", "lossy: unreliable 200 B, beside reliable", unreliable);
const LOSSY_REL_ALONE: [Metric; 7] = lossy_rows!("lossy_rel_alone", "lossy: reliable 100 B, alone", reliable);
const LOSSY_BOTH_REL: [Metric; 7] = lossy_rows!("lossy_both_rel", "lossy: reliable 100 B, beside unreliable", reliable);

/// Connecting through the relays (25 ms each way, before the loss is switched on): every
/// candidate the peers see is the relay's, so the path is learnt as peer-reflexive as often as
/// from the signaled candidate.
const LOSSY_CONNECT: [Metric; 1] = [Metric { key: "lossy_connect_ms", label: "lossy: connect through the relays (median of 3)", unit: "ms", higher_is_better: false, target: "≤ 2× libdatachannel" }];

/// Every measured quantity, in table order.
pub fn metrics() -> impl Iterator<Item = &'static Metric> {
    LOOPBACK.iter().chain(&LOSSY_CONNECT).chain(&LOSSY_UNREL_ALONE).chain(&LOSSY_BOTH_UNREL).chain(&LOSSY_REL_ALONE).chain(&LOSSY_BOTH_REL)
}

/// The stacks, in table order: (key, column title).
pub const STACKS: &[(&str, &str)] = &[
    ("engine", "engine (Rust API)"),
    ("gdscript", "GDScript, tight loop"),
    ("gdscript_60fps", "GDScript, 60 fps"),
    ("gdscript_raised", "GDScript, tight, limit raised to 4096 KiB"),
    ("libdatachannel", "libdatachannel (PyPI)"),
];

/// The stack whose numbers the ratio column compares with libdatachannel's, in order of
/// preference: GDScript where it ran the workload, else the engine (the lossy workload).
const OURS: &[&str] = &["gdscript", "engine"];

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
    // Our own copy of the release library: `addons/` and `godot_project/addons/` are shared with
    // whoever else builds or tests in this tree meanwhile (a debug build copied there mid-run
    // would be measured as ours).
    let built = crate::project::build_extension(true)?;
    let lib = out_dir.join(built.file_name().ok_or("no library file name")?);
    std::fs::copy(&built, &lib).map_err(|e| format!("copy {}: {e}", built.display()))?;
    crate::project::cargo_build("webrtc-rs-bench", true)?;
    // The relay of the lossy workload, as a binary for the libdatachannel runner.
    let relay = crate::project::cargo_build("netsim", true)?.join("netsim-relay");
    let godot = crate::godot::find_or_install()?;
    let project_dir = root().join("godot_project");

    let mut results = Map::new();
    let mut notes = vec![format!("load average at the start: {}", loadavg())];
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
    // At Godot's default limit; then, as an extra column, the two workloads the limit changes
    // with it raised to 4096 KiB (the maximum).
    let gdscript: [(&str, &[&str]); 3] = [
        ("gdscript", &["--mode", "tight"]),
        ("gdscript_60fps", &["--mode", "frame"]),
        ("gdscript_raised", &["--mode", "tight", "--only", "bulk,unreliable", "--limit-kb", "4096"]),
    ];
    let installed = project_dir.join("addons/webrtc_rs/bin").join(built.file_name().unwrap_or_default());
    let mut replaced = Vec::new();
    for (stack, args) in gdscript {
        crate::project::install_addon(&lib, &project_dir)?;
        let before = stamp(&installed);
        let mut cmd = crate::godot::command(&godot, &project_dir, "res://bench/bench.gd");
        cmd.arg("--").args(args);
        let r = output(cmd, stack, Duration::from_secs(900)).and_then(|o| json_line(&o, "BENCH_JSON "));
        // Godot loads the library at startup; if it was replaced before that, we measured another build.
        if stamp(&installed) != before {
            replaced.push(format!("{stack}: godot_project/addons/webrtc_rs/bin was replaced during the run (another build?): not this release build's numbers"));
        }
        record(stack, r);
    }
    record("libdatachannel", libdatachannel_python().and_then(|py| {
        let mut cmd = Command::new(py);
        cmd.arg(root().join("bench/libdatachannel_bench.py")).env("NETSIM_RELAY", &relay);
        output(cmd, "libdatachannel", Duration::from_secs(900)).and_then(|o| json_line(&o, ""))
    }));
    notes.extend(replaced);
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

/// Size and modification time of a file, to notice that it was replaced.
fn stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    std::fs::metadata(path).ok().and_then(|m| Some((m.len(), m.modified().ok()?)))
}

/// The 1, 5 and 15 minute load averages (Linux): numbers taken on a busy machine are not comparable.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "?".into())
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

/// `ours / libdatachannel` for a metric, with the stack it used for "ours" (see [`OURS`]).
pub fn ratio(results: &Map<String, Value>, m: &Metric) -> Option<(f64, &'static str)> {
    let theirs = value(results, "libdatachannel", m.key);
    OURS.iter().find_map(|stack| advantage(m, value(results, stack, m.key), theirs).map(|r| (r, *stack)))
}

pub fn markdown(results: &Map<String, Value>) -> String {
    let mut t = String::from("| workload | unit |");
    for (_, title) in STACKS {
        t += &format!(" {title} |");
    }
    t += " GDScript (else engine) vs libdatachannel | target |\n|---|---|";
    t += &"---|".repeat(STACKS.len() + 2);
    t += "\n";
    for m in metrics() {
        t += &format!("| {} | {} |", m.label, m.unit);
        for (stack, _) in STACKS {
            t += &format!(" {} |", fmt(value(results, stack, m.key)));
        }
        t += &match ratio(results, m) {
            Some((r, stack)) => {
                let by = if stack == "engine" { " (engine)" } else { "" };
                format!(" {}× {}{by} |", fmt(r), if r >= 1.0 { "better" } else { "worse" })
            }
            None => " – |".into(),
        };
        t += &format!(" {} |\n", m.target);
    }
    t += "\nLoopback, both peers in one process, this repository's 2-core machine; `cargo xtask bench`. \
          Godot's default settings (64 KiB `max_channel_in_buffer_kb`) except the column that says otherwise. \
          The ratio is oriented so that above 1 means ours is better. \
          Lossy rows: 60 Hz messages for 20 s per case through a user-space relay (`rust/netsim`) with 25 ms \
          and 10 % loss each way, the receiver read every 1 ms; the unreliable channel is unordered with \
          `maxRetransmits` 0; run by the engine and libdatachannel runners.\n";
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_once_and_lossy_ratios_fall_back_to_the_engine() {
        let keys: Vec<_> = metrics().map(|m| m.key).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(keys.len(), unique.len(), "a key appears twice");

        let results = json!({
            "engine": {"lossy_unrel_alone_p99_ms": 30.0, "bulk_mib_s": 100.0},
            "gdscript": {"bulk_mib_s": 120.0},
            "libdatachannel": {"lossy_unrel_alone_p99_ms": 60.0, "bulk_mib_s": 60.0},
        });
        let results = results.as_object().unwrap();
        let table = markdown(results);
        let row = |label: &str| table.lines().find(|l| l.starts_with(&format!("| {label} |"))).unwrap().to_string();
        assert!(row("lossy: unreliable 200 B, alone: latency p99").contains("2.00× better (engine)"));
        assert!(row("reliable bulk, 64 MiB in 16 KiB").contains("2.00× better |"), "GDScript first");

        let png = std::env::temp_dir().join(format!("xtask-chart-{}.png", std::process::id()));
        crate::chart::draw(results, &png).unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
        if std::env::var_os("KEEP_CHART").is_none() {
            let _ = std::fs::remove_file(&png);
        }
    }
}
