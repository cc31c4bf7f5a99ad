//! A data channel: the owner's [`DataChannel`] handle, the two runtime tasks that move its
//! messages, and the state they share (handle -> task -> shared).

mod drop_report;
mod handle;
mod shared;
mod task;

pub use handle::{DataChannel, MAX_BUFFERED_AMOUNT};
pub(crate) use shared::{ChannelInfo, ChannelShared};
pub use shared::{ChannelStats, UNSET};
pub(crate) use task::{spawn, stream_id, Outgoing};
