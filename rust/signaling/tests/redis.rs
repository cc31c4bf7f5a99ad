//! Several server instances sharing lobbies through a real `redis-server` on a private Unix
//! socket: one lobby across instances, a killed instance's clients resuming on another, and
//! Redis restarting without its data.
//!
//! `redis-server` is `$WEBRTC_RS_REDIS_SERVER`, else the first on `PATH` (see `common::Redis`):
//! these tests are `#[ignore]`d under a plain `cargo test`; `cargo xtask test` installs it and
//! runs them.

mod common;

use common::{Redis, ServerProcess, Ws, connect, join, recv, recv_within, send, start};
use serde_json::{Value, json};
use std::time::Duration;

fn instance(redis: &Redis) -> ServerProcess {
    start(&["--redis", &redis.url(), "--resume-ms", "1500"])
}

async fn expect(ws: &mut Ws, want: Value) {
    assert_eq!(recv(ws).await.unwrap(), want);
}

#[tokio::test]
#[ignore = "needs redis-server (WEBRTC_RS_REDIS_SERVER or PATH): cargo xtask test installs it and runs these"]
async fn clients_on_different_instances_share_a_lobby() {
    let redis = Redis::start("share");
    let (a, b, c) = (instance(&redis), instance(&redis), instance(&redis));

    let mut host = connect(&a).await;
    let hj = join(&mut host, "", false).await;
    assert_eq!((hj["type"].as_str(), hj["id"].as_u64()), (Some("joined"), Some(1)));
    assert!(hj["resume"].as_str().is_some_and(|t| t.len() > 20), "a resume token: {hj}");
    let code = hj["lobby"].as_str().unwrap().to_string();

    let mut on_b = connect(&b).await;
    let bj = join(&mut on_b, &code, false).await;
    let bid = bj["id"].as_u64().unwrap();
    assert_eq!(bj["peers"], json!([1]));
    expect(&mut host, json!({"type": "peer_joined", "id": bid})).await;

    let mut on_c = connect(&c).await;
    let cid = join(&mut on_c, &code, false).await["id"].as_u64().unwrap();
    expect(&mut host, json!({"type": "peer_joined", "id": cid})).await;
    expect(&mut on_b, json!({"type": "peer_joined", "id": cid})).await;

    // Relayed between instances, both ways; server/client rules hold across them.
    send(&mut host, json!({"type": "offer", "to": bid, "data": {"sdp": "v=0"}})).await;
    expect(&mut on_b, json!({"type": "offer", "from": 1, "data": {"sdp": "v=0"}})).await;
    send(&mut on_c, json!({"type": "answer", "to": 1, "data": {"sdp": "v=1"}})).await;
    expect(&mut host, json!({"type": "answer", "from": cid, "data": {"sdp": "v=1"}})).await;
    send(&mut on_c, json!({"type": "offer", "to": bid, "data": {}})).await;
    assert_eq!(recv(&mut on_c).await.unwrap()["code"], "unknown_peer");

    // Codes are unique across instances; unknown ones are refused everywhere.
    let mut codes = std::collections::HashSet::new();
    for server in [&a, &b, &c] {
        let mut ws = connect(server).await;
        assert!(codes.insert(join(&mut ws, "", true).await["lobby"].as_str().unwrap().to_string()));
    }
    assert!(!codes.contains(&code));
    let mut stranger = connect(&b).await;
    assert_eq!(join(&mut stranger, "NOSUCH", false).await["code"], "no_such_lobby");

    // Sealing reaches every instance.
    send(&mut host, json!({"type": "seal"})).await;
    for ws in [&mut host, &mut on_b, &mut on_c] {
        expect(ws, json!({"type": "sealed"})).await;
    }
    let mut late = connect(&c).await;
    assert_eq!(join(&mut late, &code, false).await["code"], "no_such_lobby", "sealed: to a stranger, as if there were none");

    // Leaving, and the host's leaving ending the lobby, too.
    send(&mut on_b, json!({"type": "leave"})).await;
    expect(&mut host, json!({"type": "peer_left", "id": bid})).await;
    expect(&mut on_c, json!({"type": "peer_left", "id": bid})).await;
    drop(host);
    expect(&mut on_c, json!({"type": "peer_left", "id": 1})).await;
    expect(&mut on_c, json!({"type": "lobby_closed"})).await;
    assert_eq!(recv(&mut on_c).await, None);
    let mut again = connect(&a).await;
    assert_eq!(join(&mut again, &code, false).await["code"], "no_such_lobby");
}

#[tokio::test]
#[ignore = "needs redis-server (WEBRTC_RS_REDIS_SERVER or PATH): cargo xtask test installs it and runs these"]
async fn clients_of_a_killed_instance_resume_on_another() {
    let redis = Redis::start("kill");
    let (mut a, b) = (instance(&redis), instance(&redis));

    let mut host = connect(&a).await;
    let hj = join(&mut host, "", true).await;
    let code = hj["lobby"].as_str().unwrap().to_string();
    let token = hj["resume"].as_str().unwrap().to_string();
    let mut gone = connect(&a).await; // will not come back
    let gone_id = join(&mut gone, &code, true).await["id"].as_u64().unwrap();
    let mut on_b = connect(&b).await;
    let bid = join(&mut on_b, &code, true).await["id"].as_u64().unwrap();
    expect(&mut host, json!({"type": "peer_joined", "id": gone_id})).await;
    expect(&mut host, json!({"type": "peer_joined", "id": bid})).await;
    expect(&mut gone, json!({"type": "peer_joined", "id": bid})).await;

    a.child.kill().unwrap();
    a.child.wait().unwrap();
    assert_eq!(recv(&mut host).await, None, "its instance is gone");

    // The host takes its seat back on b: same id, same lobby, the others still there.
    let mut host = connect(&b).await;
    send(&mut host, json!({"type": "resume", "token": token})).await;
    let resumed = recv(&mut host).await.unwrap();
    assert_eq!((resumed["type"].as_str(), resumed["id"].as_u64(), resumed["lobby"].as_str()), (Some("joined"), Some(1), Some(code.as_str())));
    let mut peers: Vec<u64> = resumed["peers"].as_array().unwrap().iter().map(|p| p.as_u64().unwrap()).collect();
    peers.sort();
    let mut want = vec![gone_id, bid];
    want.sort();
    assert_eq!(peers, want);
    send(&mut host, json!({"type": "offer", "to": bid, "data": {"sdp": "again"}})).await;

    // b's peer saw no departure of the host: it gets the offer and, once the grace period is
    // over, the departure of the peer that did not come back (alive key expiry + grace: up to
    // about 6 s).
    let mut seen = vec![recv_within(&mut on_b, 20).await.unwrap(), recv_within(&mut on_b, 20).await.unwrap()];
    seen.sort_by_key(|v| v.to_string());
    assert_eq!(seen, vec![json!({"type": "offer", "from": 1, "data": {"sdp": "again"}}), json!({"type": "peer_left", "id": gone_id})]);
    assert_eq!(recv_within(&mut host, 20).await.unwrap(), json!({"type": "peer_left", "id": gone_id}));

    // The lobby works on for newcomers; a token works once per seat holder.
    let mut newcomer = connect(&b).await;
    let nj = join(&mut newcomer, &code, true).await;
    assert_eq!(nj["type"], "joined");
    expect(&mut host, json!({"type": "peer_joined", "id": nj["id"]})).await;
    let mut thief = connect(&b).await;
    send(&mut thief, json!({"type": "resume", "token": format!("{code}.{bid}.00")})).await;
    assert_eq!(recv(&mut thief).await.unwrap()["code"], "bad_resume");
}

#[tokio::test]
#[ignore = "needs redis-server (WEBRTC_RS_REDIS_SERVER or PATH): cargo xtask test installs it and runs these"]
async fn resuming_on_the_same_instance_closes_the_old_connection() {
    let redis = Redis::start("same");
    let a = instance(&redis);
    let mut host = connect(&a).await;
    let hj = join(&mut host, "", false).await;
    let mut second = connect(&a).await;
    send(&mut second, json!({"type": "resume", "token": hj["resume"]})).await;
    assert_eq!(recv(&mut second).await.unwrap()["id"], 1);
    assert_eq!(recv(&mut host).await, None, "superseded");
    send(&mut second, json!({"type": "ping"})).await;
    expect(&mut second, json!({"type": "pong"})).await;
}

#[tokio::test]
#[ignore = "needs redis-server (WEBRTC_RS_REDIS_SERVER or PATH): cargo xtask test installs it and runs these"]
async fn instances_recover_when_redis_restarts_empty() {
    let mut redis = Redis::start("restart");
    let (a, b) = (instance(&redis), instance(&redis));
    let mut host = connect(&a).await;
    let code = join(&mut host, "", false).await["lobby"].as_str().unwrap().to_string();
    let mut on_b = connect(&b).await;
    let bid = join(&mut on_b, &code, false).await["id"].as_u64().unwrap();
    expect(&mut host, json!({"type": "peer_joined", "id": bid})).await;

    // While Redis is away, clients stay connected and are told to try again.
    redis.kill();
    let mut during = connect(&b).await;
    assert_eq!(join(&mut during, "", false).await["code"], "unavailable");

    // A new, empty Redis: each instance puts back its seats (wait for both, with a deadline).
    redis.child = Redis::spawn(&redis.binary, &redis.dir);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        if redis.query(redis::cmd("HLEN").arg(format!("sig:members:{code}"))).await.ok() == Some(json!(2)) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the instances restored the lobby");
    }
    // Nobody noticed anything; signaling works across the instances again.
    send(&mut on_b, json!({"type": "answer", "to": 1, "data": {"sdp": "x"}})).await;
    expect(&mut host, json!({"type": "answer", "from": bid, "data": {"sdp": "x"}})).await;
    send(&mut host, json!({"type": "offer", "to": bid, "data": {"sdp": "y"}})).await;
    expect(&mut on_b, json!({"type": "offer", "from": 1, "data": {"sdp": "y"}})).await;
    let mut newcomer = connect(&b).await;
    assert_eq!(join(&mut newcomer, &code, false).await["type"], "joined");
}

/// The record of member `id` of `code` in Redis: `<instance> <session> <token>`.
async fn member(redis: &Redis, code: &str, id: u64) -> Option<String> {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("HGET").arg(format!("sig:members:{code}")).arg(id).query_async(&mut conn).await.unwrap()
}

#[tokio::test]
#[ignore = "needs redis-server (WEBRTC_RS_REDIS_SERVER or PATH): cargo xtask test installs it and runs these"]
async fn forged_resumes_leave_the_real_seat_alone() {
    let mut redis = Redis::start("forged");
    let (a, b) = (instance(&redis), instance(&redis));
    let mut host = connect(&a).await;
    let hj = join(&mut host, "", false).await;
    let code = hj["lobby"].as_str().unwrap().to_string();
    let token = hj["resume"].as_str().unwrap().to_string();
    let mut on_b = connect(&b).await;
    let bj = join(&mut on_b, &code, false).await;
    let bid = bj["id"].as_u64().unwrap();
    expect(&mut host, json!({"type": "peer_joined", "id": bid})).await;
    let record = member(&redis, &code, 1).await.unwrap();

    // Ids are public (`peers`), the secret is not: ill-formed and well-formed guesses, on the
    // host's instance and on the other one, for the host's seat and the client's.
    let guesses = [format!("{code}.1.forged"), format!("{code}.1.{}", "0".repeat(32)), format!("{code}.{bid}.{}", "f".repeat(32))];
    for server in [&a, &b] {
        for guess in &guesses {
            let mut forger = connect(server).await;
            send(&mut forger, json!({"type": "resume", "token": guess})).await;
            assert_eq!(recv(&mut forger).await.unwrap()["code"], "bad_resume", "{guess}");
        }
    }
    assert_eq!(member(&redis, &code, 1).await.unwrap(), record, "the host's seat is as it was");
    // Both real seats are still connected and reachable, both ways across the instances.
    send(&mut on_b, json!({"type": "answer", "to": 1, "data": {"sdp": "after"}})).await;
    expect(&mut host, json!({"type": "answer", "from": bid, "data": {"sdp": "after"}})).await;
    send(&mut host, json!({"type": "offer", "to": bid, "data": {"sdp": "after"}})).await;
    expect(&mut on_b, json!({"type": "offer", "from": 1, "data": {"sdp": "after"}})).await;

    // Redis restarts empty: what the instances put back is the real token, no guess.
    redis.kill();
    redis.child = Redis::spawn(&redis.binary, &redis.dir);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while member(&redis, &code, 1).await.is_none() {
        assert!(tokio::time::Instant::now() < deadline, "the host's instance put its seat back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(member(&redis, &code, 1).await.unwrap(), record);

    // The real token works, once: the seat gets a new one.
    let mut back = connect(&b).await;
    send(&mut back, json!({"type": "resume", "token": token})).await;
    let resumed = recv(&mut back).await.unwrap();
    assert_eq!((resumed["type"].as_str(), resumed["id"].as_u64()), (Some("joined"), Some(1)));
    let rotated = resumed["resume"].as_str().unwrap().to_string();
    assert_ne!(rotated, token, "a new token on each resume");
    assert_eq!(recv(&mut host).await, None, "superseded by the real resume");
    let mut replay = connect(&a).await;
    send(&mut replay, json!({"type": "resume", "token": token})).await;
    assert_eq!(recv(&mut replay).await.unwrap()["code"], "bad_resume", "the old token is spent");
    send(&mut back, json!({"type": "ping"})).await;
    expect(&mut back, json!({"type": "pong"})).await;
    let mut again = connect(&a).await;
    send(&mut again, json!({"type": "resume", "token": rotated})).await;
    assert_eq!(recv(&mut again).await.unwrap()["id"], 1, "the new token works");
}
