//! Connection-level figures a game shows (ping, whether it is relayed): read from webrtc-rs's
//! stats report by the connection's task, kept as a snapshot ([`StatsCell`]) at most
//! [`MAX_AGE`] old when returned, plus the data channels' message counters kept live by their
//! tasks.

use rtc::statistics::report::{RTCStatsReport, RTCStatsReportEntry};
use crate::channel::Traffic;
use std::sync::atomic::Ordering;
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

/// How old the figures may be when returned. While the owner keeps asking (at least once per
/// [`WANTED_FOR`]), the task refreshes them every [`REFRESH_EVERY`], so a call never waits; a
/// first call (or one after a long pause) waits for a refresh, at most [`FIRST_WAIT`].
pub(crate) const MAX_AGE: Duration = Duration::from_millis(200);
/// How often the task refreshes the figures while they are wanted: each refresh reads
/// webrtc-rs's whole report, so only while someone asks.
pub(crate) const REFRESH_EVERY: Duration = Duration::from_millis(100);
/// How long after the last request the figures are kept fresh.
pub(crate) const WANTED_FOR: Duration = Duration::from_secs(2);
/// The longest a call waits for fresh figures (an idle runtime answers in about a millisecond).
pub(crate) const FIRST_WAIT: Duration = Duration::from_millis(50);

/// The snapshot the task writes and the handle reads, with when it was taken and asked for.
#[derive(Debug, Default)]
pub(crate) struct StatsCell {
    inner: std::sync::Mutex<Snapshot>,
    refreshed: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct Snapshot {
    stats: ConnectionStats,
    taken: Option<Instant>,
    asked: Option<Instant>,
    /// A refresh was requested and has not landed yet.
    pending: bool,
}

/// What [`StatsCell::ask`] tells the handle to do.
pub(crate) enum Ask {
    /// The figures are fresh enough.
    Fresh(ConnectionStats),
    /// Request a refresh, then [`StatsCell::wait`].
    Refresh,
    /// A refresh is on its way (another call waited for it): the figures as they are.
    Pending(ConnectionStats),
}

impl StatsCell {
    /// Notes a request at `now` and says whether the figures can be returned as they are.
    pub fn ask(&self, now: Instant) -> Ask {
        let mut s = crate::lock(&self.inner);
        s.asked = Some(now);
        if s.taken.is_some_and(|t| now.duration_since(t) < MAX_AGE) {
            Ask::Fresh(s.stats.clone())
        } else if s.pending {
            Ask::Pending(s.stats.clone())
        } else {
            s.pending = true;
            Ask::Refresh
        }
    }

    /// The figures once the requested refresh has landed, or as they are after [`FIRST_WAIT`].
    pub fn wait(&self) -> ConnectionStats {
        let guard = crate::lock(&self.inner);
        let (guard, _) = self
            .refreshed
            .wait_timeout_while(guard, FIRST_WAIT, |s| s.pending)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.stats.clone()
    }

    /// The figures as they are (a closed connection refreshes nothing).
    pub fn last(&self) -> ConnectionStats {
        crate::lock(&self.inner).stats.clone()
    }

    /// Stores a refresh taken at `now`.
    pub fn store(&self, stats: ConnectionStats, now: Instant) {
        let mut s = crate::lock(&self.inner);
        s.stats = stats;
        s.taken = Some(now);
        s.pending = false;
        self.refreshed.notify_all();
    }

    /// Whether the task should keep the figures fresh at `now`: asked within [`WANTED_FOR`].
    pub fn wanted(&self, now: Instant) -> bool {
        crate::lock(&self.inner).asked.is_some_and(|t| now.duration_since(t) < WANTED_FOR)
    }
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
    fn figures_are_returned_fresh_or_after_one_refresh() {
        let cell = StatsCell::default();
        let t0 = Instant::now();
        assert!(matches!(cell.ask(t0), Ask::Refresh), "the first request refreshes");
        assert!(matches!(cell.ask(t0), Ask::Pending(_)), "a second one does not wait again");
        assert!(cell.wanted(t0 + WANTED_FOR / 2) && !cell.wanted(t0 + WANTED_FOR), "kept fresh while asked for");
        let fresh = ConnectionStats { bytes_sent: 7, ..Default::default() };
        cell.store(fresh.clone(), t0);
        assert_eq!(cell.wait(), fresh, "the refresh landed: no waiting");
        assert!(matches!(cell.ask(t0 + MAX_AGE / 2), Ask::Fresh(s) if s == fresh));
        assert!(matches!(cell.ask(t0 + MAX_AGE), Ask::Refresh), "too old: refreshed again");
    }

    #[test]
    fn a_refresh_that_never_lands_costs_at_most_the_first_wait() {
        let cell = StatsCell::default();
        let t0 = Instant::now();
        let _ = cell.ask(t0);
        cell.wait();
        assert!(t0.elapsed() < FIRST_WAIT * 4, "waited {:?}", t0.elapsed());
    }

    #[test]
    fn an_empty_report_gives_no_pair() {
        let stats = ConnectionStats::from_report(&RTCStatsReport::default());
        assert_eq!(stats, ConnectionStats::default());
    }
}
