//! The local UDP addresses a connection binds: every interface by default, the configured
//! `bind_addresses` otherwise, and with a `port_range` one free port of the range for each
//! address that names no port.
//!
//! webrtc-rs binds the addresses it is given (`PeerConnectionBuilder::with_udp_addrs`) and has
//! no port range of its own, so the port is chosen here: the first one of the range that every
//! address can bind now. The probes are closed again before webrtc-rs binds, so choosing and
//! building are done under one process-wide lock ([`reserve`]) or two connections built at once
//! would pick the same port. Another process taking the port in that instant makes webrtc-rs
//! skip the address (and fail the build if it was the only one).

use crate::config::PeerConfig;
use crate::error::{Error, Result};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

/// Held while a connection with a port range chooses its port and binds it; `None` without a
/// range (port 0 is given to the system, which never hands out a port in use).
pub(super) async fn reserve(config: &PeerConfig) -> Option<tokio::sync::MutexGuard<'static, ()>> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    match config.port_range {
        Some(_) => Some(LOCK.lock().await),
        None => None,
    }
}

/// The addresses to hand to webrtc-rs. A wildcard (`0.0.0.0`) stands for every non-loopback
/// interface there; loopback must be named to be used.
pub(super) fn udp_addrs(config: &PeerConfig) -> Result<Vec<SocketAddr>> {
    let mut addrs = config.bind_addresses.clone();
    if addrs.is_empty() {
        addrs.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
        if config.include_loopback {
            addrs.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0));
        }
    }
    let Some((min, max)) = config.port_range else { return Ok(addrs) };
    // Binding a wildcard fails when any address of that family holds the port, so a port its
    // probe gets is free on every interface webrtc-rs expands the wildcard into.
    // (Nor a port an address names: both would bind it.)
    let free = |port: u16| !addrs.iter().any(|a| a.port() == port) && addrs.iter().filter(|a| a.port() == 0).all(|a| UdpSocket::bind(SocketAddr::new(a.ip(), port)).is_ok());
    let port = (min..=max).find(|&p| free(p)).ok_or_else(|| {
        Error::failed(format!("No UDP port of 'portRange' [{min}, {max}] is free on every address to bind."))
    })?;
    for a in addrs.iter_mut().filter(|a| a.port() == 0) {
        a.set_port(port);
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_a_free_port_of_the_range_for_addresses_without_one() {
        let held = UdpSocket::bind("127.0.0.1:0").unwrap();
        let busy = held.local_addr().unwrap().port();
        // The busy port first, then the rest of a small range above it.
        let max = busy.saturating_add(20);
        let config = PeerConfig {
            bind_addresses: vec!["127.0.0.1:0".parse().unwrap(), format!("127.0.0.1:{max}").parse().unwrap()],
            port_range: Some((busy, max)),
            ..Default::default()
        };
        let addrs = udp_addrs(&config).unwrap();
        assert!(addrs[0].port() != busy && addrs[0].port() != max, "ports in use or named are skipped");
        assert!((busy..=max).contains(&addrs[0].port()));
        assert_eq!(addrs[1].port(), max, "a port given stays");

        let full = PeerConfig { port_range: Some((busy, busy)), bind_addresses: vec!["127.0.0.1:0".parse().unwrap()], ..Default::default() };
        let err = udp_addrs(&full).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Failed);
        assert!(err.message().contains("'portRange'"), "{}", err.message());
    }

    #[test]
    fn without_a_range_every_interface_and_loopback_on_system_ports() {
        let addrs = udp_addrs(&PeerConfig::default()).unwrap();
        let want: Vec<SocketAddr> = vec!["0.0.0.0:0".parse().unwrap(), "127.0.0.1:0".parse().unwrap()];
        assert_eq!(addrs, want);
        let no_loopback = PeerConfig { include_loopback: false, ..Default::default() };
        assert_eq!(udp_addrs(&no_loopback).unwrap(), vec!["0.0.0.0:0".parse::<SocketAddr>().unwrap()]);
    }
}
