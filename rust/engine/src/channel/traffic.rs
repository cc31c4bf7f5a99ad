//! A connection's message counters, which each of its channels adds to as it sends and
//! receives: the channel side owns them, so a channel never needs its connection's types.

use std::sync::atomic::AtomicU64;

/// Message counters of a connection, shared with its channels' tasks.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pub messages_sent: AtomicU64,
    pub messages_received: AtomicU64,
}
