//! What the benchmark measures: one [`Metric`] per row of the table (the JSON keys the three
//! runners write, the unit, which way is better, the target), the stacks (columns) and the
//! ratio of ours to libdatachannel's.

use serde_json::{Map, Value};

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
    Metric { key: "unreliable_rx_mib_s", label: "unreliable 1200 B for 2 s in bursts of 64, received", unit: "MiB/s", higher_is_better: true, target: "≥ 2× libdatachannel" },
    Metric { key: "unreliable_loss_pct", label: "unreliable loss", unit: "%", higher_is_better: false, target: "≤ 0.5 %" },
    Metric { key: "many_open_s", label: "64 connections to one host, all open", unit: "s", higher_is_better: false, target: "≤ 2 s" },
    Metric { key: "rss_kib_per_connection", label: "RSS per idle connection", unit: "KiB", higher_is_better: false, target: "≤ 1024 KiB" },
    Metric { key: "so_mb", label: "stripped release library", unit: "MB", higher_is_better: false, target: "≤ 4.3 MB" },
];

/// The dedicated server: 64 connections from a second process, 60 fps, 20 s (bench/godot/server.gd,
/// bench/libdatachannel_server.py).
const SERVER: &[Metric] = &[
    Metric { key: "server_cpu_s", label: "server: CPU in 20 s, 64 clients", unit: "s", higher_is_better: false, target: "≤ 0.5× libdatachannel" },
    Metric { key: "server_rss_kib_per_connection", label: "server: RSS per connection", unit: "KiB", higher_is_better: false, target: "≤ libdatachannel" },
    Metric { key: "server_open_s", label: "server: all 64 open", unit: "s", higher_is_better: false, target: "≤ 2 s" },
    Metric { key: "server_frame_max_ms", label: "server: longest frame", unit: "ms", higher_is_better: false, target: "≤ 50 ms" },
    Metric { key: "server_inputs_delivered_pct", label: "server: inputs delivered (64 B unreliable, 30 Hz)", unit: "%", higher_is_better: true, target: "100 %" },
    Metric { key: "server_states_delivered_pct", label: "server: states delivered (400 B unreliable, 30 Hz)", unit: "%", higher_is_better: true, target: "100 %" },
    Metric { key: "server_events_delivered_pct", label: "server: events delivered (100 B reliable, 1 Hz)", unit: "%", higher_is_better: true, target: "100 %" },
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
    LOOPBACK.iter().chain(SERVER).chain(&LOSSY_CONNECT).chain(&LOSSY_UNREL_ALONE).chain(&LOSSY_BOTH_UNREL).chain(&LOSSY_REL_ALONE).chain(&LOSSY_BOTH_REL)
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

/// `ours / libdatachannel`, oriented so that > 1 means ours is better.
pub fn advantage(metric: &Metric, ours: f64, theirs: f64) -> Option<f64> {
    if !(ours.is_finite() && theirs.is_finite()) || ours <= 0.0 || theirs <= 0.0 {
        return None;
    }
    Some(if metric.higher_is_better { ours / theirs } else { theirs / ours })
}

/// The number a stack measured for `key`, NaN when it has none.
pub fn value(results: &Map<String, Value>, stack: &str, key: &str) -> f64 {
    results.get(stack).and_then(|r| r.get(key)).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// `ours / libdatachannel` for a metric, with the stack it used for "ours" (see [`OURS`]).
pub fn ratio(results: &Map<String, Value>, m: &Metric) -> Option<(f64, &'static str)> {
    let theirs = value(results, "libdatachannel", m.key);
    OURS.iter().find_map(|stack| advantage(m, value(results, stack, m.key), theirs).map(|r| (r, *stack)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_once() {
        let keys: Vec<_> = metrics().map(|m| m.key).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(keys.len(), unique.len(), "a key appears twice");
    }
}
