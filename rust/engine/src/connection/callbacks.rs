//! webrtc-rs's callbacks for one connection, written into the shared state: states, local
//! candidates, and the channels the remote opens.

use super::shared::PeerShared;
use crate::channel::{self, ChannelInfo, ChannelShared, DataChannel};
use crate::event::Event;
use crate::state::{ChannelEvent, GatheringState, PeerEvent, PeerState, SignalingState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use webrtc::data_channel::DataChannel as RtcDataChannel;
use webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCIceConnectionState, RTCIceGatheringState,
    RTCPeerConnectionIceErrorEvent, RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSignalingState,
};

/// webrtc-rs callbacks, written into the shared state.
pub(super) struct Handler {
    pub shared: Arc<PeerShared>,
    /// Local candidates handed out; none at the end of gathering means no path can exist.
    pub candidates: AtomicUsize,
    pub rt: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => {
                self.candidates.fetch_add(1, Ordering::AcqRel);
                if init.candidate.contains(" typ relay") {
                    self.shared.diagnosis.relay_candidates.fetch_add(1, Ordering::AcqRel);
                }
                let mid = crate::lock(&self.shared.local_mid).clone();
                self.shared.push_event(Event::IceCandidate { mid, mline_index: 0, candidate: init.candidate });
            }
            Err(e) => log::warn!(target: "engine::peer", "could not encode a local ICE candidate: {e}"),
        }
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        let state = match state {
            RTCIceGatheringState::Gathering => GatheringState::Gathering,
            RTCIceGatheringState::Complete => GatheringState::Complete,
            _ => GatheringState::New,
        };
        self.shared.gathering.set(state);
        if state == GatheringState::Complete && self.candidates.load(Ordering::Acquire) == 0 {
            // ICE would wait forever for a pair it can never form: fail now, and say why.
            let reason = self.shared.diagnosis.fail();
            self.shared.fail(&format!(
                "ICE gathering finished without a single local candidate, so no connection is possible. \
                 With iceTransportPolicy \"relay\" this means no TURN allocation succeeded ({}): {}.",
                reason.as_str(), reason.advice()
            ));
        }
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        let d = &self.shared.diagnosis;
        let up = matches!(state, RTCIceConnectionState::Connected | RTCIceConnectionState::Completed);
        if up {
            d.ice_connected.store(true, Ordering::Release);
        }
        d.ice_up.store(up, Ordering::Release);
    }

    async fn on_ice_candidate_error(&self, event: RTCPeerConnectionIceErrorEvent) {
        log::debug!(target: "engine::peer", "ICE candidate error {} from {}: {}", event.error_code, event.url, event.error_text);
        self.shared.diagnosis.turn_error_code(event.error_code);
    }

    async fn on_signaling_state_change(&self, state: RTCSignalingState) {
        let state = match state {
            RTCSignalingState::HaveLocalOffer => SignalingState::HaveLocalOffer,
            RTCSignalingState::HaveRemoteOffer => SignalingState::HaveRemoteOffer,
            RTCSignalingState::HaveLocalPranswer => SignalingState::HaveLocalPranswer,
            RTCSignalingState::HaveRemotePranswer => SignalingState::HaveRemotePranswer,
            RTCSignalingState::Closed => SignalingState::Closed,
            _ => SignalingState::Stable,
        };
        self.shared.signaling.set(state);
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let state = match state {
            RTCPeerConnectionState::Connecting => PeerState::Connecting,
            RTCPeerConnectionState::Connected => PeerState::Connected,
            RTCPeerConnectionState::Disconnected => PeerState::Disconnected,
            RTCPeerConnectionState::Failed => PeerState::Failed,
            RTCPeerConnectionState::Closed => PeerState::Closed,
            // NEW never follows the eager CONNECTING set by create_offer/set_remote_description.
            _ => return,
        };
        log::info!(target: "engine::peer", "connection state {state:?}");
        match state {
            PeerState::Failed => self.shared.fail_connection(),
            PeerState::Connected => {
                self.shared.diagnosis.connected.store(true, Ordering::Release);
                // Connected again (an ICE restart after a failure): a later failure is decided anew.
                *crate::lock(&self.shared.diagnosis.reason) = None;
                self.shared.state.apply(PeerEvent::Reported(state));
            }
            _ => {
                self.shared.state.apply(PeerEvent::Reported(state));
            }
        }
        if matches!(state, PeerState::Closed | PeerState::Failed) {
            self.shared.for_each_channel(ChannelShared::mark_closed);
        }
    }

    async fn on_data_channel(&self, dc: Arc<dyn RtcDataChannel>) {
        let shared = self.shared.clone();
        let rt = self.rt.clone();
        // The getters are round trips to webrtc-rs's driver: not from inside its callback.
        self.rt.spawn(async move {
            if dc.negotiated().await.unwrap_or(false) {
                return; // out-of-band channels are created locally, not announced
            }
            let info = ChannelInfo {
                label: dc.label().await.unwrap_or_default(),
                protocol: dc.protocol().await.unwrap_or_default(),
                ordered: dc.ordered().await.unwrap_or(true),
                negotiated: false,
                max_packet_life_time: dc.max_packet_life_time().await.unwrap_or(None),
                max_retransmits: dc.max_retransmits().await.unwrap_or(None),
            };
            let id = channel::stream_id(&dc).await;
            let ch = shared.new_channel(info, id);
            if matches!(dc.ready_state().await, Ok(webrtc::data_channel::RTCDataChannelState::Open)) {
                ch.state.apply(ChannelEvent::Opened);
            }
            let (handle, outbox) = DataChannel::new(ch.clone());
            channel::spawn(&rt, dc, ch, outbox);
            shared.push_event(Event::DataChannel(handle));
        });
    }
}
