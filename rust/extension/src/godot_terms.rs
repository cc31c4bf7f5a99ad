//! Engine values in Godot's terms: the names the engine's messages use for what a game calls
//! or sets (`STATE_NEW`, project settings), the 65535 Godot's API reports for an unset id or
//! limit, error codes, and counters as the Dictionaries `get_stats()` returns. The engine
//! speaks neutrally; this is the one place that translates.

use godot::global::Error;
use godot::prelude::*;

/// What Godot's API reports for a channel id, lifetime or retransmit limit that is not set.
pub const UNSET: i32 = 65535;

/// Godot's names for what the engine's messages mention.
pub const WORDS: engine::Words = engine::Words {
    state_new: "STATE_NEW",
    binary_mode: "WRITE_MODE_BINARY",
    buffered_amount: "get_buffered_amount()",
    receive_buffer: crate::peer_connection::RECEIVE_BUFFER_SETTING,
    unsent_counter: "get_stats().messages_unsent",
    simulate_option: "webrtc_rs.simulate",
    simulate_sources: "webrtc_rs.simulate or the network/webrtc_rs/simulate_* project settings",
    turn_ca_option: "webrtc_rs.turnCaFile",
};

/// An optional id or limit as Godot's API reports it.
pub fn or_unset(value: Option<u16>) -> i32 {
    value.map_or(UNSET, i32::from)
}

/// The Godot `Error` code of an engine error kind.
pub fn error_code(kind: engine::ErrorKind) -> Error {
    match kind {
        engine::ErrorKind::InvalidParameter => Error::ERR_INVALID_PARAMETER,
        engine::ErrorKind::Unconfigured => Error::ERR_UNCONFIGURED,
        engine::ErrorKind::Unavailable => Error::ERR_UNAVAILABLE,
        engine::ErrorKind::Failed => Error::FAILED,
        engine::ErrorKind::Busy => Error::ERR_BUSY,
    }
}

/// A channel's counters, as its `get_stats()` returns them (and the debugger's rows hold them).
pub fn channel_stats(s: &engine::ChannelStats, into: &mut VarDictionary) {
    into.set("messages_sent", s.messages_sent as i64);
    into.set("bytes_sent", s.bytes_sent as i64);
    into.set("messages_received", s.messages_received as i64);
    into.set("bytes_received", s.bytes_received as i64);
    into.set("messages_dropped", s.messages_dropped as i64);
    into.set("messages_unsent", s.messages_unsent as i64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_values_are_godots_65535() {
        assert_eq!(or_unset(None), 65535);
        assert_eq!(or_unset(Some(0)), 0);
        assert_eq!(or_unset(Some(65534)), 65534);
    }
}
