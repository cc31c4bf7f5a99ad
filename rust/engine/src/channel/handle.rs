//! The owner's handle to a data channel: synchronous, never blocks. It checks each call, then
//! queues it for the channel's tasks ([`super::task`]) or reads the shared state.

use super::shared::{ChannelShared, ChannelStats};
use super::task::Outgoing;
use crate::error::{Error, Result};
use crate::inbox::Packet;
use crate::state::{ChannelEvent, ChannelState};
use bytes::BytesMut;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Most bytes a channel holds for sending ([`DataChannel::buffered_amount`]); a send past it
/// fails with `Busy`, as a browser's `send()` throws past its 16 MiB buffer. Without a bound a
/// game that never looks at its buffered amount grows memory until the process dies.
pub const MAX_BUFFERED_AMOUNT: usize = 16 << 20;

/// The owner's handle to a data channel. Dropping it closes the channel.
#[derive(Debug)]
pub struct DataChannel {
    shared: Arc<ChannelShared>,
    outbox: mpsc::UnboundedSender<Outgoing>,
}

impl DataChannel {
    pub(crate) fn new(shared: Arc<ChannelShared>) -> (Self, mpsc::UnboundedReceiver<Outgoing>) {
        let (outbox, rx) = mpsc::unbounded_channel();
        (Self { shared, outbox }, rx)
    }

    /// The label given at creation.
    pub fn label(&self) -> &str {
        &self.shared.info.label
    }
    /// The sub-protocol given at creation.
    pub fn protocol(&self) -> &str {
        &self.shared.info.protocol
    }
    /// Whether delivery is in order.
    pub fn is_ordered(&self) -> bool {
        self.shared.info.ordered
    }
    /// Whether the channel was negotiated out-of-band.
    pub fn is_negotiated(&self) -> bool {
        self.shared.info.negotiated
    }
    /// SCTP stream id, once it is assigned.
    pub fn id(&self) -> Option<u16> {
        self.shared.id()
    }
    /// Lifetime limit in ms, if set.
    pub fn max_packet_life_time(&self) -> Option<u16> {
        self.shared.info.max_packet_life_time
    }
    /// Retransmission limit, if set.
    pub fn max_retransmits(&self) -> Option<u16> {
        self.shared.info.max_retransmits
    }
    /// Current state.
    pub fn ready_state(&self) -> ChannelState {
        self.shared.state.get()
    }
    /// Largest message `send` accepts: what the remote advertised, capped by webrtc-rs.
    pub fn max_message_size(&self) -> usize {
        self.shared.max_message_size.load(Ordering::Acquire)
    }
    /// Bytes sent but not yet acknowledged by the remote (plus those still queued here). Kept
    /// fresh while asked for: after a pause, the first answers may be high for a frame.
    pub fn buffered_amount(&self) -> usize {
        self.shared.buffered_ask.ask();
        self.cached_buffered_amount()
    }

    fn cached_buffered_amount(&self) -> usize {
        self.shared.queued.load(Ordering::Acquire) + self.shared.outstanding.load(Ordering::Acquire)
    }
    /// Makes the messages received so far readable (see [`crate::inbox`]). The connection's
    /// [`poll_events`](crate::PeerConnection::poll_events) does it for all its channels.
    pub fn publish(&self) {
        self.shared.publish();
    }

    /// Readable received messages.
    pub fn available_packet_count(&self) -> usize {
        self.shared.inbox().len()
    }
    /// Counters since creation.
    pub fn stats(&self) -> ChannelStats {
        let s = &self.shared;
        ChannelStats {
            messages_sent: s.messages_sent.load(Ordering::Relaxed),
            bytes_sent: s.bytes_sent.load(Ordering::Relaxed),
            messages_received: s.messages_received.load(Ordering::Relaxed),
            bytes_received: s.bytes_received.load(Ordering::Relaxed),
            messages_dropped: s.inbox().dropped(),
            messages_unsent: s.messages_unsent.load(Ordering::Relaxed),
        }
    }

    /// Queues a message. Fails with `Unconfigured` unless the channel is open, and with
    /// `InvalidParameter` if it is larger than [`max_message_size`](Self::max_message_size):
    /// nothing is ever sent half.
    pub fn send(&self, data: &[u8], is_string: bool) -> Result<()> {
        let state = self.ready_state();
        if state != ChannelState::Open {
            return Err(Error::unconfigured(format!(
                "Data channel '{}' is not open (state {:?}); cannot send.", crate::excerpt(self.label()), state
            )));
        }
        let max = self.max_message_size();
        if data.len() > max {
            return Err(Error::invalid(format!(
                "Packet of {} bytes is larger than the maximum of {} bytes for data channel '{}'.",
                data.len(), max, crate::excerpt(self.label())
            )));
        }
        if is_string && std::str::from_utf8(data).is_err() {
            return Err(Error::invalid(format!("A text packet must be valid UTF-8 (use {} for raw bytes).", crate::words::words().binary_mode)));
        }
        let buffered = self.cached_buffered_amount();
        if buffered > 0 && buffered + data.len() > MAX_BUFFERED_AMOUNT {
            return Err(Error::busy(format!(
                "Data channel '{}': {} bytes are already waiting to be sent, and a send may not take that past {} MiB \
                 (the peer reads slower than this channel sends). Check {} before sending.",
                crate::excerpt(self.label()), buffered, MAX_BUFFERED_AMOUNT >> 20, crate::words::words().buffered_amount
            )));
        }
        self.shared.queued.fetch_add(data.len(), Ordering::AcqRel);
        let msg = Outgoing::Message { data: BytesMut::from(data), is_string };
        if self.outbox.send(msg).is_err() {
            self.shared.queued.fetch_sub(data.len(), Ordering::AcqRel);
            return Err(Error::failed(format!("Data channel '{}' is gone.", crate::excerpt(self.label()))));
        }
        Ok(())
    }

    /// Takes the oldest received message. Messages received before a close stay readable.
    pub fn recv(&self) -> Result<Packet> {
        let (packet, room) = {
            let mut inbox = self.shared.inbox();
            (inbox.pop(), inbox.has_room())
        };
        let packet = packet.ok_or_else(|| Error::unavailable("No packet available on this data channel."))?;
        if room {
            // A reliable channel's reader may be holding the transport until there is room.
            self.shared.room.notify_one();
        }
        Ok(packet)
    }

    /// Starts closing: the state becomes CLOSING, then CLOSED once the remote agrees (or at
    /// once if the channel never opened). Unread messages are dropped.
    pub fn close(&self) {
        self.shared.owner_closed.store(true, std::sync::atomic::Ordering::Release);
        self.shared.clear_inbox();
        if matches!(self.shared.state.get(), ChannelState::Closed | ChannelState::Closing) {
            return;
        }
        self.shared.state.apply(ChannelEvent::CloseAsked);
        if self.outbox.send(Outgoing::Close).is_err() {
            self.shared.state.apply(ChannelEvent::Closed);
        }
    }
}

impl Drop for DataChannel {
    fn drop(&mut self) {
        // Nobody can read any more: let a holding reader go, and close the webrtc-rs channel
        // (the sending task also closes it when the outbox ends).
        self.close();
    }
}
