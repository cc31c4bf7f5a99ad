"""Benchmark of libdatachannel, the engine of Godot's official WebRTC plugin, for side-by-side numbers.

Godot's official `webrtc-native` GDExtension is a thin C++ layer over libdatachannel. To compare our
webrtc-rs addon with it without building the plugin, this script drives libdatachannel directly
through its Python binding (PyPI `libdatachannel-py`, CPython 3.12 wheels) and runs the same six
workloads, with the same JSON keys, as our Rust runner (`bench/engine`, `webrtc-rs-bench`). The
numbers are the library's, plus a little Python overhead: a lower bound of what the plugin costs.

Two PeerConnections in one process, host candidates on 127.0.0.1 only (no STUN), signaling in
process: the library's callbacks queue each description and candidate and the main thread hands it
to the other peer at once (the Rust runner relays from its main thread the same way).
Auto-negotiation is off, so the offer is created when A calls setLocalDescription (as Godot's
`create_offer()`), and B answers when it gets the offer.

    python libdatachannel_bench.py [setup|rtt|bulk|unreliable|many|lossy|all]     (default: all)

    NETSIM_RELAY=/path/to/netsim-relay   the relay binary of the lossy workload (rust/netsim;
                                         default: target/release/ or target/debug/ of this repository)
    BENCH_LOSSY_SECONDS=20               sending time of each lossy case

Prints one JSON object on stdout and nothing else (progress and errors go to stderr):

  setup       10 x (new pair, channel on A, setLocalDescription(offer) until both ends open):
              setup_ms_median, setup_ms_runs
  rtt         2000 x 64 B ping-pong A->B->A on a reliable ordered channel: rtt_p50_us, rtt_p99_us
  bulk        64 MiB in 16 KiB messages A->B, A's buffered amount kept under 1 MiB, until all
              arrived or nothing arrived for 5 s (at most 60 s): bulk_mib_s, bulk_cpu_ms_per_mib
              (process CPU time, all threads, per MiB received), bulk_lost_messages (sent minus
              received), bulk_stalled (ended before all arrived)
  unreliable  1200 B messages on an unordered, maxRetransmits=0 channel for 2 s, sent in bursts of
              64 while the buffered amount is under 1 MiB, every message read after each burst,
              then 0.5 s for stragglers: unreliable_rx_mib_s, unreliable_loss_pct
  many        64 pairs (128 connections) at once: many_open_s until all channels are open on both
              ends, then after 0.5 s idle rss_kib_per_connection (RSS growth / 128)
  lossy       60 Hz game traffic through netsim-relay processes (25 ms each way, 10 % loss each
              way once open): 200 B unreliable (unordered, maxRetransmits 0) alone, 100 B reliable
              ordered alone, both at once; lossy_<case>_delivered_pct, _p50_ms, _p95_ms, _p99_ms,
              _max_ms, _gap_ms, (reliable) _out_of_order. Defined once, in bench/engine/src/lossy.rs;
              this is the same workload step by step.

Setup times are bimodal, and that is libjuice (libdatachannel's ICE), not this script: when the
first connectivity checks cross the answer in flight, libjuice answers the next round only after its
50 ms check pacing (RFC 8445 Ta), sometimes after its 500 ms retransmission timeout, so a run takes
~5 ms, ~55 ms or ~505 ms; the median is usually ~55 ms. The same shows in many_open_s (0.2 or 0.6 s).

How the data moves (chosen as the fastest of the variants tried, and closest to the Rust runner,
which drives both ends from one thread): rtt, bulk and unreliable read B's (and A's) messages on the
main thread with the library's pull API (`Channel.receive()`, no on_message callback), like the Rust
runner's `recv()`. Python callbacks on the library's worker threads fight the main thread for the
GIL, which cost up to 30 % of the unreliable rate and 50 % on rtt p50 in trials. Connection setup
uses callbacks (on_local_description, on_local_candidate, on_data_channel, on_open) and timestamps
taken in them.

Every workload has a deadline: a stall raises with a message on stderr and the exit status is 1;
a hang inside the library (GIL held) is caught by faulthandler, which dumps the stacks and exits.
All peer connections are closed at the end and the process ends with os._exit, so libdatachannel's
threads cannot keep it alive.
"""

import faulthandler
import json
import math
import os
import queue
import struct
import subprocess
import sys
import time
import traceback

import libdatachannel as ldc

DEADLINE_S = 60.0  # per workload, for every wait
HARD_DEADLINE_S = 120.0  # faulthandler: dump stacks and exit if a workload is stuck in native code
CAP = 1 << 20  # max buffered amount on the sender, bytes
PAGE = 4096

_all_pairs = []  # every Pair created: kept alive (no destructor runs mid-workload), closed at exit


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Stall(Exception):
    pass


def check(deadline, what):
    if time.perf_counter() > deadline:
        raise Stall(what)


def config():
    c = ldc.Configuration()
    c.bind_address = "127.0.0.1"  # loopback only; no ice_servers, so no STUN traffic
    c.disable_auto_negotiation = True
    return c


def reliable():
    return None  # library default: reliable, ordered


def unreliable_init():
    r = ldc.Reliability()
    r.unordered = True
    r.max_retransmits = 0
    init = ldc.DataChannelInit()
    init.reliability = r
    return init


class Signaling:
    """In-process signaling: the library's callbacks only queue; the main thread hands each
    description and candidate to the other peer (as the Rust runner relays from its main thread).

    Handing them over from inside the callbacks was tried first and is worse on two counts: it
    runs blocking library calls on the library's own worker threads while they hold the GIL
    (deadlock-prone, see Pair), and it delivers B's answer to A before B's ICE agent has started,
    so A's first connectivity check goes unanswered and the connection waits ~50 ms for libjuice
    to resend it (setup then came out as 5 ms or 55 ms at random).
    """

    def __init__(self):
        self.q = queue.SimpleQueue()

    def post(self, fn, *args):
        self.q.put((fn, args))

    def pump(self, done, deadline, what):
        """Runs queued hand-overs on this thread until done() is true."""
        while not done():
            left = deadline - time.perf_counter()
            if left <= 0:
                raise Stall(what())
            try:
                fn, args = self.q.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            fn(*args)


def wire(sig, a, b, candidate=None):
    """Signaling between A and B through `sig`: A's offer goes to B, which answers; each
    candidate goes to the other side, through `candidate(c, to)` if given."""

    def answer(d):  # on the main thread: A's offer -> B, which answers
        b.set_remote_description(d)
        b.set_local_description(ldc.Description.Type.Answer)

    a.on_local_description(lambda d: sig.post(answer, d))
    b.on_local_description(lambda d: sig.post(a.set_remote_description, d))
    if candidate is None:
        a.on_local_candidate(lambda c: sig.post(b.add_remote_candidate, c))
        b.on_local_candidate(lambda c: sig.post(a.add_remote_candidate, c))
    else:
        a.on_local_candidate(lambda c: sig.post(candidate, c, b))
        b.on_local_candidate(lambda c: sig.post(candidate, c, a))


class Pair:
    """Two peer connections wired to each other through `sig`, one data channel created on A
    (not negotiated yet). The open times of both ends are taken in the open callbacks.
    """

    def __init__(self, sig, init=None, label="bench"):
        self.sig = sig
        self.a = a = ldc.PeerConnection(config())
        self.b = b = ldc.PeerConnection(config())
        _all_pairs.append(self)
        self.cb = None
        self.t_open_a = None
        self.t_open_b = None
        wire(sig, a, b)

        def on_channel(ch):
            self.cb = ch
            if ch.is_open():  # libdatachannel hands the remote channel over already open
                self._opened("b")
            else:
                ch.on_open(lambda: self._opened("b"))
                if ch.is_open():
                    self._opened("b")

        b.on_data_channel(on_channel)
        self.ca = a.create_data_channel(label, init) if init is not None else a.create_data_channel(label)
        self.ca.on_open(lambda: self._opened("a"))
        # Wait here for both DTLS certificates. libdatachannel makes them on its worker threads
        # and setLocalDescription blocks until they exist, and the binding keeps the GIL during
        # every call: if the workers are meanwhile waiting for the GIL to run one of our
        # callbacks, nobody moves (seen with 64 pairs). create_offer() waits for the certificate
        # too but changes no state and fires no callback, and no callback can be pending yet
        # because nothing has been negotiated.
        a.create_offer()
        b.create_offer()

    def _opened(self, side):
        now = time.perf_counter()
        if side == "a" and self.t_open_a is None:
            self.t_open_a = now
        elif side == "b" and self.t_open_b is None:
            self.t_open_b = now
        self.sig.post(lambda: None)  # wake the pump

    def is_open(self):
        return self.t_open_a is not None and self.t_open_b is not None

    def negotiate(self):
        self.a.set_local_description(ldc.Description.Type.Offer)

    def state(self):
        return (f"A open: {self.t_open_a is not None}, B open: {self.t_open_b is not None}, "
                f"A: {self.a.state()}, B: {self.b.state()}")

    def connect(self, timeout=DEADLINE_S):
        """Negotiates and waits until both ends are open; returns seconds from offer to open."""
        t0 = time.perf_counter()
        self.negotiate()
        self.sig.pump(self.is_open, t0 + timeout,
                      lambda: f"channel not open on both ends after {timeout:.0f} s ({self.state()})")
        return max(self.t_open_a, self.t_open_b) - t0

    def close(self):
        # Let callbacks still queued on the library's threads run first: close() and
        # reset_callbacks() take locks those threads hold while they wait for the GIL, which the
        # caller keeps (reset_callbacks() deadlocked that way). The objects stay in _all_pairs
        # until os._exit, so no destructor runs in the middle of a workload either.
        time.sleep(0.02)
        for pc in (self.a, self.b):
            pc.close()


def percentile(sorted_values, p):
    # Same index as the Rust runner: round((n - 1) * p), halves away from zero.
    return sorted_values[int(math.floor((len(sorted_values) - 1) * p + 0.5))]


def cpu_time():
    return time.process_time()  # user + system, all threads


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


# ---------------------------------------------------------------------------------------------


def setup():
    runs = []
    for i in range(10):
        p = Pair(Signaling(), reliable())
        try:
            runs.append(p.connect() * 1000.0)
        finally:
            p.close()
    return {"setup_ms_median": percentile(sorted(runs), 0.5), "setup_ms_runs": runs}


def rtt():
    p = Pair(Signaling(), reliable())
    try:
        p.connect()
        ca, cb = p.ca, p.cb
        payload = b"\x07" * 64
        yield_cpu = os.sched_yield  # spin, but let the library's threads run (2-core hosts)
        samples = []
        deadline = time.perf_counter() + DEADLINE_S
        for i in range(2000):
            t = time.perf_counter()
            ca.send(payload)
            while (m := cb.receive()) is None:
                yield_cpu()
                if time.perf_counter() > deadline:
                    raise Stall(f"rtt: ping {i} not received by B")
            cb.send(m)
            while ca.receive() is None:
                yield_cpu()
                if time.perf_counter() > deadline:
                    raise Stall(f"rtt: pong {i} not received by A")
            samples.append((time.perf_counter() - t) * 1e6)
        samples.sort()
        return {"rtt_p50_us": percentile(samples, 0.5), "rtt_p99_us": percentile(samples, 0.99)}
    finally:
        p.close()


def bulk():
    p = Pair(Signaling(), reliable())
    try:
        p.connect()
        ca, cb = p.ca, p.cb
        msg = b"\x01" * 16384
        total = 4096  # messages of 16 KiB: 64 MiB
        sent = got = got_bytes = 0
        cpu0 = cpu_time()
        t0 = last_arrival = time.perf_counter()
        # Ends like the Rust runner's: all arrived, or nothing for 5 s, or 60 s in all.
        while got < total:
            while sent < total and ca.buffered_amount() < CAP:
                ca.send(msg)
                sent += 1
            while (m := cb.receive()) is not None:
                got += 1
                got_bytes += len(m)
                last_arrival = time.perf_counter()
            now = time.perf_counter()
            if now - last_arrival > 5.0 or now - t0 > DEADLINE_S:
                log(f"bulk: ended with {got} of {sent} sent messages received ({total} to send), "
                    f"buffered {ca.buffered_amount()}")
                break
            time.sleep(50e-6)
        secs = last_arrival - t0
        mib = got_bytes / 1048576.0
        cpu_ms = (cpu_time() - cpu0) * 1000.0
        return {"bulk_mib_s": mib / secs if secs > 0 else 0.0, "bulk_cpu_ms_per_mib": cpu_ms / max(mib, 1.0),
                "bulk_lost_messages": sent - min(got, sent), "bulk_stalled": got < total}
    finally:
        p.close()


def unreliable():
    p = Pair(Signaling(), unreliable_init())
    try:
        p.connect()
        ca, cb = p.ca, p.cb
        r = cb.reliability()
        if not r.unordered or r.max_retransmits != 0:
            raise RuntimeError(f"B's channel is not unordered/maxRetransmits=0: "
                               f"{r.unordered}, {r.max_retransmits}")
        msg = b"\x02" * 1200
        sent = got = 0
        t0 = time.perf_counter()
        end = t0 + 2.0
        while time.perf_counter() < end:
            if ca.buffered_amount() < CAP:
                for _ in range(64):
                    ca.send(msg)  # False only means "queued", the message still counts
                    sent += 1
            while cb.receive() is not None:
                got += 1
            # Same loop as the other runners: a burst, a drain, then 50 us for the library.
            time.sleep(50e-6)
        secs = time.perf_counter() - t0
        drain_end = time.perf_counter() + 0.5
        while time.perf_counter() < drain_end:
            while cb.receive() is not None:
                got += 1
            time.sleep(0.001)
        loss = 100.0 * (sent - min(got, sent)) / sent if sent else 0.0
        return {"unreliable_rx_mib_s": got * 1200 / secs / 1048576.0, "unreliable_loss_pct": loss}
    finally:
        p.close()


def many():
    n = 64
    rss0 = rss_bytes()
    sig = Signaling()
    pairs = []
    try:
        t0 = time.perf_counter()
        # All pairs first, then all offers: a Pair waits for its certificates while holding the
        # GIL, which must not overlap with callbacks of pairs already negotiating (see Pair).
        for _ in range(n):
            pairs.append(Pair(sig, reliable(), label="m"))
        for p in pairs:
            p.negotiate()
        sig.pump(lambda: all(p.is_open() for p in pairs), t0 + DEADLINE_S,
                 lambda: f"many: only {sum(p.is_open() for p in pairs)} of {n} pairs open "
                         f"after {DEADLINE_S:.0f} s")
        took = time.perf_counter() - t0
        time.sleep(0.5)
        per_conn = max(0, rss_bytes() - rss0) / (2 * n)
        return {"many_open_s": took, "rss_kib_per_connection": per_conn / 1024.0}
    finally:
        for p in pairs:
            p.close()


# --- lossy: the workload of bench/engine/src/lossy.rs, step by step ---------------------------------

LOSS_PCT = 10.0  # each way, once the channels are open
DELAY_MS = 25  # each way
RATE_HZ = 60.0
UNRELIABLE_BYTES = 200
RELIABLE_BYTES = 100
POLL_S = 0.001  # the receiving side is read every ~1 ms (a game server frame)
DRAIN_MIN_S = 1.0  # after sending: at least this long for late unreliable messages,
DRAIN_MAX_S = 15.0  # at most this long for reliable ones still on their way


def lossy_seconds():
    return float(os.environ.get("BENCH_LOSSY_SECONDS", "20"))


def relay_binary():
    path = os.environ.get("NETSIM_RELAY")
    if path:
        return path
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for profile in ("release", "debug"):
        path = os.path.join(root, "target", profile, "netsim-relay")
        if os.path.exists(path):
            return path
    raise RuntimeError("netsim-relay not found: cargo build -p netsim, or set NETSIM_RELAY")


class RelayProcess:
    """One netsim-relay in front of 127.0.0.1:target_port (25 ms each way, no loss yet). It
    exits when its stdin closes, so it cannot outlive this process."""

    def __init__(self, target_port, seed):
        self.p = subprocess.Popen(
            [relay_binary(), "--target", f"127.0.0.1:{target_port}", "--delay-ms", str(DELAY_MS),
             "--seed", str(seed), "--max-seconds", "600"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.p.stdout.readline()  # "PORT <n>"
        if not line.startswith("PORT "):
            raise RuntimeError(f"netsim-relay did not start: {line!r}")
        self.port = int(line.split()[1])

    def command(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def stats(self):
        self.command("stats")
        return json.loads(self.p.stdout.readline().split(" ", 1)[1])

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=5)


def negotiated(id, reliable):
    init = ldc.DataChannelInit()
    init.negotiated = True
    init.id = id
    if not reliable:
        init.reliability = unreliable_init().reliability
    return init


class LossyPair:
    """Two peer connections whose every packet crosses a relay: each side's 127.0.0.1 host
    candidate reaches the other with the port of a new netsim-relay, and no other candidate
    does. Two negotiated channels on both: reliable ordered (id 1), unreliable (id 2)."""

    def __init__(self):
        self.sig = sig = Signaling()
        self.a = a = ldc.PeerConnection(config())
        self.b = b = ldc.PeerConnection(config())
        _all_pairs.append(self)
        self.relays = []
        wire(sig, a, b, self._candidate)
        self.rel = [pc.create_data_channel("rel", negotiated(1, True)) for pc in (a, b)]
        self.unrel = [pc.create_data_channel("unrel", negotiated(2, False)) for pc in (a, b)]
        for ch in self.rel + self.unrel:
            ch.on_open(lambda: sig.post(lambda: None))  # wake the pump
        a.create_offer()  # wait for the certificates first, see Pair
        b.create_offer()

    def _candidate(self, c, to):
        # candidate:<foundation> <component> UDP <priority> <ip> <port> typ host ...
        parts = c.candidate().split(" ")
        if len(parts) < 8 or parts[4] != "127.0.0.1" or parts[7] != "host":
            return
        relay = RelayProcess(int(parts[5]), seed=len(self.relays) + 1)
        self.relays.append(relay)
        parts[5] = str(relay.port)
        to.add_remote_candidate(ldc.Candidate(" ".join(parts), c.mid()))

    def ends(self, reliable):
        return self.rel if reliable else self.unrel

    def connect(self):
        """Connects through the relays, then switches their loss on."""
        start = time.perf_counter()
        self.a.set_local_description(ldc.Description.Type.Offer)
        chans = self.rel + self.unrel
        self.sig.pump(lambda: all(ch.is_open() for ch in chans), time.perf_counter() + 30.0,
                      lambda: f"lossy: channels not open through the relays after 30 s "
                              f"(A: {self.a.state()}, B: {self.b.state()})")
        self.connect_ms = (time.perf_counter() - start) * 1000.0
        for r in self.relays:
            r.command(f"loss {LOSS_PCT}")

    def relay_loss_pct(self):
        fwd = lost = 0
        for r in self.relays:
            st = r.stats()
            for way in (st["to_target"], st["from_target"]):
                fwd += way["forwarded"]
                lost += way["dropped"]
        return 100.0 * lost / max(fwd + lost, 1)

    def close(self):
        time.sleep(0.02)  # see Pair.close
        for pc in (self.a, self.b):
            pc.close()
        for r in self.relays:
            r.close()


class Stream:
    """One stream's receiving side (as `Stream` in bench/engine/src/lossy.rs)."""

    def __init__(self, key, reliable):
        self.key = key
        self.reliable = reliable
        self.size = RELIABLE_BYTES if reliable else UNRELIABLE_BYTES
        self.sent = 0
        self.arrivals = []  # (sequence number, latency ms, arrival time) in arrival order

    def message(self, epoch):
        # Sequence number (u32) and send time in µs since epoch (u64), little-endian, then padding.
        head = struct.pack("<IQ", self.sent, int((time.perf_counter() - epoch) * 1e6))
        return head + b"\xa5" * (self.size - len(head))

    def receive(self, data, epoch):
        now = time.perf_counter()
        seq, sent_us = struct.unpack_from("<IQ", data)
        self.arrivals.append((seq, ((now - epoch) * 1e6 - sent_us) / 1000.0, now))

    def complete(self):
        return len(self.arrivals) >= self.sent

    def results(self, first_send, last_send):
        lat = sorted(a[1] for a in self.arrivals)
        times = [first_send] + [a[2] for a in self.arrivals] + [last_send]
        gap = max(max(0.0, t1 - t0) for t0, t1 in zip(times, times[1:]))
        k = lambda name: f"{self.key}_{name}"
        out = {k("sent"): self.sent,
               k("delivered_pct"): 100.0 * len({a[0] for a in self.arrivals}) / max(self.sent, 1)}
        for name, p in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99), ("max_ms", 1.0)):
            out[k(name)] = percentile(lat, p) if lat else None
        out[k("gap_ms")] = gap * 1000.0
        if self.reliable:
            out[k("out_of_order")] = sum(1 for i, a in enumerate(self.arrivals) if a[0] != i)
        return out


def lossy_case(case_key, unrel_key, rel_key):
    p = LossyPair()
    try:
        p.connect()
        streams = []
        if unrel_key:
            streams.append(Stream(unrel_key, False))
        if rel_key:
            streams.append(Stream(rel_key, True))
        epoch = time.perf_counter()
        period = 1.0 / RATE_HZ
        send_for = lossy_seconds()
        next_send = last_send = epoch
        send_done = None
        while True:
            now = time.perf_counter()
            if send_done is None and now - epoch >= send_for:
                send_done = now
            if send_done is None and now >= next_send:
                for s in streams:
                    p.ends(s.reliable)[0].send(s.message(epoch))
                    s.sent += 1
                last_send = now
                while next_send <= now:  # the next tick on the 60 Hz grid, never a burst
                    next_send += period
            for s in streams:
                rx = p.ends(s.reliable)[1]
                while (m := rx.receive()) is not None:
                    s.receive(m, epoch)
            if send_done is not None:
                waited = time.perf_counter() - send_done
                reliable_done = all(s.complete() for s in streams if s.reliable)
                if waited >= DRAIN_MAX_S or (waited >= DRAIN_MIN_S and reliable_done):
                    break
            time.sleep(POLL_S)
        out = {}
        for s in streams:
            out.update(s.results(epoch, last_send))
        out[f"lossy_{case_key}_relay_loss_pct"] = p.relay_loss_pct()
        out[f"lossy_{case_key}_connect_ms"] = p.connect_ms
        log(f"lossy {case_key}: {json.dumps(out)}")
        return out
    finally:
        p.close()


def lossy():
    out = {"lossy_seconds": lossy_seconds()}
    out.update(lossy_case("unrel_alone", "lossy_unrel_alone", None))
    out.update(lossy_case("rel_alone", None, "lossy_rel_alone"))
    out.update(lossy_case("both", "lossy_both_unrel", "lossy_both_rel"))
    connects = sorted(out[f"lossy_{c}_connect_ms"] for c in ("unrel_alone", "rel_alone", "both"))
    out["lossy_connect_ms"] = connects[len(connects) // 2]
    return out


WORKLOADS = [("setup", setup), ("rtt", rtt), ("bulk", bulk), ("unreliable", unreliable), ("many", many),
             ("lossy", lossy)]


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    names = [name for name, _ in WORKLOADS]
    if which != "all" and which not in names:
        log(f"usage: {sys.argv[0]} [{'|'.join(names)}|all]")
        return 2, None
    out = {}
    for name, f in WORKLOADS:
        if which not in ("all", name):
            continue
        # The lossy workload runs three cases of lossy_seconds() each, plus drains and setup.
        hard = HARD_DEADLINE_S + (3 * (lossy_seconds() + DRAIN_MAX_S + 30) if name == "lossy" else 0)
        faulthandler.dump_traceback_later(hard, exit=True)
        t = time.perf_counter()
        try:
            out.update(f())
        except Exception:
            log(f"{name}: failed")
            traceback.print_exc(file=sys.stderr)
            return 1, None
        finally:
            faulthandler.cancel_dump_traceback_later()
        log(f"{name}: done in {time.perf_counter() - t:.1f} s")
    return 0, out


if __name__ == "__main__":
    # Only the JSON line goes to the real stdout: anything native code prints goes to stderr.
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    faulthandler.enable(file=sys.stderr)
    code, result = main()
    faulthandler.dump_traceback_later(30, exit=True)  # closing must not hang either
    time.sleep(0.02)
    for p in _all_pairs:
        for pc in (p.a, p.b):
            try:
                pc.close()
            except Exception:
                pass
    faulthandler.cancel_dump_traceback_later()
    if result is not None:
        os.write(real_stdout, (json.dumps(result) + "\n").encode())
    sys.stderr.flush()
    os._exit(code)
