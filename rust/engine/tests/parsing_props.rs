//! Properties of everything the engine parses from the game (or from the remote, through
//! signaling): ICE server URLs and options, channel options, candidates and SDP. Thousands of
//! generated and mutated inputs: none may panic (on the caller's thread or on the runtime),
//! and every refusal carries a message of bounded length.

use engine::test_util;

use engine::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::cell::{Cell, RefCell};
use std::sync::{Arc, Once};

/// Panics on the engine's runtime threads (tokio catches those, so a test would not see them
/// otherwise). A panic on a test's own thread fails that test through proptest; counting it
/// here would fail the other tests of this binary too.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some("webrtc-rs") {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// A refusal a game developer can act on: a message, not a 1 MiB echo of the input.
fn assert_explained(err: &Error) {
    assert!(!err.message().trim().is_empty(), "an error without a message ({:?})", err.kind());
    assert!(err.message().len() <= MAX_MESSAGE_BYTES + 64, "a {}-byte error message", err.message().len());
}

/// Strings a game might pass by mistake or an attacker on purpose: printable, any Unicode,
/// control characters, and long runs.
fn odd_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[ -~]{0,80}",
        any::<String>(),
        ("[a-z:\\[\\]?=@/.0-9-]{0,30}", 0usize..70_000).prop_map(|(s, n)| s.repeat(n / s.len().max(1) / 8 + 1)),
    ]
}

/// Mutations of a valid text: cut, a byte changed, a span repeated, something inserted.
fn mutate(valid: &'static str) -> impl Strategy<Value = String> {
    let len = valid.len();
    prop_oneof![
        (0..=len).prop_map(move |at| valid[..floor(valid, at)].to_string()),
        (0..len.max(1), any::<char>()).prop_map(move |(at, c)| {
            let at = floor(valid, at);
            let mut s = valid.to_string();
            s.insert(at, c);
            s
        }),
        (0..len.max(1), 0..len.max(1), 1usize..50).prop_map(move |(a, b, times)| {
            let (a, b) = (floor(valid, a.min(b)), floor(valid, a.max(b)));
            format!("{}{}{}", &valid[..b], valid[a..b].repeat(times), &valid[b..])
        }),
        (0..len.max(1), odd_text()).prop_map(move |(at, junk)| {
            let at = floor(valid, at);
            format!("{}{}{}", &valid[..at], junk, &valid[at..])
        }),
    ]
}

fn floor(s: &str, at: usize) -> usize {
    (0..=at.min(s.len())).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}

fn peer() -> PeerConnection {
    PeerConnection::new(PeerConfig { mdns: false, ..Default::default() }, PeerOptions::default()).unwrap()
}

#[test]
fn ice_server_urls_and_credentials_never_panic() {
    count_panics();
    let url = prop_oneof![
        odd_text(),
        mutate("turn:turn.example.org:3478?transport=udp"),
        mutate("stun:[2001:db8::1]:19302"),
        mutate("turns:relay.example.org"),
        ("(stun|stuns|turn|turns|STUN|http|)", "[a-z0-9.\\[\\]:-]{0,20}", "(|:[0-9]{0,7})", "(|\\?transport=(udp|tcp|sctp|))")
            .prop_map(|(s, h, p, q)| format!("{s}:{h}{p}{q}")),
    ];
    let secret = || prop_oneof![Just("user".to_string()), odd_text()];
    let server = (prop::collection::vec(url, 0..4), secret(), secret())
        .prop_map(|(urls, username, credential)| IceServer { urls, username, credential });
    let config = (prop::collection::vec(server, 0..4), prop::bool::weighted(0.2)).prop_map(|(ice_servers, relay)| PeerConfig {
        ice_servers,
        ice_transport_policy: if relay { IceTransportPolicy::Relay } else { IceTransportPolicy::All },
        ..Default::default()
    });
    let valid = Cell::new(0);
    runner(3000)
        .run(&config, |config| {
            match config.validate() {
                Ok(warnings) => {
                    valid.set(valid.get() + !config.ice_servers.is_empty() as usize);
                    warnings.warnings().iter().for_each(|w| assert!(w.len() <= MAX_MESSAGE_BYTES + 64));
                }
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{}", e.message());
                    assert_explained(&e);
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!("{} of 3000 configurations with servers valid", valid.get());
    assert!((1..3000).contains(&valid.get()), "the generator reaches both paths");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0);
}

#[test]
fn channel_options_are_accepted_or_refused_with_a_reason() {
    count_panics();
    let pc = RefCell::new(peer());
    let options = (any::<bool>(), prop::option::of(any::<u16>()), any::<bool>(), prop::option::of(any::<u16>()),
                   prop::option::of(any::<u16>()), odd_text(), odd_text());
    runner(3000)
        .run(&options, |(negotiated, id, ordered, life, retransmits, protocol, label)| {
            let config = ChannelConfig { negotiated, id, ordered, max_packet_life_time: life, max_retransmits: retransmits, protocol };
            let created = pc.borrow_mut().create_data_channel(&label, config.clone());
            match created {
                Ok(ch) => {
                    assert!(config.validate().is_ok());
                    assert_eq!(ch.label(), label);
                    assert_eq!(ch.max_retransmits(), retransmits);
                }
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{}", e.message());
                    assert_explained(&e);
                }
            }
            Ok(())
        })
        .unwrap();
    pc.borrow_mut().close();
    assert_eq!(PANICS.load(Ordering::SeqCst), 0);
}

const CANDIDATE: &str = "candidate:1966762133 1 udp 2130706431 192.168.1.7 50000 typ host generation 0 ufrag abcd network-id 1";
const CANDIDATE_V6: &str = "candidate:842163049 1 udp 1677729535 2001:db8::7 61665 typ srflx raddr 0.0.0.0 rport 0 generation 0";
const CANDIDATE_MDNS: &str = "candidate:3 1 UDP 2122252543 9b36eaac-bb2e-49bb-bb78-21c41c499900.local 44323 typ host";
const CANDIDATE_RELAY: &str = "candidate:4 1 udp 16777215 203.0.113.5 3478 typ relay raddr 198.51.100.2 rport 5000";

#[test]
fn remote_candidates_are_accepted_or_refused_with_a_reason() {
    count_panics();
    // Before and after the remote description: early candidates are kept and applied later,
    // so both paths of the task see them.
    let (mut offerer, answerer) = (peer(), RefCell::new(peer()));
    let _ch = offerer.create_data_channel("c", ChannelConfig::default()).unwrap();
    offerer.create_offer().unwrap();
    let candidate = prop_oneof![
        odd_text(),
        mutate(CANDIDATE),
        mutate(CANDIDATE_V6),
        mutate(CANDIDATE_MDNS),
        mutate(CANDIDATE_RELAY),
    ];
    let case = (odd_text(), -3i64..70_000, candidate);
    let accepted = Cell::new(0);
    let run = |cases: u32| {
        runner(cases)
            .run(&case, |(mid, index, candidate)| {
                let added = answerer.borrow_mut().add_ice_candidate(&mid, index, &candidate);
                match added {
                    Ok(()) => {
                        assert!((0..=65535).contains(&index));
                        accepted.set(accepted.get() + 1);
                    }
                    Err(e) => {
                        assert!(matches!(e.kind(), ErrorKind::InvalidParameter | ErrorKind::Failed), "{:?}: {}", e.kind(), e.message());
                        assert_explained(&e);
                    }
                }
                Ok(())
            })
            .unwrap()
    };
    run(1500);
    let offer = test_util::wait_for_description(&offerer);
    answerer.borrow_mut().set_remote_description("offer", &offer).unwrap();
    run(1500);
    eprintln!("{} of 3000 candidates accepted", accepted.get());
    assert!((1..3000).contains(&accepted.get()), "the mutations reach both paths");
    // The runtime is still well: a fresh pair connects and exchanges a message.
    let (_a, _b, ca, cb) = test_util::open_pair(ChannelConfig::default());
    ca.send(b"still fine", false).unwrap();
    assert_eq!(&test_util::recv_wait(&cb).data[..], b"still fine");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a panic in the engine or webrtc-rs (see the output above)");
}

/// A real offer and a real answer of two webrtc-rs peers, the base of the SDP mutations.
fn real_descriptions() -> (String, String) {
    let (mut a, mut b) = (peer(), peer());
    let _ch = a.create_data_channel("c", ChannelConfig::default()).unwrap();
    a.create_offer().unwrap();
    let offer = test_util::wait_for_description(&a);
    b.set_remote_description("offer", &offer).unwrap();
    let answer = test_util::wait_for_description(&b);
    (offer, answer)
}

/// Line-level mutations of SDP: lines dropped, duplicated (whole m= sections too), reordered,
/// or their values replaced with absurd ones.
fn mutate_sdp(sdp: String) -> impl Strategy<Value = String> {
    let lines: Arc<Vec<String>> = Arc::new(sdp.lines().map(str::to_string).collect());
    let n = lines.len();
    let absurd = prop_oneof![
        Just("a=max-message-size:0".to_string()),
        Just("a=max-message-size:18446744073709551616".to_string()),
        Just("a=max-message-size:-1".to_string()),
        Just("a=sctp-port:0".to_string()),
        Just("a=sctp-port:99999999".to_string()),
        Just("m=application 9 UDP/DTLS/SCTP webrtc-datachannel".to_string()),
        Just("m=audio 9 UDP/TLS/RTP/SAVPF 111".to_string()),
        Just("a=fingerprint:sha-256 00".to_string()),
        Just("a=fingerprint:md5 ".to_string()),
        Just("a=setup:holdconn".to_string()),
        Just("a=ice-ufrag:".to_string()),
        Just("a=mid:".to_string()),
        Just("a=group:BUNDLE 0 0 0 1 2".to_string()),
        Just("c=IN IP6 ::ffff:999.1.1.1".to_string()),
        "a=[a-z-]{1,12}:.{0,30}",
        odd_text(),
    ];
    let edits = prop::collection::vec((0..n, 0..4u8, absurd), 1..6);
    edits.prop_map(move |edits| {
        let mut out: Vec<String> = lines.as_ref().clone();
        for (at, op, text) in edits {
            let at = at.min(out.len().saturating_sub(1));
            match op {
                0 if !out.is_empty() => {
                    out.remove(at);
                }
                1 => {
                    let repeated = out[at..].to_vec();
                    out.extend(repeated);
                }
                2 => out.insert(at, text),
                _ => {
                    if let Some(line) = out.get_mut(at) {
                        *line = text;
                    }
                }
            }
        }
        out.join("\r\n") + "\r\n"
    })
}

#[test]
fn remote_answers_are_applied_or_refused_with_a_reason() {
    count_panics();
    let (_, answer) = real_descriptions();
    let sdp = prop_oneof![4 => mutate_sdp(answer), 1 => odd_text()];
    // A fresh offerer per answer, so each outcome is seen: fewer cases.
    let applied = Cell::new(0);
    runner(400)
        .run(&sdp, |sdp| {
            let mut pc = peer();
            let _ch = pc.create_data_channel("c", ChannelConfig::default()).unwrap();
            pc.create_offer().unwrap();
            match pc.set_remote_description("answer", &sdp) {
                Ok(()) => {
                    // webrtc-rs applies it (signaling back to stable) or the connection fails,
                    // saying why: never a hang.
                    test_util::wait_until(
                        || pc.signaling_state() == SignalingState::Stable || pc.state() == PeerState::Failed,
                        "the answer applied or FAILED",
                    );
                    applied.set(applied.get() + (pc.state() != PeerState::Failed) as usize);
                }
                Err(e) => {
                    assert!(matches!(e.kind(), ErrorKind::InvalidParameter | ErrorKind::Failed), "{:?}: {}", e.kind(), e.message());
                    assert_explained(&e);
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!("{} of 400 mutated answers were applied", applied.get());
    assert!((1..400).contains(&applied.get()), "the mutations reach both paths: refused, and applied by webrtc-rs");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a panic in the engine or webrtc-rs (see the output above)");
}

#[test]
fn remote_offers_are_answered_or_refused_with_a_reason() {
    count_panics();
    let (offer, _) = real_descriptions();
    let sdp = prop_oneof![4 => mutate_sdp(offer), 1 => odd_text()];
    // A fresh connection per offer (an offer is only taken in NEW): fewer cases.
    let answered = Cell::new(0);
    runner(300)
        .run(&sdp, |sdp| {
            let mut pc = peer();
            match pc.set_remote_description("offer", &sdp) {
                Ok(()) => {
                    // webrtc-rs answers it or the connection fails, saying why: never a hang.
                    test_util::wait_until(
                        || {
                            let answer = pc.poll_events().into_iter().any(|e| matches!(e, Event::SessionDescription { .. }));
                            answered.set(answered.get() + answer as usize);
                            answer || pc.state() == PeerState::Failed
                        },
                        "an answer or FAILED",
                    );
                }
                Err(e) => {
                    assert!(matches!(e.kind(), ErrorKind::InvalidParameter | ErrorKind::Failed), "{:?}: {}", e.kind(), e.message());
                    assert_explained(&e);
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!("{} of 300 mutated offers were answered", answered.get());
    assert!((1..300).contains(&answered.get()), "the mutations reach both paths: refused, and answered by webrtc-rs");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a panic in the engine or webrtc-rs (see the output above)");
}
