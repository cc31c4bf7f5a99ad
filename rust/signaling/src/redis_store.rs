//! Lobbies shared by any number of server instances through Redis (`--redis URL`).
//!
//! Membership, host and sealing live in Redis and change only in Lua scripts
//! ([`crate::redis_lua`]); messages reach the instance that holds a peer through its pub/sub
//! channel. Each instance renews an expiring `alive` key every second: when an instance dies
//! (or stops), its clients reconnect to another one with the resume token of their `joined`
//! and keep their id and lobby; seats not resumed within the grace period are removed as if
//! their peers had left. When Redis restarts without its data, every instance puts back the
//! lobbies and seats of its own connections.

use crate::limits::Limits;
use crate::protocol::{Event, PeerId, Refusal, RelayKind};
use crate::redis_lua::Scripts;
use crate::store::{Outbox, Outgoing, Random, Seat, Store, cannot_join, check_relay};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{PushInfo, PushKind};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often an instance says it is alive, and for how long each time.
const HEARTBEAT: Duration = Duration::from_secs(1);
const ALIVE_FOR: Duration = Duration::from_secs(3);

/// A seat of one of this instance's connections.
struct LocalPeer {
    session: u64,
    token: String,
    outbox: Outbox,
    /// Its `joined` came through the channel: what came before it was sent before this seat
    /// was in the lobby (e.g. the `peer_joined` of the previous newcomer) and is not for it.
    welcomed: bool,
}

impl LocalPeer {
    fn new(session: u64, token: String, outbox: &Outbox) -> Self {
        Self { session, token, outbox: outbox.clone(), welcomed: false }
    }
}

/// What this instance knows of a lobby it has peers in: enough to put it back in Redis.
#[derive(Default)]
struct LocalLobby {
    mesh: bool,
    sealed: bool,
    peers: HashMap<PeerId, LocalPeer>,
}

/// A message on this instance's channel.
#[derive(Debug, Deserialize)]
struct Envelope {
    lobby: String,
    #[serde(default)]
    to: u32,
    #[serde(default)]
    except: u32,
    #[serde(default)]
    kick: Option<u64>,
    #[serde(default)]
    event: Option<Event>,
}

struct Inner {
    conn: ConnectionManager,
    instance: String,
    limits: Limits,
    grace: Duration,
    random: Random,
    scripts: Scripts,
    local: Mutex<HashMap<String, LocalLobby>>,
    /// Leaves that failed while Redis was away, run when it is back.
    pending_leaves: Mutex<Vec<Seat>>,
    /// Redis may have lost what this instance put there: put it back.
    restore: AtomicBool,
    stopped: AtomicBool,
}

/// The lobbies, in Redis.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

/// Not the error itself: it is the operator's business (the heartbeat logs it), not a client's.
fn unavailable(_: redis::RedisError) -> Refusal {
    Refusal::new("unavailable", "the lobby store is unreachable, try again")
}

/// The random part of a resume token: 32 hex digits ([`Random::token`]).
fn valid_secret(secret: &str) -> bool {
    secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Lobby codes are 6 characters of the code alphabet; anything else names no lobby.
fn valid_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(&b))
}

/// `url` without its secrets, for logs: the password of `redis://user:password@host` and
/// anything after `?` (`redis+unix:///path?pass=...`).
pub fn redacted(url: &str) -> String {
    let (url, query) = match url.split_once('?') {
        Some((u, _)) => (u, "?..."),
        None => (url, ""),
    };
    let Some((scheme, rest)) = url.split_once("://") else { return format!("{url}{query}") };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("***@{host}"), // `redis://password@host`
        },
        None => authority.to_string(),
    };
    format!("{scheme}://{authority}{path}{query}")
}

impl RedisStore {
    /// Connects to Redis (`redis://host:port`, `redis+unix:///path`), subscribes to this
    /// instance's channel and starts the heartbeat. Seats of a dead instance are kept `grace`
    /// for their clients to resume them.
    pub async fn connect(url: &str, limits: Limits, grace: Duration) -> redis::RedisResult<Self> {
        use redis::IntoConnectionInfo;
        let info = url.into_connection_info()?;
        let settings = info.redis_settings().clone().set_protocol(redis::ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(settings))?;
        let (push_tx, push_rx) = mpsc::unbounded_channel::<PushInfo>();
        let config = ConnectionManagerConfig::new()
            .set_push_sender(push_tx)
            .set_automatic_resubscription()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let mut conn = ConnectionManager::new_with_config(client, config).await?;
        let random = Random::new();
        let instance = format!("{:016x}", random.next());
        conn.subscribe(format!("sig:inst:{instance}")).await?;
        let inner = Arc::new(Inner {
            conn,
            instance,
            limits,
            grace,
            random,
            scripts: Scripts::new(),
            local: Mutex::new(HashMap::new()),
            pending_leaves: Mutex::new(Vec::new()),
            restore: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        });
        inner.heartbeat().await?;
        tokio::spawn(dispatch(Arc::downgrade(&inner), push_rx));
        tokio::spawn(heartbeat(Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    /// This instance's name in Redis.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// The instance stops: its seats wait for their clients on other instances (the grace
    /// period starts now).
    pub async fn stop(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        let mut conn = self.inner.conn.clone();
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(format!("sig:alive:{}", self.inner.instance)).query_async(&mut conn).await;
    }
}

impl Inner {
    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<String, LocalLobby>> {
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Holds a seat here before Redis has it, so that nothing sent to it is missed. A
    /// connection that held the same seat is closed. `Ok(false)`: a lobby being created has a
    /// code in use here.
    fn hold(&self, code: &str, id: PeerId, peer: LocalPeer, creating: bool) -> Result<bool, Refusal> {
        let mut local = self.local();
        if creating && local.contains_key(code) {
            return Ok(false);
        }
        if !local.contains_key(code) && local.len() >= self.limits.max_lobbies {
            let what = if creating { "too many lobbies; try later" } else { "too many lobbies on this server; try later" };
            return Err(Refusal::new("server_full", what));
        }
        let lobby = local.entry(code.to_string()).or_default();
        if let Some(old) = lobby.peers.insert(id, peer) {
            old.outbox.send(Outgoing::Superseded);
        }
        Ok(true)
    }

    /// Lets go of a seat held by `session`.
    fn release(&self, code: &str, id: PeerId, session: u64) {
        let mut local = self.local();
        let Some(lobby) = local.get_mut(code) else { return };
        if lobby.peers.get(&id).is_some_and(|p| p.session == session) {
            lobby.peers.remove(&id);
        }
        if lobby.peers.is_empty() {
            local.remove(code);
        }
    }

    fn set_mesh(&self, code: &str, mesh: bool) {
        if let Some(lobby) = self.local().get_mut(code) {
            lobby.mesh = mesh;
        }
    }

    /// Delivers one message of this instance's channel to the connections it is for.
    fn deliver(&self, envelope: Envelope) {
        let mut local = self.local();
        let Some(lobby) = local.get_mut(&envelope.lobby) else { return };
        if let Some(session) = envelope.kick {
            let id = PeerId::try_from(envelope.to as u64).ok();
            if let Some(id) = id.filter(|id| lobby.peers.get(id).is_some_and(|p| p.session != session)) {
                let peer = lobby.peers.remove(&id).expect("present");
                peer.outbox.send(Outgoing::Superseded);
            }
        }
        let Some(event) = envelope.event else { return };
        match &event {
            Event::Sealed => lobby.sealed = true,
            Event::Joined { mesh, .. } => lobby.mesh = *mesh,
            _ => {}
        }
        let welcome = matches!(event, Event::Joined { .. });
        for (id, peer) in lobby.peers.iter_mut() {
            let wanted = if envelope.to != 0 { id.get() == envelope.to } else { id.get() != envelope.except };
            if wanted && welcome {
                peer.welcomed = true;
            }
            if wanted && peer.welcomed {
                peer.outbox.send(Outgoing::Event(event.clone()));
            }
        }
        if event == Event::LobbyClosed {
            // Its connections close on reading this, without leaving (Redis has no lobby left).
            local.remove(&envelope.lobby);
        }
    }

    /// Says this instance is alive; notices when Redis lost that (and so everything else).
    async fn heartbeat(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let existed: i64 = self.scripts.alive.arg(&self.instance).arg(ALIVE_FOR.as_millis() as u64).invoke_async(&mut conn).await?;
        if existed == 0 {
            self.restore.store(true, Ordering::SeqCst);
        }
        if self.restore.swap(false, Ordering::SeqCst) {
            if let Err(e) = self.put_back().await {
                self.restore.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
        let _: i64 = self.scripts.reap.arg(self.grace.as_millis() as u64).invoke_async(&mut conn).await?;
        Ok(())
    }

    /// Runs the leaves Redis missed, then puts back this instance's lobbies and seats.
    async fn put_back(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let leaves = std::mem::take(&mut *self.pending_leaves.lock().unwrap_or_else(|e| e.into_inner()));
        for (n, seat) in leaves.iter().enumerate() {
            if let Err(e) = self.leave_now(seat).await {
                self.pending_leaves.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(&leaves[n..]);
                return Err(e);
            }
        }
        let seats: Vec<[String; 7]> = self
            .local()
            .iter()
            .flat_map(|(code, lobby)| {
                lobby.peers.iter().map(move |(id, p)| {
                    [code.clone(), id.to_string(), self.instance.clone(), p.session.to_string(), p.token.clone(), flag(lobby.mesh), flag(lobby.sealed)]
                })
            })
            .collect();
        for args in seats {
            let mut invocation = self.scripts.restore.prepare_invoke();
            for a in &args {
                invocation.arg(a);
            }
            let _: i64 = invocation.invoke_async(&mut conn).await?;
        }
        Ok(())
    }

    async fn leave_now(&self, seat: &Seat) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let s = &self.scripts.leave;
        s.arg(&seat.lobby).arg(seat.id.get()).arg(&self.instance).arg(seat.session).invoke_async::<i64>(&mut conn).await.map(drop)
    }

    fn session(&self) -> u64 {
        // Sessions travel through Lua as text, but stay below 2^53 in case anything reads them
        // as a number.
        self.random.next() >> 11
    }
}

fn flag(b: bool) -> String {
    (if b { "1" } else { "0" }).to_string()
}

/// Reads this instance's channel until the store is dropped.
async fn dispatch(inner: std::sync::Weak<Inner>, mut pushes: mpsc::UnboundedReceiver<PushInfo>) {
    while let Some(push) = pushes.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        match push.kind {
            PushKind::Message => {
                let payload = push.data.get(1).and_then(|v| redis::from_redis_value_ref::<String>(v).ok());
                match payload.as_deref().map(serde_json::from_str::<Envelope>) {
                    Some(Ok(envelope)) => inner.deliver(envelope),
                    other => eprintln!("redis: unreadable message on {}: {other:?}", inner.instance),
                }
            }
            // The connection dropped: Redis may have restarted without its data.
            PushKind::Disconnection => inner.restore.store(true, Ordering::SeqCst),
            _ => {}
        }
    }
}

/// Renews the alive key, puts back what Redis lost and reaps dead instances, every second.
async fn heartbeat(inner: std::sync::Weak<Inner>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    let mut failing = false;
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        if inner.stopped.load(Ordering::SeqCst) {
            return;
        }
        match inner.heartbeat().await {
            Ok(()) if failing => {
                eprintln!("redis: reachable again");
                failing = false;
            }
            Ok(()) => {}
            Err(e) => {
                if !failing {
                    eprintln!("redis: {e}");
                }
                failing = true;
                inner.restore.store(true, Ordering::SeqCst);
            }
        }
    }
}

impl Store for RedisStore {
    async fn join(&self, code: &str, mesh: bool, outbox: &Outbox) -> Result<Seat, Refusal> {
        let inner = &self.inner;
        let mut conn = inner.conn.clone();
        let session = inner.session();
        let token_secret = inner.random.token();
        if !code.is_empty() && !valid_code(code) {
            return Err(cannot_join(code));
        }
        // Codes and ids are picked here and taken in Redis; a collision picks again.
        for _ in 0..16 {
            let creating = code.is_empty();
            let (code, id) = if creating { (inner.random.code(), PeerId::HOST) } else { (code.to_string(), inner.random.peer_id()) };
            let token = format!("{code}.{id}.{token_secret}");
            if !inner.hold(&code, id, LocalPeer::new(session, token.clone(), outbox), creating)? {
                continue;
            }
            let result: redis::RedisResult<String> = if creating {
                inner.scripts.create.arg(&code).arg(&inner.instance).arg(session).arg(&token).arg(flag(mesh)).invoke_async(&mut conn).await
            } else {
                let s = &inner.scripts.join;
                s.arg(&code).arg(id.get()).arg(&inner.instance).arg(session).arg(&token).arg(inner.limits.max_lobby_size).invoke_async(&mut conn).await
            };
            let outcome = match result.as_deref() {
                Ok("ok") => Ok(Some(mesh)),
                Ok("ok:1") => Ok(Some(true)),
                Ok("ok:0") => Ok(Some(false)),
                Ok("taken") => Ok(None),
                Ok("no_such_lobby" | "lobby_sealed" | "lobby_full") => Err(cannot_join(&code)),
                Ok(other) => Err(Refusal::new("unavailable", format!("unexpected answer from the lobby store: {other}"))),
                Err(e) => Err(unavailable(e.clone())),
            };
            match outcome {
                Ok(Some(mesh)) => {
                    inner.set_mesh(&code, mesh);
                    return Ok(Seat { lobby: code, id, mesh, session });
                }
                Ok(None) => inner.release(&code, id, session),
                Err(refusal) => {
                    inner.release(&code, id, session);
                    return Err(refusal);
                }
            }
        }
        Err(Refusal::new("server_full", "no free lobby code or peer id; try later"))
    }

    async fn resume(&self, token: &str, outbox: &Outbox) -> Result<Seat, Refusal> {
        let inner = &self.inner;
        let bad = || Refusal::new("bad_resume", "no seat for this token (it ended, or the token is wrong)");
        let mut parts = token.split('.');
        let (Some(code), Some(id), Some(secret), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
        let id = id.parse::<u64>().ok().and_then(|n| PeerId::try_from(n).ok()).ok_or_else(bad)?;
        if !valid_code(code) || !valid_secret(secret) {
            return Err(bad());
        }
        let mut conn = inner.conn.clone();
        // The token first: a wrong one must not close the seat's connection here (hold) or
        // anywhere (the script's kick), nor be kept to be put back after a Redis restart.
        let s = &inner.scripts.check;
        let valid: i64 = s.arg(code).arg(id.get()).arg(token).invoke_async(&mut conn).await.map_err(unavailable)?;
        if valid != 1 {
            return Err(bad());
        }
        let session = inner.session();
        // A new token each time: one seen (or stolen) once does not work again.
        let new_token = format!("{code}.{id}.{}", inner.random.token());
        inner.hold(code, id, LocalPeer::new(session, new_token.clone(), outbox), false)?;
        let s = &inner.scripts.resume;
        let result: redis::RedisResult<String> =
            s.arg(code).arg(id.get()).arg(token).arg(&inner.instance).arg(session).arg(&new_token).invoke_async(&mut conn).await;
        let mesh = match result.as_deref() {
            Ok("ok:1") => true,
            Ok("ok:0") => false,
            Ok(_) => {
                inner.release(code, id, session);
                return Err(bad());
            }
            Err(e) => {
                inner.release(code, id, session);
                return Err(unavailable(e.clone()));
            }
        };
        inner.set_mesh(code, mesh);
        Ok(Seat { lobby: code.to_string(), id, mesh, session })
    }

    async fn relay(&self, from: &Seat, kind: RelayKind, to: PeerId, data: Value) -> Result<(), Refusal> {
        check_relay(from.mesh, from.id, to)?;
        let envelope = serde_json::json!({"lobby": from.lobby, "to": to.get(), "event": Event::relayed(kind, from.id, data)}).to_string();
        let mut conn = self.inner.conn.clone();
        let s = &self.inner.scripts.relay;
        let sent: i64 = s.arg(&from.lobby).arg(to.get()).arg(envelope).invoke_async(&mut conn).await.map_err(unavailable)?;
        if sent == 0 {
            return Err(Refusal::new("unknown_peer", format!("no peer {to} in your lobby")));
        }
        Ok(())
    }

    async fn seal(&self, seat: &Seat) -> Result<(), Refusal> {
        if seat.id != PeerId::HOST {
            return Err(Refusal::new("not_host", "only the host (1) can seal the lobby"));
        }
        let mut conn = self.inner.conn.clone();
        let _: i64 = self.inner.scripts.seal.arg(&seat.lobby).invoke_async(&mut conn).await.map_err(unavailable)?;
        Ok(())
    }

    async fn leave(&self, seat: &Seat) {
        self.inner.release(&seat.lobby, seat.id, seat.session);
        if self.inner.leave_now(seat).await.is_err() {
            self.inner.pending_leaves.lock().unwrap_or_else(|e| e.into_inner()).push(seat.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_redacted() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://:s3cret@10.0.0.5:6379/0", "redis://:***@10.0.0.5:6379/0"),
            ("redis://app:s3cret@redis.internal", "redis://app:***@redis.internal"),
            ("rediss://s3cret@redis.internal/2", "rediss://***@redis.internal/2"),
            ("redis+unix:///run/redis.sock?pass=s3cret&db=1", "redis+unix:///run/redis.sock?..."),
        ] {
            assert_eq!(super::redacted(url), shown);
        }
    }
}
