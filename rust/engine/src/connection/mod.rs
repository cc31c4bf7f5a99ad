//! A peer connection: the owner's [`PeerConnection`] handle, its task on the runtime with
//! webrtc-rs's callbacks, and the state they share (handle -> task -> callbacks -> shared), and
//! its figures (`stats`), and the link simulator its sockets may go through (`simulate`).

mod callbacks;
mod figures;
mod handle;
mod ports;
mod shared;
mod simulate;
mod stats;
mod task;
mod turn_stream;
mod turn_tls;

pub use figures::ChannelFigures;
pub use handle::{PeerConnection, MAX_REMOTE_CANDIDATES};
pub use stats::{CandidateStats, ConnectionStats};
