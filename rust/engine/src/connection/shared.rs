//! The state a connection's handle, its task and webrtc-rs's callbacks share: the states,
//! the queue of events for the owner, and weak references to the connection's channels.

use super::stats::StatsCell;
use crate::channel::{ChannelInfo, ChannelShared, Traffic};
use crate::config::PeerOptions;
use crate::event::Event;
use crate::failure::{Diagnosis, FailureReason};
use crate::state::{GatheringState, PeerEvent, PeerState, SignalingState, StateCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicUsize};
use std::sync::{Arc, Mutex, Weak};

/// State shared by the handle, the connection task and webrtc-rs's callbacks.
#[derive(Debug)]
pub(crate) struct PeerShared {
    pub state: StateCell<PeerState>,
    pub gathering: StateCell<GatheringState>,
    pub signaling: StateCell<SignalingState>,
    pub events: Mutex<VecDeque<Event>>,
    /// Largest message the remote accepts, known once its description is set.
    pub remote_max_message_size: Arc<AtomicUsize>,
    /// `mid` of our data m-line, for the candidates we hand out.
    pub local_mid: Mutex<String>,
    /// The last description we created (and applied), to recognise it when the owner sets it.
    pub local_sdp: Mutex<Option<String>>,
    pub channels: Mutex<Vec<Weak<ChannelShared>>>,
    pub options: PeerOptions,
    /// The last figures the task read from webrtc-rs, and when the owner last asked for them.
    pub stats: StatsCell,
    /// Message counters all channels add to.
    pub traffic: Arc<Traffic>,
    /// What is known of why the connection may fail (shared with the TURN stand-ins).
    pub diagnosis: Arc<Diagnosis>,
    /// Offers asked of the task (`create_offer`, `restart_ice`) that it has not yet applied
    /// or given up on: the owner adds, the task takes away, so a failed offer never leaves
    /// one outstanding.
    pub offers_pending: AtomicU32,
}

impl PeerShared {
    pub fn new(options: PeerOptions) -> Self {
        Self {
            state: StateCell::new(PeerState::New),
            gathering: StateCell::new(GatheringState::New),
            signaling: StateCell::new(SignalingState::Stable),
            events: Mutex::new(VecDeque::new()),
            remote_max_message_size: Arc::new(AtomicUsize::new(crate::sdp::DEFAULT_MAX_MESSAGE_SIZE)),
            local_mid: Mutex::new("0".to_string()),
            local_sdp: Mutex::new(None),
            channels: Mutex::new(Vec::new()),
            options,
            stats: StatsCell::default(),
            traffic: Arc::new(Traffic::default()),
            diagnosis: Arc::new(Diagnosis::default()),
            offers_pending: AtomicU32::new(0),
        }
    }

    /// A negotiation step failed: say why, and end in FAILED like a browser's failed connection.
    pub fn fail(&self, message: &str) {
        let reason = self.diagnosis.fail();
        if message.contains(reason.as_str()) {
            log::error!(target: "engine::peer", "{message}");
        } else {
            log::error!(target: "engine::peer", "{message} (failure_reason \"{}\")", reason.as_str());
        }
        self.state.apply(PeerEvent::Failed);
    }

    /// webrtc-rs failed the connection: the reason is decided (before the state changes, so
    /// whoever sees FAILED sees it) and printed with what to check.
    pub fn fail_connection(&self) {
        if self.state.get() == PeerState::Closed {
            return;
        }
        let reason = self.diagnosis.fail();
        log::error!(target: "engine::peer", "WebRTC connection failed ({}): {}.", reason.as_str(), reason.advice());
        self.state.apply(PeerEvent::Failed);
    }

    /// Why the connection failed; `None` unless it is FAILED.
    pub fn failure_reason(&self) -> Option<FailureReason> {
        if self.state.get() != PeerState::Failed {
            return None;
        }
        *crate::lock(&self.diagnosis.reason)
    }

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
        self.state.apply(PeerEvent::Close);
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
        let ch = ChannelShared::new(info, id, self.options.receive_buffer_bytes, self.remote_max_message_size.clone(), self.traffic.clone());
        self.register_channel(&ch);
        ch
    }
}
