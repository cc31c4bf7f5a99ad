//! The lossy workload: what a game lives with on Wi-Fi or a mobile network. Two connections talk
//! through user-space UDP relays ([`netsim::Relay`]) that delay every packet 25 ms each way and,
//! once the channels are open, lose 10 % of them each way. For [`seconds`] (default 20) the game
//! sends at 60 Hz:
//!
//! - `unrel_alone`: 200 B on an unreliable channel (unordered, `maxRetransmits` 0);
//! - `rel_alone`: 100 B on a reliable ordered channel;
//! - `both`: both streams at once on one connection (`both_unrel`, `both_rel`).
//!
//! Each case runs on a new connection, so one case's congestion state does not leak into the
//! next. The unreliable channel is `maxRetransmits: 0`, unordered: a lost message is never
//! resent. (`WebRTCMultiplayerPeer`'s UNRELIABLE mode asks for `maxPacketLifetime: 1` instead,
//! which resends for at most 1 ms, so practically never at 25 ms each way; `maxRetransmits: 0`
//! says the same without depending on timers, and libdatachannel supports both.)
//!
//! Each message carries its sequence number and its send time (one process, so one clock). The
//! receiving side is read every ~1 ms, as a game server's frame would (a 60 fps client reads
//! every 16.7 ms and would add up to that much to every latency); so latencies include up to 1 ms
//! of polling. Per stream: delivered %, latency p50/p95/p99/max, the longest gap between
//! consecutive arrivals (counted from the first send, and to the last send if the stream went
//! quiet before it), and for reliable streams how many arrivals were not the next in order.
//!
//! `bench/libdatachannel_bench.py` runs the same workload through the `netsim-relay` binary (the
//! same relay code) with the same JSON keys.

use engine::*;
use netsim::{Relay, RelayConfig, RelayStats};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// Loss each way, percent, once connected.
pub const LOSS_PCT: f64 = 10.0;
/// Delay each way.
pub const DELAY: Duration = Duration::from_millis(25);
/// Messages per second per stream.
const RATE_HZ: f64 = 60.0;
const UNRELIABLE_BYTES: usize = 200;
const RELIABLE_BYTES: usize = 100;
/// The receiving side is read this often (a game server frame).
const POLL: Duration = Duration::from_millis(1);
/// After sending: at least this long for late unreliable messages ...
const DRAIN_MIN: Duration = Duration::from_secs(1);
/// ... and at most this long for reliable ones still on their way (retransmissions).
const DRAIN_MAX: Duration = Duration::from_secs(15);

/// Sending time of each case, `BENCH_LOSSY_SECONDS` (default 20).
pub fn seconds() -> f64 {
    std::env::var("BENCH_LOSSY_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20.0)
}

/// Two connections whose every packet crosses a relay.
struct Link {
    a: PeerConnection,
    b: PeerConnection,
    relays: Vec<Relay>,
    /// Reliable ordered (negotiated id 1), A's end and B's end.
    rel: [DataChannel; 2],
    /// Unreliable unordered, maxRetransmits 0 (negotiated id 2).
    unrel: [DataChannel; 2],
    /// From `create_offer()` to every channel open, through the relays (no loss yet).
    connect_ms: f64,
}

/// Hands `from`'s description to `to`, and of its candidates only the 127.0.0.1 host one,
/// with its port replaced by a new relay's (as rust/engine/tests/faults.rs does).
fn signal(from: &PeerConnection, to: &mut PeerConnection, relays: &mut Vec<Relay>) {
    test_util::pump_with(from, to, &mut Vec::new(), |e| match e {
        Event::IceCandidate { mid, mline_index, candidate } => {
            // Different seeds, so the two relays do not lose the same packets.
            let config = RelayConfig::symmetric(0.0, DELAY).seed(relays.len() as u64 + 1);
            let (relay, candidate) = netsim::relay_in_front(&candidate, config).expect("relay")?;
            relays.push(relay);
            Some(Event::IceCandidate { mid, mline_index, candidate })
        }
        e => Some(e),
    });
}

impl Link {
    /// Connects through new relays (25 ms each way, no loss), then switches the loss on.
    fn connect() -> Link {
        // Loopback only, so the one host candidate each is the only path, and it is relayed.
        let config = PeerConfig { mdns: false, bind_addresses: vec!["127.0.0.1:0".parse().unwrap()], ..Default::default() };
        // Godot's default receive limit (64 KiB per channel).
        let mut a = PeerConnection::new(config.clone(), PeerOptions::default()).unwrap();
        let mut b = PeerConnection::new(config, PeerOptions::default()).unwrap();
        let rel = ChannelConfig { negotiated: true, id: Some(1), ..Default::default() };
        let unrel = ChannelConfig { negotiated: true, id: Some(2), ordered: false, max_retransmits: Some(0), ..Default::default() };
        let rel = [a.create_data_channel("rel", rel.clone()).unwrap(), b.create_data_channel("rel", rel).unwrap()];
        let unrel = [a.create_data_channel("unrel", unrel.clone()).unwrap(), b.create_data_channel("unrel", unrel).unwrap()];
        a.create_offer().unwrap();
        let mut link = Link { a, b, relays: Vec::new(), rel, unrel, connect_ms: 0.0 };
        let start = Instant::now();
        while !link.rel.iter().chain(&link.unrel).all(|c| c.ready_state() == ChannelState::Open) {
            assert!(start.elapsed() < Duration::from_secs(30), "lossy: connect through the relays timed out");
            link.poll();
            std::thread::sleep(POLL);
        }
        link.connect_ms = start.elapsed().as_secs_f64() * 1000.0;
        for r in &link.relays {
            r.set_loss_pct(LOSS_PCT);
        }
        link
    }

    /// One game frame of both connections: signaling, and publishing what arrived.
    fn poll(&mut self) {
        signal(&self.a, &mut self.b, &mut self.relays);
        signal(&self.b, &mut self.a, &mut self.relays);
    }

    /// A's and B's end of the reliable or the unreliable channel.
    fn ends(&self, reliable: bool) -> &[DataChannel; 2] {
        if reliable { &self.rel } else { &self.unrel }
    }

    /// Share of the packets the relays dropped (both ways), percent.
    fn relay_loss_pct(&self) -> f64 {
        let (mut fwd, mut lost) = (0, 0);
        for s in self.relays.iter().map(Relay::stats) {
            let RelayStats { to_target: t, from_target: f } = s;
            fwd += t.forwarded + f.forwarded;
            lost += t.dropped + f.dropped;
        }
        100.0 * lost as f64 / (fwd + lost).max(1) as f64
    }
}

/// One stream's receiving side.
struct Stream {
    /// Key prefix, e.g. `lossy_both_unrel`.
    key: &'static str,
    reliable: bool,
    size: usize,
    sent: u32,
    /// (sequence number, latency in ms, arrival) in arrival order.
    arrivals: Vec<(u32, f64, Instant)>,
}

impl Stream {
    fn new(key: &'static str, reliable: bool) -> Stream {
        Stream { key, reliable, size: if reliable { RELIABLE_BYTES } else { UNRELIABLE_BYTES }, sent: 0, arrivals: Vec::new() }
    }

    /// Sequence number and send time (µs since `epoch`) first, then padding.
    fn message(&self, epoch: Instant) -> Vec<u8> {
        let mut m = vec![0xA5u8; self.size];
        m[..4].copy_from_slice(&self.sent.to_le_bytes());
        m[4..12].copy_from_slice(&(epoch.elapsed().as_micros() as u64).to_le_bytes());
        m
    }

    fn receive(&mut self, data: &[u8], epoch: Instant) {
        let now = Instant::now();
        let seq = u32::from_le_bytes(data[..4].try_into().unwrap());
        let sent_us = u64::from_le_bytes(data[4..12].try_into().unwrap());
        let latency_ms = (now.duration_since(epoch).as_micros() as f64 - sent_us as f64) / 1000.0;
        self.arrivals.push((seq, latency_ms, now));
    }

    fn complete(&self) -> bool {
        self.arrivals.len() as u32 >= self.sent
    }

    /// The JSON entries of this stream; `first_send`/`last_send` bracket the arrivals for the gap.
    fn results(&self, first_send: Instant, last_send: Instant) -> Map<String, Value> {
        let mut distinct: Vec<u32> = self.arrivals.iter().map(|a| a.0).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let mut lat: Vec<f64> = self.arrivals.iter().map(|a| a.1).collect();
        lat.sort_by(f64::total_cmp);
        let mut times = vec![first_send];
        times.extend(self.arrivals.iter().map(|a| a.2));
        times.push(last_send);
        // saturating: the last arrival usually comes after the last send.
        let gap = times.windows(2).map(|w| w[1].saturating_duration_since(w[0])).max().unwrap_or_default();
        let k = |s: &str| format!("{}_{s}", self.key);
        let mut m = Map::new();
        m.insert(k("sent"), json!(self.sent));
        m.insert(k("delivered_pct"), json!(100.0 * distinct.len() as f64 / self.sent.max(1) as f64));
        for (name, p) in [("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99), ("max_ms", 1.0)] {
            m.insert(k(name), json!(crate::percentile(&lat, p)));
        }
        m.insert(k("gap_ms"), json!(gap.as_secs_f64() * 1000.0));
        if self.reliable {
            // Arrivals that were not exactly the next sequence number (0 when all is in order).
            let out_of_order = self.arrivals.iter().enumerate().filter(|(i, a)| a.0 != *i as u32).count();
            m.insert(k("out_of_order"), json!(out_of_order));
        }
        m
    }
}

/// Runs one case on a new connection: `unrel`/`rel` are the key prefixes of the streams to
/// send (None: that stream is not sent).
fn case(case_key: &str, unrel: Option<&'static str>, rel: Option<&'static str>) -> Map<String, Value> {
    let mut link = Link::connect();
    let mut streams: Vec<Stream> = Vec::new();
    streams.extend(unrel.map(|key| Stream::new(key, false)));
    streams.extend(rel.map(|key| Stream::new(key, true)));
    let epoch = Instant::now();
    let period = Duration::from_secs_f64(1.0 / RATE_HZ);
    let send_for = Duration::from_secs_f64(seconds());
    let (mut next_send, mut last_send) = (epoch, epoch);
    let mut send_done: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if send_done.is_none() && now.duration_since(epoch) >= send_for {
            send_done = Some(now);
        }
        if send_done.is_none() && now >= next_send {
            for s in &mut streams {
                let msg = s.message(epoch);
                // A send error would be a bug here (the channel is open, the message small).
                link.ends(s.reliable)[0].send(&msg, false).expect("lossy: send");
                s.sent += 1;
            }
            last_send = now;
            // The next tick on the 60 Hz grid; a late loop sends once, not a burst.
            while next_send <= now {
                next_send += period;
            }
        }
        link.poll();
        for s in &mut streams {
            while let Ok(p) = link.ends(s.reliable)[1].recv() {
                s.receive(&p.data, epoch);
            }
        }
        if let Some(done) = send_done {
            let waited = done.elapsed();
            let reliable_done = streams.iter().all(|s| !s.reliable || s.complete());
            if waited >= DRAIN_MAX || (waited >= DRAIN_MIN && reliable_done) {
                break;
            }
        }
        std::thread::sleep(POLL);
    }
    let mut out = Map::new();
    for s in &streams {
        out.extend(s.results(epoch, last_send));
    }
    out.insert(format!("lossy_{case_key}_relay_loss_pct"), json!(link.relay_loss_pct()));
    out.insert(format!("lossy_{case_key}_connect_ms"), json!(link.connect_ms));
    eprintln!("lossy {case_key}: {}", Value::Object(out.clone()));
    out
}

/// The three cases, in order; see the module's documentation.
pub fn lossy() -> Value {
    let mut out = Map::new();
    out.insert("lossy_seconds".into(), json!(seconds()));
    out.extend(case("unrel_alone", Some("lossy_unrel_alone"), None));
    out.extend(case("rel_alone", None, Some("lossy_rel_alone")));
    out.extend(case("both", Some("lossy_both_unrel"), Some("lossy_both_rel")));
    let connects: Vec<f64> = ["unrel_alone", "rel_alone", "both"].iter().filter_map(|c| out[&format!("lossy_{c}_connect_ms")].as_f64()).collect();
    out.insert("lossy_connect_ms".into(), json!(crate::median(connects)));
    Value::Object(out)
}
