//! The real server binary against one address that opens many connections or guesses lobby
//! codes, directly and behind a trusted proxy; browsers from other origins; and no secret in
//! its log. Clients come from different loopback addresses (127.0.0.0/8).

mod common;

use common::{connect_as, join, recv, send, start};
use serde_json::json;
use std::time::{Duration, Instant};

fn refused_with(result: Result<common::Ws, tokio_tungstenite::tungstenite::Error>, status: u16) {
    match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), status),
        // An address counted by its TCP peer is refused before the handshake: the connection
        // just closes.
        Err(_) if status == 429 => {}
        Err(e) => panic!("refused with {e}, not HTTP {status}"),
        Ok(_) => panic!("accepted, not refused with HTTP {status}"),
    }
}

#[tokio::test]
async fn connections_per_address() {
    let server = start(&["--max-connections-per-address", "3"]);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_as(&server, "127.0.0.2", &[]).await.unwrap());
    }
    refused_with(connect_as(&server, "127.0.0.2", &[]).await, 429);
    // Another address is not affected.
    let mut other = connect_as(&server, "127.0.0.3", &[]).await.unwrap();
    send(&mut other, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut other).await.unwrap()["type"], "pong");
    // A connection closes: the address may open one again.
    held.pop();
    let deadline = Instant::now() + Duration::from_secs(5);
    while connect_as(&server, "127.0.0.2", &[]).await.is_err() {
        assert!(Instant::now() < deadline, "the closed connection is given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn failed_joins_per_address() {
    let server = start(&["--max-failed-joins", "40"]);
    // A lobby of someone else's that the guesser hits by chance now and then: full or sealed
    // reads the same as missing.
    let mut host = connect_as(&server, "127.0.0.4", &[]).await.unwrap();
    let code = join(&mut host, "", false).await["lobby"].as_str().unwrap().to_string();
    send(&mut host, json!({"type": "seal"})).await;
    assert_eq!(recv(&mut host).await.unwrap()["type"], "sealed");

    // Wrong codes and tokens, reconnecting before the error budget ends the connection.
    let started = Instant::now();
    let (mut failed, mut refused) = (0, false);
    'guessing: for round in 0..100 {
        let mut ws = connect_as(&server, "127.0.0.2", &[]).await.unwrap();
        for n in 0..10 {
            let guess = if n == 0 { json!({"type": "join", "lobby": code}) } else if n % 3 == 0 {
                json!({"type": "resume", "token": format!("{code}.1.{:032x}", round * 10 + n)})
            } else {
                json!({"type": "join", "lobby": format!("ZZZ{:03}", round * 10 + n).replace('0', "A").replace('1', "B")})
            };
            send(&mut ws, guess).await;
            let reply = recv(&mut ws).await.unwrap();
            match reply["code"].as_str() {
                Some("no_such_lobby" | "bad_resume") => failed += 1,
                Some("rate_limited") => {
                    refused = true;
                    assert_eq!(recv(&mut ws).await, None, "then closed");
                    break 'guessing;
                }
                other => panic!("{other:?}: {reply}"),
            }
        }
    }
    println!("one address refused after {failed} failed joins in {:?}", started.elapsed());
    assert!(refused && failed <= 40, "refused: {refused}, after {failed} failed joins");
    // Its next connection is refused at its first guess, creating a lobby still works...
    let mut again = connect_as(&server, "127.0.0.2", &[]).await.unwrap();
    assert_eq!(join(&mut again, "NOSUCH", false).await["code"], "rate_limited");
    let mut creator = connect_as(&server, "127.0.0.2", &[]).await.unwrap();
    assert_eq!(join(&mut creator, "", false).await["type"], "joined");
    // ... and other addresses are not affected.
    let mut other = connect_as(&server, "127.0.0.3", &[]).await.unwrap();
    assert_eq!(join(&mut other, "NOSUCH", false).await["code"], "no_such_lobby");
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    let server = start(&["--trusted-proxy", "127.0.0.5,127.0.0.6", "--max-connections-per-address", "2"]);
    let via = |client: &'static str| [("X-Forwarded-For", client)];
    // Through the proxy, each client is counted by the address it forwards.
    let _a = (connect_as(&server, "127.0.0.5", &via("198.51.100.1")).await.unwrap(), connect_as(&server, "127.0.0.6", &via("198.51.100.1")).await.unwrap());
    refused_with(connect_as(&server, "127.0.0.5", &via("198.51.100.1")).await, 429);
    // What a client wrote before the proxy's entry does not count.
    refused_with(connect_as(&server, "127.0.0.5", &via("203.0.113.7, 198.51.100.1")).await, 429);
    let _b = connect_as(&server, "127.0.0.5", &via("198.51.100.2")).await.unwrap();
    // A stranger's header is ignored: it is counted by its own address.
    let _c = (connect_as(&server, "127.0.0.7", &via("198.51.100.3")).await.unwrap(), connect_as(&server, "127.0.0.7", &via("198.51.100.4")).await.unwrap());
    refused_with(connect_as(&server, "127.0.0.7", &via("198.51.100.5")).await, 429);
}

#[tokio::test]
async fn allowed_origins() {
    let server = start(&["--allowed-origin", "https://game.example"]);
    refused_with(connect_as(&server, "127.0.0.2", &[("Origin", "https://evil.example")]).await, 403);
    let mut browser = connect_as(&server, "127.0.0.2", &[("Origin", "https://game.example")]).await.unwrap();
    assert_eq!(join(&mut browser, "", false).await["type"], "joined");
    let mut native = connect_as(&server, "127.0.0.2", &[]).await.unwrap();
    assert_eq!(join(&mut native, "", false).await["type"], "joined", "native clients send no Origin");
}

#[test]
fn no_password_in_the_log() {
    // Nothing listens on port 1: the server says it cannot use Redis, and exits.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_webrtc-rs-signaling"))
        .args(["--listen", "127.0.0.1:0", "--redis", "redis://app:s3cret-pw@127.0.0.1:1/0"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && log.contains("cannot use Redis at redis://app:***@127.0.0.1:1/0"), "{log}");
    assert!(!log.contains("s3cret"), "{log}");
}
