//! A hostile remote peer at the SCTP layer, in memory (webrtc-rs's sans-IO rtc-sctp, the stack
//! under every data channel): a victim association that reads everything it is given, and an
//! attacker that completes a normal handshake, then sends hand-made DATA chunks (with a valid
//! verification tag and checksum) or mutated copies of real packets. Each attack must end with
//! the victim aborting the association (vendored patch 0021) after a bounded number of chunks,
//! or be absorbed within the receive window; no input may panic.

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rtc::sctp::{
    Association, ClientConfig, DatagramEvent, Endpoint, EndpointConfig, Event, Payload, PayloadProtocolIdentifier,
    ServerConfig, StreamEvent, TransportConfig,
};
use rtc::shared::TransportProtocol;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ATTACKER: &str = "127.0.0.1:5000";
const VICTIM: &str = "127.0.0.1:5001";
/// The stream the attacker opens normally, then abuses.
const STREAM: u16 = 1;
/// rtc-sctp's defaults, which webrtc-rs (and so this addon) uses.
const WINDOW: usize = 1024 * 1024;
const MAX_MESSAGE: usize = 262_144;

struct Victim {
    endpoint: Endpoint,
    assoc: Option<Association>,
    /// Bytes of complete messages the victim read, as a game that reads everything.
    read_bytes: usize,
    aborted: Option<String>,
    /// Whether the victim sent an ABORT chunk (type 6).
    sent_abort: bool,
    now: Instant,
}

impl Victim {
    fn new(now: Instant) -> Self {
        let server = ServerConfig::new(TransportConfig::default());
        let endpoint = Endpoint::new(VICTIM.parse().unwrap(), TransportProtocol::UDP, Arc::new(EndpointConfig::default()), Some(Arc::new(server)));
        Self { endpoint, assoc: None, read_bytes: 0, aborted: None, sent_abort: false, now }
    }

    /// Takes one datagram from the attacker, processes it, reads what became readable, and
    /// returns what the victim sends back.
    fn receive(&mut self, datagram: Bytes) -> Vec<Bytes> {
        let from: SocketAddr = ATTACKER.parse().unwrap();
        match self.endpoint.handle(self.now, from, None, datagram) {
            Some((_, DatagramEvent::NewAssociation(assoc))) => self.assoc = Some(assoc),
            Some((_, DatagramEvent::AssociationEvent(event))) => {
                if let Some(a) = self.assoc.as_mut() {
                    a.handle_event(event);
                }
            }
            _ => {}
        }
        self.pump()
    }

    fn pump(&mut self) -> Vec<Bytes> {
        let Some(a) = self.assoc.as_mut() else { return Vec::new() };
        if a.poll_timeout().is_some_and(|t| t <= self.now) {
            a.handle_timeout(self.now);
        }
        while let Some(event) = a.poll() {
            match event {
                Event::Aborted { reason } => self.aborted = Some(reason.to_string()),
                Event::Stream(StreamEvent::Readable { id }) => {
                    if let Ok(mut s) = a.stream(id) {
                        while let Ok(Some(chunks)) = s.read_sctp() {
                            self.read_bytes += chunks.len();
                        }
                    }
                }
                _ => {}
            }
        }
        while let Some(e) = a.poll_endpoint_event() {
            let _ = e; // the victim's association is never drained while the test runs
        }
        let mut out = Vec::new();
        while let Some(t) = a.poll_transmit(self.now) {
            if let Payload::RawEncode(packets) = t.message {
                for p in packets {
                    // Chunks start at byte 12 (after the common header); ABORT is type 6.
                    self.sent_abort |= p.len() > 12 && p[12] == 6;
                    out.push(p);
                }
            }
        }
        out
    }
}

/// The attacker's honest half: a normal client association, used for the handshake and for
/// real DATA packets to copy the verification tag, ports and TSN from.
struct Attacker {
    endpoint: Endpoint,
    assoc: Association,
}

impl Attacker {
    fn transmit(&mut self, now: Instant) -> Vec<Bytes> {
        let mut out = Vec::new();
        while let Some(t) = self.assoc.poll_transmit(now) {
            if let Payload::RawEncode(packets) = t.message {
                out.extend(packets);
            }
        }
        out
    }

    fn receive(&mut self, now: Instant, datagram: Bytes) {
        if let Some((_, DatagramEvent::AssociationEvent(event))) = self.endpoint.handle(now, VICTIM.parse().unwrap(), None, datagram) {
            self.assoc.handle_event(event);
        }
        while self.assoc.poll().is_some() {}
    }
}

/// A connected pair; the attacker has sent one real message on [`STREAM`]. Returns the pair,
/// the real packets the attacker sent (handshake and data) and that DATA packet.
fn connected() -> (Victim, Attacker, Vec<Bytes>, Bytes) {
    let mut now = Instant::now();
    let mut victim = Victim::new(now);
    let mut endpoint = Endpoint::new(ATTACKER.parse().unwrap(), TransportProtocol::UDP, Arc::new(EndpointConfig::default()), None);
    let (_, assoc) = endpoint.connect(now, ClientConfig::new(TransportConfig::default()), VICTIM.parse().unwrap()).unwrap();
    let mut attacker = Attacker { endpoint, assoc };
    let mut sent = Vec::new();
    let mut data_packet = None;
    let mut wrote = false;
    for _ in 0..200 {
        now += Duration::from_millis(5);
        victim.now = now;
        if attacker.assoc.poll_timeout().is_some_and(|t| t <= now) {
            attacker.assoc.handle_timeout(now);
        }
        if !wrote && victim.assoc.is_some() && !attacker.assoc.is_handshaking() {
            let mut s = attacker.assoc.open_stream(STREAM, PayloadProtocolIdentifier::Binary).unwrap();
            s.write_sctp(now, &Bytes::from_static(b"hello"), PayloadProtocolIdentifier::Binary).unwrap();
            wrote = true;
        }
        for p in attacker.transmit(now) {
            if p.len() > 12 && p[12] == 0 {
                data_packet = Some(p.clone());
            }
            sent.push(p.clone());
            for reply in victim.receive(p) {
                attacker.receive(now, reply);
            }
        }
        for reply in victim.pump() {
            attacker.receive(now, reply);
        }
        if data_packet.is_some() && victim.read_bytes == 5 {
            return (victim, attacker, sent, data_packet.unwrap());
        }
    }
    panic!("the pair did not connect and deliver a message");
}

/// What a hand-made DATA chunk needs from a real DATA packet of the association.
struct Forge {
    header: [u8; 8], // ports and verification tag
    next_tsn: u32,
}

impl Forge {
    fn from_data_packet(p: &Bytes) -> Self {
        let tsn = u32::from_be_bytes(p[16..20].try_into().unwrap());
        Self { header: p[..8].try_into().unwrap(), next_tsn: tsn.wrapping_add(1) }
    }

    /// One packet with one DATA chunk. flags: U = 4, B = 2, E = 1.
    fn data(&mut self, flags: u8, ssn: u16, payload: &[u8]) -> Bytes {
        let tsn = self.next_tsn;
        self.next_tsn = tsn.wrapping_add(1);
        self.data_at(tsn, flags, ssn, payload)
    }

    fn data_at(&self, tsn: u32, flags: u8, ssn: u16, payload: &[u8]) -> Bytes {
        let mut b = BytesMut::with_capacity(28 + payload.len() + 3);
        b.put_slice(&self.header);
        b.put_u32(0); // checksum, below
        b.put_u8(0); // DATA
        b.put_u8(flags);
        b.put_u16(16 + payload.len() as u16);
        b.put_u32(tsn);
        b.put_u16(STREAM);
        b.put_u16(ssn);
        b.put_u32(53); // binary
        b.put_slice(payload);
        while b.len() % 4 != 0 {
            b.put_u8(0);
        }
        seal(b)
    }
}

/// Writes the CRC-32C checksum of an SCTP packet (little-endian, as rtc-sctp does).
fn seal(mut b: BytesMut) -> Bytes {
    b[8..12].copy_from_slice(&[0; 4]);
    let sum = crc32c::crc32c(&b);
    b[8..12].copy_from_slice(&sum.to_le_bytes());
    b.freeze()
}

/// Sends `next` chunks until the victim aborts or `limit` chunks went; returns how many went.
fn attack(victim: &mut Victim, limit: usize, mut next: impl FnMut(usize) -> Bytes) -> usize {
    for i in 0..limit {
        victim.receive(next(i));
        if victim.aborted.is_some() {
            return i + 1;
        }
    }
    limit
}

fn assert_aborted(victim: &Victim, sent: usize, at_most: usize, why: &str) {
    let reason = victim.aborted.as_deref().unwrap_or_else(|| panic!("not aborted after {sent} chunks"));
    eprintln!("aborted after {sent} chunks: {reason}");
    assert!(sent <= at_most, "aborted only after {sent} chunks (bound {at_most})");
    assert!(reason.contains(why), "{reason}");
    assert!(victim.sent_abort, "the victim told the attacker (ABORT)");
}

#[test]
fn an_ordered_message_that_never_ends_is_aborted_at_the_maximum_message_size() {
    let (mut victim, _attacker, _, data) = connected();
    let mut forge = Forge::from_data_packet(&data);
    let payload = [7u8; 1200];
    let sent = attack(&mut victim, 100_000, |i| forge.data(if i == 0 { 2 } else { 0 }, 1, &payload));
    // 262144 / 1200 = 218.5: the 219th fragment passes the maximum size.
    assert_aborted(&victim, sent, MAX_MESSAGE / 1200 + 1, "maximum message size");
}

#[test]
fn an_unordered_message_that_never_ends_is_aborted_at_the_maximum_message_size() {
    let (mut victim, _attacker, _, data) = connected();
    let mut forge = Forge::from_data_packet(&data);
    let payload = [7u8; 1200];
    let sent = attack(&mut victim, 100_000, |i| forge.data(if i == 0 { 4 | 2 } else { 4 }, 0, &payload));
    assert_aborted(&victim, sent, MAX_MESSAGE / 1200 + 1, "maximum message size");
}

#[test]
fn one_byte_fragments_are_aborted_at_the_fragment_bound() {
    let (mut victim, _attacker, _, data) = connected();
    let mut forge = Forge::from_data_packet(&data);
    let sent = attack(&mut victim, 100_000, |i| forge.data(if i == 0 { 2 } else { 0 }, 1, &[1]));
    assert_aborted(&victim, sent, MAX_MESSAGE / 256 + 16 + 1, "fragments");
}

/// The limit of what may be held once a chunk was taken past the window: the window and its
/// quarter of slack, plus one message of the maximum size with its fragments' overhead.
const PAST_WINDOW_LIMIT: usize = WINDOW + WINDOW / 4 + MAX_MESSAGE + (MAX_MESSAGE / 256 + 16) * 128;

/// Many small incomplete messages, each under the bounds, on new SSNs: the window takes them
/// (each costs its payload plus 128 B); past it, each next chunk is the one that could
/// "unblock reassembly" (nothing is readable), which is taken for one message more and no
/// further: aborted.
#[test]
fn many_incomplete_messages_are_aborted_one_message_past_the_window() {
    let (mut victim, _attacker, _, data) = connected();
    let mut forge = Forge::from_data_packet(&data);
    // First fragments only (B, never E), one per SSN, 100 B each: 228 B of window each.
    let sent = attack(&mut victim, 100_000, |i| forge.data(2, 1 + i as u16, &[3u8; 100]));
    assert!(sent >= WINDOW / 228, "aborted after {sent} chunks, inside the window");
    assert_aborted(&victim, sent, PAST_WINDOW_LIMIT / 228 + 2, "past the receive window");
}

/// A far TSN makes every lower one "fill a gap", which a full window still takes: limited to
/// one message past the window, then aborted.
#[test]
fn gap_filling_past_the_window_is_aborted() {
    let (mut victim, _attacker, _, data) = connected();
    let mut forge = Forge::from_data_packet(&data);
    let base = forge.next_tsn;
    // Skip the next TSN for good, so nothing is ever cumulative; complete but unreadable
    // ordered messages (SSN 2.., while SSN 1 never comes) fill the window. Each is held twice
    // (reassembly and the out-of-order queue): 1000 + 2 * 128 B.
    forge.next_tsn = base.wrapping_add(1);
    victim.receive(forge.data_at(base.wrapping_add(10_000_000), 3, 30_000, &[9u8; 1000]));
    let sent = attack(&mut victim, 100_000, |i| forge.data(3, 2 + (i % 20_000) as u16, &[5u8; 1000]));
    assert!(sent >= WINDOW / 1256, "aborted after {sent} chunks, inside the window");
    assert_aborted(&victim, sent, PAST_WINDOW_LIMIT / 1256 + 2, "past the receive window");
}

/// Messages on 5,000 new stream ids: the first streams up to rtc-sctp's `MAX_STREAMS` (2048,
/// the attacker's own stream included) are created and read, the rest acknowledged and dropped;
/// the association goes on.
#[test]
fn new_streams_past_the_bound_are_acknowledged_and_dropped() {
    let (mut victim, _attacker, _, data) = connected();
    let mut forge = Forge::from_data_packet(&data);
    let mut last_reply = Vec::new();
    for i in 0..5000u16 {
        let mut p = BytesMut::from(&forge.data(3, 0, &[1u8; 10])[..]);
        p[20..22].copy_from_slice(&(100 + i).to_be_bytes()); // a new stream each time
        last_reply = victim.receive(seal(p));
    }
    assert!(victim.aborted.is_none(), "{:?}", victim.aborted);
    let streams = victim.read_bytes / 10; // "hello" was 5 bytes: the division drops it
    eprintln!("{streams} new streams read of 5,000");
    assert_eq!(streams, rtc::sctp::MAX_STREAMS - 1, "the attacker's own stream counts");
    // Every chunk was acknowledged: the last SACK's cumulative TSN is the last one sent.
    let mut sacked = last_reply.iter().filter(|p| p.len() >= 28 && p[12] == 3).map(|p| u32::from_be_bytes(p[16..20].try_into().unwrap())).last();
    if sacked.is_none() {
        victim.now += Duration::from_millis(50); // the delayed SACK
        sacked = victim.pump().iter().filter(|p| p.len() >= 28 && p[12] == 3).map(|p| u32::from_be_bytes(p[16..20].try_into().unwrap())).last();
    }
    assert_eq!(sacked, Some(forge.next_tsn.wrapping_sub(1)), "every chunk acknowledged");
}

/// Real packets of the attacker, mutated byte by byte (checksum fixed so they get past it),
/// and hand-made DATA chunks with odd flags, lengths and stream ids: no panic, and the victim
/// either goes on or aborts.
#[test]
fn mutated_sctp_packets_into_a_live_association_never_panic() {
    let (victim, attacker, sent, data) = connected();
    let (victim, _attacker) = (std::cell::RefCell::new(victim), attacker);
    let forge = Forge::from_data_packet(&data);
    let base: Vec<Bytes> = sent.into_iter().filter(|p| p.len() > 12).collect();
    let packet = (0..base.len(), proptest::collection::vec((12usize..2048, any::<u8>()), 1..8), 0usize..64)
        .prop_map(move |(i, edits, cut)| {
            let mut b = BytesMut::from(&base[i][..]);
            for (at, byte) in edits {
                if !b.is_empty() {
                    let at = 12 + at % b.len().saturating_sub(12).max(1);
                    if at < b.len() {
                        b[at] = byte;
                    }
                }
            }
            let keep = b.len().saturating_sub(cut).max(12);
            b.truncate(keep);
            seal(b)
        });
    let chunk = (any::<u8>(), any::<u16>(), any::<u16>(), proptest::collection::vec(any::<u8>(), 0..1500), -5i64..5)
        .prop_map(move |(flags, ssn, stream, payload, tsn_offset)| {
            let mut b = BytesMut::from(&forge.data_at(forge.next_tsn.wrapping_add(tsn_offset as u32), flags, ssn, &payload)[..]);
            b[20..22].copy_from_slice(&stream.to_be_bytes());
            seal(b)
        });
    let mut runner = TestRunner::new(Config { cases: 3000, failure_persistence: None, ..Config::default() });
    runner
        .run(&prop_oneof![packet, chunk], |p| {
            let mut v = victim.borrow_mut();
            v.now += Duration::from_millis(1);
            v.receive(p);
            Ok(())
        })
        .unwrap();
    let v = victim.borrow();
    eprintln!("after 3,000 mutated packets: read {} bytes, aborted: {:?}", v.read_bytes, v.aborted);
}

/// The DCEP messages a remote peer sends to open channels, generated and mutated (lengths that
/// lie, bad UTF-8, unknown types and channel types, cut short), as they reach rtc-datachannel's
/// parser: rtc's data channel handler passes only the two wire types, ACK and OPEN (patch 0025;
/// the parser panicked on a 1-byte message of its internal type 0x00). Each is accepted or
/// refused with an error, never a panic, and an accepted label is no longer than the message.
#[test]
fn mutated_dcep_opens_are_accepted_or_refused() {
    use rtc::datachannel::data_channel::{DataChannel, DataChannelConfig};
    use rtc::datachannel::message::message_channel_open::{ChannelType, DataChannelOpen};
    use rtc::datachannel::message::Message;
    use rtc::shared::marshal::Marshal;
    let open = |label: Vec<u8>, protocol: Vec<u8>| {
        let m = Message::DataChannelOpen(DataChannelOpen { channel_type: ChannelType::Reliable, priority: 0, reliability_parameter: 0, label, protocol });
        m.marshal().unwrap().to_vec()
    };
    let base = vec![open(b"chat".to_vec(), Vec::new()), open(vec![b'x'; 300], b"proto".to_vec()), open(Vec::new(), Vec::new())];
    let message = (0..base.len(), proptest::collection::vec((0usize..400, any::<u8>()), 0..3), prop_oneof![Just(0usize), 0usize..40], prop_oneof![Just(Vec::new()), proptest::collection::vec(any::<u8>(), 0..32)])
        .prop_map(move |(i, edits, cut, tail)| {
            let mut b = base[i].clone();
            for (at, byte) in edits {
                let at = at % b.len();
                b[at] = byte;
            }
            b.truncate(b.len().saturating_sub(cut));
            b.extend(tail);
            b
        });
    let mut runner = TestRunner::new(Config { cases: 3000, failure_persistence: None, ..Config::default() });
    let counts = std::cell::Cell::new((0u32, 0u32));
    runner
        .run(&message, |m| {
            let (a, r) = counts.get();
            if !matches!(m.first(), Some(0x02 | 0x03)) {
                counts.set((a, r + 1)); // dropped before the parser (patch 0025)
                return Ok(());
            }
            match DataChannel::accept(DataChannelConfig::default(), 0, STREAM, PayloadProtocolIdentifier::Dcep, &m) {
                Ok(dc) => {
                    let config = dc.config();
                    assert!(config.label.len() + config.protocol.len() <= m.len(), "a label longer than its message");
                    counts.set((a + 1, r));
                }
                Err(_) => counts.set((a, r + 1)),
            }
            Ok(())
        })
        .unwrap();
    let (accepted, refused) = counts.get();
    eprintln!("3,000 mutated DCEP opens: {accepted} accepted, {refused} refused");
    assert!(accepted > 0 && refused > 0, "the mutations reach both outcomes");
}
