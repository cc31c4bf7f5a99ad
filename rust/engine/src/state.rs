//! Connection, gathering, signaling and channel states (the W3C states, numbered as the
//! W3C lists them), and a lock-free cell to share one between the runtime (writer) and the
//! owner's thread (reader).

use std::sync::atomic::{AtomicU8, Ordering};

macro_rules! state_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $value:expr),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        #[allow(missing_docs)]
        pub enum $name { $($variant = $value),+ }

        impl StateValue for $name {
            fn to_u8(self) -> u8 { self as u8 }
            fn from_u8(v: u8) -> Self {
                match v { $($value => Self::$variant,)+ _ => unreachable!("state cell holds only valid values") }
            }
        }
    };
}

state_enum!(
    /// `RTCPeerConnectionState`.
    PeerState { New = 0, Connecting = 1, Connected = 2, Disconnected = 3, Failed = 4, Closed = 5 }
);
state_enum!(
    /// `RTCIceGatheringState`.
    GatheringState { New = 0, Gathering = 1, Complete = 2 }
);
state_enum!(
    /// `RTCSignalingState`.
    SignalingState {
        Stable = 0, HaveLocalOffer = 1, HaveRemoteOffer = 2,
        HaveLocalPranswer = 3, HaveRemotePranswer = 4, Closed = 5,
    }
);
state_enum!(
    /// `RTCDataChannelState`.
    ChannelState { Connecting = 0, Open = 1, Closing = 2, Closed = 3 }
);

/// A state enum that fits in a byte.
pub(crate) trait StateValue: Copy {
    fn to_u8(self) -> u8;
    fn from_u8(v: u8) -> Self;
}

/// A state shared between threads without a lock.
#[derive(Debug)]
pub(crate) struct StateCell<T: StateValue> {
    value: AtomicU8,
    _kind: std::marker::PhantomData<T>,
}

impl<T: StateValue> StateCell<T> {
    pub fn new(initial: T) -> Self {
        Self { value: AtomicU8::new(initial.to_u8()), _kind: std::marker::PhantomData }
    }

    pub fn get(&self) -> T {
        T::from_u8(self.value.load(Ordering::Acquire))
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_state_is_kept_against_later_updates() {
        let cell = StateCell::new(PeerState::Connecting);
        assert!(cell.set_unless(PeerState::Connected, |s| s == PeerState::Closed));
        assert_eq!(cell.get(), PeerState::Connected);
        cell.set(PeerState::Closed);
        assert!(!cell.set_unless(PeerState::Failed, |s| s == PeerState::Closed), "closed stays closed");
        assert_eq!(cell.get(), PeerState::Closed);
    }
}
