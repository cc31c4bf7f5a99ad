//! Connection-level figures a game shows (ping, whether it is relayed): read from webrtc-rs's
//! stats report by the connection's task on request, kept as a snapshot the handle returns
//! without waiting, plus the data channels' message counters kept live by their tasks.

use rtc::statistics::report::{RTCStatsReport, RTCStatsReportEntry};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One end of the selected candidate pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CandidateStats {
    /// `host`, `srflx`, `prflx` or `relay` (a relayed connection goes through TURN).
    pub candidate_type: String,
    /// `udp` or `tcp`.
    pub protocol: String,
    /// IP address (or `.local` name for a remote mDNS candidate); empty for a remote
    /// peer-reflexive candidate, whose address webrtc-rs does not report.
    pub address: String,
    /// Port.
    pub port: u16,
}

/// Figures of one connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionStats {
    /// Round-trip time of the selected pair in milliseconds, from ICE's consent checks; `None`
    /// before the first answered check.
    pub round_trip_time_ms: Option<f64>,
    /// The local end of the pair ICE selected; `None` until connected.
    pub local_candidate: Option<CandidateStats>,
    /// The remote end of the pair ICE selected.
    pub remote_candidate: Option<CandidateStats>,
    /// Bytes the connection sent (UDP payloads: DTLS records carrying SCTP, with headers,
    /// acknowledgements and retransmissions, and ICE checks).
    pub bytes_sent: u64,
    /// Bytes the connection received.
    pub bytes_received: u64,
    /// UDP packets the connection sent.
    pub packets_sent: u64,
    /// UDP packets the connection received.
    pub packets_received: u64,
    /// SCTP retransmissions so far: fast retransmissions plus retransmission-timer expiries
    /// (a lossy path shows here before the game notices lag).
    pub retransmissions: u64,
    /// Data channel messages handed to webrtc-rs, over all channels since the start.
    pub messages_sent: u64,
    /// Data channel messages received, over all channels since the start.
    pub messages_received: u64,
}

/// Message counters of a connection, shared with its channels' tasks.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pub messages_sent: AtomicU64,
    pub messages_received: AtomicU64,
}

/// How old a snapshot may get while the game keeps asking: each refresh is a round trip to
/// webrtc-rs's driver, and a game may ask every frame.
pub(crate) const REFRESH_INTERVAL: Duration = Duration::from_millis(200);

/// Whether a snapshot taken (asked for) at `last` should be refreshed at `now`.
pub(crate) fn refresh_due(last: Option<Instant>, now: Instant) -> bool {
    last.is_none_or(|t| now.duration_since(t) >= REFRESH_INTERVAL)
}

impl ConnectionStats {
    /// The transport-level figures of `report` (the message counters come from [`Traffic`]).
    pub(crate) fn from_report(report: &RTCStatsReport) -> Self {
        let selected = report.transport().map(|t| t.selected_candidate_pair_id.clone()).filter(|id| !id.is_empty());
        let pair = report
            .candidate_pairs()
            .find(|p| selected.as_deref() == Some(p.stats.id.as_str()))
            .or_else(|| report.candidate_pairs().find(|p| p.nominated));
        let transport = report.transport();
        let Some(pair) = pair else { return Self::default() };
        // A candidate's entry is keyed `RTCLocalIceCandidate_<id>` / `RTCRemoteIceCandidate_<id>`,
        // the pair names `<id>`.
        let candidate = |id: &str| {
            report.iter().find_map(|e| match e {
                RTCStatsReportEntry::LocalCandidate(c) | RTCStatsReportEntry::RemoteCandidate(c)
                    if c.stats.id == id || c.stats.id.strip_suffix(id).is_some_and(|p| p.ends_with('_')) =>
                {
                    Some(CandidateStats {
                        candidate_type: c.candidate_type.to_string(),
                        protocol: c.protocol.to_ascii_lowercase(),
                        address: c.address.clone().unwrap_or_default(),
                        port: c.port,
                    })
                }
                _ => None,
            })
        };
        let local = candidate(&pair.local_candidate_id);
        // A remote candidate learned from an incoming check (peer-reflexive) has no entry in
        // webrtc-rs's report: its type is all that is known.
        let remote = candidate(&pair.remote_candidate_id).or_else(|| {
            local.as_ref().map(|l| CandidateStats { candidate_type: "prflx".into(), protocol: l.protocol.clone(), ..Default::default() })
        });
        Self {
            round_trip_time_ms: (pair.current_round_trip_time > 0.0).then_some(pair.current_round_trip_time * 1000.0),
            local_candidate: local,
            remote_candidate: remote,
            bytes_sent: transport.map_or(pair.bytes_sent, |t| t.bytes_sent),
            bytes_received: transport.map_or(pair.bytes_received, |t| t.bytes_received),
            packets_sent: transport.map_or(pair.packets_sent, |t| t.packets_sent),
            packets_received: transport.map_or(pair.packets_received, |t| t.packets_received),
            retransmissions: transport.map_or(0, |t| t.sctp_fast_retransmissions + t.sctp_t3_timeouts),
            messages_sent: 0,
            messages_received: 0,
        }
    }

    /// This snapshot with the live message counters.
    pub(crate) fn with_traffic(mut self, traffic: &Traffic) -> Self {
        self.messages_sent = traffic.messages_sent.load(Ordering::Relaxed);
        self.messages_received = traffic.messages_received.load(Ordering::Relaxed);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_refreshed_at_most_every_interval() {
        let t0 = Instant::now();
        assert!(refresh_due(None, t0), "the first request starts the collection");
        assert!(!refresh_due(Some(t0), t0 + REFRESH_INTERVAL / 2), "asked every frame: not every time");
        assert!(refresh_due(Some(t0), t0 + REFRESH_INTERVAL));
    }

    #[test]
    fn an_empty_report_gives_no_pair() {
        let stats = ConnectionStats::from_report(&RTCStatsReport::default());
        assert_eq!(stats, ConnectionStats::default());
    }
}
