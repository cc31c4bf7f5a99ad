//! Network faults between two connections: a lossy, slow UDP relay on 127.0.0.1 (50 ms delay, and
//! once connected 10 % loss each way) stands between them. This kernel has no `netem` qdisc, so the impairment is
//! done in user space: each peer's loopback candidate is rewritten to the relay's port, and the
//! relay forwards, drops and delays. A reliable channel must deliver every byte in order, an
//! unreliable one loses some and keeps going, and cutting the link takes both out of CONNECTED.

use engine::*;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One relay socket standing for one peer's candidate: packets from that peer go to whoever
/// last spoke to the relay, everything else goes to the peer. Loss and delay both ways.
struct Relay {
    port: u16,
    /// Percent of packets dropped, each way.
    loss_pct: Arc<AtomicU32>,
    cut: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    fn start(target: SocketAddr, delay: Duration) -> Relay {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(2))).unwrap();
        let port = sock.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let loss_pct = Arc::new(AtomicU32::new(0));
        let (cut2, stop2, loss2) = (cut.clone(), stop.clone(), loss_pct.clone());
        std::thread::spawn(move || {
            let mut rng = 0x9E3779B97F4A7C15u64 ^ port as u64;
            let mut other: Option<SocketAddr> = None;
            let mut queue: Vec<(Instant, SocketAddr, Vec<u8>)> = Vec::new();
            let mut buf = [0u8; 65536];
            while !stop2.load(Ordering::Relaxed) {
                if let Ok((n, from)) = sock.recv_from(&mut buf) {
                    let to = if from == target { other } else { other = Some(from); Some(target) };
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let lost = (rng % 100) < loss2.load(Ordering::Relaxed) as u64;
                    if let (Some(to), false, false) = (to, lost, cut2.load(Ordering::Relaxed)) {
                        queue.push((Instant::now() + delay, to, buf[..n].to_vec()));
                    }
                }
                let now = Instant::now();
                queue.retain(|(at, to, data)| {
                    if *at <= now {
                        let _ = sock.send_to(data, to);
                        false
                    } else {
                        true
                    }
                });
            }
        });
        Relay { port, loss_pct, cut, stop }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Passes descriptions and only loopback host candidates, each rewritten to a relay in front
/// of it (created on first sight).
fn relay_signaling(from: &PeerConnection, to: &mut PeerConnection, relays: &Mutex<Vec<Relay>>, got: &mut Vec<DataChannel>) {
    for e in from.poll_events() {
        match e {
            Event::SessionDescription { kind, sdp } => to.set_remote_description(kind.as_str(), &sdp).unwrap(),
            Event::IceCandidate { mid, mline_index, candidate } => {
                let parts: Vec<&str> = candidate.split(' ').collect();
                // candidate:<f> <c> udp <prio> <ip> <port> typ host ...
                if parts.len() < 8 || parts[4] != "127.0.0.1" || parts[7] != "host" {
                    continue;
                }
                let real: SocketAddr = format!("127.0.0.1:{}", parts[5]).parse().unwrap();
                let relay = Relay::start(real, Duration::from_millis(50));
                let mut rewritten = parts.clone();
                let port = relay.port.to_string();
                rewritten[5] = &port;
                to.add_ice_candidate(&mid, mline_index as i64, &rewritten.join(" ")).unwrap();
                relays.lock().unwrap().push(relay);
            }
            Event::DataChannel(ch) => got.push(ch),
        }
    }
}

struct Impaired {
    a: PeerConnection,
    b: PeerConnection,
    relays: Mutex<Vec<Relay>>,
    got_b: Vec<DataChannel>,
}

impl Impaired {
    fn pump(&mut self) {
        let mut ignore = Vec::new();
        relay_signaling(&self.a, &mut self.b, &self.relays, &mut ignore);
        relay_signaling(&self.b, &mut self.a, &self.relays, &mut self.got_b);
    }

    fn wait(&mut self, what: &str, limit: Duration, mut cond: impl FnMut(&Self) -> bool) {
        let start = Instant::now();
        while !cond(self) {
            assert!(start.elapsed() < limit, "timed out: {what}");
            self.pump();
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Two peers with a reliable and an unreliable negotiated channel, connected through relays
/// that delay by 50 ms; then the relays start losing 10 % of packets each way.
fn impaired_pair() -> (Impaired, [DataChannel; 4]) {
    // Loopback only: every path then goes through the relays.
    let config = PeerConfig { mdns: false, bind_addresses: vec!["127.0.0.1:0".parse().unwrap()], ..Default::default() };
    let mut a = PeerConnection::new(config.clone(), PeerOptions { receive_buffer_bytes: 4 << 20 }).unwrap();
    let mut b = PeerConnection::new(config, PeerOptions { receive_buffer_bytes: 4 << 20 }).unwrap();
    let rel = ChannelConfig { negotiated: true, id: Some(1), ..Default::default() };
    let unrel = ChannelConfig { negotiated: true, id: Some(2), ordered: false, max_retransmits: Some(0), ..Default::default() };
    let chans = [
        a.create_data_channel("r", rel.clone()).unwrap(),
        b.create_data_channel("r", rel).unwrap(),
        a.create_data_channel("u", unrel.clone()).unwrap(),
        b.create_data_channel("u", unrel).unwrap(),
    ];
    a.create_offer().unwrap();
    let mut link = Impaired { a, b, relays: Mutex::new(Vec::new()), got_b: Vec::new() };
    link.wait("connect through the slow relay", Duration::from_secs(30), |_| chans.iter().all(|c| c.ready_state() == ChannelState::Open));
    for r in link.relays.lock().unwrap().iter() {
        r.loss_pct.store(10, Ordering::Relaxed);
    }
    (link, chans)
}

#[test]
fn reliable_delivers_everything_in_order_and_unreliable_keeps_going() {
    let (mut link, [ra, rb, ua, ub]) = impaired_pair();
    let total = 300u32;
    for i in 0..total {
        let mut msg = vec![(i % 251) as u8; 1000];
        msg[..4].copy_from_slice(&i.to_le_bytes());
        ra.send(&msg, false).unwrap();
    }
    let mut got = Vec::new();
    link.wait("every reliable message", Duration::from_secs(60), |_| {
        rb.publish();
        while let Ok(p) = rb.recv() {
            got.push(p.data.to_vec());
        }
        got.len() == total as usize
    });
    for (i, m) in got.iter().enumerate() {
        assert_eq!(u32::from_le_bytes(m[..4].try_into().unwrap()), i as u32, "in order");
        assert!(m[4..].iter().all(|&b| b == (i % 251) as u8), "intact");
    }

    // Unreliable, paced at 50 messages a second: some of each burst is lost for good, and the
    // channel keeps going. How fast it recovers varies a lot (SCTP backs off its retransmission
    // timer after losses: 0-77 % of a burst within 3 s were seen), so each burst waits until
    // nothing new has arrived for 3 s, at most 30 s.
    let mut total_received = 0;
    for burst in 0..2u8 {
        let mut n = 0;
        let mut drain = |link: &mut Impaired, n: &mut u32| {
            ub.publish();
            while ub.recv().is_ok() {
                *n += 1;
            }
            link.pump();
            std::thread::sleep(Duration::from_millis(2));
        };
        for _ in 0..100 {
            ua.send(&[burst; 1000], false).unwrap();
            let next = Instant::now() + Duration::from_millis(20);
            while Instant::now() < next {
                drain(&mut link, &mut n);
            }
        }
        let (start, mut last, mut seen) = (Instant::now(), Instant::now(), n);
        while last.elapsed() < Duration::from_secs(3) && start.elapsed() < Duration::from_secs(30) {
            drain(&mut link, &mut n);
            if n != seen {
                (seen, last) = (n, Instant::now());
            }
        }
        eprintln!("unreliable burst {burst}: {n} of 100 arrived");
        assert!(n > 0, "burst {burst}: nothing arrived: the unreliable channel stopped");
        total_received += n;
    }
    assert!(total_received < 200, "with 10 % loss and no retransmission some messages are lost");
}

#[test]
fn cutting_the_link_takes_both_sides_out_of_connected() {
    let (mut link, _chans) = impaired_pair();
    link.wait("connected", Duration::from_secs(10), |l| l.a.state() == PeerState::Connected && l.b.state() == PeerState::Connected);
    for r in link.relays.lock().unwrap().iter() {
        r.cut.store(true, Ordering::Relaxed);
    }
    let cut_at = Instant::now();
    link.wait("both sides leave CONNECTED within 10 s", Duration::from_secs(10), |l| {
        l.a.state() != PeerState::Connected && l.b.state() != PeerState::Connected
    });
    eprintln!("link cut noticed after {:?}: {:?} / {:?}", cut_at.elapsed(), link.a.state(), link.b.state());
}
