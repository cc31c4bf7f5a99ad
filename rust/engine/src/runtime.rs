//! The one tokio runtime of the process, created on first use and shut down when the extension
//! unloads. Two worker threads: a game has its own threads, and the work here is I/O.

use std::sync::Mutex;
use std::time::Duration;
use tokio::runtime::{Handle, Runtime};

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

/// A handle to the runtime, starting it if needed.
pub fn handle() -> Handle {
    let mut guard = crate::lock(&RUNTIME);
    if let Some(rt) = guard.as_ref() {
        return rt.handle().clone();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("webrtc-rs")
        .enable_all()
        .build()
        .expect("the tokio runtime could not start (no threads or no epoll?)");
    let handle = rt.handle().clone();
    *guard = Some(rt);
    handle
}

/// Stops the runtime and every connection task on it, waiting at most a second.
pub fn shutdown() {
    let rt = crate::lock(&RUNTIME).take();
    if let Some(rt) = rt {
        rt.shutdown_timeout(Duration::from_secs(1));
    }
}
