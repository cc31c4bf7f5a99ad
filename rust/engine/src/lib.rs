//! # webrtc-rs engine for Godot
//!
//! A Godot-free crate that gives the Godot extension everything it needs from WebRTC, over
//! webrtc-rs on a tokio runtime, behind a synchronous API that never waits on the network:
//! commands go in ([`PeerConnection`] methods), [`Event`]s come out
//! ([`PeerConnection::poll_events`]), and each [`DataChannel`]'s state and packets are shared
//! state the runtime updates on its own.
//!
//! # Structure
//! - [`config`]: connection and channel options, checked like a browser checks them.
//! - [`peer`]: the [`PeerConnection`] handle.
//! - `driver`: the connection's task on the runtime, and webrtc-rs's callbacks.
//! - [`channel`]: the [`DataChannel`] handle and its two tasks.
//! - [`inbox`]: a channel's byte-bounded receive queue.
//! - [`event`]: what a connection reports.
//! - [`state`]: Godot's state enums.
//! - [`sdp`]: the few facts read from SDP text.
//! - [`logging`]: collects webrtc-rs's log for the extension to print.
//! - [`runtime`]: the process-wide tokio runtime.
//! - [`error`]: errors in Godot's terms.
#![warn(missing_docs)]

pub mod channel;
pub mod config;
mod driver;
pub mod error;
pub mod event;
pub mod inbox;
pub mod logging;
pub mod peer;
pub mod runtime;
pub mod sdp;
pub mod state;

/// Locks `m`, going on with the data if a thread panicked while holding it: every value behind
/// these locks stays consistent between statements, and the engine must not panic in Godot.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub use channel::{ChannelStats, DataChannel, MAX_BUFFERED_AMOUNT, UNSET};
pub use config::{ChannelConfig, IceServer, IceTransportPolicy, PeerConfig};
pub use error::{excerpt, Error, ErrorKind, Result, MAX_MESSAGE_BYTES};
pub use event::{Event, SdpKind};
pub use inbox::Packet;
pub use peer::{PeerConnection, PeerOptions};
pub use state::{ChannelState, GatheringState, PeerState, SignalingState};
