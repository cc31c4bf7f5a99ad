//! One client's connection: WebSocket handshake, then messages in (rate-limited, size-limited)
//! and out, a heartbeat, and leaving the lobby however the connection ends.

use crate::Server;
use crate::protocol::{self, Event, Refusal, Request};
use crate::rate_limit::TokenBucket;
use crate::outbox::{self, Mailbox, Queued};
use crate::store::{Outbox, Outgoing, Seat, Store};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use crate::address::Slot;
use std::net::IpAddr;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request as Handshake, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Refused messages tolerated before the client is dropped.
const MAX_REFUSALS: u32 = 20;

/// How long a closing connection waits for its close frame to go out, and for the client's reply.
const LINGER: Duration = Duration::from_secs(1);

/// Bytes read from the socket at once. Signaling messages are small (an SDP is 1-3 KiB), and
/// tungstenite allocates this much per connection up front: its default, 128 KiB, made an idle
/// client cost 130 KiB. Longer messages grow the buffer as they need.
const READ_BUFFER: usize = 2048;

/// What tungstenite may hold unwritten: one message at a time is handed to it (the outbox
/// holds the rest), so this is never reached by a message the server relays.
const MAX_WRITE_BUFFER: usize = 1 << 20;

/// The WebSocket settings of every connection.
pub fn websocket_config(max_message_bytes: usize) -> WebSocketConfig {
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = READ_BUFFER;
    // Messages go out as they come (no batching buffer).
    config.write_buffer_size = 0;
    config.max_write_buffer_size = MAX_WRITE_BUFFER;
    config.max_message_size = Some(max_message_bytes);
    config.max_frame_size = Some(max_message_bytes);
    config
}

/// Serves one TCP connection from `peer` until it ends.
pub async fn serve<S: Store>(server: Arc<Server<S>>, stream: TcpStream, peer: IpAddr) {
    if server.clients.fetch_add(1, Ordering::AcqRel) >= server.limits.max_clients {
        server.clients.fetch_sub(1, Ordering::AcqRel);
        return; // dropping the stream refuses the client
    }
    // A client that is not behind a trusted proxy is counted before its handshake.
    let trusted = server.access.trusted_proxies.contains(&peer);
    let mut slot = if trusted { None } else { server.addresses.connect(peer, Instant::now()) };
    if trusted || slot.is_some() {
        let config = websocket_config(server.limits.max_message_bytes);
        let check = |request: &Handshake, response: Response| {
            let header = |name: &str| request.headers().get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
            if !server.access.origin_allowed(header("origin").first().copied()) {
                return Err(refuse(StatusCode::FORBIDDEN, "origin not allowed"));
            }
            if slot.is_none() {
                let client = server.access.client_address(peer, &header("x-forwarded-for"));
                slot = server.addresses.connect(client, Instant::now());
                if slot.is_none() {
                    return Err(refuse(StatusCode::TOO_MANY_REQUESTS, "too many connections from your address"));
                }
            }
            Ok(response)
        };
        let handshake = tokio::time::timeout(server.limits.join_limit, tokio_tungstenite::accept_hdr_async_with_config(stream, check, Some(config))).await;
        if let (Ok(Ok(ws)), Some(slot)) = (handshake, &slot) {
            run(&server, ws, slot).await;
        }
    }
    drop(slot);
    server.clients.fetch_sub(1, Ordering::AcqRel);
}

/// An HTTP refusal of the WebSocket handshake.
fn refuse(status: StatusCode, why: &str) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(why.to_string()));
    *response.status_mut() = status;
    response
}

type Socket = tokio_tungstenite::WebSocketStream<TcpStream>;

/// A reader and a writer, each its own future in this task: the reader goes on reading,
/// answering and heartbeating while a write waits for a slow client, and the writer gives up
/// on a client that does not take a message in time.
async fn run<S: Store>(server: &Server<S>, ws: Socket, slot: &Slot<'_>) {
    let (sink, stream) = ws.split();
    let (outbox, mailbox) = Outbox::new(server.limits.max_unsent_bytes);
    let (gone, writer_gone) = oneshot::channel::<()>();
    tokio::join!(read(server, slot, stream, outbox, writer_gone), write(sink, mailbox, server.limits.send_timeout, gone));
}

/// Writes what is queued until the close frame, or until the client does not take a message
/// within `timeout`. Dropping `gone` tells the reader.
async fn write(mut sink: SplitSink<Socket, Message>, mut mailbox: Mailbox, timeout: Duration, gone: oneshot::Sender<()>) {
    while let Some(item) = mailbox.next().await {
        let (message, wait, last) = match item {
            Queued::Text(t) => (Message::Text(t.into()), timeout, false),
            Queued::Ping(p) => (Message::Ping(p.into()), timeout, false),
            Queued::Close => (Message::Close(None), LINGER, true),
        };
        if !matches!(tokio::time::timeout(wait, sink.send(message)).await, Ok(Ok(()))) || last {
            break;
        }
    }
    drop(gone);
}

/// Reads and handles the client's messages until the connection is to end, leaves the lobby
/// (unless the seat lives on elsewhere), then queues the close frame and waits (bounded) for
/// the client's reply to it.
async fn read<S: Store>(server: &Server<S>, slot: &Slot<'_>, mut stream: SplitStream<Socket>, outbox: Outbox, mut writer_gone: oneshot::Receiver<()>) {
    let mut seat: Option<Seat> = None;
    let mut rate = TokenBucket::new(server.limits.burst, server.limits.per_second, Instant::now());
    let mut refusals = 0u32;
    let mut heartbeat = tokio::time::interval(server.limits.heartbeat);
    // Pongs count only if they carry the payload of one of the last two pings: a client that
    // does not read cannot know it.
    let mut pings = [[0u8; 8]; 2];
    let mut last_pong = Instant::now();
    let connected = Instant::now();
    let mut stopping = server.stopping.clone();

    loop {
        tokio::select! {
            msg = stream.next() => {
                let msg = match msg {
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(msg)) => msg,
                    Some(Err(e)) => {
                        // Oversized messages end here too: say why before closing.
                        outbox.send(Outgoing::Event(Refusal::new("too_large_or_broken", e.to_string()).to_event()));
                        break;
                    }
                };
                // Every frame counts, pings and binary ones too: each costs the server work.
                if !rate.take(Instant::now()) {
                    outbox.send(Outgoing::Event(Refusal::new("rate_limited", "too many messages").to_event()));
                    break;
                }
                let outcome = match msg {
                    Message::Text(text) => handle(server, slot, &mut seat, &text, &outbox).await,
                    Message::Binary(_) => Err(Refusal::new("bad_message", "messages are JSON text")),
                    Message::Pong(p) => {
                        if pings.iter().any(|sent| p[..] == sent[..]) {
                            last_pong = Instant::now();
                        }
                        continue;
                    }
                    _ => continue, // ping (tungstenite answers it) or a raw frame
                };
                match outcome {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(refusal) => {
                        refusals += 1;
                        outbox.send(Outgoing::Event(refusal.to_event()));
                    }
                }
                if refusals > MAX_REFUSALS {
                    outbox.send(Outgoing::Event(Refusal::new("too_many_errors", "too many refused messages").to_event()));
                    break;
                }
            }
            why = outbox.ended() => {
                if why & (outbox::SUPERSEDED | outbox::LOBBY_CLOSED) != 0 {
                    // The seat lives on in the connection that resumed it, or the lobby is gone.
                    seat = None;
                }
                break; // else the client does not keep up: it leaves
            }
            _ = &mut writer_gone => break, // the client did not take a message in time
            _ = heartbeat.tick() => {
                if last_pong.elapsed() > server.limits.idle_limit || (seat.is_none() && connected.elapsed() > server.limits.join_limit) {
                    break;
                }
                pings = [pings[1], getrandom::u64().unwrap_or(0).to_le_bytes()];
                outbox.ping(pings[1].to_vec());
            }
            _ = crate::stopped(&mut stopping) => {
                // The instance stops: the seat stays in the shared store for the client to resume
                // on another instance.
                seat = None;
                break;
            }
        }
    }
    if let Some(seat) = seat {
        server.store.leave(&seat).await;
    }
    // What is queued goes first (e.g. the last error), then the close frame.
    outbox.close();
    // Read on until the client answers the close (bounded): closing a socket with unread input
    // resets the connection, and the client would lose the error that says why it was dropped.
    let _ = tokio::time::timeout(2 * LINGER, async { while let Some(Ok(_)) = stream.next().await {} }).await;
}

/// Handles one message. `Ok(false)` ends the connection.
async fn handle<S: Store>(server: &Server<S>, slot: &Slot<'_>, seat: &mut Option<Seat>, text: &str, outbox: &Outbox) -> Result<bool, Refusal> {
    let request = protocol::parse(text)?;
    let joined = || seat.as_ref().ok_or_else(|| Refusal::new("not_joined", "join a lobby first"));
    match request {
        Request::Ping => outbox.send(Outgoing::Event(Event::Pong)),
        Request::Join { .. } | Request::Resume { .. } if seat.is_some() => {
            return Err(Refusal::new("already_joined", "leave this lobby before joining another"));
        }
        Request::Join { lobby, mesh } if lobby.is_empty() => *seat = Some(server.store.join("", mesh, outbox).await?),
        // A code or a token can be guessed: each address has a budget of wrong ones.
        Request::Join { .. } | Request::Resume { .. } if !server.addresses.may_fail(slot, Instant::now()) => {
            outbox.send(Outgoing::Event(Refusal::new("rate_limited", "too many failed joins from your address; wait a minute").to_event()));
            return Ok(false);
        }
        Request::Join { lobby, mesh } => *seat = Some(guess(server, slot, server.store.join(&lobby, mesh, outbox).await)?),
        Request::Resume { token } => *seat = Some(guess(server, slot, server.store.resume(&token, outbox).await)?),
        Request::Offer(_) | Request::Answer(_) | Request::Candidate(_) => {
            let from = joined()?;
            let (kind, relay) = request.relay().expect("a relayed message");
            server.store.relay(from, kind, relay.to, relay.data).await?;
        }
        Request::Seal => server.store.seal(joined()?).await?,
        Request::Leave => return Ok(false),
    }
    Ok(true)
}

/// The outcome of a join by code or token, a wrong one counted against the address.
fn guess<S: Store>(server: &Server<S>, slot: &Slot<'_>, outcome: Result<Seat, Refusal>) -> Result<Seat, Refusal> {
    if outcome.as_ref().is_err_and(|r| r.code == "no_such_lobby" || r.code == "bad_resume") {
        server.addresses.failed(slot, Instant::now());
    }
    outcome
}
