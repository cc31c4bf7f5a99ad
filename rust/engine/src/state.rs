//! Connection, gathering, signaling and channel states (the W3C states, numbered as the
//! W3C lists them), and a lock-free cell to share one between the runtime (writer) and the
//! owner's thread (reader). The connection's and a channel's states each have one
//! transition function (their `Machine::after`) that every writer goes through; gathering
//! and signaling mirror what webrtc-rs reports.

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

/// A state with one transition function: every change goes through [`StateCell::apply`].
pub(crate) trait Machine: StateValue {
    /// What moves it.
    type Event: Copy;
    /// The state after `event`: the one place its rules live.
    fn after(self, event: Self::Event) -> Self;
}

/// What moves a connection's state (its rules: `Machine for PeerState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerEvent {
    /// `create_offer()`, or a first remote offer: negotiation begins.
    Negotiate,
    /// `restart_ice()` on either side: a FAILED connection may connect again.
    RestartIce,
    /// webrtc-rs reported this connection state.
    Reported(PeerState),
    /// A step failed (a description not applied, the connection not built, webrtc-rs failed it).
    Failed,
    /// `close()`, or the owner let it go.
    Close,
}

impl Machine for PeerState {
    type Event = PeerEvent;
    /// The state after `event`. CLOSED is final. FAILED stays FAILED until an ICE restart:
    /// webrtc-rs may still report CONNECTING or DISCONNECTED from checks that were under way
    /// (seen with wrong TURN credentials), which must not revive it; only CONNECTED (a
    /// restart that worked) or a restart does. NEW moves only when negotiation begins.
    fn after(self, event: PeerEvent) -> PeerState {
        use PeerState::*;
        match (self, event) {
            (Closed, _) | (_, PeerEvent::Close) | (_, PeerEvent::Reported(Closed)) => Closed,
            (_, PeerEvent::Failed) | (_, PeerEvent::Reported(Failed)) => Failed,
            (New, PeerEvent::Negotiate) => Connecting,
            (Failed, PeerEvent::RestartIce) => Connecting,
            (state, PeerEvent::Negotiate | PeerEvent::RestartIce) => state,
            (_, PeerEvent::Reported(Connected)) => Connected,
            (Failed, PeerEvent::Reported(_)) => Failed,
            (state, PeerEvent::Reported(New)) => state,
            (_, PeerEvent::Reported(reported)) => reported,
        }
    }
}

/// What moves a data channel's state (its rules: `Machine for ChannelState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelEvent {
    /// webrtc-rs opened it (or it was announced already open).
    Opened,
    /// The owner called `close()` (or let the handle go): closing begins.
    CloseAsked,
    /// webrtc-rs reported that it is closing (the remote, or the transport, closes it).
    ClosingReported,
    /// It is closed: webrtc-rs said so, its connection closed or failed, or it could not be
    /// created or asked to close.
    Closed,
}

impl Machine for ChannelState {
    type Event = ChannelEvent;
    /// The state after `event`. CLOSED is final; a close asked for before the open wins
    /// over a late open.
    fn after(self, event: ChannelEvent) -> ChannelState {
        use ChannelState::*;
        match (self, event) {
            (Closed, _) | (_, ChannelEvent::Closed) => Closed,
            (Connecting, ChannelEvent::Opened) => Open,
            (state, ChannelEvent::Opened) => state,
            (_, ChannelEvent::CloseAsked | ChannelEvent::ClosingReported) => Closing,
        }
    }
}

/// A state that mirrors what webrtc-rs reports, with one rule: a final state stays.
pub(crate) trait Mirrored: StateValue {
    fn is_final(self) -> bool;
}
impl Mirrored for GatheringState {
    fn is_final(self) -> bool {
        false
    }
}
impl Mirrored for SignalingState {
    fn is_final(self) -> bool {
        self == SignalingState::Closed
    }
}

impl<T: Machine> StateCell<T> {
    /// Moves the state by its transition function; returns the new state.
    pub fn apply(&self, event: T::Event) -> T {
        let old = self
            .value
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| Some(T::from_u8(cur).after(event).to_u8()))
            .expect("the update always returns Some");
        T::from_u8(old).after(event)
    }
}

impl<T: Mirrored> StateCell<T> {
    /// Sets the reported state, unless the current one is final.
    pub fn set(&self, state: T) {
        let _ = self.value.fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| (!T::from_u8(cur).is_final()).then_some(state.to_u8()));
    }
}

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

}

#[cfg(test)]
mod tests {
    use super::*;

    use PeerEvent::*;
    use PeerState::*;

    const ALL: [PeerState; 6] = [New, Connecting, Connected, Disconnected, PeerState::Failed, Closed];

    #[test]
    fn closed_is_final() {
        for event in [Negotiate, RestartIce, PeerEvent::Failed, Close, Reported(Connected), Reported(Connecting), Reported(New)] {
            assert_eq!(Closed.after(event), Closed, "{event:?}");
        }
        for state in ALL {
            assert_eq!(state.after(Close), Closed);
            assert_eq!(state.after(Reported(Closed)), Closed);
        }
    }

    #[test]
    fn failed_stays_failed_until_an_ice_restart() {
        // Late reports from checks that were under way do not revive it.
        for late in [Connecting, Disconnected, New, PeerState::Failed] {
            assert_eq!(PeerState::Failed.after(Reported(late)), PeerState::Failed, "{late:?}");
        }
        assert_eq!(PeerState::Failed.after(Negotiate), PeerState::Failed);
        assert_eq!(PeerState::Failed.after(RestartIce), Connecting);
        assert_eq!(PeerState::Failed.after(Reported(Connected)), Connected, "a restart that worked");
    }

    #[test]
    fn negotiation_and_reports_move_a_live_connection() {
        assert_eq!(New.after(Negotiate), Connecting);
        assert_eq!(Connected.after(Negotiate), Connected, "a later offer does not reset it");
        assert_eq!(Connected.after(RestartIce), Connected, "a restart of a working connection keeps its state");
        assert_eq!(Connecting.after(Reported(Connected)), Connected);
        assert_eq!(Connected.after(Reported(Disconnected)), Disconnected);
        assert_eq!(Disconnected.after(Reported(Connected)), Connected);
        assert_eq!(Connecting.after(Reported(New)), Connecting, "NEW is never reported back");
        for state in [New, Connecting, Connected, Disconnected] {
            assert_eq!(state.after(PeerEvent::Failed), PeerState::Failed);
            assert_eq!(state.after(Reported(PeerState::Failed)), PeerState::Failed);
        }
    }

    #[test]
    fn the_cell_applies_the_rules() {
        let cell = StateCell::new(New);
        assert_eq!(cell.apply(Negotiate), Connecting);
        assert_eq!(cell.apply(PeerEvent::Failed), PeerState::Failed);
        assert_eq!(cell.apply(Reported(Connecting)), PeerState::Failed);
        assert_eq!(cell.get(), PeerState::Failed);
        assert_eq!(cell.apply(RestartIce), Connecting);
        assert_eq!(cell.apply(Close), Closed);
        assert_eq!(cell.apply(Reported(Connected)), Closed);
    }

    #[test]
    fn a_channel_closes_once_and_for_all() {
        use ChannelEvent::*;
        use ChannelState::*;
        assert_eq!(Connecting.after(Opened), Open);
        assert_eq!(Open.after(ClosingReported), Closing);
        assert_eq!(Open.after(CloseAsked), Closing);
        assert_eq!(Closing.after(Opened), Closing, "a close asked for before the open wins");
        for state in [Connecting, Open, Closing, ChannelState::Closed] {
            assert_eq!(state.after(ChannelEvent::Closed), ChannelState::Closed);
        }
        for event in [Opened, CloseAsked, ClosingReported, ChannelEvent::Closed] {
            assert_eq!(ChannelState::Closed.after(event), ChannelState::Closed, "{event:?}");
        }
        let cell = StateCell::new(Connecting);
        assert_eq!(cell.apply(CloseAsked), Closing);
        assert_eq!(cell.apply(Opened), Closing);
        assert_eq!(cell.apply(ChannelEvent::Closed), ChannelState::Closed);
        assert_eq!(cell.apply(ClosingReported), ChannelState::Closed, "a late report does not reopen it");
    }
}
