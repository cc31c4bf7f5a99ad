//! One direction of a link without sockets or clocks: decides which packets are lost and holds
//! the others until their delay has passed. Time is passed in, so this is tested without sleeps.
//! The relay uses it for each direction, and the engine's link simulator for what a
//! connection sends.

use crate::rng::Rng;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A packet waiting for its delay to pass.
#[derive(Debug)]
pub struct Held {
    /// When it may go.
    pub due: Instant,
    /// Where it goes.
    pub to: SocketAddr,
    /// The datagram.
    pub data: Vec<u8>,
}

/// One direction's loss decision and delay queue.
#[derive(Debug)]
pub struct Pipe {
    rng: Rng,
    /// Sorted by `due`; packets with the same due time keep their arrival order.
    queue: VecDeque<Held>,
}

impl Pipe {
    /// A pipe whose losses (and jitter) follow from `seed`.
    pub fn new(seed: u64) -> Self {
        Pipe { rng: Rng::new(seed), queue: VecDeque::new() }
    }

    /// Takes a packet that arrived at `now`: drops it with probability `loss_ppm` / 10^6,
    /// else holds it for `delay`. Returns whether it was kept.
    pub fn offer(&mut self, now: Instant, to: SocketAddr, data: &[u8], loss_ppm: u32, delay: Duration) -> bool {
        self.offer_jittered(now, to, data, loss_ppm, delay, Duration::ZERO)
    }

    /// As [`Pipe::offer`], the delay varied by up to `jitter` either way (uniformly; never
    /// below zero), so packets may overtake each other as on a real path.
    pub fn offer_jittered(&mut self, now: Instant, to: SocketAddr, data: &[u8], loss_ppm: u32, delay: Duration, jitter: Duration) -> bool {
        if self.rng.chance_ppm(loss_ppm) {
            return false;
        }
        // No draw without jitter: the relay's sequence of decisions stays what it was.
        let delay = if jitter.is_zero() {
            delay
        } else {
            let span = jitter.as_nanos() as u64 * 2 + 1;
            let offset = (self.rng.next_u64() % span) as i128 - jitter.as_nanos() as i128;
            Duration::from_nanos((delay.as_nanos() as i128 + offset).max(0) as u64)
        };
        let due = now + delay;
        // With a constant delay every packet goes at the back; a delay lowered at run time
        // puts the new packet before older ones that are due later (as a shorter route would).
        let pos = self.queue.iter().rposition(|h| h.due <= due).map_or(0, |i| i + 1);
        self.queue.insert(pos, Held { due, to, data: data.to_vec() });
        true
    }

    /// The next packet whose delay has passed at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Held> {
        if self.queue.front().is_some_and(|h| h.due <= now) { self.queue.pop_front() } else { None }
    }

    /// When the next held packet is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.front().map(|h| h.due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:9".parse().unwrap()
    }

    #[test]
    fn holds_for_the_delay_in_order() {
        let mut p = Pipe::new(1);
        let t0 = Instant::now();
        let d = Duration::from_millis(25);
        for i in 0..3u8 {
            assert!(p.offer(t0 + Duration::from_millis(i as u64), addr(), &[i], 0, d));
        }
        assert!(p.pop_due(t0 + Duration::from_millis(24)).is_none());
        assert_eq!(p.next_due(), Some(t0 + d));
        assert_eq!(p.pop_due(t0 + Duration::from_millis(26)).unwrap().data, vec![0]);
        assert_eq!(p.pop_due(t0 + Duration::from_millis(26)).unwrap().data, vec![1]);
        assert!(p.pop_due(t0 + Duration::from_millis(26)).is_none());
        assert_eq!(p.pop_due(t0 + Duration::from_millis(30)).unwrap().data, vec![2]);
        assert!(p.next_due().is_none());
    }

    #[test]
    fn a_shorter_delay_overtakes() {
        let mut p = Pipe::new(1);
        let t0 = Instant::now();
        p.offer(t0, addr(), &[0], 0, Duration::from_millis(50));
        p.offer(t0, addr(), &[1], 0, Duration::from_millis(10));
        assert_eq!(p.pop_due(t0 + Duration::from_millis(60)).unwrap().data, vec![1]);
    }

    #[test]
    fn jitter_spreads_the_delay_both_ways() {
        let mut p = Pipe::new(3);
        let t0 = Instant::now();
        let (d, j) = (Duration::from_millis(40), Duration::from_millis(10));
        for _ in 0..1000 {
            p.offer_jittered(t0, addr(), &[], 0, d, j);
        }
        let dues: Vec<Duration> = std::iter::from_fn(|| p.pop_due(t0 + Duration::from_secs(1))).map(|h| h.due - t0).collect();
        assert_eq!(dues.len(), 1000);
        assert!(dues.iter().all(|x| *x >= d - j && *x <= d + j), "within 40 +- 10 ms");
        assert!(dues.iter().any(|x| *x < Duration::from_millis(32)) && dues.iter().any(|x| *x > Duration::from_millis(48)), "spread over the range");
        assert!(dues.windows(2).all(|w| w[0] <= w[1]), "sent in due order");
    }

    #[test]
    fn loss_is_deterministic_for_a_seed() {
        let kept = |seed| {
            let mut p = Pipe::new(seed);
            let t0 = Instant::now();
            (0..1000).map(|_| p.offer(t0, addr(), &[], 100_000, Duration::ZERO)).collect::<Vec<bool>>()
        };
        assert_eq!(kept(5), kept(5));
        assert_ne!(kept(5), kept(6));
        let lost = kept(5).iter().filter(|k| !**k).count();
        assert!((60..140).contains(&lost), "10 % of 1000, got {lost}");
    }
}
