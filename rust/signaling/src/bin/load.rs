//! `webrtc-rs-signaling-load`: starts server instances on 127.0.0.1 and loads them with
//! WebSocket clients in mesh lobbies; prints join and relay latencies, errors, and each
//! instance's memory before and with every client joined (the README's "Load" figures).
//!
//! `webrtc-rs-signaling-load [--clients 20000] [--instances 2] [--lobby-size 4] [--redis URL]
//! [--server PATH] [--timeout-s 300]`
//!
//! Each lobby's host creates it, the others join it and then every peer sends an offer to every
//! other. Without `--redis` a lobby lives on one instance (lobbies round-robin over them); with
//! it, the peers of each lobby are spread over the instances. Loopback only, bounded in clients
//! (100,000), instances (8) and time.

use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const MAX_CLIENTS: usize = 100_000;
const MAX_INSTANCES: usize = 8;
/// Lobbies connecting at once: enough to keep the servers busy, few enough for the listen
/// backlog.
const CONCURRENT_LOBBIES: usize = 128;
/// Any one message: the deadline of a single step.
const STEP: Duration = Duration::from_secs(20);

/// Starts signaling server instances on 127.0.0.1 and loads them with WebSocket clients in
/// mesh lobbies; prints join and relay latencies, errors and each instance's memory.
#[derive(Parser)]
#[command(name = "webrtc-rs-signaling-load", version)]
struct Cli {
    /// WebSocket clients in all (1 to 100,000).
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    clients: usize,
    /// Server instances (1 to 8).
    #[arg(long, value_name = "N", default_value_t = 2)]
    instances: usize,
    /// Peers per lobby (2 to 16).
    #[arg(long, value_name = "N", default_value_t = 4)]
    lobby_size: usize,
    /// Share lobbies through this Redis, with each lobby's peers spread over the instances.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// The server binary (default: webrtc-rs-signaling beside this one).
    #[arg(long, value_name = "PATH")]
    server: Option<std::path::PathBuf>,
    /// Give up after this many seconds (at most 600).
    #[arg(long = "timeout-s", value_name = "N", default_value_t = 300)]
    timeout_s: u64,
    #[command(subcommand)]
    role: Option<Role>,
}

/// What this tool runs in the client processes it starts itself.
#[derive(Subcommand)]
enum Role {
    /// One client process: the lobbies FIRST..END against the instances URLS.
    #[command(hide = true)]
    Worker { urls: String, first: usize, end: usize, lobby_size: usize, placement: Placement },
}

/// Where a lobby's peers connect: each to the lobby's instance, or spread over them (Redis).
#[derive(Clone, Copy, clap::ValueEnum)]
enum Placement {
    Together,
    Spread,
}

struct Options {
    clients: usize,
    instances: usize,
    lobby_size: usize,
    redis: Option<String>,
    server: std::path::PathBuf,
    timeout: Duration,
}

fn options(cli: Cli) -> Result<Options, String> {
    let server = match cli.server {
        Some(path) => path,
        None => std::env::current_exe().map_err(|e| e.to_string())?.with_file_name(if cfg!(windows) { "webrtc-rs-signaling.exe" } else { "webrtc-rs-signaling" }),
    };
    let o = Options { clients: cli.clients, instances: cli.instances, lobby_size: cli.lobby_size, redis: cli.redis, server, timeout: Duration::from_secs(cli.timeout_s) };
    if o.clients == 0 || o.clients > MAX_CLIENTS {
        return Err(format!("--clients: 1 to {MAX_CLIENTS}"));
    }
    if o.instances == 0 || o.instances > MAX_INSTANCES {
        return Err(format!("--instances: 1 to {MAX_INSTANCES}"));
    }
    if !(2..=16).contains(&o.lobby_size) {
        return Err("--lobby-size: 2 to 16".into());
    }
    if o.timeout > Duration::from_secs(600) {
        return Err("--timeout-s: at most 600".into());
    }
    Ok(o)
}

struct Instance {
    child: Child,
    url: String,
    clients: usize,
    rss_start: u64,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of a process, in bytes (0 where it cannot be read: only Linux reports it here).
#[cfg(not(target_os = "linux"))]
fn rss(_pid: u32) -> u64 {
    0
}

/// Resident memory of a process, in bytes (0 where it cannot be read).
#[cfg(target_os = "linux")]
fn rss(pid: u32) -> u64 {
    procfs::process::Process::new(pid as i32).and_then(|p| p.status()).ok().and_then(|s| s.vmrss).unwrap_or(0) * 1024
}

fn start(o: &Options, clients: usize, lobbies: usize) -> Result<Instance, String> {
    let mut cmd = Command::new(&o.server);
    cmd.args(["--listen", "127.0.0.1:0", "--max-clients", &(clients + 16).to_string(), "--max-lobbies", &(lobbies + 16).to_string()]);
    // Every client comes from 127.0.0.1.
    cmd.args(["--max-connections-per-address", &(clients + 16).to_string()]);
    if let Some(url) = &o.redis {
        cmd.args(["--redis", url]);
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn().map_err(|e| format!("{}: {e}", o.server.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).map_err(|e| e.to_string())?;
    let url = line.trim().strip_prefix("listening on ").ok_or_else(|| format!("server said '{}'", line.trim()))?.to_string();
    let rss_start = rss(child.id());
    Ok(Instance { child, url, clients: 0, rss_start })
}

async fn recv(ws: &mut Ws) -> Result<Value, String> {
    loop {
        match tokio::time::timeout(STEP, ws.next()).await {
            Err(_) => return Err("no message in time".into()),
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).map_err(|e| e.to_string()),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) => return Err("closed".into()),
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

async fn send(ws: &mut Ws, v: Value) -> Result<(), String> {
    ws.send(Message::Text(v.to_string().into())).await.map_err(|e| e.to_string())
}

struct Peer {
    ws: Ws,
    id: u64,
}

/// Connects and joins one peer; returns it, its `joined` and the join's latency.
async fn join(url: &str, code: &str) -> Result<(Peer, Value, Duration), String> {
    let config = webrtc_rs_signaling::websocket_config(64 * 1024);
    let (mut ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async_with_config(url, Some(config), true))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    let sent = Instant::now();
    send(&mut ws, json!({"type": "join", "lobby": code, "mesh": true})).await?;
    let joined = recv(&mut ws).await?;
    let took = sent.elapsed();
    if joined["type"] != "joined" {
        return Err(format!("join refused: {joined}"));
    }
    let id = joined["id"].as_u64().ok_or("joined without id")?;
    Ok((Peer { ws, id }, joined, took))
}

/// Creates lobby `index` and fills it; returns its peers and their join latencies.
async fn fill_lobby(urls: Arc<Vec<String>>, index: usize, size: usize, spread: bool) -> Result<(Vec<Peer>, Vec<Duration>), String> {
    let url = |k: usize| &urls[if spread { (index + k) % urls.len() } else { index % urls.len() }];
    let (host, joined, took) = join(url(0), "").await?;
    let code = joined["lobby"].as_str().ok_or("joined without lobby")?.to_string();
    let mut peers = vec![host];
    let mut times = vec![took];
    for k in 1..size {
        let (peer, _, took) = join(url(k), &code).await?;
        peers.push(peer);
        times.push(took);
    }
    Ok((peers, times))
}

/// Microseconds since the run started: senders stamp offers with it, receivers subtract.
fn now_us(epoch: Instant) -> u64 {
    epoch.elapsed().as_micros() as u64
}

/// Every peer offers to every other; returns the latencies of the offers that arrived.
async fn relay_in_lobby(mut peers: Vec<Peer>, epoch: Instant) -> (Vec<Peer>, Vec<Duration>, usize) {
    let ids: Vec<u64> = peers.iter().map(|p| p.id).collect();
    let mut errors = 0;
    for p in peers.iter_mut() {
        for &to in ids.iter().filter(|&&to| to != p.id) {
            if send(&mut p.ws, json!({"type": "offer", "to": to, "data": {"t": now_us(epoch)}})).await.is_err() {
                errors += 1;
            }
        }
    }
    let expected = ids.len() - 1;
    let reads = peers.iter_mut().map(|p| async move {
        let mut got = Vec::new();
        while got.len() < expected {
            match recv(&mut p.ws).await {
                Ok(v) if v["type"] == "offer" => {
                    let sent = Duration::from_micros(v["data"]["t"].as_u64().unwrap_or(0));
                    got.push(Duration::from_micros(now_us(epoch)).saturating_sub(sent));
                }
                Ok(_) => {} // peer_joined of those who came later
                Err(_) => break,
            }
        }
        got
    });
    let latencies: Vec<Duration> = futures_util::future::join_all(reads).await.into_iter().flatten().collect();
    errors += ids.len() * expected - latencies.len();
    (peers, latencies, errors)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    format!("p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", percentile(&v, 0.5), percentile(&v, 0.99), percentile(&v, 1.0))
}

/// Client processes: each has its own open-file limit (the hard limit is often 20,000 or less,
/// and only a privileged process may raise it).
const CLIENTS_PER_WORKER: usize = 8192;

/// One client process: fills lobbies `first..end`, reports, relays when told, reports, and keeps
/// its connections until told to end (stdin closed).
async fn worker(urls: Vec<String>, first: usize, end: usize, size: usize, spread: bool) -> Result<(), String> {
    use tokio::io::AsyncBufReadExt;
    let wanted = ((end - first) * size) as u64 + 64;
    let limit = webrtc_rs_signaling::fd_limit::raise(wanted).map_err(|e| format!("open-file limit: {e}"))?;
    if limit < wanted {
        return Err(format!("open-file limit {limit} is below {wanted}: raise it (ulimit -n)"));
    }
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let urls = Arc::new(urls);
    let gate = Arc::new(Semaphore::new(CONCURRENT_LOBBIES));
    let mut tasks = tokio::task::JoinSet::new();
    for index in first..end {
        let (urls, gate) = (urls.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire().await;
            fill_lobby(urls, index, size, spread).await
        });
    }
    let (mut filled, mut times, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(done) = tasks.join_next().await {
        match done.map_err(|e| e.to_string())? {
            Ok((peers, t)) => {
                filled.push(peers);
                times.extend(t);
            }
            Err(e) => errors.push(e),
        }
    }
    let micros = |t: &[Duration]| t.iter().map(|d| d.as_micros() as u64).collect::<Vec<_>>();
    println!("{}", json!({"joined": micros(&times), "errors": errors}));
    if stdin.next_line().await.map_err(|e| e.to_string())?.as_deref() != Some("relay") {
        return Ok(());
    }
    let epoch = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for peers in filled {
        tasks.spawn(relay_in_lobby(peers, epoch));
    }
    let (mut kept, mut times, mut lost) = (Vec::new(), Vec::new(), 0);
    while let Some(done) = tasks.join_next().await {
        let (peers, t, l) = done.map_err(|e| e.to_string())?;
        kept.push(peers);
        times.extend(t);
        lost += l;
    }
    println!("{}", json!({"relayed": micros(&times), "lost": lost, "seconds": epoch.elapsed().as_secs_f64()}));
    while stdin.next_line().await.map_err(|e| e.to_string())?.is_some() {}
    Ok(())
}

struct Worker {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Worker {
    fn report(&mut self) -> Result<Value, String> {
        let line = self.lines.next().ok_or("a client process ended early (see its error above)")?.map_err(|e| e.to_string())?;
        serde_json::from_str(&line).map_err(|e| format!("client process said '{line}': {e}"))
    }

    fn tell(&mut self, what: &str) {
        use std::io::Write;
        if let Some(stdin) = self.child.stdin.as_mut() {
            let _ = writeln!(stdin, "{what}");
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn durations(v: &Value) -> Vec<Duration> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_u64).map(Duration::from_micros).collect()).unwrap_or_default()
}

/// Runs the whole measurement with the deadline enforced by killing what is left.
fn run(o: Options) -> Result<bool, String> {
    let lobbies = o.clients / o.lobby_size;
    let clients = lobbies * o.lobby_size;
    let per_instance = clients.div_ceil(o.instances);
    let lobbies_per_instance = if o.redis.is_some() { lobbies } else { lobbies.div_ceil(o.instances) };
    let mut instances = (0..o.instances).map(|_| start(&o, per_instance, lobbies_per_instance)).collect::<Result<Vec<_>, _>>()?;
    let spread = o.redis.is_some() && o.instances > 1;
    for index in 0..lobbies {
        for k in 0..o.lobby_size {
            instances[if spread { (index + k) % o.instances } else { index % o.instances }].clients += 1;
        }
    }
    println!(
        "{clients} clients over {} instance(s) ({} store), {lobbies} mesh lobbies of {}{}",
        o.instances,
        if o.redis.is_some() { "redis" } else { "memory" },
        o.lobby_size,
        if spread { ", each spread over the instances" } else { "" }
    );
    let urls: Vec<String> = instances.iter().map(|i| i.url.clone()).collect();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let workers = clients.div_ceil(CLIENTS_PER_WORKER);
    let per_worker = lobbies.div_ceil(workers);
    // The deadline: whatever still runs then is killed, which ends the reads below.
    {
        let pids: Vec<u32> = instances.iter().map(|i| i.child.id()).collect();
        let timeout = o.timeout;
        std::thread::spawn(move || {
            std::thread::sleep(timeout);
            eprintln!("timed out after {} s", timeout.as_secs());
            for pid in pids {
                // SAFETY: signals our own children. The client processes end when these do.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
            std::process::exit(1);
        });
    }

    let started = Instant::now();
    let mut spawned = Vec::new();
    for w in 0..workers {
        let (first, end) = (w * per_worker, ((w + 1) * per_worker).min(lobbies));
        let mut child = Command::new(&exe)
            .args(["worker", &urls.join(","), &first.to_string(), &end.to_string(), &o.lobby_size.to_string(), if spread { "spread" } else { "together" }])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        spawned.push(Worker { child, lines });
    }
    let (mut join_times, mut join_errors) = (Vec::new(), Vec::new());
    for w in spawned.iter_mut() {
        let report = w.report()?;
        join_times.extend(durations(&report["joined"]));
        join_errors.extend(report["errors"].as_array().cloned().unwrap_or_default());
    }
    println!("joined {} clients in {:.1} s ({workers} client processes): join {}", join_times.len(), started.elapsed().as_secs_f64(), summary(join_times));
    if let Some(e) = join_errors.first() {
        println!("{} lobbies failed to fill, first: {e}", join_errors.len());
    }
    // Idle memory: every client joined, nothing in flight.
    let rss_joined: Vec<u64> = instances.iter().map(|i| rss(i.child.id())).collect();

    for w in spawned.iter_mut() {
        w.tell("relay");
    }
    let (mut relay_times, mut lost, mut seconds) = (Vec::new(), 0, 0f64);
    for w in spawned.iter_mut() {
        let report = w.report()?;
        relay_times.extend(durations(&report["relayed"]));
        lost += report["lost"].as_u64().unwrap_or(0);
        seconds = seconds.max(report["seconds"].as_f64().unwrap_or(0.0));
    }
    println!("relayed {} offers in {seconds:.1} s: {}", relay_times.len(), summary(relay_times));
    println!("errors: {} lobbies not filled, {lost} offers lost", join_errors.len());
    for (n, (i, joined)) in instances.iter().zip(rss_joined).enumerate() {
        let per_client = joined.saturating_sub(i.rss_start) as f64 / i.clients.max(1) as f64 / 1024.0;
        println!(
            "instance {}: {} clients, RSS {:.1} MB at start, {:.1} MB with all joined ({per_client:.1} KiB per idle client), {:.1} MB after relaying",
            n + 1,
            i.clients,
            i.rss_start as f64 / 1e6,
            joined as f64 / 1e6,
            rss(i.child.id()) as f64 / 1e6
        );
    }
    drop(spawned);
    Ok(join_errors.is_empty() && lost == 0)
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Role::Worker { urls, first, end, lobby_size, placement }) = cli.role {
        let urls = urls.split(',').map(str::to_string).collect();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        return match runtime.block_on(worker(urls, first, end, lobby_size, matches!(placement, Placement::Spread))) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("client process: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let o = match options(cli) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match run(o) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
