//! The JSON messages between a game and the server. Every message is an object with a `type`.
//!
//! Client to server: `join {lobby, mesh}`, `offer|answer|candidate {to, data}`, `seal`, `leave`,
//! `ping`. Server to client: `joined {lobby, id, mesh, peers}`, `peer_joined {id}`,
//! `peer_left {id}`, `offer|answer|candidate {from, data}`, `sealed`, `lobby_closed`, `pong`,
//! `error {code, message}`.

use serde_json::{Value, json};

/// What a client asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Create a lobby (`lobby` empty) or join one by its code.
    Join { lobby: String, mesh: bool },
    /// Pass `data` to peer `to` of the same lobby, as message `kind`.
    Relay { kind: &'static str, to: u32, data: Value },
    /// The host closes the lobby to newcomers.
    Seal,
    /// Leave the lobby and disconnect.
    Leave,
    /// Keep-alive; answered with `pong`.
    Ping,
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

    /// The `error` message sent back.
    pub fn to_json(&self) -> String {
        json!({"type": "error", "code": self.code, "message": self.message}).to_string()
    }
}

/// Parses one text message.
pub fn parse(text: &str) -> Result<Request, Refusal> {
    let value: Value = serde_json::from_str(text).map_err(|e| Refusal::new("bad_json", format!("not JSON: {e}")))?;
    let obj = value.as_object().ok_or_else(|| Refusal::new("bad_message", "a message must be a JSON object"))?;
    let kind = obj.get("type").and_then(Value::as_str).ok_or_else(|| Refusal::new("bad_message", "missing string 'type'"))?;
    match kind {
        "join" => {
            let lobby = match obj.get("lobby") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(Refusal::new("bad_message", "'lobby' must be a string")),
            };
            let mesh = match obj.get("mesh") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(Refusal::new("bad_message", "'mesh' must be a bool")),
            };
            Ok(Request::Join { lobby, mesh })
        }
        "offer" | "answer" | "candidate" => {
            let to = obj
                .get("to")
                .and_then(Value::as_u64)
                .filter(|&n| (1..=i32::MAX as u64).contains(&n))
                .ok_or_else(|| Refusal::new("bad_message", "'to' must be a peer id (1 to 2147483647)"))?;
            let data = obj.get("data").cloned().unwrap_or(Value::Null);
            let kind = match kind {
                "offer" => "offer",
                "answer" => "answer",
                _ => "candidate",
            };
            Ok(Request::Relay { kind, to: to as u32, data })
        }
        "seal" => Ok(Request::Seal),
        "leave" => Ok(Request::Leave),
        "ping" => Ok(Request::Ping),
        other => Err(Refusal::new("bad_message", format!("unknown type '{other}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(parse(r#"{"type":"join"}"#).unwrap(), Request::Join { lobby: String::new(), mesh: false });
        assert_eq!(parse(r#"{"type":"join","lobby":"AB","mesh":true}"#).unwrap(), Request::Join { lobby: "AB".into(), mesh: true });
        assert!(matches!(parse(r#"{"type":"offer","to":3,"data":{"sdp":"x"}}"#).unwrap(), Request::Relay { kind: "offer", to: 3, .. }));
        for (bad, code) in [("{", "bad_json"), ("[]", "bad_message"), (r#"{"type":1}"#, "bad_message"),
            (r#"{"type":"nope"}"#, "bad_message"), (r#"{"type":"offer","to":0}"#, "bad_message"),
            (r#"{"type":"offer","to":"1"}"#, "bad_message"), (r#"{"type":"join","mesh":"yes"}"#, "bad_message")] {
            assert_eq!(parse(bad).unwrap_err().code, code, "{bad}");
        }
    }
}
