//! `WebRTCRsPeerConnection`: Godot's `WebRTCPeerConnectionExtension` over an engine
//! connection. Calls are checked and handed to the engine at once; everything the engine
//! reports becomes a signal inside `poll()`, on the caller's thread, in the engine's order.

use crate::data_channel::RsDataChannel;
use crate::{convert, godot_terms, report};
use godot::classes::web_rtc_peer_connection::{ConnectionState, GatheringState, SignalingState};
use godot::classes::{IWebRtcPeerConnectionExtension, Os, ProjectSettings, WebRtcDataChannel, WebRtcPeerConnectionExtension};
use godot::global::Error;
use godot::prelude::*;

/// The Godot name of the class, made the default WebRTC extension at startup.
pub const CLASS_NAME: &str = "WebRTCRsPeerConnection";

/// Godot's setting for unread bytes per channel, in KiB.
pub const RECEIVE_BUFFER_SETTING: &str = "network/limits/webrtc/max_channel_in_buffer_kb";

/// A WebRTC peer connection backed by webrtc-rs (the webrtc-rs addon).
///
/// You do not create this class by name: the addon makes it Godot's default WebRTC
/// implementation, so `WebRTCPeerConnection.new()` returns one, and everything documented for
/// `WebRTCPeerConnection` applies. Signals are emitted only inside `poll()`, on the calling
/// thread, in the order things happened.
///
/// Options of `initialize()`: `iceServers`, an Array of Dictionaries with `urls` (a String or
/// an Array of `stun:` and `turn:` URLs; at most 32 are used), `username` and `credential`;
/// `iceTransportPolicy`, `"all"` or `"relay"`; and `webrtc_rs`, this addon's own options:
/// `includeLoopback` (true), `multicastDns` (true), `bindAddresses` (an Array of
/// `"ip:port"`), `portRange` (`[min, max]`, UDP ports from 1 to 65535: each connection binds
/// one free port of the range, for every address whose port is 0, e.g. for a firewall that
/// opens only that range; so the range also bounds how many connections a process can have)
/// and `turnCaFile` (a PEM file of CA certificates trusted for `turns:` servers besides the
/// system's, e.g. `"res://turn_ca.pem"`) and `simulate` (the link simulator: `{delay_ms,
/// jitter_ms, loss_percent}`, numbers: every datagram this connection sends is delayed by
/// `delay_ms` plus or minus up to `jitter_ms` and dropped with probability `loss_percent` /
/// 100; each side impairs what it sends, so two peers at 40 ms see an ~80 ms round trip; the
/// project settings `network/webrtc_rs/simulate_delay_ms`, `simulate_jitter_ms` and
/// `simulate_loss_percent`, read at each `initialize()` and at construction, apply it to
/// every connection, each key given here overriding its setting; a negative, NaN or
/// infinite value, or a loss over 100, returns `ERR_INVALID_PARAMETER`; a warning says once
/// per process that it is on). `turn:` URLs may end in `?transport=tcp`, and
/// `turns:` is TURN over TLS: for networks that block UDP. Unknown keys are ignored; a wrong
/// type returns `ERR_INVALID_PARAMETER` with a message naming the key.
///
/// Options of `create_data_channel()`: `negotiated` (false), `id` (0 to 65534, required when
/// negotiated), `ordered` (true), `maxPacketLifeTime` (ms) or `maxRetransmits` (not both),
/// `protocol` ("").
///
/// Each channel keeps at most `network/limits/webrtc/max_channel_in_buffer_kb` of unread data:
/// a reliable channel then holds the sender (nothing is lost), an unreliable one drops its
/// oldest unread packets.
#[derive(GodotClass)]
#[class(tool, base = WebRtcPeerConnectionExtension, rename = WebRTCRsPeerConnection)]
pub struct RsPeerConnection {
    base: Base<WebRtcPeerConnectionExtension>,
    /// `None` before the first use (see `unbuilt`), or when `initialize()` never succeeded.
    peer: Option<engine::PeerConnection>,
    /// Constructed and not used yet: the first call that needs a connection builds one as
    /// `initialize({})` would. `WebRTCPeerConnection.new()` followed by `initialize()`, the
    /// usual order, then builds one connection instead of binding sockets for a throwaway.
    unbuilt: bool,
    /// The project settings as they were at construction, which the default connection uses.
    settings_at_init: (Option<engine::Simulation>, engine::PeerOptions),
    /// Counts `initialize()` calls: a handler that re-initializes ends the old connection's
    /// batch of signals.
    generation: u64,
}

/// The link simulator's project settings (see [`register_settings`]), read at each
/// `initialize()` (or the first use without one); `None` when all are 0.
pub const SIMULATE_SETTINGS: [&str; 3] =
    ["network/webrtc_rs/simulate_delay_ms", "network/webrtc_rs/simulate_jitter_ms", "network/webrtc_rs/simulate_loss_percent"];

/// Registers the link simulator's project settings (default 0), so they show in the editor's
/// Project Settings (advanced).
pub fn register_settings() {
    let mut ps = ProjectSettings::singleton();
    for (name, hint) in SIMULATE_SETTINGS.iter().zip(["0,10000,1,or_greater,suffix:ms", "0,10000,1,or_greater,suffix:ms", "0,100,0.1,suffix:%"]) {
        if !ps.has_setting(*name) {
            ps.set_setting(*name, &0.0f64.to_variant());
        }
        ps.set_initial_value(*name, &0.0f64.to_variant());
        let mut info = VarDictionary::new();
        info.set("name", *name);
        info.set("type", VariantType::FLOAT.ord() as i64);
        info.set("hint", 1i64); // PROPERTY_HINT_RANGE
        info.set("hint_string", hint);
        ps.add_property_info(&info);
    }
}

fn simulate_settings() -> Option<engine::Simulation> {
    let ps = ProjectSettings::singleton();
    let get = |name: &str| {
        let v = ps.get_setting(name);
        v.try_to::<f64>().or_else(|_| v.try_to::<i64>().map(|n| n as f64)).unwrap_or(0.0)
    };
    let sim = engine::Simulation { delay_ms: get(SIMULATE_SETTINGS[0]), jitter_ms: get(SIMULATE_SETTINGS[1]), loss_percent: get(SIMULATE_SETTINGS[2]) };
    (sim != engine::Simulation::default()).then_some(sim)
}

fn peer_options() -> engine::PeerOptions {
    let kb = ProjectSettings::singleton().get_setting(RECEIVE_BUFFER_SETTING).try_to::<i64>().unwrap_or(64);
    engine::PeerOptions { receive_buffer_bytes: kb.clamp(1, 1 << 20) as usize * 1024 }
}

impl RsPeerConnection {
    fn new_peer(config: &VarDictionary) -> Result<engine::PeerConnection, engine::Error> {
        Self::new_peer_with(config, simulate_settings(), peer_options())
    }

    fn new_peer_with(config: &VarDictionary, sim: Option<engine::Simulation>, options: engine::PeerOptions) -> Result<engine::PeerConnection, engine::Error> {
        let config = convert::peer_config(config, sim)?;
        let peer = engine::PeerConnection::new(config, options);
        crate::flush_engine_log(); // configuration warnings
        peer
    }

    fn peer_mut(&mut self) -> Result<&mut engine::PeerConnection, Error> {
        if std::mem::take(&mut self.unbuilt) {
            let (sim, options) = self.settings_at_init;
            self.peer = Self::new_peer_with(&VarDictionary::new(), sim, options).map_err(|e| godot_error!("{}", e.message())).ok();
        }
        self.peer.as_mut().ok_or_else(|| {
            godot_error!("WebRTCPeerConnection is not initialized (initialize() failed).");
            Error::ERR_UNCONFIGURED
        })
    }

    /// This connection's row in the debugger's WebRTC tab: the `get_stats()` keys plus `state`
    /// (the `ConnectionState` number), `state_name` and `channels` (`label`, `id`, `state`,
    /// `reliable`, `buffered_amount` and the channel's `get_stats()` keys).
    pub(crate) fn debug_row(&self) -> VarDictionary {
        let mut row = self.get_stats();
        let state = self.get_connection_state();
        row.set("state", state.ord() as i64);
        row.set("state_name", format!("{state:?}").trim_start_matches("ConnectionState::").to_string());
        let mut channels = VarArray::new();
        for c in self.peer.as_ref().map(|p| p.channel_figures()).unwrap_or_default() {
            let mut d = VarDictionary::new();
            d.set("label", c.label.as_str());
            d.set("id", godot_terms::or_unset(c.id) as i64);
            d.set("state", c.state as u8 as i64);
            d.set("reliable", c.reliable);
            d.set("buffered_amount", c.buffered_amount as i64);
            godot_terms::channel_stats(&c.stats, &mut d);
            channels.push(&d.to_variant());
        }
        row.set("channels", &channels.to_variant());
        row
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

/// Drops the reference `poll()` held while emitting. If a handler dropped all the others, the
/// object must not be freed now, under the method still running on it (Godot would crash): it
/// is freed on the main thread once the current call stack has unwound.
fn release(keep: Gd<RsPeerConnection>) {
    let mut keep = keep;
    if keep.get_reference_count() <= 1 {
        let os = Os::singleton();
        if os.get_thread_caller_id() == os.get_main_thread_id() {
            keep.run_deferred_gd(|_last| {});
        } else {
            // Not reachable from the main-thread-only API; kept alive rather than freed under us.
            std::mem::forget(keep);
        }
    }
}

#[godot_api]
impl IWebRtcPeerConnectionExtension for RsPeerConnection {
    /// Usable at once, as if `initialize({})` had run (like the browser and the official plugin);
    /// that connection is built at its first use (see `unbuilt`), so construction is cheap.
    fn init(base: Base<WebRtcPeerConnectionExtension>) -> Self {
        Self { base, peer: None, unbuilt: true, settings_at_init: (simulate_settings(), peer_options()), generation: 0 }
    }

    /// Replaces the connection with one built from `configuration`: `iceServers` (Array of `{urls,
    /// username, credential}`), `iceTransportPolicy` (`"all"` or `"relay"`) and this addon's
    /// `webrtc_rs` options (`includeLoopback`, `multicastDns`, `bindAddresses`, `portRange`,
    /// `turnCaFile`, `simulate: {delay_ms, jitter_ms, loss_percent}`, the link simulator, over
    /// the `network/webrtc_rs/simulate_*` project settings read here). A wrong type, a
    /// malformed URL or an invalid simulation value returns `ERR_INVALID_PARAMETER` with an
    /// error message and keeps the old connection. Never waits on the network.
    fn initialize(&mut self, config: VarDictionary) -> Error {
        // Validate first: a bad configuration leaves the old connection as it was.
        match Self::new_peer(&config) {
            Ok(peer) => {
                if let Some(mut old) = self.peer.replace(peer) {
                    old.close();
                }
                self.unbuilt = false;
                self.generation += 1;
                Error::OK
            }
            Err(e) => report(e),
        }
    }

    /// Creates a data channel (only in `STATE_NEW`). `options`: `negotiated`, `id` (0 to 65534),
    /// `ordered`, `maxPacketLifeTime` (also spelled `maxPacketLifetime`) or `maxRetransmits`,
    /// `protocol`. Returns `null` with an error message on invalid options, a duplicate negotiated id,
    /// or a call after `create_offer()`.
    fn create_data_channel(&mut self, label: GString, config: VarDictionary) -> Option<Gd<WebRtcDataChannel>> {
        let peer = self.peer_mut().ok()?;
        let created = convert::channel_config(&config).and_then(|c| peer.create_data_channel(&label.to_string(), c));
        match created {
            Ok(ch) => Some(RsDataChannel::create(ch).upcast()),
            Err(e) => {
                godot_error!("create_data_channel('{}'): {}", engine::excerpt(&label.to_string()), e.message());
                None
            }
        }
    }

    /// Creates an offer; it arrives through `session_description_created` (already applied as the local
    /// description). Only in `STATE_NEW`.
    fn create_offer(&mut self) -> Error {
        self.run(|p| p.create_offer())
    }

    /// Applies the remote `"offer"` or `"answer"`; an offer is answered through
    /// `session_description_created`. Malformed SDP returns `FAILED`; SDP without ICE credentials or a
    /// DTLS fingerprint, or a `"pranswer"`, returns `ERR_INVALID_PARAMETER`.
    fn set_remote_description(&mut self, kind: GString, sdp: GString) -> Error {
        self.run(|p| p.set_remote_description(&kind.to_string(), &sdp.to_string()))
    }

    /// Sets the local description. The addon already applies what it creates, so passing that same
    /// description (as Godot's demos do) is harmless.
    fn set_local_description(&mut self, kind: GString, sdp: GString) -> Error {
        self.run(|p| p.set_local_description(&kind.to_string(), &sdp.to_string()))
    }

    /// Adds a remote ICE candidate (`candidate:...`; empty means end of candidates). Candidates that
    /// arrive before the remote description are kept until it is set. A malformed candidate returns
    /// `FAILED`.
    fn add_ice_candidate(&mut self, mid: GString, mline_index: i32, candidate: GString) -> Error {
        self.run(|p| p.add_ice_candidate(&mid.to_string(), mline_index as i64, &candidate.to_string()))
    }

    /// Emits the signals of everything that happened since the last call, in order, and makes the
    /// packets every channel received readable. Call it every frame.
    fn poll(&mut self) -> Error {
        crate::flush_engine_log();
        crate::debugger::track(self.base().instance_id());
        let events = match self.peer.as_ref() {
            Some(peer) => peer.poll_events(),
            // Nothing can have happened to a connection not built yet.
            None if self.unbuilt => return Error::OK,
            None => return Error::ERR_UNCONFIGURED,
        };
        if events.is_empty() {
            return Error::OK;
        }
        // Events are taken first and no borrow of `self` is held while emitting: a handler
        // may call back into this object (set_local_description, add_ice_candidate, close).
        // A handler may also drop the game's last reference to this object (`peer = null`):
        // `keep` holds it alive until this call has returned (see `release`).
        let keep = self.to_gd();
        let generation = self.generation;
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
            // A handler that closed, re-initialized or let go of the connection ends this
            // batch: the rest belongs to a connection the game no longer has.
            let closed = self.peer.as_ref().map(|p| p.state()) == Some(engine::PeerState::Closed);
            if closed || self.generation != generation || keep.get_reference_count() <= 1 {
                break;
            }
        }
        release(keep);
        Error::OK
    }

    /// Closes the connection and its channels; the state is `STATE_CLOSED` at once and no signal
    /// follows.
    fn close(&mut self) {
        self.unbuilt = false;
        if let Some(peer) = self.peer.as_mut() {
            peer.close();
        }
    }

    /// The connection state (`ConnectionState`).
    fn get_connection_state(&self) -> ConnectionState {
        match self.peer.as_ref().map(|p| p.state()) {
            None if self.unbuilt => ConnectionState::NEW,
            None | Some(engine::PeerState::Closed) => ConnectionState::CLOSED,
            Some(engine::PeerState::New) => ConnectionState::NEW,
            Some(engine::PeerState::Connecting) => ConnectionState::CONNECTING,
            Some(engine::PeerState::Connected) => ConnectionState::CONNECTED,
            Some(engine::PeerState::Disconnected) => ConnectionState::DISCONNECTED,
            Some(engine::PeerState::Failed) => ConnectionState::FAILED,
        }
    }

    /// The ICE gathering state (`GatheringState`).
    fn get_gathering_state(&self) -> GatheringState {
        match self.peer.as_ref().map(|p| p.gathering_state()) {
            None | Some(engine::GatheringState::New) => GatheringState::NEW,
            Some(engine::GatheringState::Gathering) => GatheringState::GATHERING,
            Some(engine::GatheringState::Complete) => GatheringState::COMPLETE,
        }
    }

    /// The signaling state (`SignalingState`).
    fn get_signaling_state(&self) -> SignalingState {
        match self.peer.as_ref().map(|p| p.signaling_state()) {
            None if self.unbuilt => SignalingState::STABLE,
            None | Some(engine::SignalingState::Closed) => SignalingState::CLOSED,
            Some(engine::SignalingState::Stable) => SignalingState::STABLE,
            Some(engine::SignalingState::HaveLocalOffer) => SignalingState::HAVE_LOCAL_OFFER,
            Some(engine::SignalingState::HaveRemoteOffer) => SignalingState::HAVE_REMOTE_OFFER,
            Some(engine::SignalingState::HaveLocalPranswer) => SignalingState::HAVE_LOCAL_PRANSWER,
            Some(engine::SignalingState::HaveRemotePranswer) => SignalingState::HAVE_REMOTE_PRANSWER,
        }
    }
}

#[godot_api]
impl RsPeerConnection {
    /// Restarts ICE (the browser's `restartIce()`), for a player whose network changed (Wi-Fi
    /// to mobile, a new NAT mapping) or a connection that became `STATE_DISCONNECTED`: a new
    /// offer with new ICE credentials comes out of `session_description_created` (send it to
    /// the remote as usual; its answer goes to `set_remote_description`), then new candidates.
    /// Channels stay open and what was queued on them is delivered. Either side may call it
    /// once the first offer/answer exchange is complete; otherwise `ERR_UNCONFIGURED`. Not in
    /// Godot's API: `pc.call("restart_ice")`.
    #[func]
    fn restart_ice(&mut self) -> Error {
        self.run(|p| p.restart_ice())
    }

    /// Figures of the connection, for a ping display or to tell whether it is relayed:
    /// `round_trip_time_ms` (float; -1 until ICE has measured one), `local_candidate` and
    /// `remote_candidate` (the pair ICE selected, each `{type: "host"/"srflx"/"prflx"/"relay",
    /// protocol, address, port}`; empty until connected), `relayed` (bool: either end is a
    /// TURN relay), `bytes_sent`, `bytes_received`, `packets_sent`, `packets_received` (UDP,
    /// the whole connection), `retransmissions` (SCTP fast retransmissions and timeouts),
    /// `messages_sent`, `messages_received` (data channel messages, all channels). The transport figures are at most 0.2 s old: while
    /// they are asked for (at least every 2 s) the runtime refreshes them every 0.1 s and a call
    /// returns at once; the first call, or one after a longer pause, waits for a refresh (about
    /// a millisecond, at most 50 ms). `failure_reason` (String) is `""` unless the connection is
    /// `STATE_FAILED`, then one of `ice_failed` (no candidate pair worked), `consent_lost` (the
    /// peer vanished after connecting), `turn_auth` (a TURN server refused the credentials),
    /// `turn_unreachable` (a TURN server did not answer), `turn_certificate` (a `turns:`
    /// server's certificate was refused), `dtls_fingerprint` (the peer's certificate does not
    /// match its description's fingerprint), `dtls_failed` (ICE connected, DTLS did not) or
    /// `sctp_failed` (the association was aborted); the error printed when it failed names the
    /// same reason and what to check. Not in Godot's API.
    #[func]
    fn get_stats(&self) -> VarDictionary {
        let s = self.peer.as_ref().map(|p| p.stats()).unwrap_or_default();
        let candidate = |c: &Option<engine::CandidateStats>| {
            let mut d = VarDictionary::new();
            if let Some(c) = c {
                d.set("type", c.candidate_type.as_str());
                d.set("protocol", c.protocol.as_str());
                d.set("address", c.address.as_str());
                d.set("port", c.port as i64);
            }
            d
        };
        let relayed = [&s.local_candidate, &s.remote_candidate].iter().any(|c| c.as_ref().is_some_and(|c| c.candidate_type == "relay"));
        let mut d = VarDictionary::new();
        d.set("round_trip_time_ms", s.round_trip_time_ms.unwrap_or(-1.0));
        d.set("local_candidate", &candidate(&s.local_candidate).to_variant());
        d.set("remote_candidate", &candidate(&s.remote_candidate).to_variant());
        d.set("relayed", relayed);
        d.set("bytes_sent", s.bytes_sent as i64);
        d.set("bytes_received", s.bytes_received as i64);
        d.set("packets_sent", s.packets_sent as i64);
        d.set("packets_received", s.packets_received as i64);
        d.set("retransmissions", s.retransmissions as i64);
        d.set("messages_sent", s.messages_sent as i64);
        d.set("messages_received", s.messages_received as i64);
        let reason = self.peer.as_ref().and_then(|p| p.failure_reason());
        d.set("failure_reason", reason.map_or("", |r| r.as_str()));
        d
    }
}
