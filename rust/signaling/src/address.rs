//! Limits per client address: connections open at once, and failed joins (wrong lobby codes,
//! wrong resume tokens) a minute, so that one address can neither take every slot nor guess
//! codes quickly. The address is the TCP peer's, or, when that peer is a trusted reverse
//! proxy, the one it forwards in `X-Forwarded-For`.

use crate::limits::Limits;
use crate::rate_limit::TokenBucket;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Who may connect through what: set by flags, fixed while the server runs.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Reverse proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`).
    pub trusted_proxies: Vec<IpAddr>,
    /// When not empty, a browser's `Origin` must be one of these (`--allowed-origin`).
    pub allowed_origins: Vec<String>,
}

impl Access {
    /// The client's address: the peer's, or the nearest untrusted hop of `X-Forwarded-For`
    /// (proxies append the address they saw, so the list is read from the right) when the
    /// peer is a trusted proxy.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let hops = forwarded_for.iter().flat_map(|h| h.split(',')).map(str::trim).collect::<Vec<_>>();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // Some proxies add the port ("1.2.3.4:5678", "[::1]:5678").
            let Some(ip) = hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())) else { break };
            client = ip;
            if !self.trusted_proxies.contains(&ip) {
                break;
            }
        }
        client
    }

    /// Whether a request with this `Origin` header (none: not a browser) may connect.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        match origin {
            _ if self.allowed_origins.is_empty() => true,
            None => true, // only browsers send it, and only browsers are held to it
            Some(o) => self.allowed_origins.iter().any(|a| a.eq_ignore_ascii_case(o)),
        }
    }
}

/// What one address holds.
struct Entry {
    connections: usize,
    failures: TokenBucket,
}

/// Addresses with a connection open or failed joins not yet forgiven.
pub(crate) struct Addresses {
    limits: Limits,
    entries: Mutex<HashMap<IpAddr, Entry>>,
}

/// One connection of an address; dropping it gives the connection back.
pub(crate) struct Slot<'a> {
    addresses: &'a Addresses,
    /// The address the limits count (an IPv6 address's /64).
    pub key: IpAddr,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut entries = self.addresses.entries();
        if let Some(e) = entries.get_mut(&self.key) {
            e.connections -= 1;
        }
    }
}

/// One host usually has a whole IPv6 /64: count it as one address.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
        v4 => v4,
    }
}

impl Addresses {
    pub(crate) fn new(limits: Limits) -> Self {
        Self { limits, entries: Mutex::new(HashMap::new()) }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A bucket that lets no more than `max_failed_joins` fail in any minute: half of them at
    /// once, the other half over the minute.
    fn bucket(&self, now: Instant) -> TokenBucket {
        let n = self.limits.max_failed_joins.max(2);
        TokenBucket::with_period(n / 2, n - n / 2, Duration::from_secs(60), now)
    }

    /// A connection for `ip`, unless it has `max_connections_per_address` open already.
    pub(crate) fn connect(&self, ip: IpAddr, now: Instant) -> Option<Slot<'_>> {
        let key = key(ip);
        let mut entries = self.entries();
        if entries.len() >= 2 * self.limits.max_clients + 1024 {
            // Forget addresses with nothing open and every failure forgiven: the map stays
            // within about the client count however many addresses come by.
            entries.retain(|_, e| e.connections > 0 || !e.failures.is_full(now));
        }
        let bucket = self.bucket(now);
        let entry = entries.entry(key).or_insert_with(|| Entry { connections: 0, failures: bucket });
        if entry.connections >= self.limits.max_connections_per_address {
            return None;
        }
        entry.connections += 1;
        Some(Slot { addresses: self, key })
    }

    /// Whether the address of `slot` may try a join that can fail.
    pub(crate) fn may_fail(&self, slot: &Slot<'_>, now: Instant) -> bool {
        self.entries().get_mut(&slot.key).is_some_and(|e| e.failures.available(now))
    }

    /// A join of `slot`'s address failed.
    pub(crate) fn failed(&self, slot: &Slot<'_>, now: Instant) {
        if let Some(e) = self.entries().get_mut(&slot.key) {
            e.failures.take(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let access = Access { trusted_proxies: vec![ip("10.0.0.1"), ip("10.0.0.2")], ..Default::default() };
        // A stranger's header is not believed.
        assert_eq!(access.client_address(ip("203.0.113.9"), &["198.51.100.1"]), ip("203.0.113.9"));
        // Through the proxy: the hop it appended, not what the client wrote before it.
        assert_eq!(access.client_address(ip("10.0.0.1"), &["6.6.6.6, 198.51.100.1"]), ip("198.51.100.1"));
        assert_eq!(access.client_address(ip("10.0.0.1"), &["6.6.6.6", "198.51.100.1:4242, 10.0.0.2"]), ip("198.51.100.1"));
        assert_eq!(access.client_address(ip("10.0.0.1"), &["[2001:db8::1]:443"]), ip("2001:db8::1"));
        // No header, or garbage where the proxy's hop should be: the proxy itself.
        assert_eq!(access.client_address(ip("10.0.0.1"), &[]), ip("10.0.0.1"));
        assert_eq!(access.client_address(ip("10.0.0.1"), &["unknown"]), ip("10.0.0.1"));
    }

    #[test]
    fn origins() {
        assert!(Access::default().origin_allowed(Some("https://evil.example")));
        let access = Access { allowed_origins: vec!["https://game.example".into()], ..Default::default() };
        assert!(access.origin_allowed(Some("https://GAME.example")));
        assert!(!access.origin_allowed(Some("https://evil.example")));
        assert!(access.origin_allowed(None), "native clients send none");
    }

    #[test]
    fn connections_and_failures_per_address() {
        let limits = Limits { max_connections_per_address: 2, max_failed_joins: 10, ..Limits::default() };
        let addresses = Addresses::new(limits);
        let t0 = Instant::now();
        let a = addresses.connect(ip("192.0.2.1"), t0).unwrap();
        let b = addresses.connect(ip("192.0.2.1"), t0).unwrap();
        assert!(addresses.connect(ip("192.0.2.1"), t0).is_none(), "two at once");
        assert!(addresses.connect(ip("192.0.2.2"), t0).is_some(), "another address");
        // One /64 is one address.
        let _v6 = (addresses.connect(ip("2001:db8::1"), t0).unwrap(), addresses.connect(ip("2001:db8::2:3"), t0).unwrap());
        assert!(addresses.connect(ip("2001:db8::ffff"), t0).is_none());
        drop(b);
        let _c = addresses.connect(ip("192.0.2.1"), t0).expect("a connection closed");

        // 10 a minute: 5 at once, then one every 12 s.
        let mut failed = 0;
        while addresses.may_fail(&a, t0) {
            addresses.failed(&a, t0);
            failed += 1;
        }
        assert_eq!(failed, 5);
        let later = t0 + Duration::from_millis(12_001);
        assert!(addresses.may_fail(&a, later));
        addresses.failed(&a, later);
        assert!(!addresses.may_fail(&a, later));
        // Over any minute: 5 + 5.
        let minute = t0 + Duration::from_millis(60_001);
        let mut in_minute = 6;
        while addresses.may_fail(&a, minute) {
            addresses.failed(&a, minute);
            in_minute += 1;
        }
        assert_eq!(in_minute, 10);
    }
}
