//! The real server binary on 127.0.0.1 with WebSocket clients: lobbies, relay, isolation,
//! seal, leave, and its behaviour on malformed, unknown, oversized and too frequent messages.

mod common;

use common::{connect, join, recv, send, start};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn lobby_relay_seal_and_leave() {
    let server = start(&[]);
    let mut host = connect(&server).await;
    let joined = join(&mut host, "", false).await;
    assert_eq!(joined["type"], "joined");
    assert_eq!(joined["id"], 1);
    let code = joined["lobby"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);

    let mut c = connect(&server).await;
    let cj = join(&mut c, &code, false).await;
    let cid = cj["id"].as_u64().unwrap();
    assert!(cid >= 2 && cid <= i32::MAX as u64);
    assert_eq!(cj["peers"], json!([1]));
    assert_eq!(recv(&mut host).await.unwrap(), json!({"type": "peer_joined", "id": cid}));

    send(&mut host, json!({"type": "offer", "to": cid, "data": {"sdp": "v=0"}})).await;
    assert_eq!(recv(&mut c).await.unwrap(), json!({"type": "offer", "from": 1, "data": {"sdp": "v=0"}}));
    send(&mut c, json!({"type": "answer", "to": 1, "data": {"sdp": "v=1"}})).await;
    assert_eq!(recv(&mut host).await.unwrap()["from"], cid);

    // Another lobby cannot be reached.
    let mut other = connect(&server).await;
    let oj = join(&mut other, "", false).await;
    assert_ne!(oj["lobby"], code.as_str());
    send(&mut other, json!({"type": "offer", "to": cid, "data": {}})).await;
    assert_eq!(recv(&mut other).await.unwrap()["code"], "unknown_peer");

    // Only the host seals; then nobody joins.
    send(&mut c, json!({"type": "seal"})).await;
    assert_eq!(recv(&mut c).await.unwrap()["code"], "not_host");
    send(&mut host, json!({"type": "seal"})).await;
    assert_eq!(recv(&mut host).await.unwrap()["type"], "sealed");
    assert_eq!(recv(&mut c).await.unwrap()["type"], "sealed");
    let mut late = connect(&server).await;
    assert_eq!(join(&mut late, &code, false).await["code"], "no_such_lobby", "sealed: to a stranger, as if there were none");

    // The host leaving ends a server/client lobby.
    send(&mut host, json!({"type": "leave"})).await;
    assert_eq!(recv(&mut c).await.unwrap(), json!({"type": "peer_left", "id": 1}));
    assert_eq!(recv(&mut c).await.unwrap()["type"], "lobby_closed");
    assert_eq!(recv(&mut c).await, None, "the server closes the connection");
}

#[tokio::test]
async fn mesh_peers_signal_each_other() {
    let server = start(&[]);
    let mut a = connect(&server).await;
    let code = join(&mut a, "", true).await["lobby"].as_str().unwrap().to_string();
    let mut b = connect(&server).await;
    let bid = join(&mut b, &code, true).await["id"].as_u64().unwrap();
    let mut c = connect(&server).await;
    let cj = join(&mut c, &code, true).await;
    assert_eq!(cj["mesh"], true);
    assert_eq!(cj["peers"].as_array().unwrap().len(), 2);
    let cid = cj["id"].as_u64().unwrap();
    recv(&mut b).await; // peer_joined c
    send(&mut b, json!({"type": "candidate", "to": cid, "data": {"c": 1}})).await;
    assert_eq!(recv(&mut c).await.unwrap()["from"], bid);
    drop(b);
    assert_eq!(recv(&mut c).await.unwrap(), json!({"type": "peer_left", "id": bid}));
}

#[tokio::test]
async fn bad_messages_are_refused_and_the_server_stays_up() {
    let server = start(&["--max-lobby-size", "2", "--per-second", "5", "--burst", "10", "--max-message-bytes", "1024"]);
    let mut ws = connect(&server).await;
    ws.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "bad_json");
    send(&mut ws, json!({"type": "offer", "to": 2})).await;
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "not_joined");
    assert_eq!(join(&mut ws, "NOSUCH", false).await["code"], "no_such_lobby");
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut ws).await.unwrap()["type"], "pong", "still served after errors");

    // Lobby size.
    let code = join(&mut ws, "", false).await["lobby"].as_str().unwrap().to_string();
    let mut second = connect(&server).await;
    assert_eq!(join(&mut second, &code, false).await["type"], "joined");
    let mut third = connect(&server).await;
    assert_eq!(join(&mut third, &code, false).await["code"], "no_such_lobby", "full: to a stranger, as if there were none");

    // Oversized: refused and disconnected.
    let mut big = connect(&server).await;
    big.send(Message::Text("x".repeat(4096).into())).await.unwrap();
    let reply = recv(&mut big).await;
    assert!(reply.is_none() || reply.unwrap()["code"] == "too_large_or_broken");
    assert_eq!(recv(&mut big).await, None);

    // Flooding: rate limited and disconnected.
    let mut flood = connect(&server).await;
    let mut codes = Vec::new();
    for _ in 0..50 {
        if flood.send(Message::Text(json!({"type": "ping"}).to_string().into())).await.is_err() {
            break;
        }
    }
    while let Some(v) = recv(&mut flood).await {
        codes.push(v["type"].as_str().unwrap_or("").to_string() + ":" + v["code"].as_str().unwrap_or(""));
    }
    assert!(codes.iter().any(|c| c == "error:rate_limited"), "{codes:?}");

    // Still up for everyone else.
    let mut fresh = connect(&server).await;
    assert_eq!(join(&mut fresh, "", true).await["type"], "joined");
}

#[tokio::test]
async fn silent_or_lobbyless_clients_are_dropped() {
    let server = start(&["--heartbeat-ms", "100", "--idle-ms", "400", "--join-ms", "300"]);
    // Never joins: dropped after the join limit.
    let mut idle = connect(&server).await;
    let start = std::time::Instant::now();
    assert_eq!(recv(&mut idle).await, None);
    assert!(start.elapsed() < Duration::from_secs(3));
    // A client that joined and answers the server's pings (tungstenite answers them while we
    // read) stays past the idle limit.
    let mut alive = connect(&server).await;
    assert_eq!(join(&mut alive, "", false).await["type"], "joined");
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1000);
    while tokio::time::Instant::now() < deadline {
        if let Ok(msg) = tokio::time::timeout(Duration::from_millis(50), alive.next()).await {
            assert!(matches!(msg, Some(Ok(Message::Ping(_)))), "only pings while idle: {msg:?}");
        }
    }
    send(&mut alive, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut alive).await.unwrap()["type"], "pong", "still connected after 1 s");
    // A joined client that goes silent (never reads, so never answers pings) is dropped: the
    // server/client lobby it hosts ends, which another peer of it sees.
    let mut silent = connect(&server).await;
    let silent_joined = join(&mut silent, "", false).await;
    let mut witness = connect(&server).await;
    assert_eq!(join(&mut witness, silent_joined["lobby"].as_str().unwrap(), false).await["type"], "joined");
    assert_eq!(recv(&mut witness).await.unwrap(), json!({"type": "peer_left", "id": 1}));
    assert_eq!(recv(&mut witness).await.unwrap()["type"], "lobby_closed");
    assert_eq!(recv(&mut silent).await.unwrap()["type"], "peer_joined", "what it was sent before it went silent");
    assert_eq!(recv(&mut silent).await, None, "a silent client is disconnected");
}

#[tokio::test]
async fn client_and_lobby_counts_are_flags() {
    let server = start(&["--max-clients", "2", "--max-lobbies", "1"]);
    let mut a = connect(&server).await;
    assert_eq!(join(&mut a, "", false).await["type"], "joined");
    let mut b = connect(&server).await;
    assert_eq!(join(&mut b, "", false).await["code"], "server_full", "one lobby at most");
    // A third connection is dropped before the WebSocket handshake.
    assert!(tokio_tungstenite::connect_async(&server.url).await.is_err(), "two clients at most");
    drop(b);
    // b's slot frees once the server sees it gone.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut c = loop {
        if let Ok((ws, _)) = tokio_tungstenite::connect_async(&server.url).await {
            break ws;
        }
        assert!(tokio::time::Instant::now() < deadline, "a slot frees when a client leaves");
        tokio::task::yield_now().await;
    };
    send(&mut c, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut c).await.unwrap()["type"], "pong");
}
