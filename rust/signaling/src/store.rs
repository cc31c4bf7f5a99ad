//! Where lobbies live: one process's memory ([`crate::memory`]) or Redis, shared by instances
//! ([`crate::redis_store`]). A connection talks to its store only through [`Store`].

use crate::protocol::{PeerId, Refusal, RelayKind};
use serde_json::Value;
use std::future::Future;

pub use crate::outbox::{Outbox, Outgoing};

/// Where a client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// Lobby code.
    pub lobby: String,
    /// Peer id in it (1 is the host).
    pub id: PeerId,
    /// Whether every peer signals with every other.
    pub mesh: bool,
    /// This connection's hold on the seat (a resumed seat gets a new one).
    pub session: u64,
}

/// The lobbies a server serves from.
pub trait Store: Send + Sync + 'static {
    /// Creates a lobby (empty `code`; the creator is peer 1) or joins one. `joined` goes to
    /// `outbox` before anything else for this seat; the others get `peer_joined`.
    fn join(&self, code: &str, mesh: bool, outbox: &Outbox) -> impl Future<Output = Result<Seat, Refusal>> + Send;

    /// Takes back a seat whose connection was lost, with the token its `joined` carried; the
    /// client gets `joined` again, the other peers nothing.
    fn resume(&self, token: &str, outbox: &Outbox) -> impl Future<Output = Result<Seat, Refusal>> + Send;

    /// Passes signaling data to a peer of the same lobby.
    fn relay(&self, from: &Seat, kind: RelayKind, to: PeerId, data: Value) -> impl Future<Output = Result<(), Refusal>> + Send;

    /// The host seals its lobby: nobody else may join. Everyone gets `sealed`.
    fn seal(&self, seat: &Seat) -> impl Future<Output = Result<(), Refusal>> + Send;

    /// Removes a peer; the others get `peer_left`. When the host of a server/client lobby
    /// leaves, or the last peer does, the lobby ends (the rest get `lobby_closed`).
    fn leave(&self, seat: &Seat) -> impl Future<Output = ()> + Send;
}

/// The refusal of a join by code when there is no such lobby, or it is full or sealed: the same
/// for all three, so that a stranger guessing codes cannot tell which exist.
pub(crate) fn cannot_join(code: &str) -> Refusal {
    Refusal::new("no_such_lobby", format!("no lobby '{code}' to join (wrong code, or the lobby is full or sealed)"))
}

/// The refusal for a relay a server/client lobby does not allow.
pub(crate) fn check_relay(mesh: bool, from: PeerId, to: PeerId) -> Result<(), Refusal> {
    // In server/client mode clients only talk to the host.
    if !mesh && from != PeerId::HOST && to != PeerId::HOST {
        return Err(Refusal::new("unknown_peer", "in a server/client lobby, clients signal only with the host (1)"));
    }
    if from == to {
        return Err(Refusal::new("unknown_peer", format!("no peer {to} in your lobby")));
    }
    Ok(())
}

/// Random numbers for codes, ids, sessions and tokens, from the OS's CSPRNG: a stranger who
/// saw any number of them cannot tell the next.
pub(crate) struct Random;

impl Random {
    pub(crate) fn new() -> Self {
        Self
    }

    pub(crate) fn next(&self) -> u64 {
        // getrandom(2) fails only before the kernel's pool is seeded at boot, or not at all.
        getrandom::u64().expect("the OS's random number generator")
    }

    /// A lobby code: 6 characters without look-alikes.
    pub(crate) fn code(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut r = self.next();
        (0..6).map(|_| { let c = ALPHABET[(r % 32) as usize] as char; r /= 32; c }).collect()
    }

    /// A peer id other than the host's.
    pub(crate) fn peer_id(&self) -> PeerId {
        PeerId::try_from(self.next() % (i32::MAX as u64 - 1) + 2).expect("2..=i32::MAX")
    }

    /// 128 random bits in hex.
    pub(crate) fn token(&self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }
}
