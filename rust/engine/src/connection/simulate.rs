//! The link simulator (`initialize({"webrtc_rs": {"simulate": {...}}})`): a webrtc-rs
//! [`Runtime`] that is tokio's in every respect but one: the UDP sockets it wraps for the
//! connection hold each datagram sent for the configured delay (plus or minus the jitter) or
//! drop it, through netsim's [`Pipe`] (the same loss and delay queue as the fault tests' and
//! the benchmark's relay). What the connection receives is untouched: each side impairs what
//! it sends, as each direction of a real path has its own delay and loss.

use crate::config::Simulation;
use netsim::Pipe;
use std::fmt;
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use webrtc::runtime::{AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, RecvMeta, Runtime, TokioRuntime, Transmit};

/// Warned once per process: a game must not ship with the simulator on unnoticed.
static WARNED: AtomicBool = AtomicBool::new(false);
/// Seeds for the sockets' pipes: each its own sequence of losses.
static NEXT_SEED: AtomicU64 = AtomicU64::new(0x5EED);

/// The runtime a simulated connection is built with.
pub(crate) fn runtime(sim: Simulation) -> Arc<dyn Runtime> {
    if !WARNED.swap(true, Ordering::Relaxed) {
        log::warn!(
            target: "engine::peer",
            "Link simulation is on (delay {} ms, jitter {} ms, loss {} %): connections send through a simulated bad network ({}). Said once per process.",
            sim.delay_ms, sim.jitter_ms, sim.loss_percent, crate::words::words().simulate_sources
        );
    }
    Arc::new(SimRuntime { sim })
}

struct SimRuntime {
    sim: Simulation,
}

impl fmt::Debug for SimRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimRuntime").field("sim", &self.sim).finish()
    }
}

impl Runtime for SimRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        TokioRuntime.spawn(future)
    }
    fn spawn_reactor(&self, size: usize, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        TokioRuntime.spawn_reactor(size, future)
    }
    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let inner = TokioRuntime.wrap_udp_socket(socket)?;
        Ok(SimSocket::start(inner, self.sim))
    }
    fn wrap_tcp_listener(&self, listener: std::net::TcpListener) -> io::Result<Arc<dyn AsyncTcpListener>> {
        TokioRuntime.wrap_tcp_listener(listener)
    }
    fn connect_tcp<'a>(&'a self, remote: SocketAddr) -> Pin<Box<dyn Future<Output = io::Result<Arc<dyn AsyncTcpStream>>> + Send + 'a>> {
        Box::pin(async move { TokioRuntime.connect_tcp(remote).await })
    }
    fn resolve_host<'a>(&'a self, host: &'a str) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        Box::pin(async move { TokioRuntime.resolve_host(host).await })
    }
    fn now(&self) -> Instant {
        TokioRuntime.now()
    }
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        TokioRuntime.sleep(duration)
    }
    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        TokioRuntime.interval(period)
    }
    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        TokioRuntime.block_on(future)
    }
    fn yield_now(&self) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        TokioRuntime.yield_now()
    }
    fn name(&self) -> &'static str {
        "tokio (link simulator)"
    }
}

/// What a socket and its sending task share.
struct Held {
    pipe: Mutex<Pipe>,
    /// Wakes the sending task: a datagram was queued, or the socket is gone.
    wake: tokio::sync::Notify,
    closed: AtomicBool,
}

/// A UDP socket whose sends go through the pipe; its sending task sends each when due.
struct SimSocket {
    inner: Arc<dyn AsyncUdpSocket>,
    held: Arc<Held>,
    loss_ppm: u32,
    delay: Duration,
    jitter: Duration,
}

impl fmt::Debug for SimSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimSocket").field("inner", &self.inner).field("delay", &self.delay).finish()
    }
}

fn millis(ms: f64) -> Duration {
    Duration::from_secs_f64(ms / 1000.0)
}

impl SimSocket {
    /// Wraps `inner`; its sending task runs on the current runtime (webrtc-rs wraps sockets
    /// inside the connection's driver, on its reactor) until the socket is dropped.
    fn start(inner: Arc<dyn AsyncUdpSocket>, sim: Simulation) -> Arc<dyn AsyncUdpSocket> {
        let held = Arc::new(Held {
            pipe: Mutex::new(Pipe::new(NEXT_SEED.fetch_add(1, Ordering::Relaxed))),
            wake: tokio::sync::Notify::new(),
            closed: AtomicBool::new(false),
        });
        tokio::spawn(send_when_due(inner.clone(), held.clone()));
        Arc::new(SimSocket {
            inner,
            held,
            loss_ppm: (sim.loss_percent * 10_000.0).round() as u32,
            delay: millis(sim.delay_ms),
            jitter: millis(sim.jitter_ms),
        })
    }
}

impl Drop for SimSocket {
    fn drop(&mut self) {
        self.held.closed.store(true, Ordering::Release);
        self.held.wake.notify_one();
    }
}

/// Sends each held datagram once due, until the socket is dropped.
async fn send_when_due(socket: Arc<dyn AsyncUdpSocket>, held: Arc<Held>) {
    while !held.closed.load(Ordering::Acquire) {
        let now = Instant::now();
        let (due, next) = {
            let mut pipe = crate::lock(&held.pipe);
            let due: Vec<netsim::Held> = std::iter::from_fn(|| pipe.pop_due(now)).collect();
            (due, pipe.next_due())
        };
        for packet in due {
            // As the socket's own send would: an error is a lost datagram.
            let _ = socket.send_to(&packet.data, packet.to).await;
        }
        match next {
            Some(at) if at > Instant::now() => {
                tokio::select! {
                    _ = tokio::time::sleep_until(at.into()) => {}
                    _ = held.wake.notified() => {}
                }
            }
            Some(_) => {}
            None => held.wake.notified().await,
        }
    }
}

impl AsyncUdpSocket for SimSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Takes the datagram (one per segment of a GSO batch) into the pipe: held, or lost.
    fn poll_send(&self, _cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        let now = Instant::now();
        let size = transmit.segment_size.filter(|&s| s > 0).unwrap_or(transmit.contents.len().max(1));
        {
            let mut pipe = crate::lock(&self.held.pipe);
            for datagram in transmit.contents.chunks(size) {
                pipe.offer_jittered(now, transmit.destination, datagram, self.loss_ppm, self.delay, self.jitter);
            }
        }
        self.held.wake.notify_one();
        Poll::Ready(Ok(transmit.contents.len()))
    }

    fn poll_recv(&self, cx: &mut Context<'_>, bufs: &mut [IoSliceMut<'_>], meta: &mut [RecvMeta]) -> Poll<io::Result<usize>> {
        self.inner.poll_recv(cx, bufs, meta)
    }

    fn max_gso_segments(&self) -> usize {
        1
    }

    fn max_gro_segments(&self) -> usize {
        self.inner.max_gro_segments()
    }
}
