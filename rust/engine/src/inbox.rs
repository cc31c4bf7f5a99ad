//! A channel's receive queue, bounded by unread bytes like the browser's ring buffer, so a game
//! that stops reading cannot grow memory without limit.
//!
//! Messages land in `arrived` (runtime threads) and become readable only when the owner calls
//! [`Inbox::publish`] (the extension does in `poll()`), so what a reader sees cannot change
//! while it reads: in a browser, messages also arrive between frames. WebRTCMultiplayerPeer
//! depends on it: it notes which channel has a packet, then takes the first non-empty
//! channel; a message landing in between would be relayed with the wrong transfer mode.

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

/// Unread messages of one channel, at most `limit` bytes of payload.
#[derive(Debug)]
pub struct Inbox {
    /// Readable messages.
    packets: VecDeque<Packet>,
    /// Received, not yet published.
    arrived: VecDeque<Packet>,
    bytes: usize,
    limit: usize,
    dropped: u64,
}

impl Inbox {
    /// An empty queue holding at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self { packets: VecDeque::new(), arrived: VecDeque::new(), bytes: 0, limit, dropped: 0 }
    }

    /// Queues a message, or refuses it (and counts it) when it would pass the limit.
    /// An empty queue always accepts one message, so any message up to the channel's maximum
    /// size can be received whatever the limit.
    pub fn push(&mut self, packet: Packet) -> bool {
        let empty = self.packets.is_empty() && self.arrived.is_empty();
        if !empty && self.bytes + packet.data.len() > self.limit {
            self.dropped += 1;
            return false;
        }
        self.bytes += packet.data.len();
        self.arrived.push_back(packet);
        true
    }

    /// Makes every arrived message readable.
    pub fn publish(&mut self) {
        self.packets.append(&mut self.arrived);
    }

    /// Takes the oldest message.
    pub fn pop(&mut self) -> Option<Packet> {
        let packet = self.packets.pop_front()?;
        self.bytes -= packet.data.len();
        Some(packet)
    }

    /// Readable messages.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether no message is readable.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Messages refused because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Forgets every unread message.
    pub fn clear(&mut self) {
        self.packets.clear();
        self.arrived.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: usize) -> Packet {
        Packet { data: Bytes::from(vec![7u8; n]), is_string: false }
    }

    #[test]
    fn bounds_unread_bytes_but_always_takes_one() {
        let mut inbox = Inbox::new(10);
        assert!(inbox.push(p(100)), "an empty queue takes any message");
        assert!(!inbox.push(p(1)));
        assert_eq!(inbox.dropped(), 1);
        assert!(inbox.pop().is_none(), "not readable before publish");
        inbox.publish();
        assert_eq!(inbox.pop().unwrap().data.len(), 100);
        assert!(inbox.push(p(6)));
        inbox.publish();
        assert!(inbox.push(p(4)));
        assert_eq!(inbox.len(), 1, "only published messages count");
        assert!(!inbox.push(p(1)));
        assert!(inbox.push(p(0)) || inbox.len() == 2);
        inbox.clear();
        assert!(inbox.is_empty());
    }
}
