//! # webrtc-rs signaling server
//!
//! Lobbies over WebSocket with JSON messages (see [`protocol`]): a game creates a lobby and
//! gets a code and peer id 1, others join with the code and get random ids; the server relays
//! offers, answers and candidates between peers of one lobby only. Limits (lobby size, message
//! size, message rate, lobby and client counts) and heartbeats keep one bad client from taking it
//! down or reaching another lobby. Lobbies live in the process ([`memory`]) or, shared by any
//! number of instances, in Redis ([`redis_store`]).
//!
//! # Structure
//! - [`protocol`]: the messages ([`protocol::Request`], [`protocol::Event`]) and refusals.
//! - [`address`]: limits per client address, and [`address::Access`]: trusted proxies and
//!   allowed origins.
//! - [`limits`]: [`Limits`], set by flags; `rate_limit`: the token bucket that enforces rates.
//! - [`store`]: the [`store::Store`] trait a connection talks to, and its [`store::Outbox`]
//!   (`outbox`: one connection's output, bounded in bytes).
//! - [`memory`]: [`memory::MemoryStore`], the embedded default.
//! - [`redis_store`]: [`redis_store::RedisStore`], lobbies shared through Redis; its scripts in
//!   `redis_lua`.
//! - `client`: one connection's task: a reader and a writer.
//! - [`fd_limit`]: raising the open-file limit to the client count.

pub mod address;
mod client;
pub mod fd_limit;
pub mod limits;
pub mod memory;
mod outbox;
pub mod protocol;
mod rate_limit;
mod redis_lua;
pub mod redis_store;
pub mod store;

pub use client::websocket_config;
pub use address::Access;
use address::Addresses;
pub use limits::Limits;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// What all connection tasks share.
pub struct Server<S> {
    /// The lobbies.
    pub store: S,
    /// Limits in force.
    pub limits: Limits,
    /// Connected clients.
    pub clients: AtomicUsize,
    /// Trusted proxies, allowed origins.
    pub access: Access,
    /// What each client address holds.
    pub(crate) addresses: Addresses,
    /// Becomes true when the instance stops: connections close without leaving their lobby.
    pub stopping: watch::Receiver<bool>,
}

/// Accepts connections until `stop` becomes true, then closes them (their seats stay in a
/// shared store, for the clients to resume elsewhere) and returns, within [`STOP_WITHIN`].
pub async fn serve<S: Store>(listener: TcpListener, store: S, limits: Limits, access: Access, mut stop: watch::Receiver<bool>) {
    let addresses = Addresses::new(limits);
    let server = Arc::new(Server { store, limits, clients: AtomicUsize::new(0), access, addresses, stopping: stop.clone() });
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tasks.spawn(client::serve(server.clone(), stream, peer.ip()));
                }
                Err(e) => {
                    // Out of file descriptors, most likely: wait for connections to end.
                    eprintln!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = stopped(&mut stop) => break,
        }
    }
    drop(listener);
    // Connections close by themselves within about 2 * LINGER; one stuck elsewhere (a
    // handshake that never ends, a store that does not answer) is cut so that stopping takes
    // a bounded time whatever clients do.
    let _ = tokio::time::timeout(STOP_WITHIN, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.shutdown().await;
}

/// How long a stopping instance waits for its connections to close.
const STOP_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

/// Resolves when `stop` turns true (never if its sender is gone without doing so).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|&s| s).await.is_err() {
        std::future::pending::<()>().await;
    }
}
