//! Plain option structs for a connection and a data channel, and the checks a browser would make
//! on them. The extension fills these from Godot dictionaries; nothing here knows Godot.

use crate::error::{Error, Result};

/// Which local candidates ICE may use (W3C `iceTransportPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IceTransportPolicy {
    /// Host, server-reflexive and relay candidates.
    #[default]
    All,
    /// Only candidates relayed by a TURN server.
    Relay,
}

/// One entry of `iceServers`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:`, `stuns:`, `turn:` or `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    pub username: String,
    /// TURN password.
    pub credential: String,
}

/// Options of one peer connection (W3C `RTCConfiguration` plus engine extras).
#[derive(Debug, Clone, PartialEq)]
pub struct PeerConfig {
    /// STUN and TURN servers.
    pub ice_servers: Vec<IceServer>,
    /// Which candidates may be used.
    pub ice_transport_policy: IceTransportPolicy,
    /// Also gather 127.0.0.1 host candidates, so two games on one offline machine connect.
    pub include_loopback: bool,
    /// Resolve remote `.local` (mDNS) candidates, as browsers send them. Falls back to off where
    /// the machine cannot join the multicast group.
    pub mdns: bool,
    /// Local UDP addresses to bind instead of every interface (`0.0.0.0:0`): e.g. one interface,
    /// or fixed ports a firewall lets through. Empty: every interface (and loopback, see above).
    pub bind_addresses: Vec<std::net::SocketAddr>,
    /// CA certificates (PEM) trusted for `turns:` servers besides the platform's roots, e.g. a
    /// game's own TURN server's CA.
    pub turn_ca_pem: Option<String>,
    /// UDP ports `(min, max)`, both included, for the sockets whose port is not given (every
    /// socket unless `bind_addresses` names ports): for servers behind a firewall that opens
    /// only a range. Each connection takes one port of the range for all its sockets.
    pub port_range: Option<(u16, u16)>,
    /// The link simulator: delay, jitter and loss applied to every datagram this connection
    /// sends (for testing a game on a bad network). `None` or all zero: off.
    pub simulate: Option<Simulation>,
}

/// What the link simulator does to every datagram a connection sends: holds it for
/// `delay_ms` plus or minus up to `jitter_ms` (uniformly), or drops it with probability
/// `loss_percent` / 100. Each side applies it to what it sends, so two peers at 40 ms see an
/// ~80 ms round trip.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Simulation {
    /// Delay in milliseconds, at least 0.
    pub delay_ms: f64,
    /// Jitter in milliseconds, at least 0.
    pub jitter_ms: f64,
    /// Loss in percent, 0 to 100.
    pub loss_percent: f64,
}

/// The longest simulated delay or jitter: a minute (a larger one is a typo, not a network).
pub const MAX_SIMULATED_DELAY_MS: f64 = 60_000.0;

impl Simulation {
    /// Refuses (`InvalidParameter`) a negative, NaN or infinite value, a delay or jitter over
    /// [`MAX_SIMULATED_DELAY_MS`], or a loss over 100 %.
    pub fn validate(&self) -> Result<()> {
        for (key, value, max) in [
            ("delay_ms", self.delay_ms, MAX_SIMULATED_DELAY_MS),
            ("jitter_ms", self.jitter_ms, MAX_SIMULATED_DELAY_MS),
            ("loss_percent", self.loss_percent, 100.0),
        ] {
            if !(0.0..=max).contains(&value) {
                return Err(Error::invalid(format!("'webrtc_rs.simulate.{key}' must be between 0 and {max}, got {value}.")));
            }
        }
        Ok(())
    }

    /// Whether it changes anything.
    pub fn is_active(&self) -> bool {
        self.delay_ms > 0.0 || self.jitter_ms > 0.0 || self.loss_percent > 0.0
    }
}

impl Default for PeerConfig {
    fn default() -> Self {
        Self {
            ice_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            include_loopback: true,
            mdns: true,
            bind_addresses: Vec::new(),
            turn_ca_pem: None,
            port_range: None,
            simulate: None,
        }
    }
}

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

/// ICE server URLs a connection uses at most: 10,000 STUN servers made a connection take
/// ~21 s to gather (browsers also cap the list; a game needs two or three).
pub const MAX_ICE_URLS: usize = 32;

impl PeerConfig {
    /// Checks every ICE server: parsable URLs, credentials where TURN needs them.
    /// Returns the warnings for servers that are valid but will be skipped.
    pub fn validate(&self) -> Result<Vec<String>> {
        self.validate_port_range()?;
        if let Some(sim) = &self.simulate {
            sim.validate()?;
        }
        let urls = self.ice_servers.iter().map(|s| s.urls.len()).sum::<usize>();
        let mut warnings = Vec::new();
        if urls > MAX_ICE_URLS {
            warnings.push(format!("{urls} ICE server URLs were given; only the first {MAX_ICE_URLS} are used (each one costs gathering work and traffic)."));
        }
        let usable_turn = self.ice_servers.iter().flat_map(|s| &s.urls).any(|u| {
            IceUrl::parse(u).map(|p| p.is_turn() && p.unsupported_reason().is_none()).unwrap_or(false)
        });
        if self.ice_transport_policy == IceTransportPolicy::Relay && !usable_turn {
            return Err(Error::invalid(
                "'iceTransportPolicy' is \"relay\" but no usable TURN server ('turn:' or 'turns:') is configured: the connection could never succeed.",
            ));
        }
        if let Some(pem) = &self.turn_ca_pem {
            crate::connection::turn_tls::parse_ca_pem(pem)
                .map_err(|why| Error::invalid(format!("The CA certificate for TURN over TLS is not usable: {why}.")))?;
        }
        for (i, server) in self.ice_servers.iter().enumerate() {
            if server.urls.is_empty() {
                return Err(Error::invalid(format!("iceServers[{i}] has no 'urls'.")));
            }
            for url in &server.urls {
                let parsed = IceUrl::parse(url)?;
                if parsed.is_turn() && (server.username.is_empty() || server.credential.is_empty()) {
                    return Err(Error::invalid(format!(
                        "iceServers[{i}]: TURN URL '{}' needs 'username' and 'credential'.", crate::excerpt(url)
                    )));
                }
                if let Some(why) = parsed.unsupported_reason() {
                    warnings.push(format!("ICE server '{}' will be skipped: {why}.", crate::excerpt(url)));
                }
            }
        }
        Ok(warnings)
    }

    /// A port range goes from 1 up, its minimum not above its maximum, and an address of
    /// `bind_addresses` with a port of its own keeps it inside the range.
    fn validate_port_range(&self) -> Result<()> {
        let Some((min, max)) = self.port_range else { return Ok(()) };
        if min == 0 || min > max {
            return Err(Error::invalid(format!("'portRange' must be [min, max] with 1 <= min <= max <= 65535, got [{min}, {max}].")));
        }
        if let Some(a) = self.bind_addresses.iter().find(|a| a.port() != 0 && !(min..=max).contains(&a.port())) {
            return Err(Error::invalid(format!("'bindAddresses': {a} has a port outside 'portRange' [{min}, {max}] (use port 0 to take one from the range).")));
        }
        Ok(())
    }
}

/// Options of a connection that do not come from the W3C configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerOptions {
    /// Unread bytes each channel keeps (see [`crate::Packet`]'s queue): a reliable channel then
    /// holds the sender, an unreliable one drops its oldest messages. The extension passes
    /// Godot's `network/limits/webrtc/max_channel_in_buffer_kb`.
    pub receive_buffer_bytes: usize,
}

impl Default for PeerOptions {
    fn default() -> Self {
        Self { receive_buffer_bytes: 64 * 1024 }
    }
}

/// Options of one data channel (W3C `RTCDataChannelInit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    /// Created out-of-band by both sides with the same `id`, no in-band announcement.
    pub negotiated: bool,
    /// SCTP stream id; required when negotiated.
    pub id: Option<u16>,
    /// In-order delivery.
    pub ordered: bool,
    /// Give up on a message after this many milliseconds.
    pub max_packet_life_time: Option<u16>,
    /// Give up on a message after this many retransmissions.
    pub max_retransmits: Option<u16>,
    /// Sub-protocol name.
    pub protocol: String,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self { negotiated: false, id: None, ordered: true, max_packet_life_time: None, max_retransmits: None, protocol: String::new() }
    }
}

/// Largest stream id a channel may use (65535 is reserved).
pub const MAX_CHANNEL_ID: u16 = 65534;

impl ChannelConfig {
    /// The browser's checks: negotiated needs an id, ids stop at 65534, lifetime and
    /// retransmits exclude each other.
    pub fn validate(&self) -> Result<()> {
        if self.negotiated && self.id.is_none() {
            return Err(Error::invalid("A negotiated data channel needs an 'id' (0 to 65534)."));
        }
        if let Some(id) = self.id {
            if id > MAX_CHANNEL_ID {
                return Err(Error::invalid(format!("Data channel id {id} is out of range (0 to 65534).")));
            }
        }
        if self.max_packet_life_time.is_some() && self.max_retransmits.is_some() {
            return Err(Error::invalid(
                "'maxPacketLifeTime' and 'maxRetransmits' cannot both be set on one data channel.",
            ));
        }
        Ok(())
    }

    /// Whether messages may be lost (partial reliability).
    pub fn is_reliable(&self) -> bool {
        self.max_packet_life_time.is_none() && self.max_retransmits.is_none()
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
            assert_eq!(err.kind, crate::ErrorKind::InvalidParameter, "{bad}");
            assert!(err.message.contains("Invalid ICE server URL"), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn validates_ice_servers() {
        let turn = |u: &str, user: &str| PeerConfig {
            ice_servers: vec![IceServer { urls: vec![u.into()], username: user.into(), credential: user.into() }],
            ..Default::default()
        };
        assert!(turn("turn:h", "").validate().is_err());
        assert_eq!(turn("turn:h", "u").validate().unwrap(), Vec::<String>::new());
        // TCP and TLS are carried by the engine; DTLS is not.
        assert_eq!(turn("turns:h", "u").validate().unwrap(), Vec::<String>::new());
        assert_eq!(turn("turn:h?transport=tcp", "u").validate().unwrap(), Vec::<String>::new());
        assert_eq!(turn("turns:h?transport=udp", "u").validate().unwrap().len(), 1);
        let relay = |u: &str| PeerConfig { ice_transport_policy: IceTransportPolicy::Relay, ..turn(u, "u") };
        assert!(relay("turns:h").validate().is_ok());
        assert!(relay("turns:h?transport=udp").validate().is_err());
        let bad_ca = PeerConfig { turn_ca_pem: Some("no certificate".into()), ..turn("turns:h", "u") };
        assert!(bad_ca.validate().unwrap_err().message.contains("CA certificate"));
        let empty = PeerConfig { ice_servers: vec![IceServer::default()], ..Default::default() };
        assert!(empty.validate().is_err());
    }

    #[test]
    fn validates_port_ranges() {
        let range = |r: (u16, u16), bind: &[&str]| PeerConfig {
            port_range: Some(r),
            bind_addresses: bind.iter().map(|a| a.parse().unwrap()).collect(),
            ..Default::default()
        };
        for ok in [range((1, 65535), &[]), range((5000, 5000), &[]), range((5000, 5010), &["127.0.0.1:0", "127.0.0.1:5010"])] {
            assert!(ok.validate().is_ok(), "{ok:?}");
        }
        for bad in [range((0, 10), &[]), range((10, 9), &[]), range((5000, 5010), &["127.0.0.1:4999"])] {
            let err = bad.validate().unwrap_err();
            assert_eq!(err.kind, crate::ErrorKind::InvalidParameter, "{bad:?}");
            assert!(err.message.contains("'portRange'"), "{}", err.message);
        }
    }

    #[test]
    fn validates_channels() {
        let ok = ChannelConfig::default();
        assert!(ok.validate().is_ok());
        assert!(ChannelConfig { negotiated: true, ..ok.clone() }.validate().is_err());
        assert!(ChannelConfig { negotiated: true, id: Some(65534), ..ok.clone() }.validate().is_ok());
        assert!(ChannelConfig { id: Some(65535), ..ok.clone() }.validate().is_err());
        let both = ChannelConfig { max_packet_life_time: Some(1), max_retransmits: Some(1), ..ok.clone() };
        assert!(both.validate().is_err());
        assert!(!ChannelConfig { max_retransmits: Some(0), ..ok }.is_reliable());
    }
}
