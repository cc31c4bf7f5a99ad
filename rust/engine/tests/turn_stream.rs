//! TURN over TCP and TLS through coturn listening on TCP and TLS only (`--no-udp`: no UDP
//! reaches the TURN server; the relayed addresses are UDP, as always), both peers relay-only.
//! coturn is Debian's `turnserver`, taken from `WEBRTC_RS_TURNSERVER` or `PATH`: the tests are
//! `#[ignore]`d under a plain `cargo test`; `cargo xtask test` installs coturn and runs them.

use engine::test_util::{pump, recv_wait, wait_until};
use engine::*;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const USER: &str = "player";
const PASSWORD: &str = "secret";

/// coturn on 127.0.0.1 with a TCP and a TLS listener and no UDP one, its certificate issued
/// by a CA of its own; killed when dropped.
struct Coturn {
    child: Child,
    tcp_port: u16,
    tls_port: u16,
    ca_pem: String,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn turnserver() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("WEBRTC_RS_TURNSERVER") {
        return Some(path.into());
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join("turnserver")).find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

/// A CA and a certificate for 127.0.0.1 it issued, written into `dir` for coturn.
fn certificates(dir: &Path) -> String {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&key, &ca).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    ca.pem()
}

/// coturn for the test `name`.
fn coturn(name: &str) -> Coturn {
    let turnserver = turnserver().expect("coturn is needed: turnserver on PATH or WEBRTC_RS_TURNSERVER (cargo xtask test installs it)");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("turn_stream").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let ca_pem = certificates(&dir);
    let (tcp_port, tls_port) = (free_port(), free_port());
    let log = std::fs::File::create(dir.join("coturn.log")).unwrap();
    // coturn 4.7+ starts neither DTLS nor its CLI unless asked, and dropped `--no-dtls` and
    // `--no-cli` (Debian 13's 4.6 still needs them).
    let help = Command::new(&turnserver).arg("-h").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned() + &String::from_utf8_lossy(&help.stderr);
    let known = |flag: &&&str| help.lines().any(|l| l.split_whitespace().next() == Some(**flag));
    let child = Command::new(&turnserver)
        .args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--lt-cred-mech", "--realm=webrtc-rs.test"])
        .arg(format!("--user={USER}:{PASSWORD}"))
        .arg(format!("--listening-port={tcp_port}"))
        .arg(format!("--tls-listening-port={tls_port}"))
        .arg(format!("--cert={}", dir.join("cert.pem").display()))
        .arg(format!("--pkey={}", dir.join("key.pem").display()))
        // Clients reach it over TCP and TLS only; peers are on loopback, which coturn refuses
        // to relay to unless told.
        .args(["--no-udp", "--allow-loopback-peers", "--log-file=stdout", "--simple-log"])
        .args(["--no-dtls", "--no-cli"].iter().filter(known))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let server = Coturn { child, tcp_port, tls_port, ca_pem };
    wait_until(
        || [tcp_port, tls_port].iter().all(|p| TcpStream::connect((Ipv4Addr::LOCALHOST, *p)).is_ok()),
        "coturn's TCP and TLS listeners",
    );
    server
}

fn relay_only(url: &str, password: &str, ca_pem: Option<&str>) -> PeerConfig {
    PeerConfig {
        ice_servers: vec![IceServer { urls: vec![url.to_string()], username: USER.into(), credential: password.into() }],
        ice_transport_policy: IceTransportPolicy::Relay,
        mdns: false,
        turn_ca_pem: ca_pem.map(str::to_string),
        ..Default::default()
    }
}

/// Two relay-only peers through `url`: connected, a channel open on both ends, the selected
/// pairs relayed; then messages both ways.
fn connects_through(url: &str, ca_pem: Option<&str>) {
    let config = relay_only(url, PASSWORD, ca_pem);
    let mut a = PeerConnection::new(config.clone(), PeerOptions::default()).unwrap();
    let mut b = PeerConnection::new(config, PeerOptions::default()).unwrap();
    let ca = a.create_data_channel("c", ChannelConfig::default()).unwrap();
    a.create_offer().unwrap();
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    let start = Instant::now();
    wait_until(
        || {
            pump(&a, &mut b, &mut got_a);
            pump(&b, &mut a, &mut got_b);
            ca.ready_state() == ChannelState::Open && got_b.first().is_some_and(|c| c.ready_state() == ChannelState::Open)
        },
        "the channel to open through TURN",
    );
    println!("{url}: channel open after {} ms", start.elapsed().as_millis());
    let cb = got_b.remove(0);
    for pc in [&a, &b] {
        wait_until(|| pc.stats().local_candidate.is_some_and(|c| c.candidate_type == "relay"), "a relayed selected pair");
    }
    for i in 0..20u8 {
        ca.send(&[i; 1000], false).unwrap();
        cb.send(&[i, 1], false).unwrap();
    }
    for i in 0..20u8 {
        assert_eq!(recv_wait(&cb).data.as_ref(), &[i; 1000]);
        assert_eq!(recv_wait(&ca).data.as_ref(), &[i, 1]);
    }
    assert_eq!(a.state(), PeerState::Connected);
}

/// A relay-only peer that cannot get an allocation from `url` ends FAILED, for `reason`.
fn fails_through(url: &str, password: &str, ca_pem: Option<&str>, reason: FailureReason) {
    let mut a = PeerConnection::new(relay_only(url, password, ca_pem), PeerOptions::default()).unwrap();
    let _ch = a.create_data_channel("c", ChannelConfig::default()).unwrap();
    a.create_offer().unwrap();
    let start = Instant::now();
    wait_until(|| a.state() == PeerState::Failed, "STATE_FAILED");
    println!("{url}: FAILED after {} ms", start.elapsed().as_millis());
    assert_eq!(a.failure_reason(), Some(reason), "{url}");
}

#[test]
#[ignore = "needs coturn (turnserver on PATH or WEBRTC_RS_TURNSERVER): cargo xtask test installs it and runs these"]
fn relay_only_over_turn_tcp_connects() {
    let turn = coturn("tcp");
    connects_through(&format!("turn:127.0.0.1:{}?transport=tcp", turn.tcp_port), None);
}

#[test]
#[ignore = "needs coturn (turnserver on PATH or WEBRTC_RS_TURNSERVER): cargo xtask test installs it and runs these"]
fn relay_only_over_turn_tls_connects() {
    let turn = coturn("tls");
    connects_through(&format!("turns:127.0.0.1:{}", turn.tls_port), Some(&turn.ca_pem));
}

#[test]
#[ignore = "needs coturn (turnserver on PATH or WEBRTC_RS_TURNSERVER): cargo xtask test installs it and runs these"]
fn wrong_credentials_over_turn_tcp_and_tls_end_failed() {
    let turn = coturn("wrong-credentials");
    fails_through(&format!("turn:127.0.0.1:{}?transport=tcp", turn.tcp_port), "wrong", None, FailureReason::TurnAuth);
    fails_through(&format!("turns:127.0.0.1:{}", turn.tls_port), "wrong", Some(&turn.ca_pem), FailureReason::TurnAuth);
}
#[test]
#[ignore = "needs coturn (turnserver on PATH or WEBRTC_RS_TURNSERVER): cargo xtask test installs it and runs these"]
fn turn_tls_server_not_trusted_ends_failed() {
    let turn = coturn("untrusted");
    // Its CA is neither the platform's nor handed in: the certificate is refused.
    fails_through(&format!("turns:127.0.0.1:{}", turn.tls_port), PASSWORD, None, FailureReason::TurnCertificate);
}

#[test]
fn turn_server_that_never_answers_ends_failed() {
    // A UDP port that takes everything and answers nothing: webrtc-rs's own UDP path, the
    // same end as a stream server that cannot be reached.
    let silent = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    fails_through(&format!("turn:{}", silent.local_addr().unwrap()), PASSWORD, None, FailureReason::TurnUnreachable);
}

#[test]
fn turn_tcp_url_where_nothing_listens_is_turn_unreachable() {
    // A port nobody listens on: the stand-in's connection is refused.
    fails_through(&format!("turn:127.0.0.1:{}?transport=tcp", free_port()), PASSWORD, None, FailureReason::TurnUnreachable);
}
