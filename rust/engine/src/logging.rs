//! Collects what the engine and webrtc-rs log (through the `log` crate) into a bounded queue
//! that the extension drains on the main thread, so no runtime thread ever calls into Godot.

use once_cell::sync::OnceCell;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How serious a log line is; the extension maps it to Godot's error / warning / verbose output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Shown as a Godot error.
    Error,
    /// Shown as a Godot warning.
    Warning,
    /// Shown only with `--verbose`.
    Verbose,
}

/// One captured log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: LogLevel,
    /// Module that logged it (e.g. `engine::peer`, `rtc_ice::agent`).
    pub target: String,
    /// The text.
    pub message: String,
}

/// Lines kept while nobody drains; older ones are dropped and counted.
const CAPACITY: usize = 4096;

struct Collector {
    lines: Mutex<VecDeque<LogLine>>,
    verbose: AtomicBool,
    lost: AtomicU64,
}

static COLLECTOR: OnceCell<&'static Collector> = OnceCell::new();

impl log::Log for Collector {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        let ours = meta.target().starts_with("engine");
        match meta.level() {
            log::Level::Error | log::Level::Warn => true,
            log::Level::Info => self.verbose.load(Ordering::Relaxed),
            // webrtc-rs's debug output is per packet: only ours is worth a verbose line.
            log::Level::Debug => ours && self.verbose.load(Ordering::Relaxed),
            log::Level::Trace => false,
        }
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // webrtc-rs warns about routine protocol events (checks before the remote description,
        // an unset TLS server name): shown only with --verbose, its errors as warnings. The
        // engine reports every condition a game developer can act on under its own target.
        let ours = record.target().starts_with("engine");
        let level = match (record.level(), ours) {
            (log::Level::Error, true) => LogLevel::Error,
            (log::Level::Warn, true) | (log::Level::Error, false) => LogLevel::Warning,
            _ => LogLevel::Verbose,
        };
        if level == LogLevel::Verbose && !self.verbose.load(Ordering::Relaxed) {
            return;
        }
        // Cut like error messages: webrtc-rs may quote what it was given (SDP, candidates).
        // Control characters escaped: a log line must not carry forged lines from remote input.
        let message = crate::error::cut(crate::error::escape_controls(&record.args().to_string()));
        let line = LogLine { level, target: record.target().to_string(), message };
        let mut lines = crate::lock(&self.lines);
        if lines.len() >= CAPACITY {
            lines.pop_front();
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
        lines.push_back(line);
    }

    fn flush(&self) {}
}

/// Routes the `log` crate into the queue. `verbose` also keeps info and debug lines.
/// Calling it again only changes `verbose`.
pub fn install(verbose: bool) {
    let collector = COLLECTOR.get_or_init(|| {
        Box::leak(Box::new(Collector {
            lines: Mutex::new(VecDeque::new()),
            verbose: AtomicBool::new(verbose),
            lost: AtomicU64::new(0),
        }))
    });
    collector.verbose.store(verbose, Ordering::Relaxed);
    if log::set_logger(*collector).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

/// Takes every queued line, oldest first, plus a note if some were dropped for lack of room.
pub fn drain() -> Vec<LogLine> {
    let Some(collector) = COLLECTOR.get() else { return Vec::new() };
    let mut out: Vec<LogLine> = {
        let mut lines = crate::lock(&collector.lines);
        if lines.is_empty() && collector.lost.load(Ordering::Relaxed) == 0 {
            return Vec::new();
        }
        lines.drain(..).collect()
    };
    let lost = collector.lost.swap(0, Ordering::Relaxed);
    if lost > 0 {
        out.push(LogLine {
            level: LogLevel::Warning,
            target: "engine::logging".into(),
            message: format!("{lost} log lines were dropped because nothing drained them."),
        });
    }
    out
}
