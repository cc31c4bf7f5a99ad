//! Helpers of the integration tests: server processes and WebSocket clients.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A server instance; killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(args: &[&str]) -> ServerProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_webrtc-rs-signaling"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").expect("listening line").to_string();
    ServerProcess { child, url }
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub async fn connect(server: &ServerProcess) -> Ws {
    tokio_tungstenite::connect_async(&server.url).await.expect("connect").0
}

pub async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// Next JSON message, skipping pings; `None` when the server closed.
pub async fn recv(ws: &mut Ws) -> Option<Value> {
    recv_within(ws, 5).await
}

/// Same, waiting up to `secs`.
pub async fn recv_within(ws: &mut Ws, secs: u64) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(secs), ws.next()).await.expect("a message in time");
        match msg {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

pub async fn join(ws: &mut Ws, lobby: &str, mesh: bool) -> Value {
    send(ws, json!({"type": "join", "lobby": lobby, "mesh": mesh})).await;
    recv(ws).await.unwrap()
}


/// `redis-server` is `$WEBRTC_RS_REDIS_SERVER`, else the first on `PATH`. The tests that need it
/// are `#[ignore]`d under a plain `cargo test`; `cargo xtask test` installs it and runs them.
pub fn redis_server() -> PathBuf {
    if let Some(p) = std::env::var_os("WEBRTC_RS_REDIS_SERVER") {
        return PathBuf::from(p);
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("redis-server")).find(|p| p.is_file()))
        .expect("redis-server is needed: WEBRTC_RS_REDIS_SERVER or PATH (cargo xtask test installs it)")
}

/// A redis-server without persistence on a Unix socket in its own folder.
pub struct Redis {
    pub child: Child,
    pub binary: PathBuf,
    pub dir: PathBuf,
}

impl Redis {
    pub fn start(name: &str) -> Redis {
        let binary = redis_server();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("redis-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let child = Self::spawn(&binary, &dir);
        Redis { child, binary, dir }
    }

    pub fn spawn(binary: &Path, dir: &Path) -> Child {
        let socket = dir.join("redis.sock");
        let mut child = Command::new(binary)
            .args(["--port", "0", "--unixsocket"])
            .arg(&socket)
            .args(["--save", "", "--appendonly", "no", "--loglevel", "notice", "--dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start redis-server");
        // Its log says when it accepts connections.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines.by_ref().map_while(Result::ok).any(|l| l.contains("Ready to accept connections"));
        assert!(ready, "redis-server started");
        std::thread::spawn(move || lines.for_each(drop)); // keep its stdout drained
        child
    }

    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.dir.join("redis.sock").display())
    }

    /// Kills it: no shutdown, nothing kept.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub async fn query(&self, cmd: &mut redis::Cmd) -> redis::RedisResult<Value> {
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let v: redis::Value = cmd.query_async(&mut conn).await?;
        Ok(match v {
            redis::Value::Int(n) => json!(n),
            other => json!(format!("{other:?}")),
        })
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}


/// The resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = procfs::process::Process::new(pid as i32).and_then(|p| p.status()).expect("a running process");
    status.vmrss.expect("VmRSS")
}

/// A client whose socket buffers input little (`bytes`): one that stops reading stalls the
/// server's writes to it at once instead of after the kernel's megabytes.
pub async fn connect_small_buffer(server: &ServerProcess, bytes: u32) -> Ws {
    let addr: std::net::SocketAddr = server.url.trim_start_matches("ws://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(bytes).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    tokio_tungstenite::client_async(&server.url, MaybeTlsStream::Plain(stream)).await.expect("connect").0
}

/// A client from loopback address `from` (127.0.0.0/8 is all loopback), with extra request
/// headers; the handshake's error when the server refuses it.
pub async fn connect_as(server: &ServerProcess, from: &str, headers: &[(&str, &str)]) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let addr: std::net::SocketAddr = server.url.trim_start_matches("ws://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let mut request = server.url.as_str().into_client_request().unwrap();
    for (name, value) in headers {
        let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().append(name, value.parse().unwrap());
    }
    tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await.map(|(ws, _)| ws)
}
