//! The once-a-second warning about dropped messages: a flood of drops must not flood the
//! game's output too. Time is passed in, so the rule is tested without waiting.

use std::time::{Duration, Instant};

/// How often a channel that keeps dropping messages says so.
pub(crate) const DROP_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Rate limit for the dropped-messages warning; time is passed in.
#[derive(Debug, Default)]
pub(crate) struct DropReport {
    reported: u64,
    last: Option<Instant>,
}

impl DropReport {
    /// How many drops to report now, if any are new and the last report is old enough.
    pub fn due(&mut self, dropped: u64, now: Instant) -> Option<u64> {
        let new = dropped.checked_sub(self.reported).filter(|&n| n > 0)?;
        if self.last.is_some_and(|t| now.duration_since(t) < DROP_REPORT_INTERVAL) {
            return None;
        }
        self.reported = dropped;
        self.last = Some(now);
        Some(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    
    #[test]
    fn dropped_messages_are_reported_at_most_once_a_second() {
        let mut report = DropReport::default();
        let t0 = Instant::now();
        assert_eq!(report.due(0, t0), None, "nothing dropped, nothing said");
        assert_eq!(report.due(3, t0), Some(3));
        assert_eq!(report.due(10, t0 + Duration::from_millis(500)), None, "within the second");
        assert_eq!(report.due(10, t0 + Duration::from_millis(1000)), Some(7), "the drops since the last report");
        assert_eq!(report.due(10, t0 + Duration::from_secs(5)), None, "no new drops");
    }
}
