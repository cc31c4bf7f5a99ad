//! Hostile and careless use of the engine's API: huge inputs get short error messages, a
//! sender that ignores its buffered amount is refused past 16 MiB instead of growing without
//! bound, and a send racing the remote's close is reported once as a warning, not as errors.
//! Its own test binary: the last test reads the process-wide log.

use engine::test_util::{self, pump};
use engine::*;
use std::time::{Duration, Instant};

/// A pair with one negotiated channel `config` on both ends, open.
fn open_pair(config: ChannelConfig) -> (PeerConnection, PeerConnection, DataChannel, DataChannel) {
    test_util::open_pair(ChannelConfig { negotiated: true, id: Some(1), ..config })
}

#[test]
fn huge_inputs_get_short_error_messages() {
    let huge = "x".repeat(1 << 20);
    let config = PeerConfig { ice_servers: vec![IceServer { urls: vec![format!("stun:{huge}")], ..Default::default() }], ..Default::default() };
    let err = PeerConnection::new(config, PeerOptions::default()).unwrap_err();
    assert!(err.message().len() < 300, "URL error is {} bytes", err.message().len());
    let mut pc = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
    for err in [
        pc.add_ice_candidate("0", 0, &format!("candidate:{huge}")).unwrap_err(),
        pc.set_remote_description(&huge, "v=0").unwrap_err(),
        pc.set_remote_description("offer", &huge).unwrap_err(),
        pc.create_data_channel(&huge, ChannelConfig::default()).unwrap_err(),
    ] {
        assert!(!err.message().is_empty() && err.message().len() <= MAX_MESSAGE_BYTES + 64, "an error of {} bytes: {}", err.message().len(), &err.message()[..80]);
    }
}

#[test]
fn a_sender_that_ignores_its_buffered_amount_is_refused_past_16_mib() {
    let (_a, _b, tx, rx) = open_pair(ChannelConfig::default());
    let msg = vec![3u8; 16384];
    let mut accepted = 0u64;
    // The receiver reads nothing, so it holds the sender and the bytes pile up at the sender.
    let err = loop {
        match tx.send(&msg, false) {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted < 10_000, "160 MiB accepted: the send buffer is unbounded");
    };
    assert_eq!(err.kind(), ErrorKind::Busy, "{}", err.message());
    assert!(err.message().contains("16 MiB"), "{}", err.message());
    assert!(tx.buffered_amount() <= MAX_BUFFERED_AMOUNT, "{} bytes buffered", tx.buffered_amount());
    assert!(accepted as usize * msg.len() >= MAX_BUFFERED_AMOUNT - msg.len(), "refused early, at {accepted} messages");
    // Once the receiver reads, every accepted message arrives.
    let mut got = 0u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while got < accepted {
        rx.publish();
        while rx.recv().is_ok() {
            got += 1;
        }
        assert!(Instant::now() < deadline, "{got} of {accepted} arrived");
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(rx.stats().messages_dropped, 0);
}

/// The remote closes a channel while this side still has messages queued for it (a player
/// leaving mid-game): the messages that cannot go are counted, and said once as a warning;
/// no error line, since there is nothing the game could have done.
#[test]
fn sends_racing_the_remote_close_are_one_warning() {
    install_logging(false);
    let mut raced = 0;
    for _attempt in 0..5 {
        let (_a, _b, tx, rx) = open_pair(ChannelConfig::default());
        let _ = drain_log();
        for _ in 0..3000 {
            if tx.send(&[5u8; 1000], false).is_err() {
                break;
            }
        }
        rx.close();
        let start = Instant::now();
        while tx.ready_state() != ChannelState::Closed && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(200));
        let lines = drain_log();
        let errors: Vec<&LogLine> = lines.iter().filter(|l| l.level == LogLevel::Error).collect();
        assert!(errors.is_empty(), "error lines: {errors:?}");
        let unsent = tx.stats().messages_unsent;
        if unsent > 0 {
            let warnings = lines.iter().filter(|l| l.message.contains("closed while messages were queued")).count();
            assert_eq!(warnings, 1, "one warning for {unsent} unsent messages: {lines:?}");
            raced += 1;
            break;
        }
    }
    assert!(raced > 0, "the close never overtook a queued send in 5 attempts, so nothing was checked");
}

/// 10,000 STUN servers (unreachable ones on loopback) are capped with a warning: the connection
/// still forms as fast as any other (it took ~21 s before the cap).
#[test]
fn ten_thousand_stun_servers_are_capped() {
    let servers: Vec<IceServer> = (0..10_000).map(|i| IceServer { urls: vec![format!("stun:127.0.0.1:{}", 1 + i % 60000)], ..Default::default() }).collect();
    let config = PeerConfig { ice_servers: servers, ..Default::default() };
    let checked = config.validate().unwrap();
    let warnings = checked.warnings();
    assert!(warnings.iter().any(|w| w.contains("only the first 32")), "{warnings:?}");
    let mut a = PeerConnection::new(config, PeerOptions::default()).unwrap();
    let mut b = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
    let ca = a.create_data_channel("c", ChannelConfig::default()).unwrap();
    a.create_offer().unwrap();
    let (mut ga, mut gb) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while !(ca.ready_state() == ChannelState::Open && gb.first().is_some_and(|c: &DataChannel| c.ready_state() == ChannelState::Open)) {
        pump(&a, &mut b, &mut ga);
        pump(&b, &mut a, &mut gb);
        assert!(start.elapsed() < Duration::from_secs(10), "not connected after 10 s");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn descriptions_without_ice_credentials_or_fingerprint_and_pranswers_are_refused() {
    let mut a = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
    a.create_data_channel("c", ChannelConfig::default()).unwrap();
    a.create_offer().unwrap();
    let offer = test_util::wait_for_description(&a);
    let without = |prefix: &str| offer.lines().filter(|l| !l.starts_with(prefix)).map(|l| format!("{l}\r\n")).collect::<String>();
    for (attr, sdp) in [("fingerprint", without("a=fingerprint")), ("ice-ufrag", without("a=ice-ufrag")), ("ice-pwd", without("a=ice-pwd"))] {
        let mut b = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
        let err = b.set_remote_description("offer", &sdp).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{attr}: {}", err.message());
        assert!(err.message().contains(attr), "{}", err.message());
    }
    let err = a.set_remote_description("pranswer", &offer).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    assert!(err.message().contains("pranswer"), "{}", err.message());
    let mut b = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
    b.set_remote_description("offer", &offer).expect("the intact offer is accepted");
}

/// One byte of the remote's DTLS fingerprint altered (an attacker, or a signaling path that
/// mangles SDP): the side that checks it must end in FAILED quickly, not hang in CONNECTING.
#[test]
fn a_wrong_dtls_fingerprint_fails_the_connection() {
    let mut a = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
    let mut b = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
    let _ca = a.create_data_channel("c", ChannelConfig::default()).unwrap();
    a.create_offer().unwrap();
    let start = Instant::now();
    let mut states = Vec::new();
    while start.elapsed() < Duration::from_secs(12) {
        let mut ignore = Vec::new();
        pump(&a, &mut b, &mut ignore);
        // One hex digit of B's fingerprint flipped as A sees it.
        test_util::pump_with(&b, &mut a, &mut ignore, |e| match e {
            Event::SessionDescription { kind, sdp } => Some(Event::SessionDescription { kind, sdp: test_util::with_wrong_fingerprint(sdp) }),
            e => Some(e),
        });
        let now = (a.state(), b.state());
        if states.last() != Some(&now) {
            states.push(now);
        }
        if a.state() == PeerState::Failed {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!("states (a, b): {states:?} after {:?}", start.elapsed());
    assert_eq!(a.state(), PeerState::Failed, "the side that verifies the fingerprint");
    assert!(start.elapsed() < Duration::from_secs(5), "FAILED only after {:?}", start.elapsed());
}

/// A closes a channel while B floods it: B's other channel on the same connection keeps
/// carrying messages (a stream reset racing a flood must not wedge the association).
#[test]
fn closing_a_flooded_channel_leaves_the_other_channel_working() {
    for round in 0..3 {
        let mut a = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
        let mut b = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
        let mk = |pc: &mut PeerConnection, id: u16| pc.create_data_channel(&id.to_string(), ChannelConfig { negotiated: true, id: Some(id), ..Default::default() }).unwrap();
        let (a1, a2, b1, b2) = (mk(&mut a, 1), mk(&mut a, 2), mk(&mut b, 1), mk(&mut b, 2));
        a.create_offer().unwrap();
        let mut ignore = Vec::new();
        let start = Instant::now();
        while ![&a1, &a2, &b1, &b2].iter().all(|c| c.ready_state() == ChannelState::Open) {
            pump(&a, &mut b, &mut ignore);
            pump(&b, &mut a, &mut ignore);
            assert!(start.elapsed() < Duration::from_secs(15), "connect");
            std::thread::sleep(Duration::from_millis(2));
        }
        let flood = vec![1u8; 16384];
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(500) {
            while b1.ready_state() == ChannelState::Open && b1.buffered_amount() < 1 << 20 && b1.send(&flood, false).is_ok() {}
            a1.publish();
            while a1.recv().is_ok() {}
            if t.elapsed() > Duration::from_millis(200) && a1.ready_state() == ChannelState::Open {
                a1.close();
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        b2.send(b"still here", false).unwrap();
        let t = Instant::now();
        let got = loop {
            a2.publish();
            if let Ok(p) = a2.recv() {
                break p;
            }
            // Keep flooding what is still open on B's side, as a careless sender would.
            while b1.ready_state() == ChannelState::Open && b1.buffered_amount() < 1 << 20 && b1.send(&flood, false).is_ok() {}
            assert!(t.elapsed() < Duration::from_secs(5), "round {round}: the other channel carried nothing for 5 s after the close (b1 {:?}, a1 {:?})", b1.ready_state(), a1.ready_state());
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(&got.data[..], b"still here");
    }
}
