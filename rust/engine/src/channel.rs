//! A data channel: the handle the owner holds (synchronous, never blocks) and the two tasks on
//! the runtime that move its messages: one reads webrtc-rs events into the shared state, one
//! sends what the owner queued, in order.

use crate::error::{Error, Result};
use crate::inbox::{Inbox, Overflow, Packet};
use crate::state::{ChannelState, StateCell};
use bytes::BytesMut;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel as RtcDataChannel, DataChannelEvent};
use webrtc::peer_connection::PeerConnection as RtcPeerConnection;

/// Value Godot reports for an id, lifetime or retransmit count that is not set.
pub const UNSET: u16 = 65535;

/// Most bytes a channel holds for sending ([`DataChannel::buffered_amount`]); a send past it
/// fails with `Busy`, as a browser's `send()` throws past its 16 MiB buffer. Without a bound a
/// game that never looks at its buffered amount grows memory until the process dies.
pub const MAX_BUFFERED_AMOUNT: usize = 16 << 20;

/// Counters of one channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// Messages handed to webrtc-rs.
    pub messages_sent: u64,
    /// Payload bytes handed to webrtc-rs.
    pub bytes_sent: u64,
    /// Messages received and queued.
    pub messages_received: u64,
    /// Payload bytes received and queued.
    pub bytes_received: u64,
    /// Messages dropped because the receive queue was full (unreliable channels only: a
    /// reliable channel holds the sender instead).
    pub messages_dropped: u64,
    /// Messages queued by `send` that could not be handed over because the channel closed
    /// meanwhile (typically the remote closed it while they were on their way).
    pub messages_unsent: u64,
}

/// What never changes after creation; cached because webrtc-rs's getters are async.
#[derive(Debug, Clone)]
pub(crate) struct ChannelInfo {
    pub label: String,
    pub protocol: String,
    pub ordered: bool,
    pub negotiated: bool,
    pub max_packet_life_time: Option<u16>,
    pub max_retransmits: Option<u16>,
}

impl ChannelInfo {
    /// Reliable (no lifetime or retransmit limit): such a channel never drops a message.
    pub fn is_reliable(&self) -> bool {
        self.max_packet_life_time.is_none() && self.max_retransmits.is_none()
    }
}

/// State shared by the handle and the runtime tasks.
#[derive(Debug)]
pub(crate) struct ChannelShared {
    pub info: ChannelInfo,
    /// SCTP stream id, [`UNSET`] until assigned.
    id: AtomicU32,
    pub state: StateCell<ChannelState>,
    inbox: Mutex<Inbox>,
    /// Woken when the owner reads or clears the inbox: a reader holding the transport
    /// (reliable channel, full inbox) waits on it.
    room: tokio::sync::Notify,
    /// When dropped messages were last reported, and how many had been.
    drop_report: Mutex<DropReport>,
    /// Bytes queued by the owner and not yet handed to webrtc-rs.
    queued: AtomicUsize,
    /// Bytes webrtc-rs holds unacknowledged (its `outstanding_bytes`), refreshed by the tasks.
    outstanding: AtomicUsize,
    /// The low-threshold event webrtc-rs has armed (see `refresh_outstanding`).
    low_threshold: std::sync::atomic::AtomicU32,
    /// Largest message the remote accepts; shared by all channels of a connection.
    max_message_size: Arc<AtomicUsize>,
    messages_sent: AtomicU64,
    bytes_sent: AtomicU64,
    messages_received: AtomicU64,
    bytes_received: AtomicU64,
    messages_unsent: AtomicU64,
}

impl ChannelShared {
    pub fn new(info: ChannelInfo, id: Option<u16>, recv_limit: usize, max_message_size: Arc<AtomicUsize>) -> Arc<Self> {
        Arc::new(Self {
            id: AtomicU32::new(id.unwrap_or(UNSET) as u32),
            state: StateCell::new(ChannelState::Connecting),
            inbox: Mutex::new(Inbox::new(recv_limit, if info.is_reliable() { Overflow::Hold } else { Overflow::DropOldest })),
            room: tokio::sync::Notify::new(),
            drop_report: Mutex::new(DropReport::default()),
            queued: AtomicUsize::new(0),
            outstanding: AtomicUsize::new(0),
            low_threshold: std::sync::atomic::AtomicU32::new(0),
            max_message_size,
            messages_sent: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            messages_received: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            messages_unsent: AtomicU64::new(0),
            info,
        })
    }

    fn inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
        crate::lock(&self.inbox)
    }

    pub fn publish(&self) {
        let dropped = {
            let mut inbox = self.inbox();
            inbox.publish();
            inbox.dropped()
        };
        // An unreliable channel's reader may be holding the transport until this publish.
        self.room.notify_one();
        self.report_drops(dropped, std::time::Instant::now());
    }

    /// Warns about dropped messages, at most once per [`DROP_REPORT_INTERVAL`]: a flood of
    /// drops must not flood the output too. All drops are counted in the stats.
    fn report_drops(&self, dropped: u64, now: std::time::Instant) {
        if let Some(new) = crate::lock(&self.drop_report).due(dropped, now) {
            log::warn!(target: "engine::channel", "Buffer full! Dropping data: data channel '{}' (unreliable) dropped its {new} oldest unread message(s), {dropped} so far; read it every frame, or raise network/limits/webrtc/max_channel_in_buffer_kb.", crate::excerpt(&self.info.label));
        }
    }

    /// A queued message webrtc-rs refused. A send racing the channel's close (the remote closed
    /// it, or the connection went) is routine in a game whose player leaves: counted, and said
    /// once at warning level. Anything else is a real error.
    fn note_send_failure(&self, len: usize, error: &webrtc::error::Error) {
        let closed = matches!(error, webrtc::error::Error::ErrDataChannelClosed)
            || matches!(self.state.get(), ChannelState::Closing | ChannelState::Closed);
        if !closed {
            log::error!(target: "engine::channel", "data channel '{}': send of {len} bytes failed: {error}", crate::excerpt(&self.info.label));
        } else if self.messages_unsent.fetch_add(1, Ordering::Relaxed) == 0 {
            log::warn!(target: "engine::channel", "data channel '{}' closed while messages were queued for it; they were not sent (counted in get_stats().messages_unsent).", crate::excerpt(&self.info.label));
        }
    }

    /// Forgets unread messages and lets a holding reader go on.
    fn clear_inbox(&self) {
        self.inbox().clear();
        self.room.notify_one();
    }

    /// Marks the channel closed (a closed connection closes its channels at once).
    pub fn mark_closed(&self) {
        self.state.set(ChannelState::Closed);
        self.room.notify_one();
    }

    fn set_id(&self, id: u16) {
        self.id.store(id as u32, Ordering::Release);
    }
}

/// How often a channel that keeps dropping messages says so.
const DROP_REPORT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Rate limit for the dropped-messages warning; time is passed in.
#[derive(Debug, Default)]
struct DropReport {
    reported: u64,
    last: Option<std::time::Instant>,
}

impl DropReport {
    /// How many drops to report now, if any are new and the last report is old enough.
    fn due(&mut self, dropped: u64, now: std::time::Instant) -> Option<u64> {
        let new = dropped.checked_sub(self.reported).filter(|&n| n > 0)?;
        if self.last.is_some_and(|t| now.duration_since(t) < DROP_REPORT_INTERVAL) {
            return None;
        }
        self.reported = dropped;
        self.last = Some(now);
        Some(new)
    }
}

/// What the owner asks the sending task to do.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Message { data: BytesMut, is_string: bool },
    Close,
}

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
    /// SCTP stream id, or [`UNSET`] (65535) until it is assigned.
    pub fn id(&self) -> u16 {
        self.shared.id.load(Ordering::Acquire) as u16
    }
    /// Lifetime limit in ms, or [`UNSET`].
    pub fn max_packet_life_time(&self) -> u16 {
        self.shared.info.max_packet_life_time.unwrap_or(UNSET)
    }
    /// Retransmission limit, or [`UNSET`].
    pub fn max_retransmits(&self) -> u16 {
        self.shared.info.max_retransmits.unwrap_or(UNSET)
    }
    /// Current state.
    pub fn ready_state(&self) -> ChannelState {
        self.shared.state.get()
    }
    /// Largest message `send` accepts: what the remote advertised, capped by webrtc-rs.
    pub fn max_message_size(&self) -> usize {
        self.shared.max_message_size.load(Ordering::Acquire)
    }
    /// Bytes sent but not yet acknowledged by the remote (plus those still queued here).
    pub fn buffered_amount(&self) -> usize {
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
            return Err(Error::invalid("A text packet must be valid UTF-8 (use WRITE_MODE_BINARY for raw bytes)."));
        }
        let buffered = self.buffered_amount();
        if buffered > 0 && buffered + data.len() > MAX_BUFFERED_AMOUNT {
            return Err(Error::busy(format!(
                "Data channel '{}': {} bytes are already waiting to be sent, and a send may not take that past {} MiB \
                 (the peer reads slower than this channel sends). Check get_buffered_amount() before sending.",
                crate::excerpt(self.label()), buffered, MAX_BUFFERED_AMOUNT >> 20
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
        self.shared.clear_inbox();
        let was = self.shared.state.get();
        match was {
            ChannelState::Closed | ChannelState::Closing => {}
            _ => {
                self.shared.state.set(ChannelState::Closing);
                if self.outbox.send(Outgoing::Close).is_err() {
                    self.shared.state.set(ChannelState::Closed);
                }
            }
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

/// Starts the two tasks of a channel once webrtc-rs has created it.
pub(crate) fn spawn_tasks(
    rt: &tokio::runtime::Handle,
    dc: Arc<dyn RtcDataChannel>,
    shared: Arc<ChannelShared>,
    outbox: mpsc::UnboundedReceiver<Outgoing>,
    pc: Weak<dyn RtcPeerConnection>,
) {
    rt.spawn(read_events(dc.clone(), shared.clone(), pc));
    rt.spawn(send_queued(dc, shared, outbox));
}

/// Asks webrtc-rs how many bytes it holds unacknowledged, and arms the low-threshold event at
/// half of that, so the cached value follows the queue down without polling.
async fn refresh_outstanding(dc: &Arc<dyn RtcDataChannel>, shared: &ChannelShared) {
    if let Ok(n) = dc.outstanding_bytes().await {
        shared.outstanding.store(n, Ordering::Release);
        // Re-arm only when the threshold is far off (half of what is held now, within a
        // factor of two): each change is a round trip to webrtc-rs's driver.
        let want = (n / 2) as u32;
        let armed = shared.low_threshold.load(Ordering::Acquire);
        if want > armed.saturating_mul(2) || want < armed / 2 {
            shared.low_threshold.store(want, Ordering::Release);
            let _ = dc.set_buffered_amount_low_threshold(want).await;
        }
    }
}

/// Reads the SCTP stream id from the stats report: webrtc-rs 0.21.1 has no getter for it, and
/// its stats key each channel by the handle id (`RTCDataChannel_<id>`).
pub(crate) async fn resolve_stream_id(pc: &Weak<dyn RtcPeerConnection>, dc: &Arc<dyn RtcDataChannel>) -> Option<u16> {
    let pc = pc.upgrade()?;
    let report = pc.get_stats(std::time::Instant::now(), rtc::statistics::StatsSelector::None).await;
    let key = format!("RTCDataChannel_{}", dc.id());
    let id = report.data_channels().find(|s| s.stats.id == key).map(|s| s.data_channel_identifier);
    id
}

/// Waits until the inbox may take another message. A reliable channel whose owner has not
/// read its `limit` bytes stops here, and so does an unreliable one until the owner's next
/// poll (see [`crate::inbox`]): webrtc-rs then stops draining SCTP (it holds the whole
/// association: SCTP has one receive window), the window closes and the sender waits.
async fn wait_for_room(shared: &ChannelShared) {
    loop {
        // Registered before the check, so a wake between the check and the wait is not lost.
        let notified = shared.room.notified();
        if shared.inbox().has_room() || shared.state.get() == ChannelState::Closed {
            return;
        }
        notified.await;
    }
}

async fn read_events(dc: Arc<dyn RtcDataChannel>, shared: Arc<ChannelShared>, pc: Weak<dyn RtcPeerConnection>) {
    loop {
        wait_for_room(&shared).await;
        let Some(event) = dc.poll().await else { break };
        match event {
            DataChannelEvent::OnOpen => {
                if shared.id.load(Ordering::Acquire) == UNSET as u32 {
                    if let Some(id) = resolve_stream_id(&pc, &dc).await {
                        shared.set_id(id);
                    }
                }
                // A close() asked for before the open wins.
                shared.state.set_unless(ChannelState::Open, |s| s != ChannelState::Connecting);
                log::info!(target: "engine::channel", "data channel '{}' open (id {})", crate::excerpt(&shared.info.label), shared.id.load(Ordering::Relaxed));
            }
            DataChannelEvent::OnMessage(msg) => {
                // Closed here (close() or the handle dropped): nobody will read it.
                if matches!(shared.state.get(), ChannelState::Closing | ChannelState::Closed) {
                    continue;
                }
                let len = msg.data.len();
                let packet = Packet { data: msg.data.freeze(), is_string: msg.is_string };
                shared.inbox().push(packet);
                shared.messages_received.fetch_add(1, Ordering::Relaxed);
                shared.bytes_received.fetch_add(len as u64, Ordering::Relaxed);
            }
            DataChannelEvent::OnBufferedAmountLow => refresh_outstanding(&dc, &shared).await,
            DataChannelEvent::OnClosing => {
                shared.state.set_unless(ChannelState::Closing, |s| s == ChannelState::Closed);
            }
            DataChannelEvent::OnClose => break,
            DataChannelEvent::OnError => {
                log::warn!(target: "engine::channel", "data channel '{}' reported an error", crate::excerpt(&shared.info.label));
            }
            _ => {}
        }
    }
    shared.outstanding.store(0, Ordering::Release);
    shared.mark_closed();
}

/// Messages sent before the cached buffered amount is refreshed: one refresh per batch keeps
/// small unreliable messages from paying two extra driver round trips each.
const SEND_BATCH: usize = 64;

async fn send_queued(dc: Arc<dyn RtcDataChannel>, shared: Arc<ChannelShared>, mut outbox: mpsc::UnboundedReceiver<Outgoing>) {
    let mut batch = Vec::with_capacity(SEND_BATCH);
    let mut closing = false;
    while !closing {
        let Some(first) = outbox.recv().await else { break };
        batch.push(first);
        while batch.len() < SEND_BATCH {
            match outbox.try_recv() {
                Ok(msg) => batch.push(msg),
                Err(_) => break,
            }
        }
        let mut sent_any = false;
        for msg in batch.drain(..) {
            match msg {
                Outgoing::Message { data, is_string } if !closing => {
                    let len = data.len();
                    let sent = if is_string {
                        // Checked as UTF-8 by `DataChannel::send`.
                        dc.send_text(std::str::from_utf8(&data).unwrap_or_default()).await
                    } else {
                        dc.send(data).await
                    };
                    match sent {
                        Ok(()) => {
                            sent_any = true;
                            shared.messages_sent.fetch_add(1, Ordering::Relaxed);
                            shared.bytes_sent.fetch_add(len as u64, Ordering::Relaxed);
                            // Counted as unacknowledged until the refresh below says better,
                            // so the buffered amount never dips while bytes change hands.
                            shared.outstanding.fetch_add(len, Ordering::AcqRel);
                        }
                        Err(e) => shared.note_send_failure(len, &e),
                    }
                    shared.queued.fetch_sub(len, Ordering::AcqRel);
                }
                Outgoing::Message { data, .. } => {
                    shared.queued.fetch_sub(data.len(), Ordering::AcqRel);
                }
                Outgoing::Close => closing = true,
            }
        }
        if sent_any {
            refresh_outstanding(&dc, &shared).await;
        }
    }
    // Close asked for, or the handle dropped.
    while let Ok(msg) = outbox.try_recv() {
        if let Outgoing::Message { data, .. } = msg {
            shared.queued.fetch_sub(data.len(), Ordering::AcqRel);
        }
    }
    if shared.state.get() != ChannelState::Closed {
        if dc.close().await.is_err() {
            shared.mark_closed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn dropped_messages_are_reported_at_most_once_a_second() {
        let mut report = DropReport::default();
        let t0 = Instant::now();
        assert_eq!(report.due(0, t0), None, "nothing dropped, nothing said");
        assert_eq!(report.due(3, t0), Some(3));
        assert_eq!(report.due(10, t0 + Duration::from_millis(500)), None, "within the second");
        assert_eq!(report.due(10, t0 + Duration::from_millis(1000)), Some(7), "the drops since the last report");
        assert_eq!(report.due(10, t0 + Duration::from_secs(5)), None, "no new drops");
    }
}
