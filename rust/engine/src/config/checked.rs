//! The checks a browser makes on a connection's configuration, and their result: a
//! [`CheckedConfig`], parsed once, which the connection's task and its TURN adapter use as it
//! is (they never parse a URL or a certificate again).

use super::ca::parse_ca_pem;
use super::ice_url::IceUrl;
use super::{IceTransportPolicy, PeerConfig};
use crate::error::{Error, Result};
use rustls::pki_types::CertificateDer;

/// ICE server URLs a connection uses at most, counted over all servers in the order given:
/// 10,000 STUN servers made a connection take ~21 s to gather (browsers also cap the list; a
/// game needs two or three).
pub const MAX_ICE_URLS: usize = 32;

/// A configuration that passed [`PeerConfig::validate`], with what the checks parsed.
#[derive(Debug, Clone)]
pub struct CheckedConfig {
    pub(crate) config: PeerConfig,
    /// The servers as they will be used: within [`MAX_ICE_URLS`], without the URLs webrtc-rs
    /// cannot use, and without servers left with no URL.
    pub(crate) servers: Vec<CheckedServer>,
    /// The certificates of `turn_ca_pem`.
    pub(crate) turn_ca: Vec<CertificateDer<'static>>,
    warnings: Vec<String>,
}

/// One ICE server of a [`CheckedConfig`].
#[derive(Debug, Clone)]
pub(crate) struct CheckedServer {
    /// Each URL as the game wrote it, and parsed.
    pub urls: Vec<(String, IceUrl)>,
    pub username: String,
    pub credential: String,
}

impl CheckedConfig {
    /// What is valid but will not be used as written (skipped servers, URLs past the budget):
    /// for the game's log.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every URL that will be used, in order.
    pub(crate) fn urls(&self) -> impl Iterator<Item = &(String, IceUrl)> {
        self.servers.iter().flat_map(|s| &s.urls)
    }
}

impl PeerConfig {
    /// Checks the whole configuration: every ICE server's URLs (all of them, also past
    /// [`MAX_ICE_URLS`]) and the credentials TURN needs, the port range, the simulation, the
    /// CA certificates, and that a relay-only policy has a TURN server to use. Fails with
    /// `InvalidParameter`; otherwise returns the configuration as it will be used, with the
    /// warnings for what is valid but skipped.
    pub fn validate(&self) -> Result<CheckedConfig> {
        self.validate_port_range()?;
        if let Some(sim) = &self.simulate {
            sim.validate()?;
        }
        let mut warnings = Vec::new();
        let given = self.ice_servers.iter().map(|s| s.urls.len()).sum::<usize>();
        if given > MAX_ICE_URLS {
            warnings.push(format!("{given} ICE server URLs were given; only the first {MAX_ICE_URLS} are used (each one costs gathering work and traffic)."));
        }
        let mut budget = MAX_ICE_URLS;
        let mut servers = Vec::new();
        for (i, server) in self.ice_servers.iter().enumerate() {
            if server.urls.is_empty() {
                return Err(Error::invalid(format!("iceServers[{i}] has no 'urls'.")));
            }
            let mut urls = Vec::new();
            for url in &server.urls {
                let parsed = IceUrl::parse(url)?;
                if parsed.is_turn() && (server.username.is_empty() || server.credential.is_empty()) {
                    return Err(Error::invalid(format!(
                        "iceServers[{i}]: TURN URL '{}' needs 'username' and 'credential'.", crate::excerpt(url)
                    )));
                }
                let within_budget = budget > 0;
                budget = budget.saturating_sub(1);
                if let Some(why) = parsed.unsupported_reason() {
                    warnings.push(format!("ICE server '{}' will be skipped: {why}.", crate::excerpt(url)));
                } else if within_budget {
                    urls.push((url.clone(), parsed));
                }
            }
            if !urls.is_empty() {
                servers.push(CheckedServer { urls, username: server.username.clone(), credential: server.credential.clone() });
            }
        }
        let usable_turn = servers.iter().flat_map(|s| &s.urls).any(|(_, u)| u.is_turn());
        if self.ice_transport_policy == IceTransportPolicy::Relay && !usable_turn {
            return Err(Error::invalid(
                "'iceTransportPolicy' is \"relay\" but no usable TURN server ('turn:' or 'turns:') is configured: the connection could never succeed.",
            ));
        }
        let turn_ca = match &self.turn_ca_pem {
            Some(pem) => parse_ca_pem(pem)
                .map_err(|why| Error::invalid(format!("The CA certificate for TURN over TLS is not usable: {why}.")))?,
            None => Vec::new(),
        };
        Ok(CheckedConfig { config: self.clone(), servers, turn_ca, warnings })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IceServer;

    fn turn(u: &str, user: &str) -> PeerConfig {
        PeerConfig {
            ice_servers: vec![IceServer { urls: vec![u.into()], username: user.into(), credential: user.into() }],
            ..Default::default()
        }
    }

    #[test]
    fn validates_ice_servers() {
        assert!(turn("turn:h", "").validate().is_err());
        assert_eq!(turn("turn:h", "u").validate().unwrap().warnings(), Vec::<String>::new());
        // TCP and TLS are carried by the engine; DTLS is not.
        assert_eq!(turn("turns:h", "u").validate().unwrap().warnings(), Vec::<String>::new());
        assert_eq!(turn("turn:h?transport=tcp", "u").validate().unwrap().warnings(), Vec::<String>::new());
        assert_eq!(turn("turns:h?transport=udp", "u").validate().unwrap().warnings().len(), 1);
        let relay = |u: &str| PeerConfig { ice_transport_policy: IceTransportPolicy::Relay, ..turn(u, "u") };
        assert!(relay("turns:h").validate().is_ok());
        assert!(relay("turns:h?transport=udp").validate().is_err());
        let bad_ca = PeerConfig { turn_ca_pem: Some("no certificate".into()), ..turn("turns:h", "u") };
        assert!(bad_ca.validate().unwrap_err().message().contains("CA certificate"));
        let empty = PeerConfig { ice_servers: vec![IceServer::default()], ..Default::default() };
        assert!(empty.validate().is_err());
    }

    #[test]
    fn the_checked_servers_are_the_ones_used() {
        let server = |urls: Vec<String>| IceServer { urls, username: "u".into(), credential: "p".into() };
        let config = PeerConfig {
            ice_servers: vec![
                server(vec!["stuns:skipped".into(), "stun:a".into()]),
                server((0..40).map(|i| format!("turn:h{i}")).collect()),
            ],
            ..Default::default()
        };
        let checked = config.validate().unwrap();
        let used: Vec<&str> = checked.urls().map(|(text, _)| text.as_str()).collect();
        assert_eq!(used.len(), MAX_ICE_URLS - 1, "the first {MAX_ICE_URLS} given, less the unsupported one");
        assert_eq!(used[..2], ["stun:a", "turn:h0"]);
        assert_eq!(checked.servers[1].username, "u");
        assert_eq!(checked.warnings().len(), 2, "the budget and the skipped URL: {:?}", checked.warnings());
        // A relay-only policy needs a TURN URL among those used.
        let late_turn = PeerConfig {
            ice_servers: vec![server((0..MAX_ICE_URLS).map(|i| format!("stun:h{i}")).collect()), server(vec!["turn:late".into()])],
            ice_transport_policy: IceTransportPolicy::Relay,
            ..Default::default()
        };
        assert!(late_turn.validate().is_err(), "the only TURN server is past the budget");
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
            assert_eq!(err.kind(), crate::ErrorKind::InvalidParameter, "{bad:?}");
            assert!(err.message().contains("'portRange'"), "{}", err.message());
        }
    }
}
