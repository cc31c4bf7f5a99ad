//! A token bucket: `burst` at once, `per_second` sustained. Time is passed in, so it is
//! tested without sleeping.

use std::time::{Duration, Instant};

/// Tokens left and when they were last counted.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    tokens: f64,
    burst: f64,
    per_second: f64,
    refill: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(burst: u32, per_second: u32, now: Instant) -> Self {
        Self::with_period(burst as usize, per_second as usize, Duration::from_secs(1), now)
    }

    /// A full bucket of `burst` that refills `per` tokens each `period`.
    pub(crate) fn with_period(burst: usize, per: usize, period: Duration, now: Instant) -> Self {
        Self { tokens: burst as f64, burst: burst as f64, per_second: per as f64 / period.as_secs_f64(), refill: now }
    }

    fn refill(&mut self, now: Instant) {
        self.tokens = (self.tokens + now.saturating_duration_since(self.refill).as_secs_f64() * self.per_second).min(self.burst);
        self.refill = now;
    }

    /// Whether a token is there, without taking it.
    pub(crate) fn available(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= 1.0
    }

    /// Whether it is full again (nothing taken is still counted).
    pub(crate) fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.burst
    }

    /// Takes a token if there is one.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        if !self.available(now) {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_per_second() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(3, 2, t0);
        assert!((0..3).all(|_| bucket.take(t0)));
        assert!(!bucket.take(t0), "the burst is spent");
        assert!(bucket.take(t0 + Duration::from_millis(500)), "one more after 1/2 s at 2 a second");
        assert!(!bucket.take(t0 + Duration::from_millis(500)));
        let later = t0 + Duration::from_secs(60);
        assert!((0..3).all(|_| bucket.take(later)) && !bucket.take(later), "refills up to the burst only");
    }
}
