//! One client's connection: WebSocket handshake, then messages in (rate-limited, size-limited)
//! and out, a heartbeat, and leaving the lobby however the connection ends.

use crate::Server;
use crate::lobby::Seat;
use crate::protocol::{self, Refusal, Request};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Refused messages tolerated before the client is dropped.
const MAX_REFUSALS: u32 = 20;

/// Serves one TCP connection until it ends.
pub async fn serve(server: Arc<Server>, stream: TcpStream) {
    if server.clients.fetch_add(1, Ordering::AcqRel) >= server.limits.max_clients {
        server.clients.fetch_sub(1, Ordering::AcqRel);
        return; // dropping the stream refuses the client
    }
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(server.limits.max_message_bytes);
    config.max_frame_size = Some(server.limits.max_message_bytes);
    let handshake = tokio::time::timeout(server.limits.join_limit, tokio_tungstenite::accept_async_with_config(stream, Some(config))).await;
    if let Ok(Ok(ws)) = handshake {
        run(&server, ws).await;
    }
    server.clients.fetch_sub(1, Ordering::AcqRel);
}

async fn run(server: &Server, ws: tokio_tungstenite::WebSocketStream<TcpStream>) {
    let (mut sink, mut stream) = ws.split();
    let (outbox, mut outgoing) = mpsc::unbounded_channel::<String>();
    let mut seat: Option<Seat> = None;
    let mut tokens = server.limits.burst as f64;
    let mut refill = Instant::now();
    let mut refusals = 0u32;
    let mut heartbeat = tokio::time::interval(server.limits.heartbeat);
    let mut last_heard = Instant::now();
    let connected = Instant::now();

    loop {
        tokio::select! {
            msg = stream.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Binary(_))) => { let _ = outbox.send(Refusal::new("bad_message", "messages are JSON text").to_json()); refusals += 1; continue }
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => { last_heard = Instant::now(); continue } // ping / pong
                    Some(Err(e)) => {
                        // Oversized messages end here too: say why before closing.
                        let _ = sink.send(Message::Text(Refusal::new("too_large_or_broken", e.to_string()).to_json().into())).await;
                        break;
                    }
                };
                last_heard = Instant::now();
                // Token bucket: `burst` at once, `per_second` sustained.
                let now = Instant::now();
                tokens = (tokens + now.duration_since(refill).as_secs_f64() * server.limits.per_second as f64).min(server.limits.burst as f64);
                refill = now;
                if tokens < 1.0 {
                    let _ = sink.send(Message::Text(Refusal::new("rate_limited", "too many messages").to_json().into())).await;
                    break;
                }
                tokens -= 1.0;
                match handle(server, &mut seat, &text, &outbox) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(refusal) => {
                        refusals += 1;
                        let _ = outbox.send(refusal.to_json());
                    }
                }
                if refusals > MAX_REFUSALS {
                    let _ = outbox.send(Refusal::new("too_many_errors", "too many refused messages").to_json());
                    break;
                }
            }
            Some(out) = outgoing.recv() => {
                let closed = out.contains("\"lobby_closed\"");
                if sink.send(Message::Text(out.into())).await.is_err() {
                    break;
                }
                if closed {
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
        }
    }
    if let Some(seat) = seat {
        server.registry.lock().unwrap_or_else(|e| e.into_inner()).leave(&seat);
    }
    // Flush what is queued (e.g. the last error), then close.
    while let Ok(out) = outgoing.try_recv() {
        let _ = sink.send(Message::Text(out.into())).await;
    }
    let _ = sink.send(Message::Close(None)).await;
}

/// Handles one message. `Ok(false)` ends the connection.
fn handle(server: &Server, seat: &mut Option<Seat>, text: &str, outbox: &crate::lobby::Outbox) -> Result<bool, Refusal> {
    let request = protocol::parse(text)?;
    let mut registry = server.registry.lock().unwrap_or_else(|e| e.into_inner());
    match request {
        Request::Ping => {
            let _ = outbox.send(r#"{"type":"pong"}"#.to_string());
        }
        Request::Join { lobby, mesh } => {
            if seat.is_some() {
                return Err(Refusal::new("already_joined", "leave this lobby before joining another"));
            }
            let (s, joined) = registry.join(&lobby, mesh, outbox.clone())?;
            let _ = outbox.send(joined);
            *seat = Some(s);
        }
        Request::Relay { kind, to, data } => {
            let s = seat.as_ref().ok_or_else(|| Refusal::new("not_joined", "join a lobby first"))?;
            registry.relay(s, kind, to, data)?;
        }
        Request::Seal => {
            let s = seat.as_ref().ok_or_else(|| Refusal::new("not_joined", "join a lobby first"))?;
            registry.seal(s)?;
        }
        Request::Leave => return Ok(false),
    }
    Ok(true)
}
