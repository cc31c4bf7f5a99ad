//! The relay: one UDP socket with two threads (receive, send when due), standing in front of one peer.

use crate::pipe::{Held, Pipe};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Which way a packet goes through a [`Relay`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the other side to the relay's target.
    ToTarget,
    /// From the target back to the other side.
    FromTarget,
}

/// What one direction does to its packets.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impairment {
    /// Percent of packets dropped, 0 to 100 (fractions allowed, resolution 0.0001 %).
    pub loss_pct: f64,
    /// How long each kept packet is held before it is sent on.
    pub delay: Duration,
}

/// How a [`Relay`] starts; everything but `bind` and `seed` can be changed while it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayConfig {
    /// The relay's own address (default `127.0.0.1:0`, a free port).
    pub bind: SocketAddr,
    /// Packets going to the target.
    pub to_target: Impairment,
    /// Packets coming back from the target.
    pub from_target: Impairment,
    /// Seed of the loss decisions: the same seed and the same packets lose the same packets.
    pub seed: u64,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig { bind: SocketAddr::from(([127, 0, 0, 1], 0)), to_target: Impairment::default(), from_target: Impairment::default(), seed: 1 }
    }
}

impl RelayConfig {
    /// The same loss and delay both ways.
    pub fn symmetric(loss_pct: f64, delay: Duration) -> Self {
        let each = Impairment { loss_pct, delay };
        RelayConfig { to_target: each, from_target: each, ..Default::default() }
    }

    /// This config with another seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// Counters of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectionStats {
    /// Packets sent on.
    pub forwarded: u64,
    /// Bytes of those packets.
    pub bytes_forwarded: u64,
    /// Packets dropped: by the loss, while cut, or (from the target) before the other side
    /// had spoken, when there is nobody to send them to.
    pub dropped: u64,
}

/// Counters of a relay, both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelayStats {
    /// Packets to the target.
    pub to_target: DirectionStats,
    /// Packets from the target.
    pub from_target: DirectionStats,
}

impl RelayStats {
    /// The counters as one line of JSON (what `netsim-relay` prints for `stats`).
    pub fn to_json(&self) -> String {
        let way = |d: &DirectionStats| format!("{{\"forwarded\":{},\"bytes_forwarded\":{},\"dropped\":{}}}", d.forwarded, d.bytes_forwarded, d.dropped);
        format!("{{\"to_target\":{},\"from_target\":{}}}", way(&self.to_target), way(&self.from_target))
    }
}

/// Settings and counters of one direction, shared by the handle and the thread.
#[derive(Debug, Default)]
struct Way {
    loss_ppm: AtomicU32,
    delay_us: AtomicU64,
    forwarded: AtomicU64,
    bytes: AtomicU64,
    dropped: AtomicU64,
}

impl Way {
    fn set(&self, i: Impairment) {
        self.set_loss(i.loss_pct);
        self.delay_us.store(i.delay.as_micros() as u64, Ordering::Relaxed);
    }

    fn set_loss(&self, pct: f64) {
        self.loss_ppm.store((pct.clamp(0.0, 100.0) * 10_000.0).round() as u32, Ordering::Relaxed);
    }

    fn stats(&self) -> DirectionStats {
        DirectionStats {
            forwarded: self.forwarded.load(Ordering::Relaxed),
            bytes_forwarded: self.bytes.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// What the two threads of a relay share with each other and with the handle.
#[derive(Debug)]
struct Shared {
    to_target: Way,
    from_target: Way,
    cut: AtomicBool,
    stop: AtomicBool,
    /// Held packets, `[to target, from target]`: the receiving thread puts them in, the sending
    /// thread takes them out when due.
    pipes: Mutex<[Pipe; 2]>,
    /// Wakes the sending thread when a packet is held or the relay stops.
    wake: Condvar,
}

impl Shared {
    fn way(&self, d: Direction) -> &Way {
        match d {
            Direction::ToTarget => &self.to_target,
            Direction::FromTarget => &self.from_target,
        }
    }
}

/// A UDP relay in front of one peer (the target): packets from the target go to whoever last
/// sent to the relay, every other packet goes to the target. Each way drops a share of the
/// packets at random and delays the rest. Dropping the handle stops the relay's threads.
///
/// To put it between two WebRTC peers, rewrite the port of a peer's host candidate to the
/// relay's port before handing it to the other peer (see the crate's example); the other
/// peer's replies then come back through the relay as a peer-reflexive address.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

/// How long the sending thread waits when nothing is held, before it checks `stop` again.
const IDLE_WAIT: Duration = Duration::from_millis(100);

impl Relay {
    /// Binds `config.bind` and starts forwarding to `target`.
    pub fn start(target: SocketAddr, config: RelayConfig) -> io::Result<Relay> {
        let sock = UdpSocket::bind(config.bind)?;
        let addr = sock.local_addr()?;
        // One generator per direction, so traffic one way does not change which packets the
        // other way loses.
        let pipes = [Pipe::new(config.seed), Pipe::new(config.seed ^ 0x5DEE_CE66_D1CE_4E5B)];
        let shared = Arc::new(Shared {
            to_target: Way::default(),
            from_target: Way::default(),
            cut: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            pipes: Mutex::new(pipes),
            wake: Condvar::new(),
        });
        shared.to_target.set(config.to_target);
        shared.from_target.set(config.from_target);
        // Two threads: one blocks in recv_from, one sleeps until the next packet is due. One
        // thread with a socket read timeout was 4-8 ms late: Linux rounds SO_RCVTIMEO up to
        // scheduler ticks, while a condition variable's timed wait is precise to tens of µs.
        let name = |role| format!("netsim-{role}-{}", addr.port());
        let (s1, s2, sock2) = (shared.clone(), shared.clone(), sock.try_clone()?);
        let threads = vec![
            std::thread::Builder::new().name(name("recv")).spawn(move || receive(sock, target, &s1))?,
            std::thread::Builder::new().name(name("send")).spawn(move || send(sock2, &s2))?,
        ];
        Ok(Relay { addr, shared, threads })
    }

    /// The relay's address (give this to the other peer instead of the target's).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The relay's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Sets the loss both ways, in percent.
    pub fn set_loss_pct(&self, pct: f64) {
        self.shared.to_target.set_loss(pct);
        self.shared.from_target.set_loss(pct);
    }

    /// Sets the loss and the delay of one direction.
    pub fn set_impairment(&self, direction: Direction, impairment: Impairment) {
        self.shared.way(direction).set(impairment);
    }

    /// Sets the delay both ways. Packets already held keep the delay they got.
    pub fn set_delay(&self, delay: Duration) {
        for w in [&self.shared.to_target, &self.shared.from_target] {
            w.delay_us.store(delay.as_micros() as u64, Ordering::Relaxed);
        }
    }

    /// Cuts the link: every packet that arrives from now on is dropped, both ways. Packets
    /// already held (in flight) still arrive.
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::Relaxed);
    }

    /// Undoes [`cut`](Self::cut).
    pub fn heal(&self) {
        self.shared.cut.store(false, Ordering::Relaxed);
    }

    /// Counters so far.
    pub fn stats(&self) -> RelayStats {
        RelayStats { to_target: self.shared.to_target.stats(), from_target: self.shared.from_target.stats() }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.wake.notify_all();
        // Wake the receiving thread with an empty datagram; it sees `stop` before using it.
        if let Ok(s) = UdpSocket::bind(SocketAddr::new(self.addr.ip(), 0)) {
            let _ = s.send_to(&[], self.addr);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The receiving thread: decides the fate of each packet and holds the kept ones.
fn receive(sock: UdpSocket, target: SocketAddr, shared: &Shared) {
    let mut other: Option<SocketAddr> = None;
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::Relaxed) {
        // An error is an ICMP report about an earlier send; nothing to do about it.
        let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        let now = Instant::now();
        let (i, way, to) = if from == target {
            (1, &shared.from_target, other)
        } else {
            other = Some(from);
            (0, &shared.to_target, Some(target))
        };
        // A cut link loses everything; the draw still happens, so cutting does not shift
        // which packets are lost later.
        let loss_ppm = if shared.cut.load(Ordering::Relaxed) { 1_000_000 } else { way.loss_ppm.load(Ordering::Relaxed) };
        let delay = Duration::from_micros(way.delay_us.load(Ordering::Relaxed));
        let kept = to.is_some_and(|to| crate::lock(&shared.pipes)[i].offer(now, to, &buf[..n], loss_ppm, delay));
        if kept {
            shared.wake.notify_one();
        } else {
            way.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The sending thread: sends each held packet when it is due.
fn send(sock: UdpSocket, shared: &Shared) {
    let mut due: Vec<(usize, Held)> = Vec::new();
    let mut pipes = crate::lock(&shared.pipes);
    while !shared.stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        for (i, pipe) in pipes.iter_mut().enumerate() {
            while let Some(held) = pipe.pop_due(now) {
                due.push((i, held));
            }
        }
        if due.is_empty() {
            let next = pipes.iter().filter_map(Pipe::next_due).min();
            let wait = next.map_or(IDLE_WAIT, |d| d.saturating_duration_since(now));
            pipes = shared.wake.wait_timeout(pipes, wait).unwrap_or_else(|e| e.into_inner()).0;
            continue;
        }
        // Send without the lock, so the receiving thread is never held up by a send.
        drop(pipes);
        for (i, held) in due.drain(..) {
            let way = if i == 0 { &shared.to_target } else { &shared.from_target };
            // Counted before the send, so whoever receives the packet and then reads the
            // counters sees it. A send error (the peer's socket is gone) is a lost packet,
            // as on a network.
            way.forwarded.fetch_add(1, Ordering::Relaxed);
            way.bytes.fetch_add(held.data.len() as u64, Ordering::Relaxed);
            if sock.send_to(&held.data, held.to).is_err() {
                way.forwarded.fetch_sub(1, Ordering::Relaxed);
                way.bytes.fetch_sub(held.data.len() as u64, Ordering::Relaxed);
                way.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        pipes = crate::lock(&shared.pipes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that stands for a peer, with a short read timeout so no test can hang.
    fn peer() -> UdpSocket {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        s
    }

    #[test]
    fn forwards_both_ways_with_delay() {
        let (a, b) = (peer(), peer());
        let relay = Relay::start(b.local_addr().unwrap(), RelayConfig::symmetric(0.0, Duration::from_millis(20))).unwrap();
        let mut buf = [0u8; 16];
        let t = Instant::now();
        a.send_to(b"ping", relay.addr()).unwrap();
        let (n, from) = b.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], relay.addr()));
        assert!(t.elapsed() >= Duration::from_millis(20), "held for the delay: {:?}", t.elapsed());
        b.send_to(b"pong", from).unwrap();
        let (n, from) = a.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"pong"[..], relay.addr()));
        assert!(t.elapsed() >= Duration::from_millis(40) && t.elapsed() < Duration::from_millis(400));
        let s = relay.stats();
        assert_eq!((s.to_target.forwarded, s.from_target.forwarded, s.to_target.bytes_forwarded), (1, 1, 4));
    }

    #[test]
    fn loses_about_the_set_share_and_counts_it() {
        let (a, b) = (peer(), peer());
        let relay = Relay::start(b.local_addr().unwrap(), RelayConfig::symmetric(10.0, Duration::ZERO)).unwrap();
        b.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let mut got = 0;
        let mut buf = [0u8; 16];
        // Batches of 50, each read before the next, so no socket buffer ever overflows.
        for batch in 0..20u64 {
            for i in 0..50u32 {
                a.send_to(&i.to_le_bytes(), relay.addr()).unwrap();
            }
            let deadline = Instant::now() + Duration::from_secs(2);
            let seen = |s: RelayStats| s.to_target.forwarded + s.to_target.dropped;
            while seen(relay.stats()) < (batch + 1) * 50 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            while b.recv_from(&mut buf).is_ok() {
                got += 1;
            }
        }
        let s = relay.stats();
        assert_eq!(s.to_target.forwarded, got);
        assert_eq!(s.to_target.forwarded + s.to_target.dropped, 1000);
        assert!((850..950).contains(&got), "about 90 % of 1000 arrive, got {got}");
    }

    #[test]
    fn cut_drops_everything_until_healed() {
        let (a, b) = (peer(), peer());
        let relay = Relay::start(b.local_addr().unwrap(), RelayConfig::default()).unwrap();
        b.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let mut buf = [0u8; 16];
        relay.cut();
        a.send_to(b"x", relay.addr()).unwrap();
        assert!(b.recv_from(&mut buf).is_err(), "nothing passes a cut link");
        relay.heal();
        a.send_to(b"y", relay.addr()).unwrap();
        assert_eq!(b.recv_from(&mut buf).unwrap().0, 1);
        assert_eq!(relay.stats().to_target, DirectionStats { forwarded: 1, bytes_forwarded: 1, dropped: 1 });
    }

    #[test]
    fn dropping_the_handle_stops_the_thread_quickly() {
        let relay = Relay::start("127.0.0.1:9".parse().unwrap(), RelayConfig::default()).unwrap();
        let t = Instant::now();
        drop(relay);
        assert!(t.elapsed() < Duration::from_millis(500));
    }
}
