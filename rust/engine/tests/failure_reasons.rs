//! Each `FailureReason` produced for real: an altered DTLS fingerprint, remote candidates that
//! never answer, a peer that vanishes once connected (its path cut by a netsim relay, as a
//! killed process looks from the other side), and TURN over UDP with wrong credentials (coturn,
//! from `WEBRTC_RS_TURNSERVER` or `PATH`: these tests fail without it) or where nothing answers.
//! The TURN over TCP/TLS reasons are in `turn_stream.rs`.

use engine::test_util::{self, pump, wait_until};
use engine::*;
use netsim::{Relay, RelayConfig};
use std::net::{Ipv4Addr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Polls until `pc` is FAILED (at most `limit`), checking it has no reason before.
fn wait_failed(pc: &mut PeerConnection, limit: Duration, mut pump: impl FnMut(&mut PeerConnection)) -> Duration {
    let start = Instant::now();
    while pc.state() != PeerState::Failed {
        assert_eq!(pc.failure_reason(), None, "a reason only once FAILED ({:?})", pc.state());
        assert!(start.elapsed() < limit, "not FAILED after {limit:?} ({:?})", pc.state());
        pump(pc);
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

fn loopback_config() -> PeerConfig {
    PeerConfig { mdns: false, bind_addresses: vec!["127.0.0.1:0".parse().unwrap()], ..Default::default() }
}

#[test]
fn an_altered_fingerprint_is_dtls_fingerprint() {
    let mut a = PeerConnection::new(loopback_config(), PeerOptions::default()).unwrap();
    let mut b = PeerConnection::new(loopback_config(), PeerOptions::default()).unwrap();
    let _ca = a.create_data_channel("c", ChannelConfig::default()).unwrap();
    a.create_offer().unwrap();
    let took = wait_failed(&mut a, Duration::from_secs(10), |a| {
        let mut ignore = Vec::new();
        pump(a, &mut b, &mut ignore);
        test_util::pump_with(&b, a, &mut ignore, |e| match e {
            Event::SessionDescription { kind, sdp } => Some(Event::SessionDescription { kind, sdp: test_util::with_wrong_fingerprint(sdp) }),
            e => Some(e),
        });
    });
    println!("dtls_fingerprint after {took:?}");
    assert_eq!(a.failure_reason(), Some(FailureReason::DtlsFingerprint));
}

#[test]
fn remote_candidates_that_never_answer_are_ice_failed() {
    let mut a = PeerConnection::new(loopback_config(), PeerOptions::default()).unwrap();
    let mut b = PeerConnection::new(loopback_config(), PeerOptions::default()).unwrap();
    let _ca = a.create_data_channel("c", ChannelConfig::default()).unwrap();
    // Takes every datagram and answers none.
    let silent = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = silent.local_addr().unwrap().port();
    a.create_offer().unwrap();
    let mut sent_fake = false;
    let took = wait_failed(&mut a, Duration::from_secs(60), |a| {
        // Descriptions both ways, candidates neither: A only knows the silent one.
        for e in a.poll_events() {
            if let Event::SessionDescription { kind, sdp } = e {
                b.set_remote_description(kind.as_str(), &sdp).unwrap();
            }
        }
        for e in b.poll_events() {
            if let Event::SessionDescription { kind, sdp } = e {
                a.set_remote_description(kind.as_str(), &sdp).unwrap();
                if !sent_fake {
                    a.add_ice_candidate("0", 0, &format!("candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host")).unwrap();
                    sent_fake = true;
                }
            }
        }
    });
    println!("ice_failed after {took:?}");
    assert_eq!(a.failure_reason(), Some(FailureReason::IceFailed));
}

/// Signaling from `from` to `to`, every path through a relay in front of each loopback
/// candidate (the others dropped).
fn relay_pump(from: &PeerConnection, to: &mut PeerConnection, relays: &mut Vec<Relay>) {
    test_util::pump_with(from, to, &mut Vec::new(), |e| match e {
        Event::IceCandidate { mid, mline_index, candidate } => {
            let config = RelayConfig::symmetric(0.0, Duration::ZERO).seed(relays.len() as u64 + 1);
            let (relay, candidate) = netsim::relay_in_front(&candidate, config).unwrap()?;
            relays.push(relay);
            Some(Event::IceCandidate { mid, mline_index, candidate })
        }
        e => Some(e),
    });
}

#[test]
fn a_peer_that_vanishes_once_connected_is_consent_lost() {
    let mut a = PeerConnection::new(loopback_config(), PeerOptions::default()).unwrap();
    let mut b = PeerConnection::new(loopback_config(), PeerOptions::default()).unwrap();
    let ca = a.create_data_channel("c", ChannelConfig { negotiated: true, id: Some(1), ..Default::default() }).unwrap();
    let _cb = b.create_data_channel("c", ChannelConfig { negotiated: true, id: Some(1), ..Default::default() }).unwrap();
    a.create_offer().unwrap();
    let mut relays: Vec<Relay> = Vec::new();
    let start = Instant::now();
    while !(a.state() == PeerState::Connected && ca.ready_state() == ChannelState::Open) {
        assert!(start.elapsed() < Duration::from_secs(10), "connect");
        relay_pump(&a, &mut b, &mut relays);
        relay_pump(&b, &mut a, &mut relays);
        std::thread::sleep(Duration::from_millis(2));
    }
    // B vanishes: nothing of it reaches A any more, and B no longer runs.
    for r in &relays {
        r.cut();
    }
    drop(b);
    let took = wait_failed(&mut a, Duration::from_secs(60), |_| {});
    println!("consent_lost after {took:?}");
    assert_eq!(a.failure_reason(), Some(FailureReason::ConsentLost));
}

/// coturn on 127.0.0.1, UDP (and TCP, to see it is up) on one port; killed when dropped.
struct Coturn(Child, u16);

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn coturn_udp() -> Coturn {
    let turnserver = std::env::var_os("WEBRTC_RS_TURNSERVER")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join("turnserver")).find(|p| p.is_file()))
        .expect("coturn is needed: turnserver on PATH or WEBRTC_RS_TURNSERVER (cargo xtask test installs it)");
    let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
    let help = Command::new(&turnserver).arg("-h").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned() + &String::from_utf8_lossy(&help.stderr);
    let known = |flag: &&&str| help.lines().any(|l| l.split_whitespace().next() == Some(**flag));
    let child = Command::new(&turnserver)
        .args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--lt-cred-mech", "--realm=webrtc-rs.test", "--user=player:secret"])
        .arg(format!("--listening-port={port}"))
        .args(["--no-tls", "--allow-loopback-peers"])
        .args(["--no-dtls", "--no-cli"].iter().filter(known))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let turn = Coturn(child, port);
    wait_until(|| TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok(), "coturn's listener");
    turn
}

fn relay_only_fails(url: &str, password: &str) -> (FailureReason, Duration) {
    let config = PeerConfig {
        ice_servers: vec![IceServer { urls: vec![url.to_string()], username: "player".into(), credential: password.into() }],
        ice_transport_policy: IceTransportPolicy::Relay,
        mdns: false,
        ..Default::default()
    };
    let mut a = PeerConnection::new(config, PeerOptions::default()).unwrap();
    let _ch = a.create_data_channel("c", ChannelConfig::default()).unwrap();
    a.create_offer().unwrap();
    let took = wait_failed(&mut a, Duration::from_secs(30), |a| {
        a.poll_events();
    });
    (a.failure_reason().expect("a reason once FAILED"), took)
}

#[test]
#[ignore = "needs coturn (turnserver on PATH or WEBRTC_RS_TURNSERVER): cargo xtask test installs it and runs it"]
fn wrong_turn_credentials_over_udp_are_turn_auth() {
    let turn = coturn_udp();
    let (reason, took) = relay_only_fails(&format!("turn:127.0.0.1:{}", turn.1), "wrong");
    println!("turn_auth after {took:?}");
    assert_eq!(reason, FailureReason::TurnAuth);
}

#[test]
fn a_turn_url_where_nothing_answers_is_turn_unreachable() {
    let silent = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let (reason, took) = relay_only_fails(&format!("turn:{}", silent.local_addr().unwrap()), "secret");
    println!("turn_unreachable after {took:?}");
    assert_eq!(reason, FailureReason::TurnUnreachable);
}
