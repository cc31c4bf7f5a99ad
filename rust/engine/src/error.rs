//! The engine's error type: a kind (one per `Error` code of Godot's WebRTC API), a message
//! meant for the game developer, and the webrtc-rs error behind it, if any.

use std::fmt;
use std::sync::Arc;

/// What went wrong, in the terms of the API the extension implements (each kind is one of its
/// error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad argument or option (Godot `ERR_INVALID_PARAMETER`).
    InvalidParameter,
    /// The object is not in a state that allows the call (Godot `ERR_UNCONFIGURED`).
    Unconfigured,
    /// Nothing to return right now, e.g. an empty receive queue (Godot `ERR_UNAVAILABLE`).
    Unavailable,
    /// The call was valid but could not be carried out (Godot `FAILED`).
    Failed,
    /// Try again later, e.g. a send that would pass the send buffer's limit (Godot `ERR_BUSY`).
    Busy,
}

/// An error with its kind, a message meant for the game developer and, where webrtc-rs
/// refused something, its error as the [`source`](std::error::Error::source).
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
    /// The same refusal was already reported: the extension returns the code without printing
    /// the message again (a flood of refused calls must not become a flood of output).
    quiet: bool,
}

/// Two errors are equal when they say the same: the cause is detail.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for Error {}

/// Longest message an error keeps: a message quoting a 1 MiB input must not become a 1 MiB
/// line in the game's output (inputs are also quoted through [`excerpt`]).
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// `text` as an error message quotes it: whole if short, else its start and its length.
/// Control characters are escaped (`\n`, `\u{1b}`), so input from a remote peer cannot
/// forge lines or terminal sequences in the game's log.
pub fn excerpt(text: &str) -> String {
    const KEEP: usize = 64;
    if text.len() <= KEEP + 16 {
        return escape_controls(text);
    }
    format!("{}... ({} bytes)", escape_controls(&text[..floor_char_boundary(text, KEEP)]), text.len())
}

/// `text` with its control characters escaped.
pub(crate) fn escape_controls(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// `message` cut to [`MAX_MESSAGE_BYTES`] (saying so) if longer: error messages and log lines.
pub(crate) fn cut(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_BYTES {
        let full = message.len();
        message.truncate(floor_char_boundary(&message, MAX_MESSAGE_BYTES));
        message.push_str(&format!("... (message cut, {full} bytes)"));
    }
    message
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

impl Error {
    /// An error of `kind`; a message longer than [`MAX_MESSAGE_BYTES`] is cut.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: cut(message.into()), cause: None, quiet: false }
    }
    /// Which error code this maps to.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// A sentence saying what was wrong and, where it helps, what to do instead.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The same error, marked as already reported (see [`Error::is_quiet`]).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }
    /// Whether this refusal was reported before and should not be printed again.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }
    /// The same error, keeping `cause` (what webrtc-rs said) as its source.
    pub fn caused_by(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.cause = Some(Arc::new(cause));
        self
    }
    /// `ERR_INVALID_PARAMETER` with a message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }
    /// `ERR_UNCONFIGURED` with a message.
    pub fn unconfigured(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unconfigured, message)
    }
    /// `ERR_UNAVAILABLE` with a message.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }
    /// `FAILED` with a message.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }
    /// `ERR_BUSY` with a message.
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Busy, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Result with the engine's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_inputs_and_messages_are_cut() {
        assert_eq!(excerpt("short"), "short");
        assert_eq!(excerpt("a\nERROR: forged\u{1b}[2J"), "a\\nERROR: forged\\u{1b}[2J", "control characters are escaped");
        let long = "é".repeat(100_000);
        let e = excerpt(&long);
        assert!(e.len() < 100 && e.ends_with("(200000 bytes)"), "{e}");
        let err = Error::invalid(format!("bad: {long}"));
        assert!(err.message.len() < MAX_MESSAGE_BYTES + 64 && err.message.contains("message cut"), "{}", err.message.len());
    }

    #[test]
    fn the_cause_is_kept_as_the_source() {
        use std::error::Error as _;
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "port taken");
        let err = Error::failed("Could not bind.").caused_by(io);
        assert_eq!(err.source().map(|e| e.to_string()).as_deref(), Some("port taken"));
        assert!(Error::failed("x").source().is_none());
    }
}
