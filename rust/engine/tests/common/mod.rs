//! Helpers shared by the engine's integration tests: signaling in process, and an open pair.
#![allow(dead_code)] // each test binary uses a part

use engine::*;
use std::time::{Duration, Instant};

/// Hands `from`'s descriptions and candidates to `to`; channels `from` received go to `got`.
pub fn pump(from: &PeerConnection, to: &mut PeerConnection, got: &mut Vec<DataChannel>) {
    for e in from.poll_events() {
        match e {
            Event::SessionDescription { kind, sdp } => to.set_remote_description(kind.as_str(), &sdp).unwrap(),
            Event::IceCandidate { mid, mline_index, candidate } => to.add_ice_candidate(&mid, mline_index as i64, &candidate).unwrap(),
            Event::DataChannel(ch) => got.push(ch),
        }
    }
}

/// `a` offers with the channel `config` (in-band unless negotiated); returns both peers and
/// both ends of the channel once they are open.
pub fn open_pair(config: ChannelConfig) -> (PeerConnection, PeerConnection, DataChannel, DataChannel) {
    let mut a = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
    let mut b = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
    let ca = a.create_data_channel("c", config.clone()).unwrap();
    let negotiated = config.negotiated.then(|| b.create_data_channel("c", config).unwrap());
    a.create_offer().unwrap();
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    let start = Instant::now();
    loop {
        pump(&a, &mut b, &mut got_a);
        pump(&b, &mut a, &mut got_b);
        let remote_open = negotiated.as_ref().or(got_b.first()).is_some_and(|c| c.ready_state() == ChannelState::Open);
        if ca.ready_state() == ChannelState::Open && remote_open {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "connect");
        std::thread::sleep(Duration::from_millis(2));
    }
    let cb = negotiated.unwrap_or_else(|| got_b.remove(0));
    (a, b, ca, cb)
}

/// Waits (polling every 2 ms, at most 15 s) until `cond` holds.
pub fn wait_until(mut cond: impl FnMut() -> bool, what: &str) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(15), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The next packet of `ch`, waited for.
pub fn recv_wait(ch: &DataChannel) -> Packet {
    let mut got = None;
    wait_until(
        || {
            ch.publish();
            got = ch.recv().ok();
            got.is_some()
        },
        "a packet",
    );
    got.unwrap()
}

/// The first description `pc` reports now, if any (other events are dropped).
pub fn take_description(pc: &PeerConnection) -> Option<String> {
    pc.poll_events().into_iter().find_map(|e| match e {
        Event::SessionDescription { sdp, .. } => Some(sdp),
        _ => None,
    })
}

/// The first description `pc` reports, waited for.
pub fn wait_for_description(pc: &PeerConnection) -> String {
    let mut sdp = None;
    wait_until(|| { sdp = take_description(pc); sdp.is_some() }, "a local description");
    sdp.unwrap()
}
