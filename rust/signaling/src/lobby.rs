//! Lobbies: who is in which, who may talk to whom. Peers of one lobby can only reach each other.

use crate::protocol::Refusal;
use serde_json::json;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use tokio::sync::mpsc::UnboundedSender;

/// Limits a server enforces.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Peers per lobby.
    pub max_lobby_size: usize,
    /// Lobbies at once.
    pub max_lobbies: usize,
    /// Bytes per message.
    pub max_message_bytes: usize,
    /// Messages a client may send in a burst, and per second after it.
    pub burst: u32,
    /// Sustained messages per second.
    pub per_second: u32,
    /// Clients connected at once.
    pub max_clients: usize,
    /// A ping goes out this often.
    pub heartbeat: std::time::Duration,
    /// A client silent this long is dropped (it answers pings, so only a dead one is).
    pub idle_limit: std::time::Duration,
    /// A client must join a lobby this soon after connecting.
    pub join_limit: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        use std::time::Duration;
        Self {
            max_lobby_size: 16,
            max_lobbies: 1024,
            max_message_bytes: 16 * 1024,
            burst: 200,
            per_second: 100,
            max_clients: 4096,
            heartbeat: Duration::from_secs(10),
            idle_limit: Duration::from_secs(30),
            join_limit: Duration::from_secs(10),
        }
    }
}

/// Outgoing text messages of one client.
pub type Outbox = UnboundedSender<String>;

struct Lobby {
    mesh: bool,
    sealed: bool,
    peers: HashMap<u32, Outbox>,
}

/// Every lobby of the server.
pub struct Registry {
    lobbies: HashMap<String, Lobby>,
    limits: Limits,
    counter: u64,
    random: std::collections::hash_map::RandomState,
}

/// Where a client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// Lobby code.
    pub lobby: String,
    /// Peer id in it (1 is the host).
    pub id: u32,
}

impl Registry {
    /// An empty registry.
    pub fn new(limits: Limits) -> Self {
        Self { lobbies: HashMap::new(), limits, counter: 0, random: Default::default() }
    }

    fn random(&mut self) -> u64 {
        self.counter += 1;
        let mut h = self.random.build_hasher();
        h.write_u64(self.counter);
        h.finish()
    }

    fn new_code(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // no look-alikes
        loop {
            let mut r = self.random();
            let code: String = (0..6).map(|_| { let c = ALPHABET[(r % 32) as usize] as char; r /= 32; c }).collect();
            if !self.lobbies.contains_key(&code) {
                return code;
            }
        }
    }

    /// Creates a lobby (empty `code`, the creator is peer 1) or joins one. Returns the seat and
    /// the `joined` message; the others get `peer_joined`.
    pub fn join(&mut self, code: &str, mesh: bool, outbox: Outbox) -> Result<(Seat, String), Refusal> {
        let (code, id) = if code.is_empty() {
            if self.lobbies.len() >= self.limits.max_lobbies {
                return Err(Refusal::new("server_full", "too many lobbies; try later"));
            }
            let code = self.new_code();
            self.lobbies.insert(code.clone(), Lobby { mesh, sealed: false, peers: HashMap::new() });
            (code, 1)
        } else {
            let max = self.limits.max_lobby_size;
            let lobby = self.lobbies.get(code).ok_or_else(|| Refusal::new("no_such_lobby", format!("no lobby '{code}'")))?;
            if lobby.sealed {
                return Err(Refusal::new("lobby_sealed", format!("lobby '{code}' is sealed")));
            }
            if lobby.peers.len() >= max {
                return Err(Refusal::new("lobby_full", format!("lobby '{code}' is full ({max} peers)")));
            }
            let id = loop {
                let id = (self.random() % (i32::MAX as u64 - 1)) as u32 + 2;
                if !self.lobbies[code].peers.contains_key(&id) {
                    break id;
                }
            };
            (code.to_string(), id)
        };
        let lobby = self.lobbies.get_mut(&code).expect("lobby exists");
        let peers: Vec<u32> = lobby.peers.keys().copied().collect();
        for out in lobby.peers.values() {
            let _ = out.send(json!({"type": "peer_joined", "id": id}).to_string());
        }
        lobby.peers.insert(id, outbox);
        let joined = json!({"type": "joined", "lobby": code, "id": id, "mesh": lobby.mesh, "peers": peers}).to_string();
        Ok((Seat { lobby: code, id }, joined))
    }

    /// Passes a signaling message to a peer of the same lobby.
    pub fn relay(&self, from: &Seat, kind: &str, to: u32, data: serde_json::Value) -> Result<(), Refusal> {
        let lobby = self.lobbies.get(&from.lobby).ok_or_else(|| Refusal::new("not_joined", "your lobby is gone"))?;
        // In server/client mode clients only talk to the host.
        if !lobby.mesh && from.id != 1 && to != 1 {
            return Err(Refusal::new("unknown_peer", "in a server/client lobby, clients signal only with the host (1)"));
        }
        let out = lobby.peers.get(&to).filter(|_| to != from.id).ok_or_else(|| Refusal::new("unknown_peer", format!("no peer {to} in your lobby")))?;
        let _ = out.send(json!({"type": kind, "from": from.id, "data": data}).to_string());
        Ok(())
    }

    /// The host seals its lobby: nobody else may join. Everyone gets `sealed`.
    pub fn seal(&mut self, seat: &Seat) -> Result<(), Refusal> {
        if seat.id != 1 {
            return Err(Refusal::new("not_host", "only the host (1) can seal the lobby"));
        }
        if let Some(lobby) = self.lobbies.get_mut(&seat.lobby) {
            lobby.sealed = true;
            for out in lobby.peers.values() {
                let _ = out.send(json!({"type": "sealed"}).to_string());
            }
        }
        Ok(())
    }

    /// Removes a peer; the others get `peer_left`. When the host of a server/client lobby
    /// leaves, or the last peer does, the lobby ends (the rest get `lobby_closed`).
    pub fn leave(&mut self, seat: &Seat) {
        let Some(lobby) = self.lobbies.get_mut(&seat.lobby) else { return };
        lobby.peers.remove(&seat.id);
        let closing = lobby.peers.is_empty() || (!lobby.mesh && seat.id == 1);
        for out in lobby.peers.values() {
            let _ = out.send(json!({"type": "peer_left", "id": seat.id}).to_string());
            if closing {
                let _ = out.send(json!({"type": "lobby_closed"}).to_string());
            }
        }
        if closing {
            self.lobbies.remove(&seat.lobby);
        }
    }

    /// Lobbies open now.
    pub fn lobby_count(&self) -> usize {
        self.lobbies.len()
    }
}
