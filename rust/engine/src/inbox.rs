//! A channel's receive queue, bounded by unread bytes (Godot's
//! `network/limits/webrtc/max_channel_in_buffer_kb`), so a game that stops reading cannot grow
//! memory without limit. What happens at the bound depends on the channel ([`Overflow`]):
//! a reliable channel never loses a message, it stops taking messages from the transport
//! (the reader waits for [`Inbox::has_room`]) so SCTP flow control holds the sender; an
//! unreliable one keeps the newest messages and drops the oldest, as fresh game state wins,
//! but only messages the game really left unread: readable at a publish, and the game then
//! read the channel (or asked its packet count) and left them, or ignored the channel for
//! [`UNREAD_PUBLISHES`] publishes. What arrived since the last [`Inbox::publish`] is held to
//! the limit too (the transport waits until the next poll), since the transport delivers in
//! bursts and a game reading as fast as it can must not lose a burst larger than the limit.
//!
//! Messages land in `arrived` (runtime threads) and become readable only when the owner calls
//! [`Inbox::publish`] (the extension does in `poll()` of the connection and of the channel), so
//! what a reader sees cannot change while it reads: in a browser, messages also arrive between
//! frames. WebRTCMultiplayerPeer depends on it: it notes which channel has a packet, then takes
//! the first non-empty channel; a message landing (or vanishing) in between would be relayed
//! with the wrong transfer mode. So readable messages are only ever dropped inside `publish`.
//!
//! Several publishes may come between two reads: a game that calls the connection's `poll()` and
//! then the channel's, or polls every rendered frame and reads every physics tick. Such a
//! publish is no chance to read, so it drops nothing; it makes readable only what fits in the
//! limit and leaves the rest arrived (dropping there lost half of a 1200 B stream read after
//! every `poll()` pair, although the game read every packet).

use bytes::Bytes;
use std::collections::VecDeque;

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The payload.
    pub data: Bytes,
    /// Sent as text (a DOMString) rather than binary.
    pub is_string: bool,
}

/// How many times the limit an unreliable channel's unpublished messages may take before its
/// reader holds the transport until the next poll. The transport delivers in bursts (SCTP
/// hands over what a batch of datagrams completed); holding at 1x lost 2-3 % of a 1200 B
/// stream to a Rust loop reading every ~100 us (the held receive window made SCTP drop its
/// zero-window probes, and the retransmission timeout then abandoned unreliable chunks), at 4x
/// 0-1.4 %. What the game can read after a poll stays within the limit.
pub const BURST_ALLOWANCE: usize = 4;

/// How many publishes in a row an unreliable channel may go unread before its readable
/// messages count as left unread anyway: a game that ignores a channel must not hold its
/// transport (and the association's receive window, which its other channels share) for long.
pub const UNREAD_PUBLISHES: u32 = 8;

/// What a full queue does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// Reliable channels: keep every message; the reader stops taking new ones from the
    /// transport until the owner has read enough ([`Inbox::has_room`]).
    Hold,
    /// Unreliable channels: drop the oldest message the game left unread at `publish`
    /// (counted); until then, hold the transport once the unpublished messages reach
    /// [`BURST_ALLOWANCE`] times the limit.
    DropOldest,
}

/// Unread messages of one channel, about `limit` bytes of payload at most.
#[derive(Debug)]
pub(crate) struct Inbox {
    /// Readable messages.
    packets: VecDeque<Packet>,
    /// Received, not yet published.
    arrived: VecDeque<Packet>,
    /// Payload bytes in `packets` and `arrived`.
    bytes: usize,
    /// Payload bytes in `arrived`.
    arrived_bytes: usize,
    limit: usize,
    overflow: Overflow,
    dropped: u64,
    /// The reader took a message or asked the count since the last publish.
    touched: bool,
    /// Publishes since the reader last touched the queue.
    untouched_publishes: u32,
}

impl Inbox {
    /// An empty queue of about `limit` bytes that overflows as `overflow` says.
    pub fn new(limit: usize, overflow: Overflow) -> Self {
        Self { packets: VecDeque::new(), arrived: VecDeque::new(), bytes: 0, arrived_bytes: 0, limit, overflow, dropped: 0, touched: false, untouched_publishes: 0 }
    }

    /// Queues a message; it is readable after the next [`publish`](Self::publish). The queue
    /// takes it whatever its size: the reader asked [`has_room`](Self::has_room) before taking
    /// it from the transport.
    pub fn push(&mut self, packet: Packet) {
        self.bytes += packet.data.len();
        self.arrived_bytes += packet.data.len();
        self.arrived.push_back(packet);
    }

    /// Whether the reader may take another message from the transport: for a holding queue
    /// while its unread bytes are below the limit, for a dropping one while its unpublished
    /// bytes are below [`BURST_ALLOWANCE`] times it (an empty queue always has room, so any
    /// message fits).
    pub fn has_room(&self) -> bool {
        match self.overflow {
            Overflow::Hold => self.bytes < self.limit || self.bytes == 0,
            Overflow::DropOldest => self.arrived_bytes < BURST_ALLOWANCE * self.limit || self.arrived.is_empty(),
        }
    }

    /// Makes the arrived messages readable. A holding queue publishes them all. A dropping
    /// queue whose reader touched it since the last publish (or ignored it for
    /// [`UNREAD_PUBLISHES`]) first drops its oldest readable messages, which the game left
    /// unread, until it is within the limit again, then publishes everything arrived: what
    /// arrives is never dropped before the game has seen it. Otherwise it drops nothing; with
    /// nothing readable it publishes everything arrived, else what fits in the limit, and the
    /// rest waits for a publish after the next read.
    pub fn publish(&mut self) {
        if self.overflow == Overflow::Hold {
            self.packets.append(&mut self.arrived);
            self.arrived_bytes = 0;
            return;
        }
        let left_unread = self.touched || self.untouched_publishes + 1 >= UNREAD_PUBLISHES;
        self.touched = false;
        if left_unread {
            self.untouched_publishes = 0;
            let mut stale = self.packets.len();
            // Keeping the newest message, so one of any size can be read.
            while self.bytes > self.limit && stale > 0 && self.packets.len() + self.arrived.len() > 1 {
                if let Some(p) = self.packets.pop_front() {
                    self.bytes -= p.data.len();
                    self.dropped += 1;
                }
                stale -= 1;
            }
            self.packets.append(&mut self.arrived);
            self.arrived_bytes = 0;
            return;
        }
        self.untouched_publishes += 1;
        if self.packets.is_empty() {
            self.packets.append(&mut self.arrived);
            self.arrived_bytes = 0;
            return;
        }
        let mut readable = self.bytes - self.arrived_bytes;
        while let Some(next) = self.arrived.front() {
            if readable + next.data.len() > self.limit {
                break;
            }
            let p = self.arrived.pop_front().expect("front exists");
            readable += p.data.len();
            self.arrived_bytes -= p.data.len();
            self.packets.push_back(p);
        }
    }

    /// Takes the oldest readable message.
    pub fn pop(&mut self) -> Option<Packet> {
        self.touched = true;
        let packet = self.packets.pop_front()?;
        self.bytes -= packet.data.len();
        Some(packet)
    }

    /// Readable messages (asking counts as reading: see [`publish`](Self::publish)).
    pub fn len(&mut self) -> usize {
        self.touched = true;
        self.packets.len()
    }

    /// Whether no message is readable.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Unread payload bytes, readable or not.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Messages dropped because the queue was full (only a dropping queue drops).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Forgets every unread message.
    pub fn clear(&mut self) {
        self.packets.clear();
        self.arrived.clear();
        self.bytes = 0;
        self.arrived_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: usize, tag: u8) -> Packet {
        Packet { data: Bytes::from(vec![tag; n]), is_string: false }
    }

    fn drain(inbox: &mut Inbox) -> Vec<u8> {
        std::iter::from_fn(|| inbox.pop()).map(|p| p.data[0]).collect()
    }

    #[test]
    fn holding_queue_keeps_everything_and_asks_the_reader_to_wait() {
        let mut inbox = Inbox::new(10, Overflow::Hold);
        assert!(inbox.has_room());
        inbox.push(p(6, 1));
        assert!(inbox.has_room(), "6 of 10 bytes");
        inbox.push(p(6, 2));
        assert!(!inbox.has_room(), "12 of 10 bytes: the reader must wait");
        assert_eq!(inbox.len(), 0, "not readable before publish");
        inbox.publish();
        assert_eq!(inbox.len(), 2);
        assert_eq!(inbox.pop().unwrap().data[0], 1);
        assert!(inbox.has_room(), "reading made room");
        inbox.push(p(100, 3));
        inbox.publish();
        assert_eq!(drain(&mut inbox), vec![2, 3], "nothing dropped, in order");
        assert_eq!(inbox.dropped(), 0);
        assert!(inbox.has_room());
    }

    #[test]
    fn holding_queue_always_takes_one_message_of_any_size() {
        let mut inbox = Inbox::new(10, Overflow::Hold);
        inbox.push(p(1000, 1));
        assert!(!inbox.has_room());
        inbox.publish();
        assert_eq!(inbox.pop().unwrap().data.len(), 1000);
        assert!(inbox.has_room());
    }

    #[test]
    fn dropping_queue_holds_unpublished_messages_at_the_limit() {
        let mut inbox = Inbox::new(10, Overflow::DropOldest);
        for tag in 1..=10 {
            assert!(inbox.has_room());
            inbox.push(p(4, tag));
        }
        assert!(!inbox.has_room(), "40 unpublished bytes of 4 x 10: the transport waits for the next poll");
        inbox.publish();
        assert!(inbox.has_room(), "publishing makes room");
        assert_eq!(inbox.dropped(), 0, "nothing is dropped before the game could read it");
        assert_eq!(inbox.len(), 10, "the game looks and reads nothing");
        inbox.push(p(4, 11));
        inbox.publish();
        assert_eq!(inbox.dropped(), 9, "the oldest messages the game left went");
        assert_eq!(drain(&mut inbox), vec![10, 11]);
    }

    #[test]
    fn dropping_queue_keeps_the_newest_across_publishes() {
        let mut inbox = Inbox::new(10, Overflow::DropOldest);
        inbox.push(p(4, 1));
        inbox.push(p(4, 2));
        inbox.publish();
        inbox.push(p(4, 3));
        inbox.push(p(4, 4));
        assert_eq!(inbox.len(), 2, "what is readable does not change between publishes");
        assert_eq!(inbox.dropped(), 0, "readable messages are kept until the next publish");
        inbox.publish();
        assert_eq!(drain(&mut inbox), vec![3, 4], "the two oldest went, not the newer ones");
        assert_eq!(inbox.dropped(), 2);
        assert!(inbox.bytes() == 0);
    }

    #[test]
    fn dropping_queue_keeps_one_oversized_message() {
        let mut inbox = Inbox::new(10, Overflow::DropOldest);
        inbox.push(p(4, 1));
        inbox.publish();
        assert!(inbox.has_room());
        inbox.push(p(50, 2));
        assert!(!inbox.has_room(), "50 of 4 x 10 bytes");
        assert_eq!(inbox.len(), 1);
        inbox.publish();
        assert_eq!(inbox.len(), 1, "a poll that reads nothing keeps the newest message");
        inbox.publish();
        assert_eq!(drain(&mut inbox), vec![2]);
        assert_eq!(inbox.dropped(), 1);
    }

    #[test]
    fn publishes_with_no_read_between_drop_nothing() {
        // The connection's poll() and then the channel's, and a read after both.
        let mut inbox = Inbox::new(10, Overflow::DropOldest);
        let mut read = Vec::new();
        for round in 0..20u8 {
            for i in 0..10 {
                inbox.push(p(4, round * 10 + i));
            }
            inbox.publish();
            inbox.push(p(4, 200 + round));
            inbox.publish();
            read.extend(drain(&mut inbox));
            assert_eq!(inbox.dropped(), 0, "round {round}: the game read everything after every poll pair");
        }
        inbox.publish();
        read.extend(drain(&mut inbox));
        assert_eq!(read.len(), 20 * 11, "every message was read");
    }

    #[test]
    fn an_untouched_queue_publishes_only_what_fits_and_stays_bounded() {
        let mut inbox = Inbox::new(10, Overflow::DropOldest);
        inbox.push(p(4, 1));
        inbox.publish();
        for round in 0..(UNREAD_PUBLISHES - 2) as u8 {
            while inbox.has_room() {
                inbox.push(p(4, 10 + round));
            }
            inbox.publish();
            assert_eq!(inbox.dropped(), 0, "the game has not looked yet");
            assert!(inbox.bytes() <= 10 + BURST_ALLOWANCE * 10 + 4, "bounded: {} bytes", inbox.bytes());
        }
        assert!(!inbox.has_room(), "the transport waits");
        inbox.publish();
        assert!(inbox.dropped() > 0, "ignored for {UNREAD_PUBLISHES} publishes: the oldest count as left unread");
        assert!(inbox.has_room(), "and the transport goes on");
    }

    #[test]
    fn clear_forgets_everything_and_makes_room() {
        let mut inbox = Inbox::new(10, Overflow::Hold);
        inbox.push(p(20, 1));
        inbox.publish();
        inbox.push(p(20, 2));
        assert!(!inbox.has_room());
        inbox.clear();
        assert!(inbox.is_empty() && inbox.has_room() && inbox.bytes() == 0);
    }
}
