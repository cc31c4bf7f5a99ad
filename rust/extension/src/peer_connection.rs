//! `WebRTCRsPeerConnection`: Godot's `WebRTCPeerConnectionExtension` over an engine
//! connection. Calls are checked and handed to the engine at once; everything the engine
//! reports becomes a signal inside `poll()`, on the caller's thread, in the engine's order.

use crate::data_channel::RsDataChannel;
use crate::{convert, report};
use godot::classes::web_rtc_peer_connection::{ConnectionState, GatheringState, SignalingState};
use godot::classes::{IWebRtcPeerConnectionExtension, ProjectSettings, WebRtcDataChannel, WebRtcPeerConnectionExtension};
use godot::global::Error;
use godot::prelude::*;

/// The Godot name of the class, made the default WebRTC extension at startup.
pub const CLASS_NAME: &str = "WebRTCRsPeerConnection";

/// Godot's setting for unread bytes per channel, in KiB.
const RECEIVE_BUFFER_SETTING: &str = "network/limits/webrtc/max_channel_in_buffer_kb";

/// A WebRTC peer connection backed by webrtc-rs. `WebRTCPeerConnection.new()` creates one.
#[derive(GodotClass)]
#[class(tool, base = WebRtcPeerConnectionExtension, rename = WebRTCRsPeerConnection)]
pub struct RsPeerConnection {
    base: Base<WebRtcPeerConnectionExtension>,
    peer: Option<engine::PeerConnection>,
}

fn peer_options() -> engine::PeerOptions {
    let kb = ProjectSettings::singleton().get_setting(RECEIVE_BUFFER_SETTING).try_to::<i64>().unwrap_or(64);
    engine::PeerOptions { receive_buffer_bytes: kb.clamp(1, 1 << 20) as usize * 1024 }
}

impl RsPeerConnection {
    fn new_peer(config: &VarDictionary) -> Result<engine::PeerConnection, engine::Error> {
        let config = convert::peer_config(config)?;
        let peer = engine::PeerConnection::new(config, peer_options());
        crate::flush_engine_log(); // configuration warnings
        peer
    }

    fn peer_mut(&mut self) -> Result<&mut engine::PeerConnection, Error> {
        self.peer.as_mut().ok_or_else(|| {
            godot_error!("WebRTCPeerConnection is not initialized (initialize() failed).");
            Error::ERR_UNCONFIGURED
        })
    }

    fn run(&mut self, f: impl FnOnce(&mut engine::PeerConnection) -> engine::Result<()>) -> Error {
        match self.peer_mut() {
            Ok(peer) => match f(peer) {
                Ok(()) => Error::OK,
                Err(e) => report(e),
            },
            Err(code) => code,
        }
    }
}

#[godot_api]
impl IWebRtcPeerConnectionExtension for RsPeerConnection {
    /// Usable at once, as if `initialize({})` had run (like the browser and the official plugin).
    fn init(base: Base<WebRtcPeerConnectionExtension>) -> Self {
        let peer = match Self::new_peer(&VarDictionary::new()) {
            Ok(p) => Some(p),
            Err(e) => {
                godot_error!("{}", e.message);
                None
            }
        };
        Self { base, peer }
    }

    fn initialize(&mut self, config: VarDictionary) -> Error {
        // Validate first: a bad configuration leaves the old connection as it was.
        match Self::new_peer(&config) {
            Ok(peer) => {
                if let Some(mut old) = self.peer.replace(peer) {
                    old.close();
                }
                Error::OK
            }
            Err(e) => report(e),
        }
    }

    fn create_data_channel(&mut self, label: GString, config: VarDictionary) -> Option<Gd<WebRtcDataChannel>> {
        let peer = self.peer_mut().ok()?;
        let created = convert::channel_config(&config).and_then(|c| peer.create_data_channel(&label.to_string(), c));
        match created {
            Ok(ch) => Some(RsDataChannel::create(ch).upcast()),
            Err(e) => {
                godot_error!("create_data_channel('{}'): {}", engine::excerpt(&label.to_string()), e.message);
                None
            }
        }
    }

    fn create_offer(&mut self) -> Error {
        self.run(|p| p.create_offer())
    }

    fn set_remote_description(&mut self, kind: GString, sdp: GString) -> Error {
        self.run(|p| p.set_remote_description(&kind.to_string(), &sdp.to_string()))
    }

    fn set_local_description(&mut self, kind: GString, sdp: GString) -> Error {
        self.run(|p| p.set_local_description(&kind.to_string(), &sdp.to_string()))
    }

    fn add_ice_candidate(&mut self, mid: GString, mline_index: i32, candidate: GString) -> Error {
        self.run(|p| p.add_ice_candidate(&mid.to_string(), mline_index as i64, &candidate.to_string()))
    }

    fn poll(&mut self) -> Error {
        crate::flush_engine_log();
        let events = match self.peer.as_ref() {
            Some(peer) => peer.poll_events(),
            None => return Error::ERR_UNCONFIGURED,
        };
        // Events are taken first and no borrow of `self` is held while emitting: a handler
        // may call back into this object (set_local_description, add_ice_candidate, close).
        for event in events {
            let (signal, args): (&str, Vec<Variant>) = match event {
                engine::Event::SessionDescription { kind, sdp } => {
                    ("session_description_created", vec![kind.as_str().to_variant(), sdp.to_variant()])
                }
                engine::Event::IceCandidate { mid, mline_index, candidate } => {
                    ("ice_candidate_created", vec![mid.to_variant(), (mline_index as i64).to_variant(), candidate.to_variant()])
                }
                engine::Event::DataChannel(ch) => {
                    let ch: Gd<WebRtcDataChannel> = RsDataChannel::create(ch).upcast();
                    ("data_channel_received", vec![ch.to_variant()])
                }
            };
            self.base_mut().emit_signal(signal, &args);
            // A handler that closed or re-initialized the connection ends this batch.
            if self.peer.as_ref().map(|p| p.state()) == Some(engine::PeerState::Closed) {
                break;
            }
        }
        Error::OK
    }

    fn close(&mut self) {
        if let Some(peer) = self.peer.as_mut() {
            peer.close();
        }
    }

    fn get_connection_state(&self) -> ConnectionState {
        match self.peer.as_ref().map(|p| p.state()) {
            None | Some(engine::PeerState::Closed) => ConnectionState::CLOSED,
            Some(engine::PeerState::New) => ConnectionState::NEW,
            Some(engine::PeerState::Connecting) => ConnectionState::CONNECTING,
            Some(engine::PeerState::Connected) => ConnectionState::CONNECTED,
            Some(engine::PeerState::Disconnected) => ConnectionState::DISCONNECTED,
            Some(engine::PeerState::Failed) => ConnectionState::FAILED,
        }
    }

    fn get_gathering_state(&self) -> GatheringState {
        match self.peer.as_ref().map(|p| p.gathering_state()) {
            None | Some(engine::GatheringState::New) => GatheringState::NEW,
            Some(engine::GatheringState::Gathering) => GatheringState::GATHERING,
            Some(engine::GatheringState::Complete) => GatheringState::COMPLETE,
        }
    }

    fn get_signaling_state(&self) -> SignalingState {
        match self.peer.as_ref().map(|p| p.signaling_state()) {
            None | Some(engine::SignalingState::Closed) => SignalingState::CLOSED,
            Some(engine::SignalingState::Stable) => SignalingState::STABLE,
            Some(engine::SignalingState::HaveLocalOffer) => SignalingState::HAVE_LOCAL_OFFER,
            Some(engine::SignalingState::HaveRemoteOffer) => SignalingState::HAVE_REMOTE_OFFER,
            Some(engine::SignalingState::HaveLocalPranswer) => SignalingState::HAVE_LOCAL_PRANSWER,
            Some(engine::SignalingState::HaveRemotePranswer) => SignalingState::HAVE_REMOTE_PRANSWER,
        }
    }
}
