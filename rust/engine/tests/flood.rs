//! A game that stops reading while its peer floods a reliable channel: the receiving side must
//! hold the sender (SCTP flow control) rather than drop or buffer without bound. Its own test
//! binary, so the process's RSS speaks for this scenario alone.

use engine::test_util;
use engine::*;
use std::time::{Duration, Instant};

/// The process's resident memory; a failure where it cannot be read (the bound would pass
/// unchecked).
fn rss_bytes() -> u64 {
    let status = procfs::process::Process::myself().and_then(|p| p.status()).expect("/proc/self/status: this test measures RSS (Linux)");
    let kib = status.vmrss.expect("VmRSS in /proc/self/status");
    assert!(kib > 0, "a resident size of 0 cannot be measured against");
    kib * 1024
}

/// 200 MiB offered in 16 KiB messages to a receiver that reads nothing for the whole flood (the
/// sender keeps 1 MiB buffered, as a game checking `get_buffered_amount()` does): the process
/// grows by a few MiB at most, nothing is dropped, and everything arrives in order once the
/// receiver reads.
#[test]
fn non_reading_receiver_holds_a_flood_in_bounded_memory() {
    let (_a, _b, tx, rx) = test_util::open_pair(ChannelConfig::default());
    let msg = vec![7u8; 16384];
    // Warm up: one round of sending and reading, so allocator pools exist before the baseline.
    for _ in 0..64 {
        tx.send(&msg, false).unwrap();
    }
    let mut received = 0u64;
    while received < 64 {
        rx.publish();
        while rx.recv().is_ok() {
            received += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(200));
    let rss0 = rss_bytes();
    let mut sent = 0u64;
    let offered = 200u64 * 1024 * 1024 / msg.len() as u64;
    let flood_start = Instant::now();
    // The flood: for 3 s (or until 200 MiB were taken), while the receiver reads nothing.
    while sent < offered && flood_start.elapsed() < Duration::from_secs(3) {
        if tx.buffered_amount() < 1 << 20 {
            tx.send(&msg, false).unwrap();
            sent += 1;
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
        rx.publish(); // the game polls, but does not read
    }
    let grown = rss_bytes().saturating_sub(rss0);
    let taken = rx.stats().messages_received;
    eprintln!("flood: {sent} messages sent into a non-reading receiver, {taken} taken by it, RSS +{} KiB", grown / 1024);
    // Without back-pressure the whole flood would pass in 3 s (debug builds move > 30 MiB/s).
    assert!(sent < 1024, "a non-reading receiver must hold the sender back ({sent} messages of 16 KiB went through)");
    assert!(grown < 8 << 20, "memory grew by {} KiB under the flood", grown / 1024);
    // Now the game reads: every message, in order, nothing dropped.
    let deadline = Instant::now() + Duration::from_secs(60);
    while received < 64 + sent {
        rx.publish();
        while rx.recv().is_ok() {
            received += 1;
        }
        assert!(Instant::now() < deadline, "only {received} of {} arrived", 64 + sent);
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(rx.stats().messages_dropped, 0);
}
