//! Plain option structs for a connection and a data channel, and the checks a browser would make
//! on them. The extension fills these from Godot dictionaries; nothing here knows Godot.
//!
//! - `checked`: a connection's checks, and their result ([`CheckedConfig`]) that the
//!   connection uses as it is; `ice_url`: one `iceServers` URL, parsed; `ca`: the CA
//!   certificates trusted for `turns:` servers, read from PEM.

mod ca;
mod checked;
mod ice_url;

pub use checked::{CheckedConfig, MAX_ICE_URLS};

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
                return Err(Error::invalid(format!("'{}.{key}' must be between 0 and {max}, got {value}.", crate::words::words().simulate_option)));
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
