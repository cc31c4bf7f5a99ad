//! The state a data channel's handle and its runtime tasks share: fixed facts, the state, the
//! receive queue and the counters. A leaf: it knows neither the handle nor the tasks.

use super::drop_report::DropReport;
use super::traffic::Traffic;
use crate::inbox::{Inbox, Overflow};
use crate::state::{ChannelEvent, ChannelState, StateCell};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What [`ChannelShared::id`] holds until the stream id is assigned (outside `u16`).
const NO_ID: u32 = u32::MAX;

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
    /// SCTP stream id, `NO_ID` until assigned (see [`ChannelShared::id`]).
    id: AtomicU32,
    pub state: StateCell<ChannelState>,
    /// The owner closed the channel (or dropped its handle): nobody will read what arrives.
    /// A channel closed by its connection failing or closing keeps what arrives, readable.
    pub owner_closed: AtomicBool,
    pub inbox: Mutex<Inbox>,
    /// Woken when the owner reads or clears the inbox: a reader holding the transport
    /// (reliable channel, full inbox) waits on it.
    pub room: tokio::sync::Notify,
    /// When dropped messages were last reported, and how many had been.
    pub drop_report: Mutex<DropReport>,
    /// Bytes queued by the owner and not yet handed to webrtc-rs.
    pub queued: AtomicUsize,
    /// Bytes webrtc-rs holds unacknowledged (its `outstanding_bytes`), refreshed by the tasks
    /// while the owner asks for the buffered amount (see [`BufferedAsk`]).
    pub outstanding: AtomicUsize,
    /// When the owner last asked for the buffered amount, and the sending task's wake-up.
    pub buffered_ask: BufferedAsk,
    /// The low threshold armed in webrtc-rs (see `refresh_outstanding`). Held across a refresh:
    /// two refreshes at once (after a send, on the low event) could store an older answer last.
    pub low_threshold: tokio::sync::Mutex<u32>,
    /// Largest message the remote accepts; shared by all channels of a connection.
    pub max_message_size: Arc<AtomicUsize>,
    pub messages_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub messages_received: AtomicU64,
    pub bytes_received: AtomicU64,
    pub messages_unsent: AtomicU64,
    /// The connection's counters, which this channel's messages also count in.
    pub traffic: Arc<Traffic>,
}

impl ChannelShared {
    pub fn new(info: ChannelInfo, id: Option<u16>, recv_limit: usize, max_message_size: Arc<AtomicUsize>, traffic: Arc<Traffic>) -> Arc<Self> {
        Arc::new(Self {
            id: AtomicU32::new(id.map_or(NO_ID, u32::from)),
            state: StateCell::new(ChannelState::Connecting),
            owner_closed: AtomicBool::new(false),
            inbox: Mutex::new(Inbox::new(recv_limit, if info.is_reliable() { Overflow::Hold } else { Overflow::DropOldest })),
            room: tokio::sync::Notify::new(),
            drop_report: Mutex::new(DropReport::default()),
            queued: AtomicUsize::new(0),
            outstanding: AtomicUsize::new(0),
            buffered_ask: BufferedAsk::default(),
            low_threshold: tokio::sync::Mutex::new(0),
            max_message_size,
            messages_sent: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            messages_received: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            messages_unsent: AtomicU64::new(0),
            traffic,
            info,
        })
    }

    pub fn inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
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

    /// Warns about dropped messages, at most once per [`DROP_REPORT_INTERVAL`](super::drop_report::DROP_REPORT_INTERVAL): a flood of
    /// drops must not flood the output too. All drops are counted in the stats.
    fn report_drops(&self, dropped: u64, now: std::time::Instant) {
        if let Some(new) = crate::lock(&self.drop_report).due(dropped, now) {
            log::warn!(target: "engine::channel", "Buffer full! Dropping data: data channel '{}' (unreliable) dropped its {new} oldest unread message(s), {dropped} so far; read it every frame, or raise {}.", crate::excerpt(&self.info.label), crate::words::words().receive_buffer);
        }
    }

    /// A queued message webrtc-rs refused. A send racing the channel's close (the remote closed
    /// it, or the connection went) is routine in a game whose player leaves: counted, and said
    /// once at warning level. Anything else is a real error.
    pub fn note_send_failure(&self, len: usize, error: &webrtc::error::Error) {
        let closed = matches!(error, webrtc::error::Error::ErrDataChannelClosed)
            || matches!(self.state.get(), ChannelState::Closing | ChannelState::Closed);
        if !closed {
            log::error!(target: "engine::channel", "data channel '{}': send of {len} bytes failed: {error}", crate::excerpt(&self.info.label));
        } else if self.messages_unsent.fetch_add(1, Ordering::Relaxed) == 0 {
            log::warn!(target: "engine::channel", "data channel '{}' closed while messages were queued for it; they were not sent (counted in {}).", crate::excerpt(&self.info.label), crate::words::words().unsent_counter);
        }
    }

    /// Forgets unread messages and lets a holding reader go on.
    pub fn clear_inbox(&self) {
        self.inbox().clear();
        self.room.notify_one();
    }

    /// Marks the channel closed (a closed connection closes its channels at once).
    pub fn mark_closed(&self) {
        self.state.apply(ChannelEvent::Closed);
        self.room.notify_one();
    }

    pub fn set_id(&self, id: u16) {
        self.id.store(id.into(), Ordering::Release);
    }

    /// The SCTP stream id, once assigned.
    pub fn id(&self) -> Option<u16> {
        u16::try_from(self.id.load(Ordering::Acquire)).ok()
    }
}

/// Keeping the buffered amount fresh costs a round trip to webrtc-rs's driver per refresh, so the
/// sending task refreshes it often (every 2 ms while bytes are unacknowledged) only while the
/// owner asks for it: a dedicated server sending a state at 30 Hz on 128 channels that never asks
/// paid ~60,000 task wake-ups a second for it (SCTP acknowledges after up to 200 ms, so
/// something was always unacknowledged), most of its CPU.
#[derive(Debug)]
pub(crate) struct BufferedAsk {
    /// Milliseconds since [`epoch`] of the last request, plus one (0: never).
    last_ms: AtomicU64,
    /// Wakes the sending task when the owner starts asking again.
    pub wake: tokio::sync::Notify,
}

impl Default for BufferedAsk {
    fn default() -> Self {
        Self { last_ms: AtomicU64::new(0), wake: tokio::sync::Notify::new() }
    }
}

/// How long after a request the amount is kept fresh.
pub(crate) const BUFFERED_ASKED_FOR: std::time::Duration = std::time::Duration::from_millis(250);

fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64 + 1
}

impl BufferedAsk {
    /// Notes a request; wakes the sending task if nobody had asked for a while.
    pub fn ask(&self) {
        let now = now_ms();
        let last = self.last_ms.swap(now, Ordering::AcqRel);
        if last == 0 || now.saturating_sub(last) >= BUFFERED_ASKED_FOR.as_millis() as u64 {
            self.wake.notify_one();
        }
    }

    /// Whether the owner asked within [`BUFFERED_ASKED_FOR`].
    pub fn recent(&self) -> bool {
        let last = self.last_ms.load(Ordering::Acquire);
        last != 0 && now_ms().saturating_sub(last) < BUFFERED_ASKED_FOR.as_millis() as u64
    }
}
