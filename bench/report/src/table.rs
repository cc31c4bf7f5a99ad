//! The Markdown table of a run: one row per metric, one column per stack, the ratio of ours to
//! libdatachannel's and the target (`target/bench/results.md`, and the README's copy of it).

use crate::metric::{STACKS, metrics, ratio, value};
use serde_json::{Map, Value};

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

/// The table of `results`, with a closing paragraph on how it was measured.
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
    t += &format!("\nLoopback, both peers in one process, this repository's 2-core machine; `cargo xtask bench`. \
          Godot's default settings (64 KiB `max_channel_in_buffer_kb`) except the column that says otherwise. \
          The ratio is oriented so that above 1 means ours is better. \
          Bulk and unreliable rows: the median of {} runs, the stacks taking turns (the 60 fps column: one run). \
          Lossy rows: 60 Hz messages for 20 s per case through a user-space relay (`rust/netsim`) with 25 ms \
          and 10 % loss each way, the receiver read every 1 ms; the unreliable channel is unordered with \
          `maxRetransmits` 0; run by the engine and libdatachannel runners.\n",
        crate::rounds::ROUNDS
    );
    t
}


#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ratios_compare_gdscript_else_the_engine() {
        let results = json!({
            "engine": {"lossy_unrel_alone_p99_ms": 30.0, "bulk_mib_s": 100.0},
            "gdscript": {"bulk_mib_s": 120.0},
            "libdatachannel": {"lossy_unrel_alone_p99_ms": 60.0, "bulk_mib_s": 60.0},
        });
        let table = markdown(results.as_object().unwrap());
        let row = |label: &str| table.lines().find(|l| l.starts_with(&format!("| {label} |"))).unwrap().to_string();
        assert!(row("lossy: unreliable 200 B, alone: latency p99").contains("2.00× better (engine)"));
        assert!(row("reliable bulk, 64 MiB in 16 KiB").contains("2.00× better |"), "GDScript first");
        assert!(row("unreliable loss").ends_with("| – | ≤ 0.5 % |"), "no ratio without numbers");
    }
}
