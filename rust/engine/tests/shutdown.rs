//! Shutting the runtime down ends every one of its threads, even those busy in a task or in
//! blocking work, so none runs once Godot unloads the library. Its own test binary: it stops
//! the process-wide runtime.

use std::time::Duration;

#[test]
fn shutdown_ends_every_thread_even_with_busy_tasks() {
    let rt = engine::runtime_handle();
    // A task that holds its worker past tokio's usual patience, and blocking-pool work.
    rt.spawn(async { std::thread::sleep(Duration::from_millis(1500)) });
    rt.spawn_blocking(|| std::thread::sleep(Duration::from_millis(1200)));
    std::thread::sleep(Duration::from_millis(100));
    assert!(engine::runtime_threads() >= 3, "{} threads", engine::runtime_threads());
    engine::shutdown_runtime();
    assert_eq!(engine::runtime_threads(), 0, "threads left running");
}
