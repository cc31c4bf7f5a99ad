//! `webrtc-rs-signaling`: the lobby server (see the library's docs and the README's
//! "Deployment"). Prints `listening on ws://ADDR` once it accepts connections.

use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;
use tokio::net::TcpListener;
use webrtc_rs_signaling::{Access, Limits};
use webrtc_rs_signaling::memory::MemoryStore;
use webrtc_rs_signaling::redis_store::RedisStore;

/// The lobby signaling server for webrtc-rs for Godot: WebSocket + JSON.
#[derive(Parser)]
#[command(name = "webrtc-rs-signaling", version)]
struct Args {
    /// Where to accept WebSocket connections.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9080")]
    listen: String,
    /// Clients connected at once.
    #[arg(long, value_name = "N", default_value_t = LIMITS.max_clients)]
    max_clients: usize,
    /// Lobbies with a peer on this instance.
    #[arg(long, value_name = "N", default_value_t = LIMITS.max_lobbies)]
    max_lobbies: usize,
    /// Peers per lobby.
    #[arg(long, value_name = "N", default_value_t = LIMITS.max_lobby_size)]
    max_lobby_size: usize,
    /// Bytes per message.
    #[arg(long, value_name = "N", default_value_t = LIMITS.max_message_bytes)]
    max_message_bytes: usize,
    /// Frames a client may send a second, after its burst.
    #[arg(long, value_name = "N", default_value_t = LIMITS.per_second)]
    per_second: u32,
    /// Frames a client may send at once.
    #[arg(long, value_name = "N", default_value_t = LIMITS.burst)]
    burst: u32,
    /// A ping goes to each client this often.
    #[arg(long, value_name = "N", default_value_t = millis(LIMITS.heartbeat))]
    heartbeat_ms: u64,
    /// A client that answered no ping for this long is dropped.
    #[arg(long, value_name = "N", default_value_t = millis(LIMITS.idle_limit))]
    idle_ms: u64,
    /// A client must join a lobby this soon after connecting.
    #[arg(long, value_name = "N", default_value_t = millis(LIMITS.join_limit))]
    join_ms: u64,
    /// A client that does not take a message within this is dropped.
    #[arg(long, value_name = "N", default_value_t = millis(LIMITS.send_timeout))]
    send_timeout_ms: u64,
    /// Output a client may leave unread before it is dropped.
    #[arg(long, value_name = "N", default_value_t = LIMITS.max_unsent_bytes)]
    max_unsent_bytes: usize,
    /// Connections one address (an IPv6 /64) may have open.
    #[arg(long, value_name = "N", default_value_t = LIMITS.max_connections_per_address)]
    max_connections_per_address: usize,
    /// Wrong lobby codes or resume tokens one address may send in any minute.
    #[arg(long, value_name = "N", default_value_t = LIMITS.max_failed_joins)]
    max_failed_joins: usize,
    /// Reverse proxies whose X-Forwarded-For names the client's address (none by default).
    #[arg(long, value_name = "IP[,IP...]", value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// Browsers (which send Origin) must come from one of these; repeatable (any by default).
    #[arg(long, value_name = "ORIGIN")]
    allowed_origin: Vec<String>,
    /// Share lobbies between instances through this Redis (in memory by default).
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// With --redis: how long a dead instance's seats wait for their clients.
    #[arg(long, value_name = "N", default_value_t = 15_000)]
    resume_ms: u64,
}

/// The defaults the flags show and start from.
const LIMITS: Limits = Limits::DEFAULT;

const fn millis(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl Args {
    fn limits(&self) -> Limits {
        Limits {
            max_clients: self.max_clients,
            max_lobbies: self.max_lobbies,
            max_lobby_size: self.max_lobby_size,
            max_message_bytes: self.max_message_bytes,
            per_second: self.per_second,
            burst: self.burst,
            heartbeat: Duration::from_millis(self.heartbeat_ms),
            idle_limit: Duration::from_millis(self.idle_ms),
            join_limit: Duration::from_millis(self.join_ms),
            send_timeout: Duration::from_millis(self.send_timeout_ms),
            max_unsent_bytes: self.max_unsent_bytes,
            max_connections_per_address: self.max_connections_per_address,
            max_failed_joins: self.max_failed_joins,
        }
    }

    fn access(&self) -> Access {
        Access { trusted_proxies: self.trusted_proxy.clone(), allowed_origins: self.allowed_origin.clone() }
    }
}

/// A watch that turns true on SIGTERM or Ctrl-C.
fn stop_signal() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
            tokio::select! { _ = term.recv() => {}, _ = tokio::signal::ctrl_c() => {} }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(true);
        // Keep the sender: dropping it would read as "stopped" forever anyway, but say so once.
        tx.closed().await;
    });
    rx
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let (limits, access) = (args.limits(), args.access());
    // A socket per client, plus a few for the listener and the store.
    let wanted = limits.max_clients as u64 + 64;
    match webrtc_rs_signaling::fd_limit::raise(wanted) {
        Ok(n) if n < wanted => eprintln!("open-file limit {n} is below --max-clients {} + 64: raise it (ulimit -n, LimitNOFILE=)", limits.max_clients),
        Ok(_) => {}
        Err(e) => eprintln!("cannot raise the open-file limit: {e}"),
    }
    let listener = match TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or(args.listen.clone());
    let stop = stop_signal();
    match &args.redis {
        None => {
            // The line tests and the demo wait for: the real address (port 0 picks one).
            println!("listening on ws://{address}");
            webrtc_rs_signaling::serve(listener, MemoryStore::new(limits), limits, access, stop).await;
        }
        Some(url) => {
            let store = match RedisStore::connect(url, limits, Duration::from_millis(args.resume_ms)).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("cannot use Redis at {}: {e}", webrtc_rs_signaling::redis_store::redacted(url));
                    return ExitCode::FAILURE;
                }
            };
            println!("listening on ws://{address}");
            webrtc_rs_signaling::serve(listener, store.clone(), limits, access, stop).await;
            // Bounded: a Redis that does not answer must not hold up the exit.
            let _ = tokio::time::timeout(Duration::from_secs(1), store.stop()).await;
        }
    }
    ExitCode::SUCCESS
}
