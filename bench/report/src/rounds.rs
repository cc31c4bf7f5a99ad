//! Repeated throughput runs folded into one figure per metric.
//!
//! On a shared 2-core machine one bulk run swings by about ±20 % (engine bulk 73 to 105 MiB/s in
//! three runs back to back), enough to move a ratio against libdatachannel across its target.
//! So `cargo xtask bench` runs the throughput workloads [`ROUNDS`] times, the stacks taking turns
//! so that drift in the machine hits them alike, and keeps the median of each rate. A loss or a
//! stall in any round is kept, never averaged away.

use serde_json::{Map, Value};

/// How many times the throughput workloads run per stack.
pub const ROUNDS: usize = 3;

/// The workloads that are repeated (the runners' names for them).
pub const REPEATED: [&str; 2] = ["bulk", "unreliable"];

/// Folds `rounds` (each a runner's result of the repeated workloads) into `first` (its full
/// run): the median of each rate of a repeated workload, the maximum of lost messages, and
/// "stalled" if any round stalled. Other keys of `first` are kept as they are.
pub fn fold(first: &mut Map<String, Value>, rounds: &[Map<String, Value>]) {
    let repeated = |k: &str| REPEATED.iter().any(|w| k.starts_with(&format!("{w}_")));
    let keys: Vec<String> = first.keys().filter(|k| repeated(k)).cloned().collect();
    for key in keys {
        let all: Vec<&Value> = std::iter::once(&first[&key]).chain(rounds.iter().filter_map(|r| r.get(&key))).collect();
        let folded = if let Some(stalled) = all.iter().map(|v| v.as_bool()).collect::<Option<Vec<bool>>>() {
            Value::Bool(stalled.into_iter().any(|s| s))
        } else {
            let mut nums: Vec<f64> = all.iter().filter_map(|v| v.as_f64()).collect();
            if nums.is_empty() {
                continue;
            }
            if key.contains("lost") {
                Value::from(nums.into_iter().fold(f64::MIN, f64::max))
            } else {
                nums.sort_by(f64::total_cmp);
                Value::from(nums[nums.len() / 2])
            }
        };
        first.insert(key, folded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn rates_take_the_median_and_losses_the_worst() {
        let mut first = map(json!({"bulk_mib_s": 73.0, "bulk_lost_messages": 0, "bulk_stalled": false,
                                   "unreliable_rx_mib_s": 45.0, "setup_ms": 3.0}));
        let rounds = [
            map(json!({"bulk_mib_s": 105.0, "bulk_lost_messages": 2, "bulk_stalled": false, "unreliable_rx_mib_s": 50.0})),
            map(json!({"bulk_mib_s": 89.0, "bulk_lost_messages": 0, "bulk_stalled": true, "unreliable_rx_mib_s": 40.0})),
        ];
        fold(&mut first, &rounds);
        assert_eq!(first["bulk_mib_s"], json!(89.0));
        assert_eq!(first["unreliable_rx_mib_s"], json!(45.0));
        assert_eq!(first["bulk_lost_messages"], json!(2.0));
        assert_eq!(first["bulk_stalled"], json!(true));
        assert_eq!(first["setup_ms"], json!(3.0), "a workload run once is kept as it is");
    }

    #[test]
    fn a_round_that_failed_leaves_the_others() {
        let mut first = map(json!({"bulk_mib_s": 60.0}));
        fold(&mut first, &[Map::new(), map(json!({"bulk_mib_s": 80.0}))]);
        // Two values: the upper median.
        assert_eq!(first["bulk_mib_s"], json!(80.0));
    }
}
