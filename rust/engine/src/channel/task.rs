//! A data channel's two tasks on the runtime: one reads webrtc-rs's events into the shared
//! state (holding the transport while the receive queue is full), one sends what the owner
//! queued, in order, in batches.

use super::shared::ChannelShared;
use crate::inbox::Packet;
use crate::state::{ChannelEvent, ChannelState};
use bytes::BytesMut;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel as RtcDataChannel, DataChannelEvent};

/// What the owner asks the sending task to do.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Message { data: BytesMut, is_string: bool },
    Close,
}

/// Starts the two tasks of a channel once webrtc-rs has created it.
pub(crate) fn spawn(
    rt: &tokio::runtime::Handle,
    dc: Arc<dyn RtcDataChannel>,
    shared: Arc<ChannelShared>,
    outbox: mpsc::UnboundedReceiver<Outgoing>,
) {
    rt.spawn(read_events(dc.clone(), shared.clone()));
    rt.spawn(send_queued(dc, shared, outbox));
}

/// Asks webrtc-rs how many bytes it holds unacknowledged, and arms the low-threshold event at
/// half of that, so the cached value follows the queue down between sends. One refresh at a
/// time (the armed threshold is the lock): a refresh after a send and one on the low event at
/// once could store the older answer last.
async fn refresh_outstanding(dc: &Arc<dyn RtcDataChannel>, shared: &ChannelShared) {
    let mut armed = shared.low_threshold.lock().await;
    let Ok(n) = dc.outstanding_bytes().await else { return };
    shared.outstanding.store(n, Ordering::Release);
    if let Some(want) = low_threshold_to_arm(n, *armed) {
        if dc.set_buffered_amount_low_threshold(want).await.is_ok() {
            *armed = want;
        }
    }
}

/// While webrtc-rs holds unacknowledged bytes, how often the sending task refreshes the cached
/// amount besides the low event. That event fires when SCTP's packetized amount falls to the
/// threshold, but `outstanding_bytes` also counts what waits in webrtc-rs's pipeline: SCTP's
/// share can stay under the threshold while the rest drains, the event never comes, and a
/// sender pacing on `get_buffered_amount()` waited for ever (5 bulk runs in 16, all sent data
/// delivered, 1 MiB still reported buffered).
const OUTSTANDING_REFRESH: std::time::Duration = std::time::Duration::from_millis(2);

/// The low threshold to arm for `outstanding` bytes when `armed` is armed: half of what is
/// held. Re-armed only when the event could not fire (armed at or above what is held, not
/// yet zero) or would fire late (armed under a quarter of it): each change is a round trip
/// to webrtc-rs's driver.
fn low_threshold_to_arm(outstanding: usize, armed: u32) -> Option<u32> {
    let want = (outstanding / 2).min(u32::MAX as usize) as u32;
    let cannot_fire = outstanding > 0 && armed as usize >= outstanding;
    (cannot_fire || want > armed.saturating_mul(2)).then_some(want)
}

/// The SCTP stream id, once assigned (patch 0024 of the vendored webrtc gives the getter; it was
/// read from a stats report, a snapshot of every channel per open: quadratic under a flood of
/// remote opens).
pub(crate) async fn stream_id(dc: &Arc<dyn RtcDataChannel>) -> Option<u16> {
    dc.stream_id().await.ok().flatten()
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

async fn read_events(dc: Arc<dyn RtcDataChannel>, shared: Arc<ChannelShared>) {
    loop {
        wait_for_room(&shared).await;
        let Some(event) = dc.poll().await else { break };
        match event {
            DataChannelEvent::OnOpen => {
                if shared.id().is_none() {
                    if let Some(id) = stream_id(&dc).await {
                        shared.set_id(id);
                    }
                }
                // A close() asked for before the open wins (see `Machine for ChannelState` in state.rs).
                shared.state.apply(ChannelEvent::Opened);
                log::info!(target: "engine::channel", "data channel '{}' open (id {})", crate::excerpt(&shared.info.label), shared.id().map_or_else(|| "unassigned".to_string(), |id| id.to_string()));
            }
            DataChannelEvent::OnMessage(msg) => {
                // Closed by its owner (close() or the handle dropped): nobody will read it. A
                // channel closed because its connection failed or closed keeps what webrtc-rs
                // had already received (and acknowledged), readable as after a remote close.
                if shared.owner_closed.load(Ordering::Acquire) {
                    continue;
                }
                let len = msg.data.len();
                let packet = Packet { data: msg.data.freeze(), is_string: msg.is_string };
                shared.inbox().push(packet);
                shared.messages_received.fetch_add(1, Ordering::Relaxed);
                shared.traffic.messages_received.fetch_add(1, Ordering::Relaxed);
                shared.bytes_received.fetch_add(len as u64, Ordering::Relaxed);
            }
            DataChannelEvent::OnBufferedAmountLow => refresh_outstanding(&dc, &shared).await,
            DataChannelEvent::OnClosing => {
                shared.state.apply(ChannelEvent::ClosingReported);
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

/// Cached unacknowledged bytes past which a send refreshes them although nobody asks.
const UNASKED_REFRESH_AT: usize = 64 * 1024;

/// Messages sent before the cached buffered amount is refreshed: one refresh per batch keeps
/// small unreliable messages from paying two extra driver round trips each.
const SEND_BATCH: usize = 64;

/// Starts a batch with `first` and adds what is already queued (`next`), up to [`SEND_BATCH`].
fn fill_batch<T>(batch: &mut Vec<T>, first: T, mut next: impl FnMut() -> Option<T>) {
    batch.push(first);
    while batch.len() < SEND_BATCH {
        match next() {
            Some(item) => batch.push(item),
            None => break,
        }
    }
}

async fn send_queued(dc: Arc<dyn RtcDataChannel>, shared: Arc<ChannelShared>, mut outbox: mpsc::UnboundedReceiver<Outgoing>) {
    let mut batch = Vec::with_capacity(SEND_BATCH);
    let mut closing = false;
    while !closing {
        // Refreshed every OUTSTANDING_REFRESH only while the owner asks (see `BufferedAsk`);
        // otherwise on the low event, and at once when the owner asks again.
        let next = if shared.outstanding.load(Ordering::Acquire) > 0 && shared.buffered_ask.recent() {
            tokio::select! {
                next = outbox.recv() => next,
                _ = tokio::time::sleep(OUTSTANDING_REFRESH) => {
                    refresh_outstanding(&dc, &shared).await;
                    continue;
                }
            }
        } else {
            tokio::select! {
                next = outbox.recv() => next,
                _ = shared.buffered_ask.wake.notified() => {
                    refresh_outstanding(&dc, &shared).await;
                    continue;
                }
            }
        };
        let Some(first) = next else { break };
        fill_batch(&mut batch, first, || outbox.try_recv().ok());
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
                            shared.traffic.messages_sent.fetch_add(1, Ordering::Relaxed);
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
        // Unasked, the cached amount only grows (by what was sent) until it passes
        // UNASKED_REFRESH_AT: bounded staleness for send()'s 16 MiB cap, at a refresh per
        // 64 KiB sent.
        if sent_any && (shared.buffered_ask.recent() || shared.outstanding.load(Ordering::Acquire) >= UNASKED_REFRESH_AT) {
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
    use super::{fill_batch, low_threshold_to_arm, SEND_BATCH};

    #[test]
    fn a_batch_takes_what_is_queued_up_to_its_size() {
        let mut queue = 1..=100;
        let mut batch = Vec::new();
        fill_batch(&mut batch, 0, || queue.next());
        assert_eq!(batch.len(), SEND_BATCH, "at most one batch");
        assert_eq!(batch[..3], [0, 1, 2], "in order");
        assert_eq!(queue.next(), Some(SEND_BATCH as i32), "the rest waits for the next batch");
        let mut batch = Vec::new();
        fill_batch(&mut batch, 7, || None);
        assert_eq!(batch, [7], "a lone message goes at once");
    }

    #[test]
    fn the_low_threshold_follows_the_queue_by_halves() {
        assert_eq!(low_threshold_to_arm(1000, 0), Some(500), "first arming");
        assert_eq!(low_threshold_to_arm(1200, 500), None, "600 is within a factor of two of 500");
        assert_eq!(low_threshold_to_arm(2400, 500), Some(1200), "the queue grew past twice");
        assert_eq!(low_threshold_to_arm(400, 500), Some(200), "the queue shrank below half");
        assert_eq!(low_threshold_to_arm(0, 0), None, "nothing held, nothing armed");
        assert_eq!(low_threshold_to_arm(1, 200), Some(0), "drained: disarm");
        assert_eq!(low_threshold_to_arm(usize::MAX, 0), Some(u32::MAX), "no overflow");
        assert_eq!(low_threshold_to_arm(1000, 1000), Some(500), "armed at what is held: it could never fire");
        assert_eq!(low_threshold_to_arm(1000, 999), None, "it fires once a byte is acknowledged");
    }
}
