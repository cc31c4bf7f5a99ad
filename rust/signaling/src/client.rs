//! One client's connection: WebSocket handshake, then messages in (rate-limited, size-limited)
//! and out, a heartbeat, and leaving the lobby however the connection ends.

use crate::Server;
use crate::protocol::{self, Event, Refusal, Request};
use crate::store::{Outbox, Outgoing, Seat, Store};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Refused messages tolerated before the client is dropped.
const MAX_REFUSALS: u32 = 20;

/// How long a closing connection waits for the client's close reply.
const LINGER: Duration = Duration::from_secs(1);

/// Bytes read from the socket at once. Signaling messages are small (an SDP is 1-3 KiB), and
/// tungstenite allocates this much per connection up front: its default, 128 KiB, made an idle
/// client cost 130 KiB. Longer messages grow the buffer as they need.
const READ_BUFFER: usize = 2048;

/// Queued output a client may leave unread before it is dropped.
const MAX_UNSENT: usize = 1 << 20;

/// The WebSocket settings of every connection.
pub fn websocket_config(max_message_bytes: usize) -> WebSocketConfig {
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = READ_BUFFER;
    // Messages go out as they come (no batching buffer); a client that stops reading is dropped
    // once this much waits for it.
    config.write_buffer_size = 0;
    config.max_write_buffer_size = MAX_UNSENT;
    config.max_message_size = Some(max_message_bytes);
    config.max_frame_size = Some(max_message_bytes);
    config
}

/// Serves one TCP connection until it ends.
pub async fn serve<S: Store>(server: Arc<Server<S>>, stream: TcpStream) {
    if server.clients.fetch_add(1, Ordering::AcqRel) >= server.limits.max_clients {
        server.clients.fetch_sub(1, Ordering::AcqRel);
        return; // dropping the stream refuses the client
    }
    let config = websocket_config(server.limits.max_message_bytes);
    let handshake = tokio::time::timeout(server.limits.join_limit, tokio_tungstenite::accept_async_with_config(stream, Some(config))).await;
    if let Ok(Ok(ws)) = handshake {
        run(&server, ws).await;
    }
    server.clients.fetch_sub(1, Ordering::AcqRel);
}

fn text(event: &Event) -> Message {
    Message::Text(event.to_json().into())
}

async fn run<S: Store>(server: &Server<S>, ws: tokio_tungstenite::WebSocketStream<TcpStream>) {
    let (mut sink, mut stream) = ws.split();
    let (outbox, mut outgoing) = mpsc::unbounded_channel::<Outgoing>();
    let mut seat: Option<Seat> = None;
    let mut tokens = server.limits.burst as f64;
    let mut refill = Instant::now();
    let mut refusals = 0u32;
    let mut heartbeat = tokio::time::interval(server.limits.heartbeat);
    let mut last_heard = Instant::now();
    let connected = Instant::now();
    let mut stopping = server.stopping.clone();

    loop {
        tokio::select! {
            msg = stream.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Binary(_))) => { let _ = outbox.send(Outgoing::Event(Refusal::new("bad_message", "messages are JSON text").to_event())); refusals += 1; continue }
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => { last_heard = Instant::now(); continue } // ping / pong
                    Some(Err(e)) => {
                        // Oversized messages end here too: say why before closing.
                        let _ = sink.send(self::text(&Refusal::new("too_large_or_broken", e.to_string()).to_event())).await;
                        break;
                    }
                };
                last_heard = Instant::now();
                // Token bucket: `burst` at once, `per_second` sustained.
                let now = Instant::now();
                tokens = (tokens + now.duration_since(refill).as_secs_f64() * server.limits.per_second as f64).min(server.limits.burst as f64);
                refill = now;
                if tokens < 1.0 {
                    let _ = sink.send(self::text(&Refusal::new("rate_limited", "too many messages").to_event())).await;
                    break;
                }
                tokens -= 1.0;
                match handle(server, &mut seat, &text, &outbox).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(refusal) => {
                        refusals += 1;
                        let _ = outbox.send(Outgoing::Event(refusal.to_event()));
                    }
                }
                if refusals > MAX_REFUSALS {
                    let _ = outbox.send(Outgoing::Event(Refusal::new("too_many_errors", "too many refused messages").to_event()));
                    break;
                }
            }
            Some(out) = outgoing.recv() => {
                let event = match out {
                    Outgoing::Event(event) => event,
                    Outgoing::Superseded => {
                        seat = None; // it lives on in the connection that resumed it
                        break;
                    }
                };
                if sink.send(text(&event)).await.is_err() {
                    break;
                }
                if event == Event::LobbyClosed {
                    seat = None; // the lobby is gone already
                    break;
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > server.limits.idle_limit || (seat.is_none() && connected.elapsed() > server.limits.join_limit) {
                    break;
                }
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
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
    // Flush what is queued (e.g. the last error), then close.
    while let Ok(Outgoing::Event(event)) = outgoing.try_recv() {
        let _ = sink.send(text(&event)).await;
    }
    let _ = sink.send(Message::Close(None)).await;
    // Read on until the client answers the close (bounded): closing a socket with unread input
    // resets the connection, and the client would lose the error that says why it was dropped.
    let _ = tokio::time::timeout(LINGER, async { while let Some(Ok(_)) = stream.next().await {} }).await;
}

/// Handles one message. `Ok(false)` ends the connection.
async fn handle<S: Store>(server: &Server<S>, seat: &mut Option<Seat>, text: &str, outbox: &Outbox) -> Result<bool, Refusal> {
    let request = protocol::parse(text)?;
    let joined = || seat.as_ref().ok_or_else(|| Refusal::new("not_joined", "join a lobby first"));
    match request {
        Request::Ping => {
            let _ = outbox.send(Outgoing::Event(Event::Pong));
        }
        Request::Join { .. } | Request::Resume { .. } if seat.is_some() => {
            return Err(Refusal::new("already_joined", "leave this lobby before joining another"));
        }
        Request::Join { lobby, mesh } => *seat = Some(server.store.join(&lobby, mesh, outbox).await?),
        Request::Resume { token } => *seat = Some(server.store.resume(&token, outbox).await?),
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
