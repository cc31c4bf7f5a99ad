//! The figures the editor's debugger shows in its "WebRTC" tab (`addons/webrtc_rs/plugin.gd`):
//! while the game runs under a debugger (`EngineDebugger.is_active()`), the message
//! `webrtc_rs:connections` about every 500 ms, whose data is an Array with one Dictionary per
//! live connection: its `get_stats()` keys plus `id`, `state` (the `ConnectionState` number),
//! `state_name` and `channels` (one Dictionary per channel). Without a debugger, or without the
//! editor plugin enabled in the project (`editor_plugins/enabled`, which the game reads too),
//! nothing is registered and nothing runs: an editor with no plugin capturing `webrtc_rs` warns
//! "unknown message" for each message.
//!
//! Main thread only: the connections are listed by instance id (no `Gd` is kept), and the
//! message is sent from the scene tree's `process_frame`, outside any of their methods.

use crate::peer_connection::RsPeerConnection;
use godot::classes::{Engine, EngineDebugger, ProjectSettings, SceneTree};
use godot::prelude::*;
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

/// The message's name; the prefix `webrtc_rs` is what the editor plugin captures.
pub const MESSAGE: &str = "webrtc_rs:connections";
/// The editor plugin that shows the messages.
pub const PLUGIN: &str = "res://addons/webrtc_rs/plugin.cfg";
/// How often the message is sent.
pub const EVERY: Duration = Duration::from_millis(500);

thread_local! {
    static LIVE: RefCell<Vec<InstanceId>> = const { RefCell::new(Vec::new()) };
    /// `None` until the first connection: then whether a debugger is attached (and the
    /// frame callback connected).
    static ACTIVE: Cell<Option<bool>> = const { Cell::new(None) };
    static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Lists a connection for the debugger (once; only when one is attached).
pub fn track(id: InstanceId) {
    let active = ACTIVE.with(|a| match a.get() {
        Some(active) => active,
        None => {
            let active = EngineDebugger::singleton().is_active() && plugin_enabled() && connect_frame_callback();
            a.set(Some(active));
            active
        }
    });
    if active {
        LIVE.with(|live| {
            let mut live = live.borrow_mut();
            if !live.contains(&id) {
                live.push(id);
            }
        });
    }
}

/// Whether the project enables the editor plugin (the game reads the same project settings).
fn plugin_enabled() -> bool {
    let enabled = ProjectSettings::singleton().get_setting("editor_plugins/enabled");
    enabled.try_to::<PackedStringArray>().is_ok_and(|list| list.as_slice().iter().any(|p| p.to_string() == PLUGIN))
}

fn connect_frame_callback() -> bool {
    let Some(tree) = Engine::singleton().get_main_loop().and_then(|l| l.try_cast::<SceneTree>().ok()) else {
        return false;
    };
    let mut tree = tree;
    tree.connect("process_frame", &Callable::from_fn("webrtc_rs_debugger_tick", |_| tick()));
    true
}

/// Sends the message if [`EVERY`] has passed since the last one.
fn tick() {
    let now = Instant::now();
    if LAST.with(|l| l.get().is_some_and(|t| now.duration_since(t) < EVERY)) {
        return;
    }
    LAST.with(|l| l.set(Some(now)));
    let mut debugger = EngineDebugger::singleton();
    if !debugger.is_active() {
        return;
    }
    let ids: Vec<InstanceId> = LIVE.with(|live| {
        let mut live = live.borrow_mut();
        live.retain(|id| Gd::<RsPeerConnection>::try_from_instance_id(*id).is_ok());
        live.clone()
    });
    let mut rows = VarArray::new();
    for id in ids {
        let Ok(pc) = Gd::<RsPeerConnection>::try_from_instance_id(id) else { continue };
        // `process_frame` is emitted by the tree between frames: no method of a connection
        // is running, so the bind cannot clash.
        let mut row = pc.bind().debug_row();
        row.set("id", id.to_i64());
        rows.push(&row.to_variant());
    }
    debugger.send_message(MESSAGE, &rows);
}
