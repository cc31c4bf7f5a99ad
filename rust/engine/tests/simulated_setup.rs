//! Connection setup through the link simulator's loss: every handshake (ICE, DTLS, SCTP) must
//! recover from lost datagrams, so a pair at 10 % loss each way opens its channels. (A DTLS
//! flight lost at the wrong moment once stranded a pair forever: vendor patch 0031.)

use engine::test_util::pump;
use engine::*;
use std::time::{Duration, Instant};

fn lossy(loss_percent: f64) -> PeerConfig {
    PeerConfig { simulate: Some(Simulation { delay_ms: 20.0, jitter_ms: 0.0, loss_percent }), ..PeerConfig::default() }
}

/// Sets up a pair with negotiated channels at `loss_percent`; returns how long the channels
/// took to open, or the states they were stuck in after `limit`.
fn setup(loss_percent: f64, limit: Duration) -> std::result::Result<Duration, String> {
    let mut a = PeerConnection::new(lossy(loss_percent), PeerOptions::default()).unwrap();
    let mut b = PeerConnection::new(lossy(loss_percent), PeerOptions::default()).unwrap();
    let config = ChannelConfig { negotiated: true, id: Some(1), ..ChannelConfig::default() };
    let ca = a.create_data_channel("r", config.clone()).unwrap();
    let cb = b.create_data_channel("r", config).unwrap();
    a.create_offer().unwrap();
    let start = Instant::now();
    let (mut ga, mut gb) = (Vec::new(), Vec::new());
    let mut seen = Vec::new();
    while start.elapsed() < limit {
        pump(&a, &mut b, &mut ga);
        pump(&b, &mut a, &mut gb);
        let now = (a.state(), b.state(), ca.ready_state(), cb.ready_state());
        if seen.last() != Some(&now) {
            seen.push(now);
            eprintln!("  {:>6} ms  a {:?} b {:?} channels {:?} {:?}", start.elapsed().as_millis(), now.0, now.1, now.2, now.3);
        }
        if ca.ready_state() == ChannelState::Open && cb.ready_state() == ChannelState::Open {
            return Ok(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Err(format!("stuck after {limit:?}: {:?}", seen.last()))
}

const ROUNDS: usize = 12;

/// `LOSS=20 cargo test --test simulated_setup -- --nocapture` (and `VERBOSE=1` for
/// webrtc-rs's log of a pair that did not open) explores harsher paths.
#[test]
fn pairs_connect_through_ten_percent_loss() {
    engine::install_logging(std::env::var("VERBOSE").is_ok());
    let mut stuck = Vec::new();
    for round in 0..ROUNDS {
        match setup(std::env::var("LOSS").map_or(10.0, |v| v.parse().unwrap()), Duration::from_secs(25)) {
            Ok(took) => {
                eprintln!("round {round}: open after {} ms", took.as_millis());
                engine::drain_log();
            }
            Err(e) => {
                eprintln!("round {round}: {e}");
                for line in engine::drain_log() {
                    eprintln!("    log {:?} {}: {}", line.level, line.target, line.message);
                }
                stuck.push(e);
            }
        }
    }
    assert!(stuck.is_empty(), "{} of {ROUNDS} pairs did not open: {stuck:?}", stuck.len());
}
