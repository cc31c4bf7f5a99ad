//! The embedded store: every lobby in this process's memory. Nothing to install; lobbies end
//! with the process, so there is nothing to resume.

use crate::limits::Limits;
use crate::protocol::{Event, PeerId, Refusal, RelayKind};
use crate::store::{cannot_join, check_relay, Outbox, Outgoing, Random, Seat, Store};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

struct Lobby {
    mesh: bool,
    sealed: bool,
    peers: HashMap<PeerId, Outbox>,
}

impl Lobby {
    fn send_all(&self, event: Event) {
        for out in self.peers.values() {
            out.send(Outgoing::Event(event.clone()));
        }
    }
}

/// Every lobby of the server.
pub struct MemoryStore {
    lobbies: Mutex<HashMap<String, Lobby>>,
    limits: Limits,
    random: Random,
}

impl MemoryStore {
    /// An empty store.
    pub fn new(limits: Limits) -> Self {
        Self { lobbies: Mutex::new(HashMap::new()), limits, random: Random::new() }
    }

    fn lobbies(&self) -> std::sync::MutexGuard<'_, HashMap<String, Lobby>> {
        self.lobbies.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn join_now(&self, code: &str, mesh: bool, outbox: &Outbox) -> Result<Seat, Refusal> {
        let mut lobbies = self.lobbies();
        let (code, id) = if code.is_empty() {
            if lobbies.len() >= self.limits.max_lobbies {
                return Err(Refusal::new("server_full", "too many lobbies; try later"));
            }
            let code = loop {
                let code = self.random.code();
                if !lobbies.contains_key(&code) {
                    break code;
                }
            };
            lobbies.insert(code.clone(), Lobby { mesh, sealed: false, peers: HashMap::new() });
            (code, PeerId::HOST)
        } else {
            let max = self.limits.max_lobby_size;
            let lobby = lobbies.get(code).ok_or_else(|| cannot_join(code))?;
            if lobby.sealed || lobby.peers.len() >= max {
                return Err(cannot_join(code));
            }
            let id = loop {
                let id = self.random.peer_id();
                if !lobby.peers.contains_key(&id) {
                    break id;
                }
            };
            (code.to_string(), id)
        };
        let lobby = lobbies.get_mut(&code).expect("lobby exists");
        let peers: Vec<PeerId> = lobby.peers.keys().copied().collect();
        lobby.send_all(Event::PeerJoined { id });
        outbox.send(Outgoing::Event(Event::Joined { lobby: code.clone(), id, mesh: lobby.mesh, peers, resume: None }));
        lobby.peers.insert(id, outbox.clone());
        Ok(Seat { lobby: code, id, mesh: lobby.mesh, session: 0 })
    }
}

impl Store for MemoryStore {
    async fn join(&self, code: &str, mesh: bool, outbox: &Outbox) -> Result<Seat, Refusal> {
        self.join_now(code, mesh, outbox)
    }

    async fn resume(&self, _token: &str, _outbox: &Outbox) -> Result<Seat, Refusal> {
        Err(Refusal::new("bad_resume", "this server keeps lobbies in memory: nothing to resume"))
    }

    async fn relay(&self, from: &Seat, kind: RelayKind, to: PeerId, data: Value) -> Result<(), Refusal> {
        check_relay(from.mesh, from.id, to)?;
        let lobbies = self.lobbies();
        let lobby = lobbies.get(&from.lobby).ok_or_else(|| Refusal::new("not_joined", "your lobby is gone"))?;
        let out = lobby.peers.get(&to).ok_or_else(|| Refusal::new("unknown_peer", format!("no peer {to} in your lobby")))?;
        out.send(Outgoing::Event(Event::relayed(kind, from.id, data)));
        Ok(())
    }

    async fn seal(&self, seat: &Seat) -> Result<(), Refusal> {
        if seat.id != PeerId::HOST {
            return Err(Refusal::new("not_host", "only the host (1) can seal the lobby"));
        }
        if let Some(lobby) = self.lobbies().get_mut(&seat.lobby) {
            lobby.sealed = true;
            lobby.send_all(Event::Sealed);
        }
        Ok(())
    }

    async fn leave(&self, seat: &Seat) {
        let mut lobbies = self.lobbies();
        let Some(lobby) = lobbies.get_mut(&seat.lobby) else { return };
        lobby.peers.remove(&seat.id);
        lobby.send_all(Event::PeerLeft { id: seat.id });
        if lobby.peers.is_empty() || (!lobby.mesh && seat.id == PeerId::HOST) {
            lobby.send_all(Event::LobbyClosed);
            lobbies.remove(&seat.lobby);
        }
    }
}
