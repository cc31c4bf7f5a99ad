//! The owner's handle to one peer connection: synchronous, never waits on the network. It
//! checks each call like a browser would, then hands it to the connection's task (see
//! [`crate::driver`]) and returns.

use crate::channel::{ChannelInfo, ChannelShared, DataChannel};
use crate::config::{ChannelConfig, PeerConfig};
use crate::driver::{self, Command};
use crate::error::{Error, Result};
use crate::event::{Event, SdpKind};
use crate::sdp;
use crate::state::{GatheringState, PeerState, SignalingState, StateCell};
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::mpsc;
use webrtc::peer_connection::{RTCIceCandidateInit, RTCSessionDescription};

/// Engine-wide options that do not come from the W3C configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerOptions {
    /// Unread bytes each channel keeps before dropping new messages (Godot's
    /// `network/limits/webrtc/max_channel_in_buffer_kb` * 1024).
    pub receive_buffer_bytes: usize,
}

impl Default for PeerOptions {
    fn default() -> Self {
        Self { receive_buffer_bytes: 64 * 1024 }
    }
}

/// State shared by the handle, the connection task and webrtc-rs's callbacks.
#[derive(Debug)]
pub(crate) struct PeerShared {
    pub state: StateCell<PeerState>,
    pub gathering: StateCell<GatheringState>,
    pub signaling: StateCell<SignalingState>,
    events: Mutex<VecDeque<Event>>,
    /// Largest message the remote accepts, known once its description is set.
    pub remote_max_message_size: Arc<AtomicUsize>,
    /// `mid` of our data m-line, for the candidates we hand out.
    pub local_mid: Mutex<String>,
    /// The last description we created (and applied), to recognise it when the owner sets it.
    pub local_sdp: Mutex<Option<String>>,
    pub channels: Mutex<Vec<Weak<ChannelShared>>>,
    pub options: PeerOptions,
}

impl PeerShared {
    pub fn push_event(&self, event: Event) {
        if self.state.get() != PeerState::Closed {
            crate::lock(&self.events).push_back(event);
        }
    }

    pub fn register_channel(&self, channel: &Arc<ChannelShared>) {
        let mut channels = crate::lock(&self.channels);
        channels.retain(|c| c.strong_count() > 0);
        channels.push(Arc::downgrade(channel));
    }

    /// Closed: every channel is closed at once, and queued events are dropped.
    pub fn mark_closed(&self) {
        self.state.set(PeerState::Closed);
        self.signaling.set(SignalingState::Closed);
        crate::lock(&self.events).clear();
        self.for_each_channel(ChannelShared::mark_closed);
    }

    /// Runs `f` on every channel of this connection that still exists.
    pub fn for_each_channel(&self, f: impl Fn(&ChannelShared)) {
        for ch in crate::lock(&self.channels).iter() {
            if let Some(ch) = ch.upgrade() {
                f(&ch);
            }
        }
    }

    pub fn new_channel(&self, info: ChannelInfo, id: Option<u16>) -> Arc<ChannelShared> {
        let ch = ChannelShared::new(info, id, self.options.receive_buffer_bytes, self.remote_max_message_size.clone());
        self.register_channel(&ch);
        ch
    }
}

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
}

impl PeerConnection {
    /// Builds a connection (binds its UDP sockets). Fails with `InvalidParameter` on a bad
    /// configuration and `Failed` if webrtc-rs cannot build it.
    pub fn new(config: PeerConfig, options: PeerOptions) -> Result<Self> {
        for warning in config.validate()? {
            log::warn!(target: "engine::peer", "{warning}");
        }
        let shared = Arc::new(PeerShared {
            state: StateCell::new(PeerState::New),
            gathering: StateCell::new(GatheringState::New),
            signaling: StateCell::new(SignalingState::Stable),
            events: Mutex::new(VecDeque::new()),
            remote_max_message_size: Arc::new(AtomicUsize::new(sdp::DEFAULT_MAX_MESSAGE_SIZE)),
            local_mid: Mutex::new("0".to_string()),
            local_sdp: Mutex::new(None),
            channels: Mutex::new(Vec::new()),
            options,
        });
        let commands = driver::start(config, shared.clone())?;
        Ok(Self { shared, commands, negotiated_ids: HashSet::new(), has_local_offer: false })
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
                "create_offer() is only valid in STATE_NEW (the connection is {:?}).", self.state()
            )));
        }
        self.shared.state.set(PeerState::Connecting);
        self.has_local_offer = true;
        self.send(Command::CreateOffer)
    }

    /// Applies the remote description. An offer is answered: the answer arrives as
    /// [`Event::SessionDescription`]. Malformed SDP fails with `Failed`.
    pub fn set_remote_description(&mut self, kind: &str, sdp: &str) -> Result<()> {
        let kind = parse_kind(kind)?;
        self.ensure_not_closed("set the remote description")?;
        let desc = parse_description(kind, sdp, "remote")?;
        let refuse_insecure = || match sdp::missing_security_attribute(sdp) {
            Some(missing) => Err(Error::invalid(format!(
                "The remote {} has no 'a={missing}' line: without ICE credentials and a DTLS fingerprint the peer cannot be reached or authenticated.",
                kind.as_str()
            ))),
            None => Ok(()),
        };
        match kind {
            SdpKind::Offer => {
                if self.state() != PeerState::New {
                    return Err(Error::failed(format!(
                        "A remote offer is only accepted in STATE_NEW (the connection is {:?}).", self.state()
                    )));
                }
                refuse_insecure()?;
                self.shared.state.set(PeerState::Connecting);
            }
            SdpKind::Answer | SdpKind::Pranswer => {
                if !self.has_local_offer {
                    return Err(Error::failed("Cannot apply a remote answer: no local offer was created."));
                }
                refuse_insecure()?;
            }
        }
        self.send(Command::SetRemoteDescription(desc))
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
            rtc::ice::candidate::unmarshal_candidate(value)
                .map_err(|e| Error::failed(format!("Invalid ICE candidate '{}': {e}.", crate::excerpt(candidate))))?;
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
                "Data channels can only be created in STATE_NEW (the connection is {:?}).", self.state()
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
    .map_err(|e| Error::failed(format!("Invalid {side} {} SDP: {e}.", kind.as_str())))
}
