//! Why a connection failed: the facts webrtc-rs's callbacks and the TURN stand-ins report while
//! a connection runs ([`Diagnosis`]), and the one [`FailureReason`] they give when it ends
//! FAILED, with what a game developer should check.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Why a connection is FAILED (the `failure_reason` of its figures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureReason {
    /// No candidate pair worked: ICE checks got no answer.
    IceFailed,
    /// The connection was up, then the peer stopped answering ICE's consent checks (it
    /// vanished: its process ended, its network went away).
    ConsentLost,
    /// A TURN server refused the credentials (STUN error 401 or 403, or 438/441 for bad
    /// nonce or credentials).
    TurnAuth,
    /// A TURN server did not answer (nothing listens at the URL, or a firewall drops it).
    TurnUnreachable,
    /// A `turns:` server's TLS certificate was refused.
    TurnCertificate,
    /// The peer's DTLS certificate does not match the fingerprint of its description.
    DtlsFingerprint,
    /// ICE connected but the DTLS handshake never completed.
    DtlsFailed,
    /// The SCTP association carrying the data channels was aborted.
    SctpFailed,
}

impl FailureReason {
    /// The name games see: `ice_failed`, `consent_lost`, `turn_auth`, `turn_unreachable`,
    /// `turn_certificate`, `dtls_fingerprint`, `dtls_failed` or `sctp_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IceFailed => "ice_failed",
            Self::ConsentLost => "consent_lost",
            Self::TurnAuth => "turn_auth",
            Self::TurnUnreachable => "turn_unreachable",
            Self::TurnCertificate => "turn_certificate",
            Self::DtlsFingerprint => "dtls_fingerprint",
            Self::DtlsFailed => "dtls_failed",
            Self::SctpFailed => "sctp_failed",
        }
    }

    /// What happened and what to check, for the error printed when the connection fails.
    pub fn advice(self) -> std::borrow::Cow<'static, str> {
        let text = match self {
            Self::IceFailed => "no candidate pair worked: the peers could not reach each other. Check that both sides exchange all their ICE candidates, that a firewall does not block UDP, and add a TURN server for players behind strict NATs",
            Self::ConsentLost => "the peer stopped answering after the connection was up: its game ended or lost its network",
            Self::TurnAuth => "the TURN server refused the credentials: check the iceServers entry's username and credential (time-limited credentials may have expired)",
            Self::TurnUnreachable => "the TURN server did not answer: check its URL and port, that it runs, and that a firewall lets the traffic through (try turn:...?transport=tcp or turns: on port 443)",
            Self::TurnCertificate => {
                return format!("the turns: server's TLS certificate was refused: check that it is valid for the URL's host name and issued by a trusted CA (or add the CA with {})", crate::words::words().turn_ca_option).into()
            }
            Self::DtlsFingerprint => "the peer's DTLS certificate does not match the fingerprint in its description: the description was altered on its way (signaling that edits SDP) or it came from someone else",
            Self::DtlsFailed => "ICE connected but the DTLS handshake did not complete: check that nothing between the peers drops large UDP packets",
            Self::SctpFailed => "the SCTP association carrying the data channels was aborted (the reason is in the log above)",
        };
        text.into()
    }

    fn turn_rank(self) -> u8 {
        match self {
            Self::TurnCertificate => 3,
            Self::TurnAuth => 2,
            Self::TurnUnreachable => 1,
            _ => 0,
        }
    }
}

/// What is known about a connection so far, written by webrtc-rs's callbacks and the TURN
/// stand-ins, read once when the connection fails.
#[derive(Debug, Default)]
pub(crate) struct Diagnosis {
    /// ICE reached connected at least once.
    pub ice_connected: AtomicBool,
    /// ICE is connected now (webrtc-rs may report the connection's failure before ICE's own
    /// change, so "not connected now" is what tells a path that stopped answering).
    pub ice_up: AtomicBool,
    /// The connection reached CONNECTED at least once.
    pub connected: AtomicBool,
    /// Relay candidates gathered.
    pub relay_candidates: AtomicUsize,
    /// The most telling TURN problem seen (certificate over credentials over no answer).
    turn: Mutex<Option<FailureReason>>,
    /// The reason given when the connection failed; kept until it is re-initialized.
    pub reason: Mutex<Option<FailureReason>>,
}

impl Diagnosis {
    /// Notes a TURN problem; a more telling one replaces a less telling one.
    pub fn turn_problem(&self, reason: FailureReason) {
        let mut turn = crate::lock(&self.turn);
        if turn.is_none_or(|t| t.turn_rank() < reason.turn_rank()) {
            *turn = Some(reason);
        }
    }

    /// Notes the W3C `icecandidateerror` of a TURN allocation: its STUN error code.
    pub fn turn_error_code(&self, code: u16) {
        match code {
            401 | 403 | 438 | 441 => self.turn_problem(FailureReason::TurnAuth),
            701 => self.turn_problem(FailureReason::TurnUnreachable),
            _ => {}
        }
    }

    /// The reason of a failure now, from the facts so far.
    pub fn conclude(&self) -> FailureReason {
        let connected = self.connected.load(Ordering::Acquire);
        if self.ice_up.load(Ordering::Acquire) {
            // ICE is fine: webrtc-rs fails a connection over a working path only for a refused
            // DTLS certificate (before connecting) or an aborted association (after).
            return if connected { FailureReason::SctpFailed } else { FailureReason::DtlsFingerprint };
        }
        if connected {
            return FailureReason::ConsentLost;
        }
        if self.ice_connected.load(Ordering::Acquire) {
            return FailureReason::DtlsFailed;
        }
        match *crate::lock(&self.turn) {
            Some(turn) if self.relay_candidates.load(Ordering::Acquire) == 0 => turn,
            _ => FailureReason::IceFailed,
        }
    }

    /// Decides the reason once (the first failure's), and returns it.
    pub fn fail(&self) -> FailureReason {
        let mut reason = crate::lock(&self.reason);
        *reason.get_or_insert_with(|| self.conclude())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_follows_from_the_facts() {
        let d = Diagnosis::default();
        assert_eq!(d.conclude(), FailureReason::IceFailed, "nothing ever worked");
        d.turn_error_code(701);
        assert_eq!(d.conclude(), FailureReason::TurnUnreachable);
        d.turn_error_code(401);
        assert_eq!(d.conclude(), FailureReason::TurnAuth, "credentials say more than a timeout");
        d.turn_problem(FailureReason::TurnUnreachable);
        assert_eq!(d.conclude(), FailureReason::TurnAuth, "a less telling problem does not replace it");
        d.relay_candidates.store(1, Ordering::Release);
        assert_eq!(d.conclude(), FailureReason::IceFailed, "another TURN server gave a relay: ICE failed");
        d.ice_connected.store(true, Ordering::Release);
        d.ice_up.store(true, Ordering::Release);
        assert_eq!(d.conclude(), FailureReason::DtlsFingerprint, "ICE fine, never connected");
        d.ice_up.store(false, Ordering::Release);
        assert_eq!(d.conclude(), FailureReason::DtlsFailed, "ICE connected, then failed before DTLS completed");
        d.connected.store(true, Ordering::Release);
        assert_eq!(d.conclude(), FailureReason::ConsentLost);
        d.ice_up.store(true, Ordering::Release);
        assert_eq!(d.conclude(), FailureReason::SctpFailed, "connected, ICE fine");
        assert_eq!(d.fail(), FailureReason::SctpFailed);
        d.ice_up.store(false, Ordering::Release);
        assert_eq!(d.fail(), FailureReason::SctpFailed, "the first failure's reason stays");
    }
}
