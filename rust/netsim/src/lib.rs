//! # netsim: a lossy, slow UDP link in user space
//!
//! A [`Relay`] is a UDP socket that stands in front of one peer and forwards its traffic,
//! losing a share of the packets each way (at random, from a seed, so a run can be repeated)
//! and holding the others for a delay. It exists because the machines this project is tested on
//! have no `netem` qdisc (`tc qdisc add ... netem loss 10% delay 25ms` needs a kernel module and
//! root); a user-space relay needs neither, and both WebRTC stacks of the benchmark (this
//! addon's engine and libdatachannel) cross the same code.
//!
//! Used by the engine's fault tests, by the benchmark runner `bench/engine` (in process) and, through
//! the `netsim-relay` binary (one process per relay, controlled on stdin), by the libdatachannel
//! runner `bench/libdatachannel_bench.py`.
//!
//! # Structure
//! - `relay`: the [`Relay`] handle and its two threads (receive and decide, send when due), counters,
//!   settings changed at run time.
//! - `pipe`: one direction's loss decision and delay queue, with time passed in (tested without
//!   sockets): [`Pipe`], also the engine's link simulator (`initialize({"webrtc_rs": {"simulate": ...}})`).
//! - `rng`: the seedable generator behind the loss.
//!
//! # Putting it between two WebRTC peers
//! Start one relay per host candidate, with that candidate's address as the target, and hand the
//! other peer the candidate with the relay's port instead (drop every other candidate, so no
//! path avoids the relays). Each packet then crosses exactly one relay, so the loss and delay
//! of a direction apply once. Switch the loss on once connected, so setup is not measured.
//!
//! ```
//! use netsim::{Relay, RelayConfig};
//! use std::net::UdpSocket;
//! use std::time::Duration;
//!
//! let peer_a = UdpSocket::bind("127.0.0.1:0").unwrap();
//! let peer_b = UdpSocket::bind("127.0.0.1:0").unwrap();
//! // 25 ms each way; no loss yet.
//! let relay = Relay::start(peer_b.local_addr().unwrap(), RelayConfig::symmetric(0.0, Duration::from_millis(25))).unwrap();
//! peer_a.send_to(b"hello", relay.addr()).unwrap();
//! let mut buf = [0u8; 16];
//! let (n, from) = peer_b.recv_from(&mut buf).unwrap();
//! assert_eq!((&buf[..n], from), (&b"hello"[..], relay.addr()));
//! relay.set_loss_pct(10.0); // from now on 10 % of packets are lost each way
//! assert_eq!(relay.stats().to_target.forwarded, 1);
//! ```
#![warn(missing_docs)]

mod pipe;
mod relay;
mod rng;

/// Locks `m`, going on with the data if a thread panicked while holding it (the held packets
/// stay consistent between statements).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub use pipe::{Held, Pipe};
pub use relay::{Direction, DirectionStats, Impairment, Relay, RelayConfig, RelayStats};


/// The address of an ICE candidate line that a relay can stand in front of: a UDP host
/// candidate on 127.0.0.1 (`candidate:<foundation> <component> udp <priority> 127.0.0.1 <port>
/// typ host ...`). Every other candidate gives `None`; dropping those leaves no path around
/// the relays.
pub fn loopback_host_candidate(candidate: &str) -> Option<std::net::SocketAddr> {
    let parts: Vec<&str> = candidate.split(' ').collect();
    if parts.len() < 8 || !parts[2].eq_ignore_ascii_case("udp") || parts[4] != "127.0.0.1" || parts[7] != "host" {
        return None;
    }
    format!("127.0.0.1:{}", parts[5]).parse().ok()
}

/// The candidate line with its port (the sixth field) replaced, to point a peer at a relay.
pub fn candidate_with_port(candidate: &str, port: u16) -> String {
    let mut parts: Vec<String> = candidate.split(' ').map(String::from).collect();
    if parts.len() > 5 {
        parts[5] = port.to_string();
    }
    parts.join(" ")
}

/// Puts a relay in front of `candidate` if it is a loopback host candidate (see
/// [`loopback_host_candidate`]): returns the relay and the candidate line that points the other
/// peer at it. Every other candidate gives `None` (drop it, so no path avoids the relays).
pub fn relay_in_front(candidate: &str, config: RelayConfig) -> std::io::Result<Option<(Relay, String)>> {
    let Some(real) = loopback_host_candidate(candidate) else { return Ok(None) };
    let relay = Relay::start(real, config)?;
    let line = candidate_with_port(candidate, relay.port());
    Ok(Some((relay, line)))
}

#[cfg(test)]
mod candidate_tests {
    use super::*;

    #[test]
    fn finds_and_rewrites_loopback_host_candidates() {
        let line = "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host generation 0";
        assert_eq!(loopback_host_candidate(line), Some("127.0.0.1:5000".parse().unwrap()));
        assert_eq!(candidate_with_port(line, 6000), "candidate:1 1 udp 2130706431 127.0.0.1 6000 typ host generation 0");
        assert_eq!(loopback_host_candidate("candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host"), None);
        assert_eq!(loopback_host_candidate("candidate:1 1 udp 1694498815 127.0.0.1 5000 typ srflx raddr 0.0.0.0 rport 0"), None);
        assert_eq!(loopback_host_candidate("garbage"), None);
    }
}
