//! # webrtc-rs signaling server
//!
//! Lobbies over WebSocket with JSON messages (see [`protocol`]): a game creates a lobby and
//! gets a code and peer id 1, others join with the code and get random ids; the server relays
//! offers, answers and candidates between peers of one lobby only. Limits (lobby size, message
//! size, message rate, lobby and client counts) and heartbeats keep one bad client from taking it
//! down or reaching another lobby.
//!
//! `webrtc-rs-signaling [--listen ADDR] [--max-lobby-size N]` (default `127.0.0.1:9080`).
//!
//! # Structure
//! - [`protocol`]: message parsing and refusals.
//! - [`lobby`]: the lobby registry and its limits.
//! - `client`: one connection's task.

mod client;
pub mod lobby;
pub mod protocol;

use lobby::{Limits, Registry};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// What all connection tasks share.
pub struct Server {
    /// The lobbies.
    pub registry: Mutex<Registry>,
    /// Limits in force.
    pub limits: Limits,
    /// Connected clients.
    pub clients: AtomicUsize,
}

fn ms(v: &str) -> Result<std::time::Duration, String> {
    v.parse::<u64>().map(std::time::Duration::from_millis).map_err(|e| format!("{v}: {e}"))
}

fn parse_args() -> Result<(String, Limits), String> {
    let mut listen = "127.0.0.1:9080".to_string();
    let mut limits = Limits::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--listen" => listen = value("--listen")?,
            "--max-lobby-size" => limits.max_lobby_size = value("--max-lobby-size")?.parse().map_err(|e| format!("--max-lobby-size: {e}"))?,
            "--max-message-bytes" => limits.max_message_bytes = value("--max-message-bytes")?.parse().map_err(|e| format!("--max-message-bytes: {e}"))?,
            "--per-second" => limits.per_second = value("--per-second")?.parse().map_err(|e| format!("--per-second: {e}"))?,
            "--burst" => limits.burst = value("--burst")?.parse().map_err(|e| format!("--burst: {e}"))?,
            "--heartbeat-ms" => limits.heartbeat = ms(&value("--heartbeat-ms")?)?,
            "--idle-ms" => limits.idle_limit = ms(&value("--idle-ms")?)?,
            "--join-ms" => limits.join_limit = ms(&value("--join-ms")?)?,
            "-h" | "--help" => return Err("usage: webrtc-rs-signaling [--listen ADDR] [--max-lobby-size N] [--max-message-bytes N] [--per-second N] [--burst N] [--heartbeat-ms N] [--idle-ms N] [--join-ms N]".into()),
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
    }
    Ok((listen, limits))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let (listen, limits) = match parse_args() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {listen}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // The line tests and the demo wait for: the real address (port 0 picks one).
    println!("listening on ws://{}", listener.local_addr().map(|a| a.to_string()).unwrap_or(listen));
    let server = Arc::new(Server { registry: Mutex::new(Registry::new(limits)), limits, clients: AtomicUsize::new(0) });
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(client::serve(server.clone(), stream));
            }
            Err(e) => eprintln!("accept: {e}"),
        }
    }
}
