//! A data channel: the owner's [`DataChannel`] handle, the two runtime tasks that move its
//! messages, and the state they share (handle -> task -> shared), with the connection's message
//! counters they add to (`traffic`). Nothing here imports the connection: it uses channels.

mod drop_report;
mod handle;
mod shared;
mod task;
mod traffic;

pub use handle::{DataChannel, MAX_BUFFERED_AMOUNT};
pub(crate) use shared::{ChannelInfo, ChannelShared};
pub use shared::ChannelStats;
pub(crate) use task::{spawn, stream_id, Outgoing};
pub(crate) use traffic::Traffic;
