//! `webrtc-rs-signaling`: the lobby server (see the library's docs and the README's
//! "Deployment"). Prints `listening on ws://ADDR` once it accepts connections.

use std::process::ExitCode;
use tokio::net::TcpListener;
use webrtc_rs_signaling::{Access, Limits};
use webrtc_rs_signaling::memory::MemoryStore;
use webrtc_rs_signaling::redis_store::RedisStore;

const USAGE: &str = "usage: webrtc-rs-signaling [--listen ADDR] [--max-clients N] [--max-lobbies N] [--max-lobby-size N] \
[--max-message-bytes N] [--per-second N] [--burst N] [--heartbeat-ms N] [--idle-ms N] [--join-ms N] [--send-timeout-ms N] \
[--max-unsent-bytes N] [--max-connections-per-address N] [--max-failed-joins N] [--trusted-proxy IP[,IP...]] \
[--allowed-origin ORIGIN] [--redis URL] [--resume-ms N]

  --listen ADDR                       where to accept WebSocket connections (127.0.0.1:9080)
  --max-clients N                     clients connected at once (16384)
  --max-lobbies N                     lobbies with a peer on this instance (8192)
  --max-lobby-size N                  peers per lobby (16)
  --max-message-bytes N               bytes per message (16384)
  --burst N, --per-second N           frames a client may send at once (200), and a second after (100)
  --heartbeat-ms N                    a ping goes to each client this often (10000)
  --idle-ms N                         a client that answered no ping for this long is dropped (30000)
  --join-ms N                         a client must join a lobby this soon after connecting (10000)
  --send-timeout-ms N                 a client that does not take a message within this is dropped (5000)
  --max-unsent-bytes N                output a client may leave unread before it is dropped (1048576)
  --max-connections-per-address N     connections one address (an IPv6 /64) may have open (64)
  --max-failed-joins N                wrong lobby codes or resume tokens one address may send in any minute (100)
  --trusted-proxy IP[,IP...]          reverse proxies whose X-Forwarded-For names the client's address (none)
  --allowed-origin ORIGIN             browsers (which send Origin) must come from one of these; repeatable (any)
  --redis URL                         share lobbies between instances through this Redis (memory)
  --resume-ms N                       with --redis: how long a dead instance's seats wait for their clients (15000)";

struct Args {
    listen: String,
    limits: Limits,
    access: Access,
    /// Lobbies shared through this Redis instead of kept in memory.
    redis: Option<String>,
    /// With Redis: how long the seats of a dead instance wait for their clients to resume.
    resume: std::time::Duration,
}

fn ms(v: &str) -> Result<std::time::Duration, String> {
    v.parse::<u64>().map(std::time::Duration::from_millis).map_err(|e| format!("{v}: {e}"))
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { listen: "127.0.0.1:9080".to_string(), limits: Limits::default(), access: Access::default(), redis: None, resume: std::time::Duration::from_secs(15) };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        fn num<T: std::str::FromStr<Err: std::fmt::Display>>(name: &str, v: String) -> Result<T, String> {
            v.parse().map_err(|e| format!("{name}: {e}"))
        }
        let l = &mut a.limits;
        match arg.as_str() {
            "--listen" => a.listen = value()?,
            "--max-clients" => l.max_clients = num(&arg, value()?)?,
            "--max-lobbies" => l.max_lobbies = num(&arg, value()?)?,
            "--max-lobby-size" => l.max_lobby_size = num(&arg, value()?)?,
            "--max-message-bytes" => l.max_message_bytes = num(&arg, value()?)?,
            "--per-second" => l.per_second = num(&arg, value()?)?,
            "--burst" => l.burst = num(&arg, value()?)?,
            "--heartbeat-ms" => l.heartbeat = ms(&value()?)?,
            "--idle-ms" => l.idle_limit = ms(&value()?)?,
            "--join-ms" => l.join_limit = ms(&value()?)?,
            "--send-timeout-ms" => l.send_timeout = ms(&value()?)?,
            "--max-unsent-bytes" => l.max_unsent_bytes = num(&arg, value()?)?,
            "--max-connections-per-address" => l.max_connections_per_address = num(&arg, value()?)?,
            "--max-failed-joins" => l.max_failed_joins = num(&arg, value()?)?,
            "--trusted-proxy" => {
                for ip in value()?.split(',') {
                    a.access.trusted_proxies.push(num(&arg, ip.trim().to_string())?);
                }
            }
            "--allowed-origin" => a.access.allowed_origins.push(value()?),
            "--redis" => a.redis = Some(value()?),
            "--resume-ms" => a.resume = ms(&value()?)?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
    }
    Ok(a)
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
    let args = match parse_args() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    // A socket per client, plus a few for the listener and the store.
    let wanted = args.limits.max_clients as u64 + 64;
    match webrtc_rs_signaling::fd_limit::raise(wanted) {
        Ok(n) if n < wanted => eprintln!("open-file limit {n} is below --max-clients {} + 64: raise it (ulimit -n, LimitNOFILE=)", args.limits.max_clients),
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
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or(args.listen);
    let stop = stop_signal();
    match &args.redis {
        None => {
            // The line tests and the demo wait for: the real address (port 0 picks one).
            println!("listening on ws://{address}");
            webrtc_rs_signaling::serve(listener, MemoryStore::new(args.limits), args.limits, args.access, stop).await;
        }
        Some(url) => {
            let store = match RedisStore::connect(url, args.limits, args.resume).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("cannot use Redis at {}: {e}", webrtc_rs_signaling::redis_store::redacted(url));
                    return ExitCode::FAILURE;
                }
            };
            println!("listening on ws://{address}");
            webrtc_rs_signaling::serve(listener, store.clone(), args.limits, args.access.clone(), stop).await;
            // Bounded: a Redis that does not answer must not hold up the exit.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), store.stop()).await;
        }
    }
    ExitCode::SUCCESS
}
