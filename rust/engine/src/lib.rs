//! # webrtc-rs engine for Godot
//!
//! A Godot-free crate that gives the Godot extension everything it needs from WebRTC, over
//! webrtc-rs on a tokio runtime, behind a synchronous API that never waits on the network:
//! commands go in ([`PeerConnection`] methods), [`Event`]s come out
//! ([`PeerConnection::poll_events`]), and each [`DataChannel`]'s state and packets are shared
//! state the runtime updates on its own.
//!
//! # Structure
//! Dependencies run one way: handle -> task -> shared state, and connection -> channel ->
//! config, state, inbox (a channel never imports its connection; config knows neither).
//! - `connection`: [`PeerConnection`], the handle (checks calls, queues [`Command`]s for the
//!   task); `connection::task`, the connection's task on the runtime; `connection::callbacks`,
//!   webrtc-rs's callbacks; `connection::shared`, what they share (states, the [`Event`] queue);
//!   `connection::stats`, its figures ([`ConnectionStats`]).
//! - `channel`: [`DataChannel`], the handle; `channel::task`, its reading and sending tasks;
//!   `channel::shared`, what they share (state, the receive queue, [`ChannelStats`]).
//! - `inbox`: a channel's byte-bounded receive queue of [`Packet`]s.
//! - `config`: [`PeerConfig`], [`ChannelConfig`], [`PeerOptions`], checked like a browser checks
//!   them; [`PeerConfig::validate`] returns the [`CheckedConfig`] (URLs and CA certificates
//!   parsed once) the connection uses.
//! - `event`: [`Event`] and [`SdpKind`]; `state`: [`PeerState`] and the other states, with the
//!   connection's and a channel's transition functions (`state::Machine`), which every writer
//!   goes through.
//! - `failure`: why a connection failed ([`FailureReason`]), from what its callbacks saw.
//! - `sdp`: the few facts read from SDP text; `error`: [`Error`] and [`ErrorKind`].
//! - `words`: what messages call the things a game calls or sets, neutral unless the embedding
//!   installs its own names ([`set_words`]: the extension's `STATE_NEW`, project settings).
//! - `logging`: collects webrtc-rs's log ([`install_logging`], [`drain_log`]); `runtime`: the
//!   process-wide tokio runtime ([`shutdown_runtime`]).
//! - `test_util` (feature `test-util`): in-process signaling, an open pair and bounded waits for
//!   the integration tests and the benchmark.
//!
//! [`Command`]: connection
#![warn(missing_docs)]

mod channel;
mod config;
mod connection;
mod error;
mod event;
mod failure;
mod inbox;
mod logging;
mod runtime;
mod sdp;
mod state;
mod words;
#[cfg(feature = "test-util")]
pub mod test_util;

/// Locks `m`, going on with the data if a thread panicked while holding it: every value behind
/// these locks stays consistent between statements, and the engine must not panic in Godot.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub use channel::{ChannelStats, DataChannel, MAX_BUFFERED_AMOUNT};
pub use config::{ChannelConfig, CheckedConfig, IceServer, IceTransportPolicy, PeerConfig, PeerOptions, Simulation, MAX_CHANNEL_ID, MAX_ICE_URLS, MAX_SIMULATED_DELAY_MS};
pub use connection::{CandidateStats, ChannelFigures, ConnectionStats, PeerConnection, MAX_REMOTE_CANDIDATES};
pub use error::{excerpt, Error, ErrorKind, Result, MAX_MESSAGE_BYTES};
pub use event::{Event, SdpKind};
pub use failure::FailureReason;
pub use inbox::{Packet, BURST_ALLOWANCE};
pub use logging::{drain as drain_log, install as install_logging, LogLevel, LogLine};
pub use runtime::{live_threads as runtime_threads, shutdown as shutdown_runtime};
/// The process-wide runtime (for tests that need to load it).
#[doc(hidden)]
pub use runtime::handle as runtime_handle;
pub use sdp::{DEFAULT_MAX_MESSAGE_SIZE, ENGINE_MAX_MESSAGE_SIZE};
pub use state::{ChannelState, GatheringState, PeerState, SignalingState};
pub use words::{set_words, Words};
