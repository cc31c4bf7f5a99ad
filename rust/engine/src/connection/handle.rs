//! The owner's handle to one peer connection: synchronous, never waits on the network or on
//! the runtime. It checks each call like a browser would, then queues it for the connection's
//! task ([`super::task`]) and returns.

use super::shared::PeerShared;
use super::stats::ConnectionStats;
use super::task::{self, Command};
use crate::channel::{ChannelInfo, ChannelShared, DataChannel};
use crate::config::{ChannelConfig, PeerConfig, PeerOptions};
use crate::error::{Error, Result};
use crate::event::{Event, SdpKind};
use crate::sdp;
use crate::state::{GatheringState, PeerEvent, PeerState, SignalingState};
use crate::words::words;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;
use webrtc::peer_connection::{RTCIceCandidateInit, RTCSessionDescription};

/// A WebRTC peer connection carrying data channels.
///
/// ```no_run
/// use engine::{PeerConnection, PeerConfig, PeerOptions, ChannelConfig, Event};
/// let mut a = PeerConnection::new(PeerConfig::default(), PeerOptions::default()).unwrap();
/// let chat = a.create_data_channel("chat", ChannelConfig::default()).unwrap();
/// a.create_offer().unwrap();
/// for event in a.poll_events() {
///     if let Event::SessionDescription { kind, sdp } = event { /* send to the other peer */ }
/// }
/// ```
#[derive(Debug)]
pub struct PeerConnection {
    shared: Arc<PeerShared>,
    commands: mpsc::UnboundedSender<Command>,
    /// Stream ids taken by negotiated channels, to refuse duplicates at once.
    negotiated_ids: HashSet<u16>,
    has_local_offer: bool,
    /// A remote description was accepted: the first offer/answer exchange is under way or done,
    /// so ICE may be restarted and a new remote offer taken.
    negotiated: bool,
    /// The remote's DTLS fingerprint and ICE username fragment, from its last description.
    remote_identity: Option<(String, String)>,
    /// Remote candidates taken since the remote's ICE credentials last changed (see
    /// [`MAX_REMOTE_CANDIDATES`]).
    remote_candidates: usize,
}

/// The most remote ICE candidates a connection takes per set of remote ICE credentials (an
/// ICE restart starts again); `add_ice_candidate` refuses more with `Failed`. A peer gathers a
/// few per network interface, TURN server and transport: a few dozen at most. Every remote
/// candidate costs memory (~6.5 KB with its pairs) and a connectivity check per local
/// candidate; 20,000 sent through signaling cost 132 MB and a 1 s frame.
pub const MAX_REMOTE_CANDIDATES: usize = 256;

impl PeerConnection {
    /// Starts a connection. Fails with `InvalidParameter` on a bad configuration; otherwise
    /// returns at once while the runtime builds the webrtc-rs connection (binds its sockets).
    /// Calls made meanwhile are queued; if the build fails, the state becomes FAILED and the
    /// reason is logged.
    pub fn new(config: PeerConfig, options: PeerOptions) -> Result<Self> {
        let checked = config.validate()?;
        for warning in checked.warnings() {
            log::warn!(target: "engine::peer", "{warning}");
        }
        let shared = Arc::new(PeerShared::new(options));
        let commands = task::start(checked, shared.clone());
        Ok(Self { shared, commands, negotiated_ids: HashSet::new(), has_local_offer: false, negotiated: false, remote_identity: None, remote_candidates: 0 })
    }

    fn send(&self, command: Command) -> Result<()> {
        self.commands
            .send(command)
            .map_err(|_| Error::failed("The peer connection has stopped (its task ended)."))
    }

    fn ensure_not_closed(&self, what: &str) -> Result<()> {
        if self.state() == PeerState::Closed {
            return Err(Error::failed(format!("Cannot {what}: the peer connection is closed.")));
        }
        Ok(())
    }

    /// Creates an offer; it arrives as [`Event::SessionDescription`]. Only in state NEW.
    pub fn create_offer(&mut self) -> Result<()> {
        if self.state() != PeerState::New {
            return Err(Error::failed(format!(
                "create_offer() is only valid in {} (the connection is {:?}).", words().state_new, self.state()
            )));
        }
        self.shared.state.apply(PeerEvent::Negotiate);
        self.has_local_offer = true;
        self.shared.offers_pending.fetch_add(1, Ordering::AcqRel);
        self.send(Command::CreateOffer)
    }

    /// Restarts ICE (W3C `restartIce()`), e.g. after the player's network changed: creates an
    /// offer with new ICE credentials, which arrives as [`Event::SessionDescription`] for the
    /// remote to answer as usual; new candidates follow. Channels and their queued messages
    /// are kept. Either side may call it, once the first offer/answer exchange is complete.
    pub fn restart_ice(&mut self) -> Result<()> {
        self.ensure_not_closed("restart ICE")?;
        if !self.negotiated || self.offer_outstanding() || self.signaling_state() != SignalingState::Stable {
            return Err(Error::unconfigured(format!(
                "restart_ice() needs a completed offer/answer exchange (signaling state {:?}).", self.signaling_state()
            )));
        }
        self.has_local_offer = true;
        self.shared.offers_pending.fetch_add(1, Ordering::AcqRel);
        self.shared.state.apply(PeerEvent::RestartIce);
        self.send(Command::RestartIce)
    }

    /// Applies the remote description. An offer is answered: the answer arrives as
    /// [`Event::SessionDescription`]. Malformed SDP fails with `Failed`.
    pub fn set_remote_description(&mut self, kind: &str, sdp: &str) -> Result<()> {
        let kind = parse_kind(kind)?;
        self.ensure_not_closed("set the remote description")?;
        let desc = parse_description(kind, sdp, "remote")?;
        match kind {
            SdpKind::Offer => {
                // A first offer in NEW; later, only the same peer restarting ICE.
                let restart = self.is_remote_ice_restart(sdp);
                if self.state() != PeerState::New && !restart {
                    return Err(Error::failed(format!(
                        "A remote offer is only accepted in {}, or from the same peer restarting ICE (same DTLS fingerprint, new ICE credentials); the connection is {:?}.",
                        words().state_new,
                        self.state()
                    )));
                }
                self.check_remote_description(kind, sdp)?;
                self.shared.state.apply(if restart { PeerEvent::RestartIce } else { PeerEvent::Negotiate });
                self.accepted_remote(sdp);
            }
            SdpKind::Answer | SdpKind::Pranswer => {
                if !self.has_local_offer {
                    return Err(Error::failed("Cannot apply a remote answer: no local offer was created."));
                }
                self.check_remote_description(kind, sdp)?;
                self.accepted_remote(sdp);
            }
        }
        self.send(Command::SetRemoteDescription(desc))
    }

    /// A local offer waits for its answer: asked of the task and not yet applied, or applied
    /// and not yet answered (signaling states change on the runtime, later).
    fn offer_outstanding(&self) -> bool {
        self.shared.offers_pending.load(Ordering::Acquire) > 0 || self.signaling_state() == SignalingState::HaveLocalOffer
    }

    /// Notes a remote description the task will apply: the first exchange is under way, and
    /// who the remote is (its DTLS fingerprint) and its current ICE credentials.
    fn accepted_remote(&mut self, sdp: &str) {
        self.negotiated = true;
        let identity = (
            sdp::attribute(sdp, "fingerprint").unwrap_or_default().to_ascii_lowercase(),
            sdp::attribute(sdp, "ice-ufrag").unwrap_or_default().to_string(),
        );
        if self.remote_identity.as_ref().map(|(_, ufrag)| ufrag) != Some(&identity.1) {
            self.remote_candidates = 0; // new credentials, new candidates
        }
        self.remote_identity = Some(identity);
    }

    /// Whether `offer` is the remote restarting ICE: after a completed exchange, the same DTLS
    /// fingerprint with new ICE credentials. Any other late offer is refused, as Godot's API
    /// has it (a remote offer after NEW is `FAILED`): a stale or foreign one would break the
    /// connection.
    fn is_remote_ice_restart(&self, offer: &str) -> bool {
        let Some((fingerprint, ufrag)) = &self.remote_identity else { return false };
        self.negotiated
            && !self.offer_outstanding()
            && self.signaling_state() == SignalingState::Stable
            && sdp::attribute(offer, "fingerprint").map(str::to_ascii_lowercase).as_deref() == Some(fingerprint.as_str())
            && sdp::attribute(offer, "ice-ufrag").is_some_and(|u| u != ufrag)
    }

    /// Refuses (`InvalidParameter`) a remote description webrtc-rs would take but that could
    /// never give a working data channel, rather than leave the game waiting without a word.
    fn check_remote_description(&self, kind: SdpKind, text: &str) -> Result<()> {
        let what = kind.as_str();
        if let Some(missing) = sdp::missing_security_attribute(text) {
            return Err(Error::invalid(format!(
                "The remote {what} has no 'a={missing}' line: without ICE credentials and a DTLS fingerprint the peer cannot be reached or authenticated."
            )));
        }
        if !sdp::has_data_section(text) {
            return Err(Error::invalid(format!(
                "The remote {what} has no data channel section ('m=application ... webrtc-datachannel'): this addon carries data channels only."
            )));
        }
        if kind == SdpKind::Offer {
            if sdp::offer_takes_active_role(text) {
                return Err(Error::invalid(
                    "The remote offer says 'a=setup:active': offers must say 'a=setup:actpass' (RFC 8829 5.2.1), and webrtc-rs cannot answer as the passive side.",
                ));
            }
        }
        // The remote's limit applies to the messages that open channels too.
        if let Some(limit) = sdp::advertised_max_message_size(text).filter(|&n| n > 0) {
            let channels = crate::lock(&self.shared.channels);
            let biggest = channels
                .iter()
                .filter_map(|c| c.upgrade())
                .filter(|c| !c.info.negotiated)
                .map(|c| (sdp::channel_open_message_size(&c.info.label, &c.info.protocol), c.info.label.clone()))
                .max();
            if let Some((needed, label)) = biggest.filter(|(needed, _)| *needed as u64 > limit) {
                return Err(Error::invalid(format!(
                    "The remote {what} accepts messages of at most {limit} bytes (a=max-message-size), smaller than the {needed}-byte message that opens data channel '{}': it could never open.",
                    crate::excerpt(&label)
                )));
            }
        }
        Ok(())
    }

    /// Sets the local description. The engine already applies what it creates, so setting
    /// that same description again is a no-op; a different (edited) one is applied.
    pub fn set_local_description(&mut self, kind: &str, sdp: &str) -> Result<()> {
        let kind = parse_kind(kind)?;
        self.ensure_not_closed("set the local description")?;
        let same = crate::lock(&self.shared.local_sdp).as_deref().map(str::trim) == Some(sdp.trim());
        if same {
            return Ok(());
        }
        let desc = parse_description(kind, sdp, "local")?;
        self.send(Command::SetLocalDescription(desc))
    }

    /// Adds a remote ICE candidate (`candidate:...`; an empty one means end of candidates).
    /// Candidates that arrive before the remote description are kept until it is set.
    pub fn add_ice_candidate(&mut self, mid: &str, mline_index: i64, candidate: &str) -> Result<()> {
        self.ensure_not_closed("add an ICE candidate")?;
        if !(0..=u16::MAX as i64).contains(&mline_index) {
            return Err(Error::invalid(format!("ICE candidate m-line index {mline_index} is out of range.")));
        }
        let line = candidate.trim();
        let value = line.strip_prefix("a=").unwrap_or(line);
        let value = value.strip_prefix("candidate:").unwrap_or(value);
        if !value.is_empty() {
            if self.remote_candidates >= MAX_REMOTE_CANDIDATES {
                let first_refusal = self.remote_candidates == MAX_REMOTE_CANDIDATES;
                self.remote_candidates += 1;
                return Err(if first_refusal {
                    Error::failed(format!(
                        "Refused ICE candidate '{}': this connection already has {MAX_REMOTE_CANDIDATES} remote candidates, the most it takes (an ICE restart starts again; further refusals are not printed).",
                        crate::excerpt(candidate)
                    ))
                } else {
                    Error::failed("Refused ICE candidate: too many.").quiet()
                });
            }
            rtc::ice::candidate::unmarshal_candidate(value).map_err(|e| {
                Error::failed(format!("Invalid ICE candidate '{}': {e}.", crate::excerpt(candidate))).caused_by(e)
            })?;
            self.remote_candidates += 1;
        }
        let init = RTCIceCandidateInit {
            candidate: if value.is_empty() { String::new() } else { format!("candidate:{value}") },
            sdp_mid: Some(mid.to_string()),
            sdp_mline_index: Some(mline_index as u16),
            ..Default::default()
        };
        self.send(Command::AddIceCandidate(init))
    }

    /// Creates a data channel. Only in state NEW, like the browser; invalid options or a
    /// duplicate negotiated id fail with `InvalidParameter`.
    pub fn create_data_channel(&mut self, label: &str, config: ChannelConfig) -> Result<DataChannel> {
        if self.state() != PeerState::New {
            return Err(Error::unconfigured(format!(
                "Data channels can only be created in {} (the connection is {:?}).", words().state_new, self.state()
            )));
        }
        config.validate()?;
        if label.len() > 65535 || config.protocol.len() > 65535 {
            return Err(Error::invalid("Data channel label and protocol must be at most 65535 bytes."));
        }
        if let Some(id) = config.id.filter(|_| config.negotiated) {
            if !self.negotiated_ids.insert(id) {
                return Err(Error::invalid(format!("A negotiated data channel with id {id} already exists.")));
            }
        }
        let info = ChannelInfo {
            label: label.to_string(),
            protocol: config.protocol.clone(),
            ordered: config.ordered,
            negotiated: config.negotiated,
            max_packet_life_time: config.max_packet_life_time,
            max_retransmits: config.max_retransmits,
        };
        let shared = self.shared.new_channel(info, config.id.filter(|_| config.negotiated));
        let (handle, outbox) = DataChannel::new(shared.clone());
        self.send(Command::CreateDataChannel { shared, config, outbox })?;
        Ok(handle)
    }

    /// Closes the connection and its channels. The state is CLOSED at once; queued events
    /// are dropped.
    pub fn close(&mut self) {
        if self.state() != PeerState::Closed {
            self.shared.mark_closed();
            let _ = self.commands.send(Command::Close);
        }
    }

    /// Takes the events that happened since the last call, oldest first, and makes the
    /// messages every channel received so far readable.
    pub fn poll_events(&self) -> Vec<Event> {
        self.shared.for_each_channel(ChannelShared::publish);
        let mut events = crate::lock(&self.shared.events);
        events.drain(..).collect()
    }

    /// The connection's figures: the selected candidate pair, its round-trip time and bytes
    /// (at most [`MAX_AGE`](super::stats::MAX_AGE) old: kept fresh on the runtime while asked
    /// for, so only a first call, or one after a pause, waits for them, at most
    /// [`FIRST_WAIT`](super::stats::FIRST_WAIT)), and the data channels' message counters (live).
    pub fn stats(&self) -> ConnectionStats {
        use super::stats::Ask;
        let now = std::time::Instant::now();
        let stats = if self.state() == PeerState::Closed {
            self.shared.stats.last()
        } else {
            match self.shared.stats.ask(now) {
                Ask::Fresh(stats) | Ask::Pending(stats) => stats,
                Ask::Refresh if self.commands.send(Command::RefreshStats).is_err() => self.shared.stats.last(),
                Ask::Refresh => self.shared.stats.wait(),
            }
        };
        stats.with_traffic(&self.shared.traffic)
    }

    /// Why the connection failed: `None` unless it is FAILED (see [`FailureReason`]).
    pub fn failure_reason(&self) -> Option<crate::failure::FailureReason> {
        self.shared.failure_reason()
    }

    /// Each channel of this connection that still exists: label, id, state and counters (for
    /// the debugger's WebRTC tab).
    pub fn channel_figures(&self) -> Vec<super::figures::ChannelFigures> {
        super::figures::of_channels(&self.shared)
    }

    /// Connection state.
    pub fn state(&self) -> PeerState {
        self.shared.state.get()
    }
    /// ICE gathering state.
    pub fn gathering_state(&self) -> GatheringState {
        self.shared.gathering.get()
    }
    /// Signaling state.
    pub fn signaling_state(&self) -> SignalingState {
        self.shared.signaling.get()
    }
}

impl Drop for PeerConnection {
    fn drop(&mut self) {
        self.close();
    }
}

fn parse_kind(kind: &str) -> Result<SdpKind> {
    if kind == "pranswer" {
        // webrtc-rs accepts one, then leaves the channels CONNECTING after the final answer
        // ("ICETransport can only be called in ICETransportStateNew"): refuse it clearly.
        return Err(Error::invalid("Provisional answers ('pranswer') are not supported; send the final 'answer'."));
    }
    SdpKind::parse(kind).ok_or_else(|| {
        Error::invalid(format!("Unknown session description type '{}' (use \"offer\" or \"answer\").", crate::excerpt(kind)))
    })
}

/// Parses SDP text now, so malformed SDP fails the call (`Failed`) instead of failing later.
fn parse_description(kind: SdpKind, sdp: &str, side: &str) -> Result<RTCSessionDescription> {
    match kind {
        SdpKind::Offer => RTCSessionDescription::offer(sdp.to_string()),
        SdpKind::Answer => RTCSessionDescription::answer(sdp.to_string()),
        SdpKind::Pranswer => RTCSessionDescription::pranswer(sdp.to_string()),
    }
    .map_err(|e| Error::failed(format!("Invalid {side} {} SDP: {e}.", kind.as_str())).caused_by(e))
}
