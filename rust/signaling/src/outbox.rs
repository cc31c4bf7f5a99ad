//! One connection's output queue: what the store (and the connection itself) has for the
//! client, bounded in bytes. A client that stops reading costs at most that much before it is
//! dropped; the queue never waits, so neither does a store delivering to many peers at once.

use crate::protocol::Event;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use tokio::sync::{Notify, mpsc};

/// What the store sends to one connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// A message for the client.
    Event(Event),
    /// The seat was resumed by another connection: close this one without leaving.
    Superseded,
}

/// Counted per queued message on top of its text: the queue's own node and the string's
/// header, so that many tiny messages are bounded too.
const OVERHEAD: usize = 64;

/// Why a connection must end, as bits of [`Shared::ended`].
pub(crate) const OVERFLOW: u8 = 1;
pub(crate) const SUPERSEDED: u8 = 2;
pub(crate) const LOBBY_CLOSED: u8 = 4;

/// What goes out on the WebSocket, in order.
pub(crate) enum Queued {
    Text(String),
    Ping(Vec<u8>),
    /// The last one: a close frame.
    Close,
}

impl Queued {
    /// What it counts against the limit.
    fn size(&self) -> usize {
        OVERHEAD + match self {
            Queued::Text(t) => t.len(),
            Queued::Ping(p) => p.len(),
            Queued::Close => 0,
        }
    }
}

struct Shared {
    /// Bytes queued and not yet taken by the writer.
    bytes: AtomicUsize,
    limit: usize,
    /// The reasons to end ([`OVERFLOW`], ...) set so far.
    ended: AtomicU8,
    wake: Notify,
}

/// The sending side, held by the connection and by the store for each seat.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Queued>,
    shared: Arc<Shared>,
}

/// The receiving side, read by the connection's writer.
pub(crate) struct Mailbox {
    rx: mpsc::UnboundedReceiver<Queued>,
    shared: Arc<Shared>,
}

impl Outbox {
    /// A queue that holds at most `limit` bytes.
    pub(crate) fn new(limit: usize) -> (Outbox, Mailbox) {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared { bytes: AtomicUsize::new(0), limit, ended: AtomicU8::new(0), wake: Notify::new() });
        (Outbox { tx, shared: shared.clone() }, Mailbox { rx, shared })
    }

    /// Queues a message. One that would pass the limit is not queued: the connection is told to
    /// end instead (its client does not keep up).
    pub fn send(&self, out: Outgoing) {
        match out {
            Outgoing::Event(event) => {
                let closes = event == Event::LobbyClosed;
                self.push(Queued::Text(event.to_json()));
                if closes {
                    self.end(LOBBY_CLOSED);
                }
            }
            Outgoing::Superseded => self.end(SUPERSEDED),
        }
    }

    pub(crate) fn ping(&self, payload: Vec<u8>) {
        self.push(Queued::Ping(payload));
    }

    /// The close frame, after everything queued; never refused.
    pub(crate) fn close(&self) {
        let _ = self.tx.send(Queued::Close);
    }

    fn push(&self, item: Queued) {
        let size = item.size();
        let before = self.shared.bytes.fetch_add(size, Ordering::AcqRel);
        if before + size > self.shared.limit {
            self.shared.bytes.fetch_sub(size, Ordering::AcqRel);
            self.end(OVERFLOW);
        } else if self.tx.send(item).is_err() {
            self.shared.bytes.fetch_sub(size, Ordering::AcqRel); // the connection is ending
        }
    }

    fn end(&self, why: u8) {
        self.shared.ended.fetch_or(why, Ordering::AcqRel);
        self.shared.wake.notify_one();
    }

    /// Resolves once a reason to end is set; returns the reasons.
    pub(crate) async fn ended(&self) -> u8 {
        loop {
            let why = self.shared.ended.load(Ordering::Acquire);
            if why != 0 {
                return why;
            }
            self.shared.wake.notified().await;
        }
    }
}

impl Mailbox {
    /// The next item to write.
    pub(crate) async fn next(&mut self) -> Option<Queued> {
        let item = self.rx.recv().await?;
        if !matches!(item, Queued::Close) {
            self.shared.bytes.fetch_sub(item.size(), Ordering::AcqRel);
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_in_bytes() {
        let (outbox, mut mailbox) = Outbox::new(1000);
        let event = || Outgoing::Event(Event::Error { code: "x".into(), message: "y".repeat(300) });
        outbox.send(event());
        outbox.send(event());
        assert_eq!(outbox.shared.ended.load(Ordering::Acquire), 0);
        outbox.send(event()); // the third passes 1000 bytes: refused, and the connection told
        assert_eq!(outbox.ended().await, OVERFLOW);
        assert!(matches!(mailbox.next().await, Some(Queued::Text(_))));
        assert!(matches!(mailbox.next().await, Some(Queued::Text(_))));
        assert_eq!(outbox.shared.bytes.load(Ordering::Acquire), 0, "taken messages are not counted");
        outbox.close();
        assert!(matches!(mailbox.next().await, Some(Queued::Close)));
    }

    #[tokio::test]
    async fn lobby_closed_and_superseded_end_the_connection() {
        let (outbox, mut mailbox) = Outbox::new(1 << 20);
        outbox.send(Outgoing::Event(Event::LobbyClosed));
        assert_eq!(outbox.ended().await, LOBBY_CLOSED);
        assert!(matches!(mailbox.next().await, Some(Queued::Text(t)) if t == r#"{"type":"lobby_closed"}"#), "still sent");
        outbox.send(Outgoing::Superseded);
        assert_eq!(outbox.ended().await, LOBBY_CLOSED | SUPERSEDED);
    }
}
