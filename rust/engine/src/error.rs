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
}

/// An error with its kind and a message meant for the game developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Which Godot error code this maps to.
    pub kind: ErrorKind,
    /// A sentence saying what was wrong and, where it helps, what to do instead.
    pub message: String,
}

impl Error {
    /// `ERR_INVALID_PARAMETER` with a message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::InvalidParameter, message: message.into() }
    }
    /// `ERR_UNCONFIGURED` with a message.
    pub fn unconfigured(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Unconfigured, message: message.into() }
    }
    /// `ERR_UNAVAILABLE` with a message.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Unavailable, message: message.into() }
    }
    /// `FAILED` with a message.
    pub fn failed(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Failed, message: message.into() }
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
