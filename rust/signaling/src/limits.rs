//! The limits a server enforces, all set by flags.

use std::time::Duration;

/// Limits a server enforces.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Peers per lobby.
    pub max_lobby_size: usize,
    /// Lobbies with a peer on this instance.
    pub max_lobbies: usize,
    /// Bytes per message.
    pub max_message_bytes: usize,
    /// Messages a client may send in a burst, and per second after it.
    pub burst: u32,
    /// Sustained messages per second.
    pub per_second: u32,
    /// Clients connected to this instance at once.
    pub max_clients: usize,
    /// A ping goes out this often.
    pub heartbeat: Duration,
    /// A client that has not answered a ping for this long is dropped (one that reads answers
    /// them by itself; sending does not count, so one that never reads is dropped).
    pub idle_limit: Duration,
    /// A message the client does not take within this is not waited for: the client is dropped.
    pub send_timeout: Duration,
    /// Connections one address may have open at once (an IPv6 address: its /64).
    pub max_connections_per_address: usize,
    /// Joins with a wrong lobby code or resume token one address may make in any minute;
    /// past it, its joins are refused with `rate_limited`.
    pub max_failed_joins: usize,
    /// Output a client may leave unread (bytes queued for it) before it is dropped.
    pub max_unsent_bytes: usize,
    /// A client must join a lobby this soon after connecting.
    pub join_limit: Duration,
}

impl Limits {
    /// The defaults (what `Limits::default()` gives): sized for the README's load.
    pub const DEFAULT: Limits = Limits {
        max_lobby_size: 16,
        // Room for the README's load (20,000 clients in lobbies of 4 over two instances).
        max_lobbies: 8192,
        max_message_bytes: 16 * 1024,
        burst: 200,
        per_second: 100,
        max_clients: 16_384,
        heartbeat: Duration::from_secs(10),
        idle_limit: Duration::from_secs(30),
        send_timeout: Duration::from_secs(5),
        // Players behind one NAT share an address: room for a LAN party or a classroom.
        max_connections_per_address: 64,
        max_failed_joins: 100,
        max_unsent_bytes: 1 << 20,
        join_limit: Duration::from_secs(10),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
