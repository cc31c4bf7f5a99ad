//! # webrtc-rs for Godot 4
//!
//! The GDExtension: registers [`RsPeerConnection`] (`WebRTCRsPeerConnection`) and
//! [`RsDataChannel`] (`WebRTCRsDataChannel`) and makes them Godot's default WebRTC
//! implementation, so `WebRTCPeerConnection.new()` in GDScript is backed by webrtc-rs.
//!
//! # Structure
//! - `lib.rs`: the library entry, registration, and the log bridge to Godot's output.
//! - [`peer_connection`]: the `WebRTCPeerConnectionExtension` class; signals come out of `poll()`.
//! - [`data_channel`]: the `WebRTCDataChannelExtension` class.
//! - [`convert`]: the one place that reads Godot option dictionaries.
//! - [`godot_terms`]: engine values in Godot's terms (the words of its messages, 65535 for
//!   unset, error codes, counters as Dictionaries).
//! - [`debugger`]: the `webrtc_rs:connections` messages for the editor debugger's WebRTC tab.
//! - [`web_export`]: an always-on editor plugin that leaves the addon out of Web exports.
//!
//! All WebRTC work lives in the Godot-free `engine` crate; this crate only adapts types and
//! turns engine events into signals on the main thread.

use godot::classes::{Os, WebRtcPeerConnection};
use godot::init::{ExtensionLibrary, InitStage, gdextension};
use godot::prelude::*;

pub mod convert;
pub mod data_channel;
pub mod debugger;
pub mod godot_terms;
pub mod peer_connection;
pub mod web_export;

#[cfg(test)]
mod class_reference;

pub use data_channel::RsDataChannel;
pub use peer_connection::RsPeerConnection;

/// The addon's version: the workspace's, in one place (`Cargo.toml`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

struct WebRtcRs;

#[gdextension]
unsafe impl ExtensionLibrary for WebRtcRs {
    fn on_stage_init(stage: InitStage) {
        if stage == InitStage::Scene {
            let verbose = Os::singleton().is_stdout_verbose();
            engine::set_words(godot_terms::WORDS);
            engine::install_logging(verbose);
            if verbose {
                godot_print!("webrtc-rs addon {VERSION} (webrtc-rs 0.21.1)");
            }
            WebRtcPeerConnection::set_default_extension(&StringName::from(peer_connection::CLASS_NAME));
            peer_connection::register_settings();
        }
    }

    fn on_stage_deinit(stage: InitStage) {
        if stage == InitStage::Scene {
            engine::shutdown_runtime();
        }
    }
}

/// Prints what the engine logged since the last call: errors as Godot errors, warnings as
/// warnings, the rest (only collected with `--verbose`) as plain lines. Main thread only.
pub(crate) fn flush_engine_log() {
    for line in engine::drain_log() {
        match line.level {
            engine::LogLevel::Error => godot_error!("webrtc-rs: {}", line.message),
            engine::LogLevel::Warning => godot_warn!("webrtc-rs: {}", line.message),
            engine::LogLevel::Verbose => godot_print!("webrtc-rs [{}]: {}", line.target, line.message),
        }
    }
}

/// The Godot `Error` for an engine error, after printing its message.
pub(crate) fn report(err: engine::Error) -> godot::global::Error {
    if !err.is_quiet() {
        godot_error!("{}", err.message());
    }
    godot_terms::error_code(err.kind())
}

