//! A connection's channels as the debugger's WebRTC tab lists them, read from their shared
//! state without a handle (a handle's drop would close the channel).

use super::shared::PeerShared;
use crate::channel::ChannelStats;
use crate::state::ChannelState;
use std::sync::atomic::Ordering;

/// One channel's label, id, state and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelFigures {
    /// The label given at creation.
    pub label: String,
    /// SCTP stream id, once assigned.
    pub id: Option<u16>,
    /// Whether it may lose messages (`maxRetransmits` or `maxPacketLifeTime` set).
    pub reliable: bool,
    /// Current state.
    pub state: ChannelState,
    /// Counters since creation.
    pub stats: ChannelStats,
    /// Bytes queued or sent and not yet acknowledged.
    pub buffered_amount: usize,
}

pub(crate) fn of_channels(shared: &PeerShared) -> Vec<ChannelFigures> {
    // `for_each_channel` takes an `Fn`.
    let out = std::cell::RefCell::new(Vec::new());
    shared.for_each_channel(|ch| {
        out.borrow_mut().push(ChannelFigures {
            label: ch.info.label.clone(),
            id: ch.id(),
            reliable: ch.info.is_reliable(),
            state: ch.state.get(),
            stats: ChannelStats {
                messages_sent: ch.messages_sent.load(Ordering::Relaxed),
                bytes_sent: ch.bytes_sent.load(Ordering::Relaxed),
                messages_received: ch.messages_received.load(Ordering::Relaxed),
                bytes_received: ch.bytes_received.load(Ordering::Relaxed),
                messages_dropped: ch.inbox().dropped(),
                messages_unsent: ch.messages_unsent.load(Ordering::Relaxed),
            },
            buffered_amount: ch.queued.load(Ordering::Acquire) + ch.outstanding.load(Ordering::Acquire),
        });
    });
    out.into_inner()
}
