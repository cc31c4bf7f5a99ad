//! The engine's error type: one kind per Godot `Error` code the contract uses, plus a message
//! that the extension prints as a Godot error.

use std::fmt;

/// What went wrong, in the terms Godot's API reports it.
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

/// An error with its kind and a message meant for the game developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Which Godot error code this maps to.
    pub kind: ErrorKind,
    /// A sentence saying what was wrong and, where it helps, what to do instead.
    pub message: String,
}

/// Longest message an error keeps: a message quoting a 1 MiB input must not become a 1 MiB
/// line in the game's output (inputs are also quoted through [`excerpt`]).
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// `text` as an error message quotes it: whole if short, else its start and its length.
pub fn excerpt(text: &str) -> String {
    const KEEP: usize = 64;
    if text.len() <= KEEP + 16 {
        return text.to_string();
    }
    format!("{}... ({} bytes)", &text[..floor_char_boundary(text, KEEP)], text.len())
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

impl Error {
    /// An error of `kind`; a message longer than [`MAX_MESSAGE_BYTES`] is cut.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let mut message = message.into();
        if message.len() > MAX_MESSAGE_BYTES {
            let full = message.len();
            message.truncate(floor_char_boundary(&message, MAX_MESSAGE_BYTES));
            message.push_str(&format!("... (message cut, {full} bytes)"));
        }
        Self { kind, message }
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

impl std::error::Error for Error {}

/// Result with the engine's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_inputs_and_messages_are_cut() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(100_000);
        let e = excerpt(&long);
        assert!(e.len() < 100 && e.ends_with("(200000 bytes)"), "{e}");
        let err = Error::invalid(format!("bad: {long}"));
        assert!(err.message.len() < MAX_MESSAGE_BYTES + 64 && err.message.contains("message cut"), "{}", err.message.len());
    }
}
