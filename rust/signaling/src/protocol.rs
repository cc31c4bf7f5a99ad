//! The JSON messages between a game and the server. Every message is an object with a `type`.
//!
//! Client to server: `join {lobby, mesh}`, `offer|answer|candidate {to, data}`, `seal`, `leave`,
//! `ping`, `resume {token}`. Server to client: `joined {lobby, id, mesh, peers, resume?}`, `peer_joined {id}`,
//! `peer_left {id}`, `offer|answer|candidate {from, data}`, `sealed`, `lobby_closed`, `pong`,
//! `error {code, message}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a client asked for.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Create a lobby (`lobby` empty or null) or join one by its code.
    Join {
        #[serde(default, deserialize_with = "string_or_null")]
        lobby: String,
        #[serde(default)]
        mesh: bool,
    },
    /// Pass `data` to peer `to` of the same lobby.
    Offer(Relay),
    /// Same as `Offer`, relayed as `answer`.
    Answer(Relay),
    /// Same as `Offer`, relayed as `candidate`.
    Candidate(Relay),
    /// The host closes the lobby to newcomers.
    Seal,
    /// Leave the lobby and disconnect.
    Leave,
    /// Keep-alive; answered with `pong`.
    Ping,
    /// Take back a seat after losing the connection (to this or another instance).
    Resume { token: String },
}

/// Signaling data for one peer of the lobby.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Relay {
    /// The receiving peer.
    pub to: PeerId,
    /// Passed on as it is.
    #[serde(default)]
    pub data: Value,
}

/// The relayed message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayKind {
    /// SDP offer.
    Offer,
    /// SDP answer.
    Answer,
    /// ICE candidate.
    Candidate,
}

impl Request {
    /// The relayed message, if this is one.
    pub fn relay(self) -> Result<(RelayKind, Relay), Self> {
        match self {
            Request::Offer(r) => Ok((RelayKind::Offer, r)),
            Request::Answer(r) => Ok((RelayKind::Answer, r)),
            Request::Candidate(r) => Ok((RelayKind::Candidate, r)),
            other => Err(other),
        }
    }
}

/// A peer id as Godot's multiplayer uses them: 1 (the host) to 2^31 - 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u32")]
pub struct PeerId(u32);

impl PeerId {
    /// The lobby's creator.
    pub const HOST: PeerId = PeerId(1);

    /// The number Godot sees.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u64> for PeerId {
    type Error = &'static str;
    fn try_from(n: u64) -> Result<Self, Self::Error> {
        if (1..=i32::MAX as u64).contains(&n) { Ok(PeerId(n as u32)) } else { Err("a peer id is 1 to 2147483647") }
    }
}

impl From<PeerId> for u32 {
    fn from(id: PeerId) -> u32 {
        id.0
    }
}

impl std::fmt::Display for PeerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

fn string_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// You are in `lobby` as `id`; `peers` were there before you.
    Joined {
        lobby: String,
        id: PeerId,
        mesh: bool,
        peers: Vec<PeerId>,
        /// With a shared store: give it in `resume` to take this seat back from any instance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
    },
    /// Someone joined your lobby.
    PeerJoined { id: PeerId },
    /// Someone left your lobby.
    PeerLeft { id: PeerId },
    /// Relayed `offer` from a peer.
    Offer(Relayed),
    /// Relayed `answer` from a peer.
    Answer(Relayed),
    /// Relayed `candidate` from a peer.
    Candidate(Relayed),
    /// The host sealed the lobby.
    Sealed,
    /// The lobby ended; the server closes the connection after this.
    LobbyClosed,
    /// Reply to `ping`.
    Pong,
    /// A refused message.
    Error { code: String, message: String },
}

/// Signaling data from a peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relayed {
    /// The sending peer.
    pub from: PeerId,
    /// As the sender gave it.
    pub data: Value,
}

impl Event {
    /// A relayed message of `kind`.
    pub fn relayed(kind: RelayKind, from: PeerId, data: Value) -> Self {
        let r = Relayed { from, data };
        match kind {
            RelayKind::Offer => Event::Offer(r),
            RelayKind::Answer => Event::Answer(r),
            RelayKind::Candidate => Event::Candidate(r),
        }
    }

    /// The text sent on the WebSocket.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events serialize")
    }
}

/// Why a message was refused; `code` is stable, `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Machine-readable reason.
    pub code: &'static str,
    /// Human-readable reason.
    pub message: String,
}

impl Refusal {
    /// A refusal with its code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// The `error` event sent back.
    pub fn to_event(&self) -> Event {
        Event::Error { code: self.code.to_string(), message: self.message.clone() }
    }
}

/// Parses one text message: text that is not JSON is `bad_json`; JSON that is not a known
/// message (not an object, no or unknown `type`, wrong fields) is `bad_message`.
pub fn parse(text: &str) -> Result<Request, Refusal> {
    use serde_json::error::Category;
    match serde_json::from_str::<Request>(text) {
        // serde's tagged enums also read `["join"]` as `{"type":"join"}`; the protocol is objects.
        Ok(_) if !text.trim_start().starts_with('{') => Err(Refusal::new("bad_message", "a message must be a JSON object")),
        Ok(request) => Ok(request),
        Err(e) if e.classify() == Category::Data => Err(Refusal::new("bad_message", e.to_string())),
        Err(e) => Err(Refusal::new("bad_json", format!("not JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(parse(r#"{"type":"join"}"#).unwrap(), Request::Join { lobby: String::new(), mesh: false });
        assert_eq!(parse(r#"{"type":"join","lobby":null}"#).unwrap(), Request::Join { lobby: String::new(), mesh: false });
        assert_eq!(parse(r#"{"type":"join","lobby":"AB","mesh":true}"#).unwrap(), Request::Join { lobby: "AB".into(), mesh: true });
        let (kind, relay) = parse(r#"{"type":"offer","to":3,"data":{"sdp":"x"}}"#).unwrap().relay().unwrap();
        assert_eq!((kind, relay.to.get(), relay.data), (RelayKind::Offer, 3, serde_json::json!({"sdp": "x"})));
        assert_eq!(parse(r#"{"type":"candidate","to":2147483647}"#).unwrap().relay().unwrap().1.data, Value::Null);
        assert_eq!(parse(r#" {"type":"ping","extra":1}"#).unwrap(), Request::Ping);
        assert_eq!(parse(r#"{"type":"resume","token":"ab"}"#).unwrap(), Request::Resume { token: "ab".into() });
        for (bad, code) in [("{", "bad_json"), ("[", "bad_json"), ("", "bad_json"), ("[]", "bad_message"), (r#"["ping"]"#, "bad_message"),
            ("1", "bad_message"), (r#"{"type":1}"#, "bad_message"), ("{}", "bad_message"),
            (r#"{"type":"nope"}"#, "bad_message"), (r#"{"type":"offer","to":0}"#, "bad_message"),
            (r#"{"type":"offer","to":2147483648}"#, "bad_message"), (r#"{"type":"offer"}"#, "bad_message"),
            (r#"{"type":"offer","to":"1"}"#, "bad_message"), (r#"{"type":"join","mesh":"yes"}"#, "bad_message"),
            (r#"{"type":"join","lobby":5}"#, "bad_message"), (r#"{"type":"resume"}"#, "bad_message")] {
            assert_eq!(parse(bad).unwrap_err().code, code, "{bad}");
        }
    }

    #[test]
    fn events_keep_the_wire_format() {
        let id = PeerId::try_from(7).unwrap();
        let joined = Event::Joined { lobby: "K7PQ2M".into(), id, mesh: true, peers: vec![PeerId::HOST], resume: None };
        assert_eq!(joined.to_json(), r#"{"type":"joined","lobby":"K7PQ2M","id":7,"mesh":true,"peers":[1]}"#);
        let resumable = Event::Joined { lobby: "K7PQ2M".into(), id, mesh: false, peers: vec![], resume: Some("ab".into()) };
        assert_eq!(resumable.to_json(), r#"{"type":"joined","lobby":"K7PQ2M","id":7,"mesh":false,"peers":[],"resume":"ab"}"#);
        assert_eq!(Event::relayed(RelayKind::Answer, id, serde_json::json!({"sdp": "v"})).to_json(), r#"{"type":"answer","from":7,"data":{"sdp":"v"}}"#);
        assert_eq!(Event::LobbyClosed.to_json(), r#"{"type":"lobby_closed"}"#);
        assert_eq!(Refusal::new("not_host", "no").to_event().to_json(), r#"{"type":"error","code":"not_host","message":"no"}"#);
    }
}
