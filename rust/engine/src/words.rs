//! The names the engine's messages use for what the game calls or sets. The engine knows no
//! embedding API: its messages name things neutrally ([`Words::NEUTRAL`], the engine's own
//! API), and an embedding that has its own names for them (the Godot extension: `STATE_NEW`,
//! `get_buffered_amount()`, a project setting) installs them once with [`set_words`], so the
//! game's log speaks the API the game was written in.

use std::sync::OnceLock;

/// What messages call things the game calls or sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    /// The connection's first state, where offers and channels are made.
    pub state_new: &'static str,
    /// The way to send bytes that are not UTF-8 text.
    pub binary_mode: &'static str,
    /// How the game reads a channel's buffered amount.
    pub buffered_amount: &'static str,
    /// The setting that sizes each channel's receive queue ([`crate::PeerOptions::receive_buffer_bytes`]).
    pub receive_buffer: &'static str,
    /// The counter of messages a closed channel did not send.
    pub unsent_counter: &'static str,
    /// The link simulator's option, before `.delay_ms`, `.jitter_ms` or `.loss_percent`.
    pub simulate_option: &'static str,
    /// Everything that turns the link simulator on.
    pub simulate_sources: &'static str,
    /// The option naming the CA certificates trusted for `turns:` servers.
    pub turn_ca_option: &'static str,
}

impl Words {
    /// The engine's own names (its Rust API).
    pub const NEUTRAL: Words = Words {
        state_new: "state New",
        binary_mode: "binary messages",
        buffered_amount: "DataChannel::buffered_amount()",
        receive_buffer: "PeerOptions::receive_buffer_bytes",
        unsent_counter: "ChannelStats::messages_unsent",
        simulate_option: "PeerConfig::simulate",
        simulate_sources: "PeerConfig::simulate",
        turn_ca_option: "PeerConfig::turn_ca_pem",
    };
}

static WORDS: OnceLock<Words> = OnceLock::new();

/// Installs the embedding's names, once per process, before its first connection; a later
/// call changes nothing and returns `false`.
pub fn set_words(words: Words) -> bool {
    WORDS.set(words).is_ok()
}

/// The names in use.
pub(crate) fn words() -> &'static Words {
    WORDS.get().unwrap_or(&Words::NEUTRAL)
}
