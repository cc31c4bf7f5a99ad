//! A channel's receive queue, bounded by unread bytes like the browser's ring buffer, so a game
//! that stops reading cannot grow memory without limit.

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
    packets: VecDeque<Packet>,
    bytes: usize,
    limit: usize,
    dropped: u64,
}

impl Inbox {
    /// An empty queue holding at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self { packets: VecDeque::new(), bytes: 0, limit, dropped: 0 }
    }

    /// Queues a message, or refuses it (and counts it) when it would pass the limit.
    /// An empty queue always accepts one message, so any message up to the channel's maximum
    /// size can be received whatever the limit.
    pub fn push(&mut self, packet: Packet) -> bool {
        if !self.packets.is_empty() && self.bytes + packet.data.len() > self.limit {
            self.dropped += 1;
            return false;
        }
        self.bytes += packet.data.len();
        self.packets.push_back(packet);
        true
    }

    /// Takes the oldest message.
    pub fn pop(&mut self) -> Option<Packet> {
        let packet = self.packets.pop_front()?;
        self.bytes -= packet.data.len();
        Some(packet)
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether no message waits.
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
        assert_eq!(inbox.pop().unwrap().data.len(), 100);
        assert!(inbox.push(p(6)));
        assert!(inbox.push(p(4)));
        assert!(!inbox.push(p(1)));
        assert!(inbox.push(p(0)) || inbox.len() == 2);
        inbox.clear();
        assert!(inbox.is_empty());
    }
}
