//! The one tokio runtime of the process, created on first use and shut down when the extension
//! unloads. Two worker threads: a game has its own threads, and the work here is I/O.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::runtime::{Handle, Runtime};

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

/// Threads of the runtime (workers and blocking pool) that have started and not yet stopped.
static LIVE_THREADS: AtomicUsize = AtomicUsize::new(0);

/// How long [`shutdown`] waits for the runtime's threads to end. Tokio joins them only if they
/// all end within its timeout, and leaves the rest running detached; a thread still running
/// when Godot unmaps the library crashes the process (4 quits in 8 with a connection busy
/// behind 5,000 remote candidates, at the former 1 s). A blocking DNS lookup may take the
/// resolver's timeout (~5 s); past that the game's exit would hang for nothing.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// A handle to the runtime, starting it if needed.
pub fn handle() -> Handle {
    let mut guard = crate::lock(&RUNTIME);
    if let Some(rt) = guard.as_ref() {
        return rt.handle().clone();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("webrtc-rs")
        .on_thread_start(|| {
            LIVE_THREADS.fetch_add(1, Ordering::AcqRel);
        })
        .on_thread_stop(|| {
            LIVE_THREADS.fetch_sub(1, Ordering::AcqRel);
        })
        .enable_all()
        .build()
        .expect("the tokio runtime could not start (no threads or no epoll?)");
    let handle = rt.handle().clone();
    *guard = Some(rt);
    handle
}

/// The runtime's threads still running (0 once [`shutdown`] has returned, unless it reported
/// otherwise).
pub fn live_threads() -> usize {
    LIVE_THREADS.load(Ordering::Acquire)
}

/// Stops the runtime and every connection task on it, and waits until its threads have ended,
/// so none runs when the library is unloaded. Waits at most [`SHUTDOWN_WAIT`]; past it, logs
/// an error naming how many threads still run.
pub fn shutdown() {
    let rt = crate::lock(&RUNTIME).take();
    let Some(rt) = rt else { return };
    let start = Instant::now();
    rt.shutdown_timeout(SHUTDOWN_WAIT);
    // Tokio joined every thread unless one outlived the timeout; then give those the rest of
    // the wait (each decrements the count just before it returns).
    while live_threads() > 0 && start.elapsed() < SHUTDOWN_WAIT {
        std::thread::sleep(Duration::from_millis(5));
    }
    let left = live_threads();
    if left > 0 {
        log::error!(target: "engine::runtime", "{left} runtime thread(s) still running {:?} after shutdown began; the game may crash as it exits", SHUTDOWN_WAIT);
    }
}
