//! Network faults between two connections: a lossy, slow UDP relay on 127.0.0.1 (50 ms delay, and
//! once connected 10 % loss each way) stands between them. This kernel has no `netem` qdisc, so the
//! impairment is done in user space by `netsim` (rust/netsim, also used by the benchmark): each
//! peer's loopback candidate is rewritten to a relay's port, and the relay forwards, drops and
//! delays. A reliable channel must deliver every byte in order, an unreliable one loses some and
//! keeps going, and cutting the link takes both out of CONNECTED.

use engine::*;
use engine::test_util;
use netsim::{Relay, RelayConfig};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Passes descriptions and only loopback host candidates, each rewritten to a relay in front
/// of it (created on first sight).
fn relay_signaling(from: &PeerConnection, to: &mut PeerConnection, relays: &Mutex<Vec<Relay>>, got: &mut Vec<DataChannel>, sdps: &mut Vec<String>) {
    test_util::pump_with(from, to, got, |e| match e {
        Event::SessionDescription { ref sdp, .. } => {
            sdps.push(sdp.clone());
            Some(e)
        }
        Event::IceCandidate { mid, mline_index, candidate } => {
            let mut relays = relays.lock().unwrap();
            // 50 ms each way, no loss until connected; a seed per relay, so they differ.
            let config = RelayConfig::symmetric(0.0, Duration::from_millis(50)).seed(relays.len() as u64 + 1);
            let (relay, candidate) = netsim::relay_in_front(&candidate, config).unwrap()?;
            relays.push(relay);
            Some(Event::IceCandidate { mid, mline_index, candidate })
        }
        e => Some(e),
    });
}

struct Impaired {
    a: PeerConnection,
    b: PeerConnection,
    relays: Mutex<Vec<Relay>>,
    got_b: Vec<DataChannel>,
    /// Every description either side sent, in order.
    sdps: Vec<String>,
}

impl Impaired {
    fn pump(&mut self) {
        let mut ignore = Vec::new();
        relay_signaling(&self.a, &mut self.b, &self.relays, &mut ignore, &mut self.sdps);
        relay_signaling(&self.b, &mut self.a, &self.relays, &mut self.got_b, &mut self.sdps);
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
    let (link, chans) = slow_pair(PeerOptions { receive_buffer_bytes: 4 << 20 });
    for r in link.relays.lock().unwrap().iter() {
        r.set_loss_pct(10.0);
    }
    (link, chans)
}

/// The same pair before the loss starts, with `options` on both sides.
fn slow_pair(options: PeerOptions) -> (Impaired, [DataChannel; 4]) {
    // Loopback only: every path then goes through the relays.
    let config = PeerConfig { mdns: false, bind_addresses: vec!["127.0.0.1:0".parse().unwrap()], ..Default::default() };
    let mut a = PeerConnection::new(config.clone(), options.clone()).unwrap();
    let mut b = PeerConnection::new(config, options).unwrap();
    let rel = ChannelConfig { negotiated: true, id: Some(1), ..Default::default() };
    let unrel = ChannelConfig { negotiated: true, id: Some(2), ordered: false, max_retransmits: Some(0), ..Default::default() };
    let chans = [
        a.create_data_channel("r", rel.clone()).unwrap(),
        b.create_data_channel("r", rel).unwrap(),
        a.create_data_channel("u", unrel.clone()).unwrap(),
        b.create_data_channel("u", unrel).unwrap(),
    ];
    a.create_offer().unwrap();
    let mut link = Impaired { a, b, relays: Mutex::new(Vec::new()), got_b: Vec::new(), sdps: Vec::new() };
    link.wait("connect through the slow relay", Duration::from_secs(30), |_| chans.iter().all(|c| c.ready_state() == ChannelState::Open));
    (link, chans)
}

/// A game that reads only once its connection has failed still gets what had arrived: the
/// messages webrtc-rs held beyond the full receive queue were dropped as the failure closed
/// the channels (data SCTP had acknowledged, lost without a count); now they stay readable,
/// as after a remote close.
#[test]
fn messages_received_before_a_failure_stay_readable() {
    let (mut link, chans) = slow_pair(PeerOptions { receive_buffer_bytes: 64 << 10 });
    let [ra, rb, _, _] = &chans;
    let message = vec![7u8; 16 << 10];
    for _ in 0..128 {
        ra.send(&message, false).unwrap();
    }
    // b reads nothing: 64 KiB fill its queue, the rest waits in webrtc-rs and SCTP.
    let start = Instant::now();
    link.wait("2 s of traffic", Duration::from_secs(5), |_| start.elapsed() > Duration::from_secs(2));
    for r in link.relays.lock().unwrap().iter() {
        r.cut();
    }
    link.wait("b fails", Duration::from_secs(60), |l| l.b.state() == PeerState::Failed);
    assert_eq!(rb.ready_state(), ChannelState::Closed);
    rb.publish();
    let mut readable = 0;
    while let Ok(p) = rb.recv() {
        assert_eq!(p.data.len(), message.len());
        readable += 1;
    }
    eprintln!("{readable} messages of 16 KiB readable after the failure (the queue holds 4)");
    assert!(readable > 8, "only {readable} messages readable: what webrtc-rs had received past the full queue was dropped");
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
    // The sender's stats show the loss it repaired.
    link.wait("the retransmissions in the sender's stats", Duration::from_secs(5), |l| l.a.stats().retransmissions > 0);

    // Unreliable, paced at 50 messages a second: some of each burst is lost for good, and the
    // channel keeps going. How fast it recovers varies a lot (SCTP backs off its retransmission
    // timer after losses: 0-77 % of a burst within 3 s were seen), so each burst waits until
    // nothing new has arrived for 3 s, at most 30 s.
    let mut total_received = 0;
    for burst in 0..2u8 {
        let mut n = 0;
        let drain = |link: &mut Impaired, n: &mut u32| {
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

/// A reliable and an unreliable stream at 60 Hz on one connection, through 10 % loss: every
/// reliable message arrives, in order, and unreliable messages keep arriving while a reliable
/// one is being retransmitted: at least one unreliable message sent after a reliable one
/// arrives before it (no head-of-line blocking across streams, in SCTP's sender or receiver).
#[test]
fn unreliable_overtakes_a_retransmitting_reliable_stream() {
    let (mut link, [ra, rb, ua, ub]) = impaired_pair();
    let start = Instant::now();
    let total = 300u32; // 5 s at 60 Hz
    // (sequence, send time) of each stream, and each message's arrival time.
    let mut reliable_arrived: Vec<Option<Instant>> = vec![None; total as usize];
    let mut unreliable_sent: Vec<Instant> = Vec::new();
    let mut unreliable_arrived: Vec<(u32, Instant)> = Vec::new();
    let mut reliable_sent: Vec<Instant> = Vec::new();
    let mut next_reliable = 0u32;
    let mut in_order = true;
    let deadline = start + Duration::from_secs(60);
    while (next_reliable as usize) < reliable_arrived.len() {
        let due = (start.elapsed().as_secs_f64() * 60.0) as u32;
        while (reliable_sent.len() as u32) < due.min(total) {
            let i = reliable_sent.len() as u32;
            ra.send(&i.to_le_bytes(), false).unwrap();
            ua.send(&i.to_le_bytes(), false).unwrap();
            reliable_sent.push(Instant::now());
            unreliable_sent.push(Instant::now());
        }
        rb.publish();
        ub.publish();
        while let Ok(p) = rb.recv() {
            let i = u32::from_le_bytes(p.data[..4].try_into().unwrap());
            in_order &= i == next_reliable;
            reliable_arrived[i as usize] = Some(Instant::now());
            next_reliable += 1;
        }
        while let Ok(p) = ub.recv() {
            unreliable_arrived.push((u32::from_le_bytes(p.data[..4].try_into().unwrap()), Instant::now()));
        }
        link.pump();
        assert!(Instant::now() < deadline, "only {next_reliable} of {total} reliable messages arrived");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(in_order, "reliable messages in order");
    let overtakes = unreliable_arrived
        .iter()
        .filter(|&&(j, at)| (0..total).any(|i| unreliable_sent[j as usize] > reliable_sent[i as usize] && reliable_arrived[i as usize].is_some_and(|r| at < r)))
        .count();
    eprintln!(
        "{} of {total} unreliable arrived; {overtakes} of them overtook a reliable message sent before them",
        unreliable_arrived.len()
    );
    assert!(overtakes > 0, "unreliable messages waited behind every retransmitted reliable one");
    assert!(!unreliable_arrived.is_empty() && unreliable_arrived.len() < total as usize, "10 % loss, no retransmission: some lost, most arrive");
}

#[test]
fn cutting_the_link_takes_both_sides_out_of_connected() {
    let (mut link, _chans) = impaired_pair();
    link.wait("connected", Duration::from_secs(10), |l| l.a.state() == PeerState::Connected && l.b.state() == PeerState::Connected);
    for r in link.relays.lock().unwrap().iter() {
        r.cut();
    }
    let cut_at = Instant::now();
    link.wait("both sides leave CONNECTED within 10 s", Duration::from_secs(10), |l| {
        l.a.state() != PeerState::Connected && l.b.state() != PeerState::Connected
    });
    eprintln!("link cut noticed after {:?}: {:?} / {:?}", cut_at.elapsed(), link.a.state(), link.b.state());
}

/// The player's network breaks (every relay cut, for good) while the game keeps sending; the
/// game restarts ICE once the connection is DISCONNECTED, and the new candidates give a new
/// path: the reliable channel stays open and everything sent before, during and after the
/// outage arrives in order.
#[test]
fn restarting_ice_after_an_outage_keeps_the_channels_and_their_data() {
    let (mut link, chans) = impaired_pair();
    for r in link.relays.lock().unwrap().iter() {
        r.set_loss_pct(0.0);
    }
    let [ra, rb, _, _] = &chans;
    link.wait("connected", Duration::from_secs(10), |l| l.a.state() == PeerState::Connected && l.b.state() == PeerState::Connected);
    let ufrag = |sdp: &String| sdp.lines().find_map(|l| l.strip_prefix("a=ice-ufrag:")).map(str::to_string);
    let first_offer = ufrag(&link.sdps[0]);
    let mut next = 0u32;
    let mut send = |n: u32| {
        for _ in 0..n {
            ra.send(&next.to_be_bytes(), false).unwrap();
            next += 1;
        }
    };
    send(50);
    for r in link.relays.lock().unwrap().iter() {
        r.cut();
    }
    send(50); // during the outage
    link.wait("a notices the outage", Duration::from_secs(15), |l| l.a.state() == PeerState::Disconnected);
    assert_eq!(link.a.signaling_state(), SignalingState::Stable);
    link.a.restart_ice().expect("restart_ice once disconnected");
    assert_eq!(link.a.restart_ice().unwrap_err().kind(), ErrorKind::Unconfigured, "not again before the answer");
    // The old path stays cut: the peers can only meet again through the candidates of the
    // restart (trickled ones get a fresh relay each; those inside the restart offer, gathered
    // by then, are a direct path, as a new network would give new addresses).
    let old_relays = link.relays.lock().unwrap().len();
    send(50); // after it
    let mut got = Vec::new();
    link.wait("everything arrives after the restart", Duration::from_secs(30), |l| {
        rb.publish();
        while let Ok(p) = rb.recv() {
            got.push(u32::from_be_bytes(p.data[..4].try_into().unwrap()));
        }
        got.len() == 150 && l.a.state() == PeerState::Connected && l.b.state() == PeerState::Connected
    });
    assert_eq!(got, (0..150).collect::<Vec<_>>(), "in order, none lost");
    assert_eq!(ra.ready_state(), ChannelState::Open, "the channel was kept");
    assert_eq!(link.sdps.len(), 4, "offer, answer, restart offer, its answer");
    assert!(
        link.relays.lock().unwrap().len() > old_relays || link.sdps[2].contains("a=candidate:"),
        "the restart brought candidates (trickled or in its offer)"
    );
    assert_ne!(ufrag(&link.sdps[2]), first_offer, "the restart offer has new ICE credentials");
}
