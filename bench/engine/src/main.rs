//! Benchmark workloads run against the engine through its Rust API, two connections in one
//! process over loopback, at Godot's default settings (`PeerOptions::default()`: 64 KiB of unread
//! data per channel). Prints one JSON object (the same workloads and keys as the GDScript and
//! libdatachannel runners), which `cargo xtask bench` puts side by side.
//!
//! `webrtc-rs-bench [setup|rtt|bulk|unreliable|many|lossy|all]`
//!
//! # Structure
//! - `main`: the loopback workloads (setup, rtt, bulk, unreliable, many).
//! - `lossy`: 60 Hz game traffic through a lossy, slow relay (`netsim`).

mod lossy;

use clap::Parser;
use engine::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// CPU time (user + system) of this process so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given; an all-zero rusage is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer cannot fail.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// Resident memory of this process in bytes (Linux; 0 where it cannot be read).
fn rss() -> u64 {
    procfs::process::Process::myself().and_then(|p| p.status()).ok().and_then(|s| s.vmrss).unwrap_or(0) * 1024
}

/// Two connections with one channel each way open; `config` for the channel.
fn connect(config: ChannelConfig) -> (PeerConnection, PeerConnection, DataChannel, DataChannel, Duration) {
    // Godot's default receive limit: what games run with.
    let mut a = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
    let mut b = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
    let ca = a.create_data_channel("bench", config).unwrap();
    let start = Instant::now();
    a.create_offer().unwrap();
    let (mut ga, mut gb) = (Vec::new(), Vec::new());
    loop {
        test_util::pump_both(&mut a, &mut b, &mut ga, &mut gb);
        if ca.ready_state() == ChannelState::Open && gb.first().is_some_and(|c| c.ready_state() == ChannelState::Open) {
            break;
        }
        assert!(start.elapsed() < WAIT, "connect timed out");
        std::thread::sleep(Duration::from_micros(100));
    }
    let took = start.elapsed();
    let cb = gb.remove(0);
    (a, b, ca, cb, took)
}

/// The value at rank round((n - 1) * p) of `sorted` (the same rank in every runner).
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    percentile(&v, 0.5)
}

/// create_offer until both ends of the channel are open, 10 runs.
fn setup() -> Value {
    let runs: Vec<f64> = (0..10).map(|_| connect(ChannelConfig::default()).4.as_secs_f64() * 1000.0).collect();
    json!({"setup_ms_median": median(runs.clone()), "setup_ms_runs": runs})
}

/// 2000 x 64 B ping-pong on a reliable ordered channel.
fn rtt() -> Value {
    let (a, b, ca, cb, _) = connect(ChannelConfig::default());
    let payload = [7u8; 64];
    let mut samples = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let t = Instant::now();
        ca.send(&payload, false).unwrap();
        let p = loop {
            cb.publish();
            if let Ok(p) = cb.recv() {
                break p;
            }
            std::hint::spin_loop();
        };
        cb.send(&p.data, false).unwrap();
        loop {
            ca.publish();
            if ca.recv().is_ok() {
                break;
            }
            std::hint::spin_loop();
        }
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    samples.sort_by(|x, y| x.total_cmp(y));
    drop((a, b));
    json!({"rtt_p50_us": percentile(&samples, 0.5), "rtt_p99_us": percentile(&samples, 0.99)})
}

/// 64 MiB in 16 KiB messages, buffered amount kept under 1 MiB. Ends when everything arrived, or
/// when nothing has arrived for 5 s (messages lost, or the transfer stalled), or after 60 s:
/// `bulk_lost_messages` counts the messages sent but not received, `bulk_stalled` says whether
/// it ended without all of them, and the rate is of what arrived.
fn bulk() -> Value {
    let (a, b, ca, cb, _) = connect(ChannelConfig::default());
    let msg = vec![1u8; 16384];
    let total: u64 = 4096; // messages of 16 KiB: 64 MiB
    let cap: usize = std::env::var("BULK_CAP").ok().and_then(|v| v.parse().ok()).unwrap_or(1 << 20);
    let (mut sent, mut got, mut got_bytes) = (0u64, 0u64, 0usize);
    let cpu0 = cpu_time();
    let t = Instant::now();
    let mut last_arrival = t;
    while got < total {
        while sent < total && ca.buffered_amount() < cap {
            ca.send(&msg, false).unwrap();
            sent += 1;
        }
        cb.publish();
        while let Ok(p) = cb.recv() {
            got += 1;
            got_bytes += p.data.len();
            last_arrival = Instant::now();
        }
        if last_arrival.elapsed() > Duration::from_secs(5) || t.elapsed() > Duration::from_secs(60) {
            eprintln!("bulk: ended with {got} of {sent} sent messages received ({total} to send), buffered {}", ca.buffered_amount());
            break;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
    let secs = last_arrival.duration_since(t).as_secs_f64();
    let cpu = (cpu_time() - cpu0).as_secs_f64() * 1000.0;
    let mib = got_bytes as f64 / 1048576.0;
    drop((a, b));
    json!({"bulk_mib_s": mib / secs, "bulk_cpu_ms_per_mib": cpu / mib.max(1.0),
           "bulk_lost_messages": sent - got.min(sent), "bulk_stalled": got < total})
}

/// 1200 B messages on an unreliable unordered channel for 2 s, as fast as the sender can.
fn unreliable() -> Value {
    let cfg = ChannelConfig { ordered: false, max_retransmits: Some(0), ..Default::default() };
    let (a, b, ca, cb, _) = connect(cfg);
    let msg = vec![2u8; 1200];
    let (mut sent, mut got) = (0u64, 0u64);
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(2) {
        if ca.buffered_amount() < (1 << 20) {
            for _ in 0..64 {
                if ca.send(&msg, false).is_ok() {
                    sent += 1;
                }
            }
        }
        // As a game: the connections' poll, then the channel's, then every readable message.
        a.poll_events();
        b.poll_events();
        cb.publish();
        while cb.recv().is_ok() {
            got += 1;
        }
        // Like the bulk loop: give the CPU back instead of spinning (all runners do this).
        std::thread::sleep(Duration::from_micros(50));
    }
    let secs = t.elapsed().as_secs_f64();
    let drain = Instant::now();
    while drain.elapsed() < Duration::from_millis(500) {
        cb.publish();
        while cb.recv().is_ok() {
            got += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    drop((a, b));
    json!({"unreliable_rx_mib_s": got as f64 * 1200.0 / secs / 1048576.0,
           "unreliable_loss_pct": if sent == 0 { 0.0 } else { 100.0 * (sent - got.min(sent)) as f64 / sent as f64 }})
}

/// 64 connections to one host in one process: time until all open, RSS per idle connection.
fn many() -> Value {
    let rss0 = rss();
    let t = Instant::now();
    let mut hosts = Vec::new();
    let mut clients = Vec::new();
    let mut pending = Vec::new();
    for _ in 0..64 {
        let mut h = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
        let c = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
        let ch = h.create_data_channel("m", ChannelConfig::default()).unwrap();
        h.create_offer().unwrap();
        hosts.push(h);
        clients.push(c);
        pending.push((ch, Vec::<DataChannel>::new()));
    }
    loop {
        let mut open = 0;
        for i in 0..64 {
            let (h, c) = (&mut hosts[i], &mut clients[i]);
            let mut ignore = Vec::new();
            test_util::pump(h, c, &mut ignore);
            test_util::pump(c, h, &mut pending[i].1);
            if pending[i].0.ready_state() == ChannelState::Open && pending[i].1.first().is_some_and(|x| x.ready_state() == ChannelState::Open) {
                open += 1;
            }
        }
        if open == 64 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "64 connections: only {open} open");
        std::thread::sleep(Duration::from_millis(1));
    }
    let took = t.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    let per_conn = (rss().saturating_sub(rss0)) as f64 / 128.0; // 64 pairs = 128 connections
    json!({"many_open_s": took, "rss_kib_per_connection": per_conn / 1024.0})
}

/// `BENCH_TRACE=1`: every log line of webrtc-rs with a timestamp, to see where time goes.
struct Trace(Instant);

impl log::Log for Trace {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Debug
    }
    fn log(&self, r: &log::Record<'_>) {
        eprintln!("{:9.3} ms {:5} {}: {}", self.0.elapsed().as_secs_f64() * 1000.0, r.level(), r.target(), r.args());
    }
    fn flush(&self) {}
}

/// Benchmark workloads for the engine through its Rust API; prints one JSON object.
#[derive(Parser)]
#[command(name = "webrtc-rs-bench")]
struct Cli {
    /// The workload to run.
    #[arg(value_enum, default_value_t = Workload::All)]
    workload: Workload,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Workload {
    Setup,
    Rtt,
    Bulk,
    Unreliable,
    Many,
    Lossy,
    All,
}

fn main() {
    let which = Cli::parse().workload;
    if std::env::var_os("BENCH_TRACE").is_some() {
        let _ = log::set_boxed_logger(Box::new(Trace(Instant::now())));
        log::set_max_level(log::LevelFilter::Debug);
    }
    let mut out = serde_json::Map::new();
    let workloads = [
        (Workload::Setup, setup as fn() -> Value),
        (Workload::Rtt, rtt),
        (Workload::Bulk, bulk),
        (Workload::Unreliable, unreliable),
        (Workload::Many, many),
        (Workload::Lossy, lossy::lossy),
    ];
    for (workload, f) in workloads {
        if which == Workload::All || which == workload {
            if let Value::Object(m) = f() {
                out.extend(m);
            }
        }
    }
    println!("{}", Value::Object(out));
}
