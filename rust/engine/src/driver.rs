//! The connection's task on the runtime: builds the webrtc-rs connection, then carries out the
//! handle's commands one at a time, in order, and turns webrtc-rs callbacks into shared state
//! and [`Event`]s.

use crate::channel::{self, ChannelInfo, ChannelShared, Outgoing};
use crate::config::{ChannelConfig, IceTransportPolicy, IceUrl, PeerConfig};
use crate::error::{Error, Result};
use crate::event::{Event, SdpKind};
use crate::peer::PeerShared;
use crate::sdp;
use crate::state::{GatheringState, PeerState, SignalingState};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel as RtcDataChannel, RTCDataChannelInit};
use webrtc::peer_connection::{
    PeerConnection as RtcPeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceGatheringState, RTCIceServer,
    RTCIceTransportPolicy, RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSdpType,
    RTCSessionDescription, RTCSignalingState, SettingEngineBuilder,
};

/// How long `PeerConnection::new` waits for webrtc-rs to bind its sockets.
const BUILD_TIMEOUT: Duration = Duration::from_secs(10);

/// What the handle asks the task to do.
pub(crate) enum Command {
    CreateOffer,
    SetRemoteDescription(RTCSessionDescription),
    SetLocalDescription(RTCSessionDescription),
    AddIceCandidate(RTCIceCandidateInit),
    CreateDataChannel { shared: Arc<ChannelShared>, config: ChannelConfig, outbox: mpsc::UnboundedReceiver<Outgoing> },
    Close,
}

/// Builds the connection on the runtime and starts its task. Waits (at most
/// [`BUILD_TIMEOUT`]) for the build, so a connection that cannot exist fails here.
pub(crate) fn start(config: PeerConfig, shared: Arc<PeerShared>) -> Result<mpsc::UnboundedSender<Command>> {
    let rt = crate::runtime::handle();
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    rt.spawn(async move {
        match build(&config, &shared).await {
            Ok(pc) => {
                let _ = ready_tx.send(Ok(()));
                run(pc, shared, rx).await;
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e));
            }
        }
    });
    match ready_rx.recv_timeout(BUILD_TIMEOUT) {
        Ok(Ok(())) => Ok(tx),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::failed("Building the peer connection timed out.")),
    }
}

/// webrtc-rs callbacks, written into the shared state.
struct Handler {
    shared: Arc<PeerShared>,
    /// Local candidates handed out; none at the end of gathering means no path can exist.
    candidates: std::sync::atomic::AtomicUsize,
    pc: OnceLock<Weak<dyn RtcPeerConnection>>,
    rt: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => {
                self.candidates.fetch_add(1, Ordering::AcqRel);
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
            fail(
                &self.shared,
                "ICE gathering finished without a single local candidate, so no connection is possible. \
                 With iceTransportPolicy \"relay\" this means no TURN allocation succeeded: check the TURN \
                 server's URL, username and credential (the warnings above give the server's answer)."
                    .to_string(),
            );
        }
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
        self.shared.signaling.set_unless(state, |s| s == SignalingState::Closed);
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
        if state == PeerState::Failed {
            log::error!(target: "engine::peer", "WebRTC connection failed (ICE found no working candidate pair, or DTLS/SCTP failed).");
        }
        self.shared.state.set_unless(state, |s| s == PeerState::Closed);
        if matches!(state, PeerState::Closed | PeerState::Failed) {
            self.shared.for_each_channel(ChannelShared::mark_closed);
        }
    }

    async fn on_data_channel(&self, dc: Arc<dyn RtcDataChannel>) {
        let shared = self.shared.clone();
        let pc = self.pc.get().cloned();
        let rt = self.rt.clone();
        // The getters are round trips to webrtc-rs's driver: not from inside its callback.
        self.rt.spawn(async move {
            let Some(pc) = pc else { return };
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
            let id = channel::resolve_stream_id(&pc, &dc).await;
            let ch = shared.new_channel(info, id);
            if matches!(dc.ready_state().await, Ok(webrtc::data_channel::RTCDataChannelState::Open)) {
                ch.state.set(crate::state::ChannelState::Open);
            }
            let (handle, outbox) = channel::DataChannel::new(ch.clone());
            channel::spawn_tasks(&rt, dc, ch, outbox, pc);
            shared.push_event(Event::DataChannel(handle));
        });
    }
}

fn rtc_config(config: &PeerConfig) -> webrtc::peer_connection::RTCConfiguration {
    // At most MAX_ICE_URLS in all (said by `PeerConfig::validate`).
    let mut budget = crate::config::MAX_ICE_URLS;
    let ice_servers = config
        .ice_servers
        .iter()
        .map(|s| {
            // Unsupported schemes were reported by `PeerConfig::validate`; webrtc-rs skips them too.
            let usable = s.urls.iter().filter(|u| IceUrl::parse(u).map(|p| p.unsupported_reason().is_none()).unwrap_or(false));
            let urls: Vec<String> = usable.take(budget).cloned().collect();
            budget -= urls.len();
            RTCIceServer { urls, username: s.username.clone(), credential: s.credential.clone(), ..Default::default() }
        })
        .filter(|s| !s.urls.is_empty())
        .collect();
    let policy = match config.ice_transport_policy {
        IceTransportPolicy::All => RTCIceTransportPolicy::All,
        IceTransportPolicy::Relay => RTCIceTransportPolicy::Relay,
    };
    RTCConfigurationBuilder::new().with_ice_servers(ice_servers).with_ice_transport_policy(policy).build()
}

async fn build(config: &PeerConfig, shared: &Arc<PeerShared>) -> Result<Arc<dyn RtcPeerConnection>> {
    let rt = tokio::runtime::Handle::current();
    let handler = Arc::new(Handler { shared: shared.clone(), candidates: Default::default(), pc: OnceLock::new(), rt });
    let attempt = |mdns: bool| {
        let mode = if mdns { rtc::ice::mdns::MulticastDnsMode::QueryOnly } else { rtc::ice::mdns::MulticastDnsMode::Disabled };
        let settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(mode)
            .with_include_loopback_candidate(config.include_loopback)
            .with_sctp_max_message_size(rtc::peer_connection::configuration::setting_engine::SctpMaxMessageSize::Unbounded)
            // A check answered from an address not yet signaled makes a peer-reflexive
            // candidate; webrtc-rs waited 1 s before nominating such a pair (pion's default).
            // With trickle ICE that is the common case (checks outrun the candidates), and a
            // browser nominates at once.
            .with_prflx_acceptance_min_wait(Some(Duration::ZERO))
            .build();
        // A wildcard binds every non-loopback interface; loopback must be named to be used.
        let mut addrs: Vec<String> = config.bind_addresses.iter().map(|a| a.to_string()).collect();
        if addrs.is_empty() {
            addrs.push("0.0.0.0:0".to_string());
            if config.include_loopback {
                addrs.push("127.0.0.1:0".to_string());
            }
        }
        PeerConnectionBuilder::new()
            .with_configuration(rtc_config(config))
            .with_setting_engine(settings)
            .with_handler(handler.clone())
            .with_udp_addrs(addrs)
            .build()
    };
    let pc = match attempt(config.mdns).await {
        Ok(pc) => pc,
        Err(e) if config.mdns => {
            // webrtc-rs fails the whole build when it cannot join the mDNS multicast group
            // (no multicast route, e.g. a server or a sandbox): carry on without mDNS.
            log::info!(target: "engine::peer", "mDNS is unavailable here ({e}); remote '.local' candidates will be ignored.");
            attempt(false).await.map_err(|e| Error::failed(format!("Could not create the WebRTC peer connection: {e}.")))?
        }
        Err(e) => return Err(Error::failed(format!("Could not create the WebRTC peer connection: {e}."))),
    };
    let pc: Arc<dyn RtcPeerConnection> = Arc::new(pc);
    let _ = handler.pc.set(Arc::downgrade(&pc));
    Ok(pc)
}

/// Carries out commands until Close (or the handle is gone), then closes the connection.
async fn run(pc: Arc<dyn RtcPeerConnection>, shared: Arc<PeerShared>, mut commands: mpsc::UnboundedReceiver<Command>) {
    let rt = tokio::runtime::Handle::current();
    let mut have_remote = false;
    let mut early_candidates: Vec<RTCIceCandidateInit> = Vec::new();
    while let Some(command) = commands.recv().await {
        match command {
            Command::CreateOffer => match pc.create_offer(None).await {
                Ok(offer) => apply_local(&pc, &shared, offer, SdpKind::Offer).await,
                Err(e) => fail(&shared, format!("Could not create an offer: {e}.")),
            },
            Command::SetRemoteDescription(desc) => {
                let is_offer = desc.sdp_type == RTCSdpType::Offer;
                let max = sdp::max_message_size(&desc.sdp);
                if let Err(e) = pc.set_remote_description(desc).await {
                    fail(&shared, format!("Could not apply the remote description: {e}."));
                    continue;
                }
                shared.remote_max_message_size.store(max, Ordering::Release);
                have_remote = true;
                for candidate in early_candidates.drain(..) {
                    add_candidate(&pc, candidate).await;
                }
                if is_offer {
                    match pc.create_answer(None).await {
                        Ok(answer) => apply_local(&pc, &shared, answer, SdpKind::Answer).await,
                        Err(e) => fail(&shared, format!("Could not create an answer: {e}.")),
                    }
                }
            }
            Command::SetLocalDescription(desc) => {
                if let Err(e) = pc.set_local_description(desc).await {
                    log::error!(target: "engine::peer", "Could not apply the local description: {e}.");
                }
            }
            Command::AddIceCandidate(candidate) => {
                if have_remote {
                    add_candidate(&pc, candidate).await;
                } else {
                    early_candidates.push(candidate);
                }
            }
            Command::CreateDataChannel { shared: ch, config, outbox } => {
                let init = RTCDataChannelInit {
                    ordered: config.ordered,
                    max_packet_life_time: config.max_packet_life_time,
                    max_retransmits: config.max_retransmits,
                    protocol: config.protocol.clone(),
                    negotiated: config.id.filter(|_| config.negotiated),
                };
                match pc.create_data_channel(&ch.info.label, Some(init)).await {
                    Ok(dc) => channel::spawn_tasks(&rt, dc, ch, outbox, Arc::downgrade(&pc)),
                    Err(e) => {
                        ch.mark_closed();
                        log::error!(target: "engine::peer", "Could not create data channel '{}': {e}.", ch.info.label);
                    }
                }
            }
            Command::Close => break,
        }
    }
    shared.mark_closed();
    if let Err(e) = pc.close().await {
        log::debug!(target: "engine::peer", "close: {e}");
    }
}

/// Reports the description first, then applies it: candidates gathered while it is applied
/// must not overtake it.
async fn apply_local(pc: &Arc<dyn RtcPeerConnection>, shared: &PeerShared, desc: RTCSessionDescription, kind: SdpKind) {
    if let Some(mid) = sdp::first_mid(&desc.sdp) {
        *crate::lock(&shared.local_mid) = mid;
    }
    *crate::lock(&shared.local_sdp) = Some(desc.sdp.clone());
    shared.push_event(Event::SessionDescription { kind, sdp: desc.sdp.clone() });
    if let Err(e) = pc.set_local_description(desc).await {
        fail(shared, format!("Could not apply the local {}: {e}.", kind.as_str()));
    }
}

async fn add_candidate(pc: &Arc<dyn RtcPeerConnection>, candidate: RTCIceCandidateInit) {
    let text = candidate.candidate.clone();
    if let Err(e) = pc.add_ice_candidate(candidate).await {
        log::warn!(target: "engine::peer", "Remote ICE candidate '{text}' was not added: {e}.");
    }
}

/// A negotiation step failed: say why, and end in FAILED like a browser's failed connection.
fn fail(shared: &PeerShared, message: String) {
    log::error!(target: "engine::peer", "{message}");
    shared.state.set_unless(PeerState::Failed, |s| s == PeerState::Closed);
}
