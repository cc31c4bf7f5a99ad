//! The connection's task on the runtime: builds the webrtc-rs connection, then carries out the
//! handle's commands one at a time, in order. What webrtc-rs reports on its own arrives
//! through [`super::callbacks`].

use super::callbacks::Handler;
use super::shared::PeerShared;
use super::turn_stream::StreamTurn;
use crate::channel::{self, ChannelShared};
use crate::config::{ChannelConfig, CheckedConfig, IceTransportPolicy};
use crate::error::{Error, Result};
use crate::event::{Event, SdpKind};
use crate::sdp;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use webrtc::data_channel::RTCDataChannelInit;
use webrtc::peer_connection::{
    PeerConnection as RtcPeerConnection, PeerConnectionBuilder, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceServer, RTCIceTransportPolicy, RTCSdpType, RTCSessionDescription,
    SettingEngineBuilder,
};

/// What the handle asks the task to do.
pub(crate) enum Command {
    CreateOffer,
    SetRemoteDescription(RTCSessionDescription),
    SetLocalDescription(RTCSessionDescription),
    AddIceCandidate(RTCIceCandidateInit),
    CreateDataChannel { shared: Arc<ChannelShared>, config: ChannelConfig, outbox: mpsc::UnboundedReceiver<channel::Outgoing> },
    /// Read webrtc-rs's stats report into the shared snapshot.
    RefreshStats,
    /// Restart ICE: a new offer with new credentials.
    RestartIce,
    Close,
}

/// Starts the connection's task: it builds the connection, then carries out the commands
/// sent meanwhile and after. Does not wait for the build: a connection that cannot be built
/// (e.g. a bind address that is not local) ends FAILED, with the reason logged.
pub(crate) fn start(checked: CheckedConfig, shared: Arc<PeerShared>) -> mpsc::UnboundedSender<Command> {
    let (tx, rx) = mpsc::unbounded_channel();
    crate::runtime::handle().spawn(async move {
        // TURN over TCP/TLS, for as long as the connection runs.
        let stream_turns = super::turn_stream::start_for(&checked, &shared.diagnosis).await;
        match build(&checked, &shared, &stream_turns).await {
            Ok(pc) => run(pc, shared, rx).await,
            Err(e) => {
                shared.fail(&e.message());
                // Commands sent meanwhile: a closing connection still ends CLOSED.
                drop(rx);
            }
        }
    });
    tx
}

/// `stream_turns`: the local stand-ins of TCP/TLS TURN servers, used instead of their URLs.
fn rtc_config(checked: &CheckedConfig, stream_turns: &HashMap<String, StreamTurn>) -> webrtc::peer_connection::RTCConfiguration {
    // The servers as `PeerConfig::validate` left them: within the budget, all usable.
    let ice_servers = checked
        .servers
        .iter()
        .map(|s| {
            let urls = s.urls.iter().filter_map(|(text, parsed)| match parsed.is_stream_turn() {
                true => stream_turns.get(text).map(StreamTurn::url),
                false => Some(text.clone()),
            });
            RTCIceServer { urls: urls.collect(), username: s.username.clone(), credential: s.credential.clone(), ..Default::default() }
        })
        .filter(|s| !s.urls.is_empty())
        .collect();
    let policy = match checked.config.ice_transport_policy {
        IceTransportPolicy::All => RTCIceTransportPolicy::All,
        IceTransportPolicy::Relay => RTCIceTransportPolicy::Relay,
    };
    RTCConfigurationBuilder::new().with_ice_servers(ice_servers).with_ice_transport_policy(policy).build()
}

async fn build(checked: &CheckedConfig, shared: &Arc<PeerShared>, stream_turns: &HashMap<String, StreamTurn>) -> Result<Arc<dyn RtcPeerConnection>> {
    let config = &checked.config;
    let rt = tokio::runtime::Handle::current();
    let handler = Arc::new(Handler { shared: shared.clone(), candidates: Default::default(), rt });
    // A port of the range is chosen, then bound by the build, under one lock (see `ports`).
    let _reserved = super::ports::reserve(config).await;
    let addrs = super::ports::udp_addrs(config)?;
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
            // webrtc-rs waits 2 s (pion's default) before nominating a relayed pair, in case a
            // direct one works too; a relay-only connection has nothing better to wait for.
            .with_relay_acceptance_min_wait((config.ice_transport_policy == IceTransportPolicy::Relay).then_some(Duration::ZERO))
            .build();
        let builder = PeerConnectionBuilder::new()
            .with_configuration(rtc_config(checked, stream_turns))
            .with_setting_engine(settings)
            .with_handler(handler.clone())
            .with_udp_addrs(addrs.clone());
        // The link simulator, only when it changes something (see `super::simulate`).
        match config.simulate.filter(crate::config::Simulation::is_active) {
            Some(sim) => builder.with_runtime(super::simulate::runtime(sim)),
            None => builder,
        }
        .build()
    };
    let pc = match attempt(config.mdns).await {
        Ok(pc) => pc,
        Err(e) if config.mdns => {
            // webrtc-rs fails the whole build when it cannot join the mDNS multicast group
            // (no multicast route, e.g. a server or a sandbox): carry on without mDNS.
            log::info!(target: "engine::peer", "mDNS is unavailable here ({e}); remote '.local' candidates will be ignored.");
            attempt(false).await.map_err(build_error)?
        }
        Err(e) => return Err(build_error(e)),
    };
    let pc: Arc<dyn RtcPeerConnection> = Arc::new(pc);
    Ok(pc)
}

fn build_error(e: webrtc::error::Error) -> Error {
    Error::failed(format!("Could not create the WebRTC peer connection: {e}.")).caused_by(e)
}

/// Carries out commands until Close (or the handle is gone), then closes the connection.
async fn run(pc: Arc<dyn RtcPeerConnection>, shared: Arc<PeerShared>, mut commands: mpsc::UnboundedReceiver<Command>) {
    let rt = tokio::runtime::Handle::current();
    let mut have_remote = false;
    let mut early_candidates: Vec<RTCIceCandidateInit> = Vec::new();
    // Figures kept fresh while the owner asks for them (see `super::stats`).
    let mut stats_tick = tokio::time::interval(super::stats::REFRESH_EVERY);
    stats_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let command = tokio::select! {
            command = commands.recv() => match command {
                Some(command) => command,
                None => break,
            },
            _ = stats_tick.tick(), if shared.stats.wanted(std::time::Instant::now()) => Command::RefreshStats,
        };
        match command {
            Command::CreateOffer => {
                match pc.create_offer(None).await {
                    Ok(offer) => apply_local(&pc, &shared, offer, SdpKind::Offer).await,
                    Err(e) => shared.fail(&format!("Could not create an offer: {e}.")),
                }
                // Applied (signaling now says so) or given up on.
                shared.offers_pending.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
            }
            Command::SetRemoteDescription(desc) => {
                let is_offer = desc.sdp_type == RTCSdpType::Offer;
                let max = sdp::max_message_size(&desc.sdp);
                if let Err(e) = pc.set_remote_description(desc).await {
                    shared.fail(&format!("Could not apply the remote description: {e}."));
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
                        Err(e) => shared.fail(&format!("Could not create an answer: {e}.")),
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
                    Ok(dc) => channel::spawn(&rt, dc, ch, outbox),
                    Err(e) => {
                        ch.mark_closed();
                        log::error!(target: "engine::peer", "Could not create data channel '{}': {e}.", ch.info.label);
                    }
                }
            }
            Command::RefreshStats => {
                let now = std::time::Instant::now();
                let report = pc.get_stats(now, rtc::statistics::StatsSelector::None).await;
                shared.stats.store(super::stats::ConnectionStats::from_report(&report), now);
            }
            Command::RestartIce => {
                match pc.restart_ice().await {
                    Err(e) => shared.fail(&format!("Could not restart ICE: {e}.")),
                    Ok(()) => match pc.create_offer(None).await {
                        Ok(offer) => apply_local(&pc, &shared, offer, SdpKind::Offer).await,
                        Err(e) => shared.fail(&format!("Could not create the ICE restart offer: {e}.")),
                    },
                }
                shared.offers_pending.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
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
        shared.fail(&format!("Could not apply the local {}: {e}.", kind.as_str()));
    }
}

async fn add_candidate(pc: &Arc<dyn RtcPeerConnection>, candidate: RTCIceCandidateInit) {
    let text = candidate.candidate.clone();
    if let Err(e) = pc.add_ice_candidate(candidate).await {
        log::warn!(target: "engine::peer", "Remote ICE candidate '{text}' was not added: {e}.");
    }
}
