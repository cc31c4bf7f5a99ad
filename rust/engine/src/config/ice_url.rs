//! One URL of `iceServers`, parsed (RFC 7064/7065): what it asks for, and whether webrtc-rs
//! can use it.

use crate::error::{Error, Result};

/// What a URL in `iceServers` asks for, once parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IceUrl {
    /// `stun`, `stuns`, `turn` or `turns`.
    pub scheme: String,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port, or the scheme's default.
    pub port: u16,
    /// `udp` or `tcp` for TURN (`?transport=`), `None` when not given.
    pub transport: Option<String>,
}

impl IceUrl {
    /// Parses `scheme:host[:port][?transport=udp|tcp]` (RFC 7064/7065) with rtc-ice's parser,
    /// the one webrtc-rs uses on these URLs, so what passes here is what webrtc-rs will use.
    /// It goes through the `url` crate, which also takes what these RFCs do not have (user
    /// info, a path, port 0, a 1,000-character host): refused here, with a reason.
    pub fn parse(url: &str) -> Result<Self> {
        use rtc::shared::error::Error as RtcError;
        let bad = |why: &str| Error::invalid(format!("Invalid ICE server URL '{}': {why}.", crate::excerpt(url)));
        // The `url` crate strips spaces and newlines and converts international names: what
        // the game wrote must be what is used.
        if !url.chars().all(|c| c.is_ascii_graphic()) {
            return Err(bad("URLs are ASCII without spaces or control characters (write international host names in punycode)"));
        }
        let (_, rest) = url.split_once(':').ok_or_else(|| bad("expected 'stun:', 'stuns:', 'turn:' or 'turns:'"))?;
        let authority = rest.split('?').next().unwrap_or(rest);
        if authority.contains('@') || authority.contains('/') {
            return Err(bad("expected 'scheme:host[:port]' without '//', user info or path"));
        }
        if authority.ends_with(':') {
            return Err(bad("port must be a number from 1 to 65535"));
        }
        let parsed = rtc::ice::url::Url::parse_url(url).map_err(|e| {
            let why = match &e {
                RtcError::ErrSchemeType => "unknown scheme (use stun:, stuns:, turn: or turns:)",
                RtcError::ErrStunQuery => "STUN URLs take no query",
                RtcError::ErrInvalidQuery | RtcError::ErrProtoType => {
                    "the only query allowed is '?transport=udp' or '?transport=tcp'"
                }
                RtcError::Url(url::ParseError::InvalidPort) => "port must be a number from 1 to 65535",
                _ => "missing or invalid host",
            };
            bad(why).caused_by(e)
        })?;
        let host = parsed.host;
        if host.is_empty() {
            return Err(bad("missing or invalid host"));
        }
        // DNS names are at most 253 characters (RFC 1035); longer is a mistake or an attack.
        if host.len() > 253 {
            return Err(bad("host name longer than 253 characters"));
        }
        if parsed.port == 0 {
            return Err(bad("port must be a number from 1 to 65535"));
        }
        let scheme = parsed.scheme.to_string();
        // rtc-ice fills in a default transport; only an explicit one matters here.
        let transport = rest.split_once("?transport=").map(|(_, t)| t.to_string());
        Ok(Self { scheme, host, port: parsed.port, transport })
    }

    /// Whether this is a TURN URL (needs credentials).
    pub fn is_turn(&self) -> bool {
        self.scheme.starts_with("turn")
    }

    /// Whether this is TURN over TCP or TLS, which the engine carries for webrtc-rs (it speaks
    /// TURN over UDP only): see `connection::turn_stream`.
    pub fn is_stream_turn(&self) -> bool {
        matches!((self.scheme.as_str(), self.transport.as_deref()), ("turn", Some("tcp")) | ("turns", None | Some("tcp")))
    }

    /// Why this server will not be used, if it will not: STUN is used over UDP only, and TURN
    /// over DTLS is not supported.
    pub fn unsupported_reason(&self) -> Option<&'static str> {
        match (self.scheme.as_str(), self.transport.as_deref()) {
            ("turns", Some("udp")) => Some("TURN over DTLS ('turns:' with '?transport=udp') is not supported; use 'turns:' (TLS) or 'turn:'"),
            ("stuns", _) => Some("STUN over TLS ('stuns:') is not supported by webrtc-rs"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ice_urls() {
        let u = IceUrl::parse("stun:127.0.0.1:3478").unwrap();
        assert_eq!((u.scheme.as_str(), u.host.as_str(), u.port), ("stun", "127.0.0.1", 3478));
        let u = IceUrl::parse("turn:example.org?transport=udp").unwrap();
        assert_eq!((u.port, u.transport.as_deref()), (3478, Some("udp")));
        let u = IceUrl::parse("turns:[::1]:5000").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 5000));
        assert_eq!(IceUrl::parse("stuns:h").unwrap().port, 5349);
        for bad in ["", "http://x", "stun:", "stun:host:0", "stun:host:99999", "turn:h?transport=sctp",
                    "stun:h?transport=udp", "stun://h", "turn:user@h", "stun:[::1", "stun:h o", " stun:h", "stun:h\n",
                    "stun:ünïcode.example", "stun:h:", "stun:host:3478:1", "stun:::1", "stun:[zz]"] {
            let err = IceUrl::parse(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidParameter, "{bad}");
            assert!(err.message().contains("Invalid ICE server URL"), "{bad}: {}", err.message());
        }
    }
}
