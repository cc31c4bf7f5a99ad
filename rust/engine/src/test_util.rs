//! Helpers for tests and benchmarks of the engine (feature `test-util`, as tokio's): signaling
//! between two connections in one process, an open pair, bounded waits. The engine's own
//! integration tests and `bench/engine` use these instead of each keeping a copy.

use crate::{ChannelConfig, ChannelState, DataChannel, Event, Packet, PeerConfig, PeerConnection, PeerOptions};
use std::time::{Duration, Instant};

/// How long the waits here give a loopback connection before they fail the test.
pub const WAIT: Duration = Duration::from_secs(15);

/// Hands `from`'s descriptions and candidates to `to`; channels `from` received go to `got`.
pub fn pump(from: &PeerConnection, to: &mut PeerConnection, got: &mut Vec<DataChannel>) {
    pump_with(from, to, got, Some);
}

/// [`pump`] with each signaling event passed through `on_the_way` first: it may change the
/// event (rewrite a candidate to a relay, corrupt a fingerprint), note it, or drop it (`None`).
/// Channels are not signaling: they go to `got` unfiltered.
pub fn pump_with(from: &PeerConnection, to: &mut PeerConnection, got: &mut Vec<DataChannel>, mut on_the_way: impl FnMut(Event) -> Option<Event>) {
    for e in from.poll_events() {
        let e = match e {
            Event::DataChannel(ch) => {
                got.push(ch);
                continue;
            }
            e => on_the_way(e),
        };
        match e {
            Some(Event::SessionDescription { kind, sdp }) => to.set_remote_description(kind.as_str(), &sdp).expect("the remote description"),
            Some(Event::IceCandidate { mid, mline_index, candidate }) => to.add_ice_candidate(&mid, mline_index as i64, &candidate).expect("the remote candidate"),
            Some(Event::DataChannel(ch)) => got.push(ch),
            None => {}
        }
    }
}

/// Both directions of [`pump`] at once.
pub fn pump_both(a: &mut PeerConnection, b: &mut PeerConnection, got_a: &mut Vec<DataChannel>, got_b: &mut Vec<DataChannel>) {
    pump(a, b, got_a);
    pump(b, a, got_b);
}

/// `a` offers with the channel `config` (in-band unless negotiated); returns both peers and
/// both ends of the channel once they are open.
pub fn open_pair(config: ChannelConfig) -> (PeerConnection, PeerConnection, DataChannel, DataChannel) {
    let mut a = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).expect("a connection");
    let mut b = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).expect("a connection");
    let ca = a.create_data_channel("c", config.clone()).expect("a channel");
    let negotiated = config.negotiated.then(|| b.create_data_channel("c", config).expect("a channel"));
    a.create_offer().expect("an offer");
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    let start = Instant::now();
    loop {
        pump_both(&mut a, &mut b, &mut got_a, &mut got_b);
        let remote_open = negotiated.as_ref().or(got_b.first()).is_some_and(|c| c.ready_state() == ChannelState::Open);
        if ca.ready_state() == ChannelState::Open && remote_open {
            break;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for the pair to connect");
        std::thread::sleep(Duration::from_millis(2));
    }
    let cb = negotiated.unwrap_or_else(|| got_b.remove(0));
    (a, b, ca, cb)
}

/// Waits (polling every 2 ms, at most [`WAIT`]) until `cond` holds.
pub fn wait_until(mut cond: impl FnMut() -> bool, what: &str) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
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
    got.expect("a packet")
}

/// The first description `pc` reports now, if any (other events are dropped).
fn take_description(pc: &PeerConnection) -> Option<String> {
    pc.poll_events().into_iter().find_map(|e| match e {
        Event::SessionDescription { sdp, .. } => Some(sdp),
        _ => None,
    })
}

/// The first description `pc` reports, waited for.
pub fn wait_for_description(pc: &PeerConnection) -> String {
    let mut sdp = None;
    wait_until(|| { sdp = take_description(pc); sdp.is_some() }, "a local description");
    sdp.expect("a description")
}

/// `sdp` with one hex digit of its SHA-256 fingerprint changed: the DTLS handshake against it
/// fails as it would against an attacker's certificate.
pub fn with_wrong_fingerprint(sdp: String) -> String {
    const FIELD: &str = "a=fingerprint:sha-256 ";
    let at = sdp.find(FIELD).expect("a SHA-256 fingerprint") + FIELD.len();
    let mut bytes = sdp.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("SDP stays ASCII")
}
