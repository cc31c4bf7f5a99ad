//! The real server binary against clients that misbehave on purpose: one that stops reading
//! while others send to it, one that talks but never answers pings, and stopping the server
//! while such clients hold it. Each asserts what the README promises (see "Threat model").

mod common;

use common::{Ws, connect, connect_small_buffer, join, recv, rss_kib, send, start};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Sends offers of `size` bytes to peer `to` at `per_second` until `stop`; what `ws` receives
/// goes to `seen`.
fn flood(ws: Ws, to: u64, size: usize, per_second: u32, stop: Arc<AtomicBool>, seen: tokio::sync::mpsc::UnboundedSender<Value>) {
    let (mut sink, mut stream) = ws.split();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            if let Message::Text(t) = msg {
                let _ = seen.send(serde_json::from_str(&t).unwrap());
            }
        }
    });
    tokio::spawn(async move {
        let offer = json!({"type": "offer", "to": to, "data": {"sdp": "x".repeat(size)}}).to_string();
        let mut tick = tokio::time::interval(Duration::from_secs(1) / per_second);
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            if sink.send(Message::Text(offer.clone().into())).await.is_err() {
                break;
            }
        }
    });
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_its_slot_freed() {
    // Five slots: the slow client and four senders fill them.
    let server = start(&["--max-clients", "5"]);
    let pid = server.child.id();
    let mut slow = connect(&server).await;
    let code = join(&mut slow, "", true).await["lobby"].as_str().unwrap().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..4 {
        let mut ws = connect(&server).await;
        assert_eq!(join(&mut ws, &code, true).await["type"], "joined");
        flood(ws, 1, 8 * 1024, 90, stop.clone(), if n == 0 { seen_tx.clone() } else { tokio::sync::mpsc::unbounded_channel().0 });
    }
    drop(seen_tx);
    // From now on `slow` reads nothing: 4 x 90 offers of 8 KiB a second pile up for it.
    let baseline = rss_kib(pid);
    let started = Instant::now();
    assert!(tokio_tungstenite::connect_async(&server.url).await.is_err(), "every slot is taken");
    let mut peak = baseline;
    let mut sample = tokio::time::interval(Duration::from_millis(100));
    let left = loop {
        tokio::select! {
            v = seen.recv() => {
                let v = v.expect("sender 0 still connected");
                if v == json!({"type": "peer_left", "id": 1}) {
                    break started.elapsed();
                }
            }
            _ = sample.tick() => {
                peak = peak.max(rss_kib(pid));
                assert!(started.elapsed() < Duration::from_secs(20), "the slow client is still in its lobby after 20 s");
            }
        }
    };
    stop.store(true, Ordering::Relaxed);
    peak = peak.max(rss_kib(pid));
    println!("non-reading client dropped after {left:?}; server RSS {baseline} KiB -> peak {peak} KiB (+{} KiB)", peak - baseline);
    assert!(peak - baseline <= 32 * 1024, "server RSS grew {} KiB", peak - baseline);

    // Its slot is free: a fresh client is accepted and joins the lobby.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut fresh = loop {
        if let Ok((ws, _)) = tokio_tungstenite::connect_async(&server.url).await {
            break ws;
        }
        assert!(Instant::now() < deadline, "the slow client's slot is freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(join(&mut fresh, &code, true).await["type"], "joined");
    drop(slow);
}

#[tokio::test]
async fn idle_means_not_answering_pings() {
    let server = start(&["--heartbeat-ms", "100", "--idle-ms", "400"]);
    let mut witness = connect(&server).await;
    let code = join(&mut witness, "", true).await["lobby"].as_str().unwrap().to_string();
    // One sends JSON pings and never reads; one sends pongs of its own and never reads.
    let mut talker = connect(&server).await;
    let talker_id = join(&mut talker, &code, true).await["id"].clone();
    let mut forger = connect(&server).await;
    let forger_id = join(&mut forger, &code, true).await["id"].clone();
    assert_eq!(recv(&mut witness).await.unwrap()["type"], "peer_joined");
    assert_eq!(recv(&mut witness).await.unwrap()["type"], "peer_joined");
    let talking = tokio::spawn(async move {
        for _ in 0..60 {
            let ping = Message::Text(json!({"type": "ping"}).to_string().into());
            let pong = Message::Pong(Vec::new().into());
            if talker.send(ping).await.is_err() || forger.send(pong).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let started = Instant::now();
    let mut left = vec![recv(&mut witness).await.unwrap(), recv(&mut witness).await.unwrap()];
    left.sort_by_key(|v| v.to_string());
    let mut want = vec![json!({"type": "peer_left", "id": talker_id}), json!({"type": "peer_left", "id": forger_id})];
    want.sort_by_key(|v| v.to_string());
    assert_eq!(left, want, "both dropped though they kept sending");
    assert!(started.elapsed() < Duration::from_secs(3), "dropped after {:?}", started.elapsed());
    talking.abort();
    // The witness read all along, so it answered the pings and is still there.
    send(&mut witness, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut witness).await.unwrap()["type"], "pong");
}

#[tokio::test]
async fn sigterm_finishes_in_5_s_whatever_clients_do() {
    // Long limits, so that only stopping ends the stuck clients.
    let mut server = start(&["--send-timeout-ms", "60000", "--max-unsent-bytes", "100000000", "--join-ms", "60000", "--idle-ms", "60000"]);
    // A client that stops reading with its socket buffer small: the server's write to it waits.
    let mut slow = connect_small_buffer(&server, 4096).await;
    let code = join(&mut slow, "", true).await["lobby"].as_str().unwrap().to_string();
    let mut sender = connect(&server).await;
    assert_eq!(join(&mut sender, &code, true).await["type"], "joined");
    let stop = Arc::new(AtomicBool::new(false));
    flood(sender, 1, 8 * 1024, 90, stop.clone(), tokio::sync::mpsc::unbounded_channel().0);
    // A connection that never finishes its WebSocket handshake.
    let _mute = tokio::net::TcpStream::connect(server.url.trim_start_matches("ws://")).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let started = Instant::now();
    assert_eq!(unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) }, 0);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still running 5 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("SIGTERM to exit: {:?}", started.elapsed());
    assert!(status.success(), "{status}");
    stop.store(true, Ordering::Relaxed);
    drop(slow);
}

/// Sends `frames` as fast as it can, then returns what came back before the server closed.
async fn flood_frames(ws: &mut Ws, frame: Message, frames: usize) -> Vec<String> {
    for _ in 0..frames {
        if ws.send(frame.clone()).await.is_err() {
            break;
        }
    }
    let mut replies = Vec::new();
    while let Some(v) = recv(ws).await {
        replies.push(v["code"].as_str().unwrap_or(v["type"].as_str().unwrap_or("")).to_string());
    }
    replies
}

#[tokio::test]
async fn binary_and_ping_floods_are_cut() {
    let server = start(&[]);
    // Binary frames are refused messages: the error budget ends the connection.
    let mut binary = connect(&server).await;
    let replies = flood_frames(&mut binary, Message::Binary(vec![0u8; 16].into()), 5000).await;
    assert!(replies.len() <= 30, "{} replies to binary frames", replies.len());
    assert_eq!(replies.last().map(String::as_str), Some("too_many_errors"), "{replies:?}");
    // Pings (answered by the WebSocket layer) count against the rate limit.
    let mut pings = connect(&server).await;
    let replies = flood_frames(&mut pings, Message::Ping(Vec::new().into()), 5000).await;
    assert_eq!(replies, ["rate_limited"]);
    // Others are still served.
    let mut fresh = connect(&server).await;
    assert_eq!(join(&mut fresh, "", true).await["type"], "joined");
}

#[tokio::test]
async fn a_forged_resume_without_redis_changes_nothing() {
    let server = start(&[]);
    let mut host = connect(&server).await;
    let code = join(&mut host, "", false).await["lobby"].as_str().unwrap().to_string();
    let mut client = connect(&server).await;
    let cid = join(&mut client, &code, false).await["id"].as_u64().unwrap();
    assert_eq!(recv(&mut host).await.unwrap(), json!({"type": "peer_joined", "id": cid}));
    let mut forger = connect(&server).await;
    send(&mut forger, json!({"type": "resume", "token": format!("{code}.1.forged")})).await;
    assert_eq!(recv(&mut forger).await.unwrap()["code"], "bad_resume");
    send(&mut client, json!({"type": "offer", "to": 1, "data": {"sdp": "after"}})).await;
    assert_eq!(recv(&mut host).await.unwrap(), json!({"type": "offer", "from": cid, "data": {"sdp": "after"}}), "the host is still there");
}
