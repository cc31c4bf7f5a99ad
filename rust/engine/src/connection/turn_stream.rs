//! TURN over TCP and TLS (`turn:...?transport=tcp`, `turns:`) for webrtc-rs, which speaks TURN
//! over UDP only: a UDP port on 127.0.0.1 that webrtc-rs is handed as a UDP TURN server. Each
//! webrtc-rs socket that talks to it gets its own TCP (or TLS) connection to the real server;
//! each datagram is written on it as one frame, and each frame the server sends back is
//! returned as one datagram (RFC 8656 §12.5: STUN messages and ChannelData as over UDP,
//! ChannelData padded to 4 bytes on a stream).
//!
//! Nothing the server checks changes: it sees one connection per allocation, as it would see
//! one UDP 5-tuple; MESSAGE-INTEGRITY covers the message, not the transport; the relayed
//! address it allocates is a real UDP address, the one the relay candidate carries. Only the
//! server address webrtc-rs knows is local, and it appears in no candidate.

use super::turn_tls::client_config;
use crate::config::CheckedConfig;
use crate::failure::{Diagnosis, FailureReason};
use rustls::pki_types::ServerName;
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// A TURN server reached over a stream.
#[derive(Clone)]
pub(crate) struct StreamServer {
    /// Host name or address, as in the URL (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// TLS settings for `turns:`; `None` for plain TCP.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl StreamServer {
    fn describe(&self) -> String {
        let scheme = if self.tls.is_some() { "turns" } else { "turn" };
        format!("{scheme}:{}:{}", self.host, self.port)
    }
}

/// Connections to the server at once: one per webrtc-rs socket (one per interface, each
/// allocating), and a cap on what other local programs can make it open.
const MAX_FLOWS: usize = 16;
/// Datagrams waiting for a connection's writer (while connecting, e.g.): more are dropped,
/// as a congested UDP path would drop them.
const FLOW_QUEUE: usize = 256;
/// How long connecting (TCP, then TLS) may take before the datagrams waiting are dropped.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The local stand-in of one stream TURN server, serving until dropped.
pub(crate) struct StreamTurn {
    local: SocketAddr,
    task: JoinHandle<()>,
}

impl StreamTurn {
    /// Binds the local port and starts serving it on the current runtime; what goes wrong
    /// reaching the server is noted in `diagnosis`.
    pub async fn start(server: StreamServer, diagnosis: Arc<Diagnosis>) -> io::Result<Self> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let local = socket.local_addr()?;
        log::debug!(target: "engine::turn", "{} is served to webrtc-rs as turn:{local}", server.describe());
        let task = tokio::spawn(serve(Arc::new(socket), server, diagnosis));
        Ok(Self { local, task })
    }

    /// The UDP TURN URL webrtc-rs is given instead of the stream one.
    pub fn url(&self) -> String {
        format!("turn:{}?transport=udp", self.local)
    }
}

impl Drop for StreamTurn {
    fn drop(&mut self) {
        // Its connections are in the task's JoinSet, which aborts them when dropped.
        self.task.abort();
    }
}

async fn serve(socket: Arc<UdpSocket>, server: StreamServer, diagnosis: Arc<Diagnosis>) {
    let mut flows: HashMap<SocketAddr, (u64, mpsc::Sender<Vec<u8>>)> = HashMap::new();
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    // One warning per server: webrtc-rs retransmits, and each retransmission reconnects.
    let warned = Arc::new(AtomicBool::new(false));
    let mut buf = vec![0u8; 65536];
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                // Errors on a UDP socket are ICMP reports of an earlier send (Windows): not fatal.
                let Ok((n, from)) = received else { continue };
                let Some(frame) = to_stream_frame(&buf[..n]) else { continue };
                if flows.get(&from).is_some_and(|(_, tx)| tx.is_closed()) {
                    flows.remove(&from);
                }
                if !flows.contains_key(&from) {
                    if flows.len() >= MAX_FLOWS {
                        continue;
                    }
                    let (tx, rx) = mpsc::channel(FLOW_QUEUE);
                    next_id += 1;
                    let id = next_id;
                    tasks.spawn(flow(socket.clone(), from, server.clone(), rx, warned.clone(), id, diagnosis.clone()));
                    flows.insert(from, (id, tx));
                }
                let _ = flows[&from].1.try_send(frame);
            }
            Some(Ok((from, id))) = tasks.join_next(), if !tasks.is_empty() => {
                // A newer connection for the same socket may already have replaced it.
                if flows.get(&from).is_some_and(|(current, _)| *current == id) {
                    flows.remove(&from);
                }
            }
        }
    }
}

/// One webrtc-rs socket's connection to the server: connects, then carries frames both ways
/// until either side ends it (the allocation ends with the connection, RFC 8656 §3.1).
async fn flow(
    socket: Arc<UdpSocket>,
    client: SocketAddr,
    server: StreamServer,
    mut datagrams: mpsc::Receiver<Vec<u8>>,
    warned: Arc<AtomicBool>,
    id: u64,
    diagnosis: Arc<Diagnosis>,
) -> (SocketAddr, u64) {
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, connect(&server)).await {
        Ok(Ok(stream)) => stream,
        failed => {
            let why = match failed {
                Ok(Err(e)) => {
                    diagnosis.turn_problem(match is_certificate_error(&e) {
                        true => FailureReason::TurnCertificate,
                        false => FailureReason::TurnUnreachable,
                    });
                    e.to_string()
                }
                _ => {
                    diagnosis.turn_problem(FailureReason::TurnUnreachable);
                    "timed out".to_string()
                }
            };
            let message = format!("Could not reach TURN server {}: {why}.", server.describe());
            if warned.swap(true, Ordering::Relaxed) {
                log::debug!(target: "engine::turn", "{message}");
            } else {
                log::warn!(target: "engine::turn", "{message}");
            }
            return (client, id);
        }
    };
    let (mut reader, mut writer) = tokio::io::split(stream);
    let up = async {
        while let Some(frame) = datagrams.recv().await {
            writer.write_all(&frame).await?;
        }
        Ok::<_, io::Error>(())
    };
    let down = async {
        let mut frame = Vec::new();
        loop {
            let len = read_frame(&mut reader, &mut frame).await?;
            socket.send_to(&frame[..len], client).await?;
        }
    };
    let ended: io::Result<()> = tokio::select! { r = up => r, r = down => r };
    if let Err(e) = ended {
        log::debug!(target: "engine::turn", "Connection to TURN server {} ended: {e}.", server.describe());
    }
    (client, id)
}

/// Whether connecting failed because the server's TLS certificate was refused.
fn is_certificate_error(e: &io::Error) -> bool {
    let rustls_error = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    matches!(rustls_error, Some(rustls::Error::InvalidCertificate(_)))
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// TCP to the first address of the host that answers, then TLS for `turns:`.
async fn connect(server: &StreamServer) -> io::Result<Box<dyn Stream>> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host name resolves to no address");
    let mut tcp = None;
    for addr in tokio::net::lookup_host((server.host.as_str(), server.port)).await? {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = e,
        }
    }
    let tcp = tcp.ok_or(last)?;
    // Game traffic: each datagram goes out at once.
    tcp.set_nodelay(true)?;
    let Some(tls) = &server.tls else { return Ok(Box::new(tcp)) };
    let name = ServerName::try_from(server.host.clone()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let stream = tokio_rustls::TlsConnector::from(tls.clone()).connect(name, tcp).await?;
    Ok(Box::new(stream))
}

/// A local stand-in for each `turn:...?transport=tcp` and `turns:` URL of the checked configuration (among the
/// URLs used), by URL. One that cannot start (no local port) is reported and left out.
pub(crate) async fn start_for(checked: &CheckedConfig, diagnosis: &Arc<Diagnosis>) -> HashMap<String, StreamTurn> {
    let wanted: Vec<_> = checked.urls().filter(|(_, parsed)| parsed.is_stream_turn()).collect();
    let mut tls = None;
    if wanted.iter().any(|(_, u)| u.scheme == "turns") {
        // Reading the platform's roots blocks (files, the system's store).
        let extra = checked.turn_ca.clone();
        tls = tokio::task::spawn_blocking(move || client_config(&extra)).await.ok();
        if tls.is_none() {
            log::error!(target: "engine::turn", "Could not prepare TLS; 'turns:' servers will be skipped.");
        }
    }
    let mut started = HashMap::new();
    for (url, parsed) in wanted {
        let tls = match parsed.scheme.as_str() {
            "turns" => match &tls {
                Some(tls) => Some(tls.clone()),
                None => continue,
            },
            _ => None,
        };
        match StreamTurn::start(StreamServer { host: parsed.host.clone(), port: parsed.port, tls }, diagnosis.clone()).await {
            Ok(turn) => {
                started.insert(url.clone(), turn);
            }
            Err(e) => log::error!(target: "engine::turn", "TURN server '{}' will be skipped: no local port for it ({e}).", crate::excerpt(url)),
        }
    }
    started
}

const STUN_HEADER: usize = 20;
const CHANNEL_DATA_HEADER: usize = 4;

/// What kind of TURN message a first byte starts (RFC 8656 §12: the two top bits).
enum Kind {
    Stun,
    ChannelData,
}

fn kind(first: u8) -> Option<Kind> {
    match first >> 6 {
        0b00 => Some(Kind::Stun),
        0b01 => Some(Kind::ChannelData),
        _ => None,
    }
}

/// A datagram from webrtc-rs as a stream frame: a whole STUN message as it is, ChannelData
/// padded to 4 bytes; `None` for anything else (dropped).
pub(crate) fn to_stream_frame(datagram: &[u8]) -> Option<Vec<u8>> {
    let head = datagram.get(..4)?;
    let len = u16::from_be_bytes([head[2], head[3]]) as usize;
    match kind(head[0])? {
        Kind::Stun => (len % 4 == 0 && datagram.len() == STUN_HEADER + len).then(|| datagram.to_vec()),
        Kind::ChannelData => {
            let data = datagram.get(CHANNEL_DATA_HEADER..CHANNEL_DATA_HEADER + len)?;
            let mut frame = Vec::with_capacity(CHANNEL_DATA_HEADER + len.next_multiple_of(4));
            frame.extend_from_slice(head);
            frame.extend_from_slice(data);
            frame.resize(CHANNEL_DATA_HEADER + len.next_multiple_of(4), 0);
            Some(frame)
        }
    }
}

/// Reads one frame into `frame`; returns the length of the datagram it carries (ChannelData
/// without its padding). Anything but STUN or ChannelData is an error: the stream is lost.
async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R, frame: &mut Vec<u8>) -> io::Result<usize> {
    let mut head = [0u8; 4];
    reader.read_exact(&mut head).await?;
    let len = u16::from_be_bytes([head[2], head[3]]) as usize;
    let (total, datagram) = match kind(head[0]) {
        Some(Kind::Stun) if len % 4 == 0 => (STUN_HEADER + len, STUN_HEADER + len),
        Some(Kind::ChannelData) => (CHANNEL_DATA_HEADER + len.next_multiple_of(4), CHANNEL_DATA_HEADER + len),
        _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "the server sent neither STUN nor ChannelData")),
    };
    frame.resize(total, 0);
    frame[..4].copy_from_slice(&head);
    reader.read_exact(&mut frame[4..]).await?;
    Ok(datagram)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stun(attributes: usize) -> Vec<u8> {
        let mut m = vec![0x00, 0x01, 0, attributes as u8, 0x21, 0x12, 0xa4, 0x42];
        m.resize(STUN_HEADER + attributes, 7);
        m
    }

    #[test]
    fn frames_datagrams_for_a_stream() {
        assert_eq!(to_stream_frame(&stun(8)), Some(stun(8)));
        // A STUN message is whole or it is not sent.
        assert_eq!(to_stream_frame(&stun(8)[..24]), None);
        assert_eq!(to_stream_frame(&[stun(8), vec![0]].concat()), None);
        // ChannelData is padded on a stream, whether it came padded or not.
        assert_eq!(to_stream_frame(&[0x40, 0x01, 0, 3, 1, 2, 3]), Some(vec![0x40, 0x01, 0, 3, 1, 2, 3, 0]));
        assert_eq!(to_stream_frame(&[0x40, 0x01, 0, 3, 1, 2, 3, 0]), Some(vec![0x40, 0x01, 0, 3, 1, 2, 3, 0]));
        assert_eq!(to_stream_frame(&[0x40, 0x01, 0, 4, 1, 2, 3]), None);
        // Neither (e.g. DTLS, RTP): not TURN.
        assert_eq!(to_stream_frame(&[0x80, 0, 0, 0]), None);
        assert_eq!(to_stream_frame(&[0x16, 0xfe]), None);
    }

    #[test]
    fn reads_frames_off_a_stream() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let stream = [stun(4), vec![0x40, 0x02, 0, 1, 9, 0, 0, 0], vec![0x40, 0x03, 0, 0], vec![0xc0, 0, 0, 0]].concat();
            let mut reader = &stream[..];
            let mut frame = Vec::new();
            assert_eq!(read_frame(&mut reader, &mut frame).await.unwrap(), 24);
            assert_eq!(frame, stun(4));
            assert_eq!(read_frame(&mut reader, &mut frame).await.unwrap(), 5);
            assert_eq!(&frame[..5], &[0x40, 0x02, 0, 1, 9]);
            assert_eq!(read_frame(&mut reader, &mut frame).await.unwrap(), 4);
            assert_eq!(read_frame(&mut reader, &mut frame).await.unwrap_err().kind(), io::ErrorKind::InvalidData);
            // A frame cut short by the end of the stream.
            let mut short = &stun(8)[..22];
            assert_eq!(read_frame(&mut short, &mut frame).await.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        });
    }
}
