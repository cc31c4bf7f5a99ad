//! The state enums Godot exposes, with the same numeric values, and a lock-free cell to share
//! them between the runtime (writer) and the main thread (reader).

use std::sync::atomic::{AtomicU8, Ordering};

macro_rules! godot_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $value:expr),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        #[allow(missing_docs)]
        pub enum $name { $($(#[$vdoc])* $variant = $value),+ }

        impl $name {
            /// The value Godot uses for this state.
            pub fn as_i64(self) -> i64 { self as u8 as i64 }
            fn from_u8(v: u8) -> Self {
                match v { $($value => Self::$variant,)+ _ => unreachable!("state cell holds only valid values") }
            }
        }

        impl StateValue for $name {
            fn to_u8(self) -> u8 { self as u8 }
            fn from_u8(v: u8) -> Self { Self::from_u8(v) }
        }
    };
}

godot_enum!(
    /// `WebRTCPeerConnection.ConnectionState`.
    PeerState { New = 0, Connecting = 1, Connected = 2, Disconnected = 3, Failed = 4, Closed = 5 }
);
godot_enum!(
    /// `WebRTCPeerConnection.GatheringState`.
    GatheringState { New = 0, Gathering = 1, Complete = 2 }
);
godot_enum!(
    /// `WebRTCPeerConnection.SignalingState`.
    SignalingState {
        Stable = 0, HaveLocalOffer = 1, HaveRemoteOffer = 2,
        HaveLocalPranswer = 3, HaveRemotePranswer = 4, Closed = 5,
    }
);
godot_enum!(
    /// `WebRTCDataChannel.ChannelState`.
    ChannelState { Connecting = 0, Open = 1, Closing = 2, Closed = 3 }
);

/// A state enum that fits in a byte.
pub trait StateValue: Copy {
    /// Encodes the state.
    fn to_u8(self) -> u8;
    /// Decodes a value written by [`StateValue::to_u8`].
    fn from_u8(v: u8) -> Self;
}

/// A state shared between threads without a lock.
#[derive(Debug)]
pub struct StateCell<T: StateValue> {
    value: AtomicU8,
    _kind: std::marker::PhantomData<T>,
}

impl<T: StateValue> StateCell<T> {
    /// A cell holding `initial`.
    pub fn new(initial: T) -> Self {
        Self { value: AtomicU8::new(initial.to_u8()), _kind: std::marker::PhantomData }
    }
    /// The current state.
    pub fn get(&self) -> T {
        T::from_u8(self.value.load(Ordering::Acquire))
    }
    /// Replaces the state.
    pub fn set(&self, state: T) {
        self.value.store(state.to_u8(), Ordering::Release);
    }
    /// Replaces the state unless `keep` says the current one must stay; returns whether it changed.
    pub fn set_unless(&self, state: T, keep: impl Fn(T) -> bool) -> bool {
        self.value
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                (!keep(T::from_u8(cur))).then_some(state.to_u8())
            })
            .is_ok()
    }
}
