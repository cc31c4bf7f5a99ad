//! What a connection reports to its owner, in the order it happened. The extension turns each
//! into a Godot signal inside `WebRTCPeerConnection.poll()`.

use crate::channel::DataChannel;

/// Kind of a session description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpKind {
    /// `"offer"`
    Offer,
    /// `"answer"`
    Answer,
    /// `"pranswer"`
    Pranswer,
}

impl SdpKind {
    /// The W3C name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offer => "offer",
            Self::Answer => "answer",
            Self::Pranswer => "pranswer",
        }
    }

    /// Parses a W3C name (`"rollback"` is not supported).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "offer" => Some(Self::Offer),
            "answer" => Some(Self::Answer),
            "pranswer" => Some(Self::Pranswer),
            _ => None,
        }
    }
}

/// One thing that happened on a connection.
#[derive(Debug)]
pub enum Event {
    /// A local offer or answer was created (and already applied as the local description).
    SessionDescription {
        /// Offer or answer.
        kind: SdpKind,
        /// The SDP text.
        sdp: String,
    },
    /// A local ICE candidate to send to the remote peer.
    IceCandidate {
        /// `sdpMid` of the m-line it belongs to.
        mid: String,
        /// Index of that m-line.
        mline_index: u32,
        /// The candidate line, `candidate:...`.
        candidate: String,
    },
    /// The remote peer opened an in-band data channel.
    DataChannel(DataChannel),
}
