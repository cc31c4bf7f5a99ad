//! `WebRTCRsDataChannel`: Godot's `WebRTCDataChannelExtension` over an engine channel. Its
//! state and packets advance on the runtime, so `poll()` has nothing to do (and
//! WebRTCMultiplayerPeer never calls it).

use crate::{godot_terms, report};
use bytes::Bytes;
use godot::classes::web_rtc_data_channel::{ChannelState, WriteMode};
use godot::classes::{IWebRtcDataChannelExtension, WebRtcDataChannelExtension};
use godot::global::Error;
use godot::meta::conv::RawPtr;
use godot::prelude::*;

/// A WebRTC data channel backed by webrtc-rs (the webrtc-rs addon).
///
/// Created by `WebRTCPeerConnection.create_data_channel()` or received through
/// `data_channel_received`; everything documented for `WebRTCDataChannel` applies. Its state
/// and packets advance on the addon's threads and become visible at
/// `WebRTCPeerConnection.poll()`, so the channel's own `poll()` is not needed.
///
/// `put_packet()` returns `ERR_INVALID_PARAMETER` for a packet larger than
/// `get_max_message_size()` and `ERR_BUSY` once 16 MiB wait to be sent. `get_stats()` counts
/// what was sent, received, dropped (unreliable channels whose game did not read in time) and
/// left unsent at close.
#[derive(GodotClass)]
#[class(tool, base = WebRtcDataChannelExtension, rename = WebRTCRsDataChannel)]
pub struct RsDataChannel {
    base: Base<WebRtcDataChannelExtension>,
    channel: Option<engine::DataChannel>,
    write_mode: WriteMode,
    was_string: bool,
    /// The packet handed out by the last `get_packet`: Godot reads it until the next call.
    current: Option<Bytes>,
}

impl RsDataChannel {
    /// Wraps an engine channel in a new Godot object.
    pub fn create(channel: engine::DataChannel) -> Gd<Self> {
        Gd::from_init_fn(|base| Self { base, channel: Some(channel), write_mode: WriteMode::BINARY, was_string: false, current: None })
    }

    fn with_channel<T>(&self, default: T, f: impl FnOnce(&engine::DataChannel) -> T) -> T {
        self.channel.as_ref().map(f).unwrap_or(default)
    }
}

fn clamp_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[godot_api]
impl IWebRtcDataChannelExtension for RsDataChannel {
    /// Only reachable through ClassDB: a channel with no connection behind it, always closed.
    fn init(base: Base<WebRtcDataChannelExtension>) -> Self {
        // Only reachable through ClassDB: a channel with no connection behind it.
        Self { base, channel: None, write_mode: WriteMode::BINARY, was_string: false, current: None }
    }

    /// Takes the oldest readable packet (`get_packet()`); `ERR_UNAVAILABLE` when there is none. Packets
    /// received before a close stay readable.
    unsafe fn get_packet_rawptr(&mut self, r_buffer: RawPtr<*mut RawPtr<*const u8>>, r_buffer_size: RawPtr<*mut i32>) -> Error {
        let Some(channel) = self.channel.as_ref() else { return Error::ERR_UNCONFIGURED };
        match channel.recv() {
            Ok(packet) => {
                self.was_string = packet.is_string;
                let data = self.current.insert(packet.data);
                // SAFETY: Godot passes valid out-pointers; `data` lives in `self.current` until
                // the next get_packet or close, as the API requires.
                unsafe {
                    *r_buffer.ptr() = RawPtr::new(data.as_ptr());
                    *r_buffer_size.ptr() = clamp_i32(data.len());
                }
                Error::OK
            }
            // An empty queue is routine for pollers: no error print.
            Err(e) => godot_terms::error_code(e.kind()),
        }
    }

    /// Sends a packet (`put_packet()`): `ERR_UNCONFIGURED` unless open, `ERR_INVALID_PARAMETER` if
    /// larger than `get_max_message_size()` (nothing is sent), `ERR_BUSY` once 16 MiB wait to be sent.
    unsafe fn put_packet_rawptr(&mut self, p_buffer: RawPtr<*const u8>, p_buffer_size: i32) -> Error {
        let Some(channel) = self.channel.as_ref() else {
            godot_error!("This WebRTCRsDataChannel has no connection behind it.");
            return Error::ERR_UNCONFIGURED;
        };
        let data: &[u8] = if p_buffer_size <= 0 || p_buffer.ptr().is_null() {
            &[]
        } else {
            // SAFETY: Godot guarantees `p_buffer_size` readable bytes at `p_buffer`.
            unsafe { std::slice::from_raw_parts(p_buffer.ptr(), p_buffer_size as usize) }
        };
        match channel.send(data, self.write_mode == WriteMode::TEXT) {
            Ok(()) => Error::OK,
            Err(e) => report(e),
        }
    }

    /// Readable packets; changes only at `poll()`.
    fn get_available_packet_count(&self) -> i32 {
        self.with_channel(0, |c| clamp_i32(c.available_packet_count()))
    }

    /// Largest packet `put_packet()` accepts (see `get_max_message_size()`).
    fn get_max_packet_size(&self) -> i32 {
        self.with_channel(0, |c| clamp_i32(c.max_message_size()))
    }

    /// Makes what arrived readable; `WebRTCPeerConnection.poll()` does the same for all its channels,
    /// so most games never need this.
    fn poll(&mut self) -> Error {
        crate::flush_engine_log();
        if let Some(c) = self.channel.as_ref() {
            c.publish();
        }
        Error::OK
    }

    /// Starts closing: `STATE_CLOSING`, then `STATE_CLOSED` once the remote agrees. Unread packets are
    /// dropped.
    fn close(&mut self) {
        self.current = None;
        if let Some(c) = self.channel.as_ref() {
            c.close();
        }
    }

    /// Whether `put_packet()` sends text (`WRITE_MODE_TEXT`, must be UTF-8) or binary.
    fn set_write_mode(&mut self, write_mode: WriteMode) {
        self.write_mode = write_mode;
    }

    /// The write mode set by `set_write_mode()` (binary by default).
    fn get_write_mode(&self) -> WriteMode {
        self.write_mode
    }

    /// Whether the last packet taken was sent as text.
    fn was_string_packet(&self) -> bool {
        self.was_string
    }

    /// The channel state (`ChannelState`).
    fn get_ready_state(&self) -> ChannelState {
        self.with_channel(ChannelState::CLOSED, |c| match c.ready_state() {
            engine::ChannelState::Connecting => ChannelState::CONNECTING,
            engine::ChannelState::Open => ChannelState::OPEN,
            engine::ChannelState::Closing => ChannelState::CLOSING,
            engine::ChannelState::Closed => ChannelState::CLOSED,
        })
    }

    /// The label given at creation.
    fn get_label(&self) -> GString {
        self.with_channel(GString::new(), |c| GString::from(c.label()))
    }

    /// Whether packets arrive in the order they were sent.
    fn is_ordered(&self) -> bool {
        self.with_channel(true, |c| c.is_ordered())
    }

    /// The SCTP stream id; 65535 until an in-band channel's id is assigned.
    fn get_id(&self) -> i32 {
        self.with_channel(godot_terms::UNSET, |c| godot_terms::or_unset(c.id()))
    }

    /// The lifetime limit in milliseconds; 65535 when unset. A channel the remote opened reports the
    /// opener's value.
    fn get_max_packet_life_time(&self) -> i32 {
        self.with_channel(godot_terms::UNSET, |c| godot_terms::or_unset(c.max_packet_life_time()))
    }

    /// The retransmission limit; 65535 when unset. A channel the remote opened reports the opener's
    /// value.
    fn get_max_retransmits(&self) -> i32 {
        self.with_channel(godot_terms::UNSET, |c| godot_terms::or_unset(c.max_retransmits()))
    }

    /// The sub-protocol given at creation.
    fn get_protocol(&self) -> GString {
        self.with_channel(GString::new(), |c| GString::from(c.protocol()))
    }

    /// Whether the channel was negotiated out of band (same `id` on both sides).
    fn is_negotiated(&self) -> bool {
        self.with_channel(false, |c| c.is_negotiated())
    }

    /// Bytes sent but not yet acknowledged by the remote, plus those still queued.
    fn get_buffered_amount(&self) -> i32 {
        self.with_channel(0, |c| clamp_i32(c.buffered_amount()))
    }
}

#[godot_api]
impl RsDataChannel {
    /// Largest message `put_packet` accepts on this channel (the remote's `max-message-size`,
    /// capped by webrtc-rs). The same value Godot gets from `_get_max_packet_size`, which
    /// GDScript cannot call.
    #[func]
    fn get_max_message_size(&self) -> i64 {
        self.with_channel(0, |c| c.max_message_size() as i64)
    }

    /// Counters of this channel since it was created: `messages_sent`, `bytes_sent`,
    /// `messages_received`, `bytes_received`, `messages_dropped` (an unreliable channel's
    /// oldest unread packets, dropped when the receive queue was full) and `messages_unsent`
    /// (queued when the channel closed). Not in Godot's API.
    #[func]
    fn get_stats(&self) -> VarDictionary {
        let s = self.with_channel(engine::ChannelStats::default(), |c| c.stats());
        let mut d = VarDictionary::new();
        godot_terms::channel_stats(&s, &mut d);
        d
    }
}
