"""Benchmark of libdatachannel, the engine of Godot's official WebRTC plugin, for side-by-side numbers.

Godot's official `webrtc-native` GDExtension is a thin C++ layer over libdatachannel. To compare our
webrtc-rs addon with it without building the plugin, this script drives libdatachannel directly
through its Python binding (PyPI `libdatachannel-py`, CPython 3.12 wheels) and runs the same five
workloads, with the same JSON keys, as our Rust runner (`rust/bench`, `webrtc-rs-bench`). The
numbers are the library's, plus a little Python overhead: a lower bound of what the plugin costs.

Two PeerConnections in one process, host candidates on 127.0.0.1 only (no STUN), signaling in
process: the library's callbacks queue each description and candidate and the main thread hands it
to the other peer at once (the Rust runner relays from its main thread the same way).
Auto-negotiation is off, so the offer is created when A calls setLocalDescription (as Godot's
`create_offer()`), and B answers when it gets the offer.

    python libdatachannel_bench.py [setup|rtt|bulk|unreliable|many|all]     (default: all)

Prints one JSON object on stdout and nothing else (progress and errors go to stderr):

  setup       10 x (new pair, channel on A, setLocalDescription(offer) until both ends open):
              setup_ms_median, setup_ms_runs
  rtt         2000 x 64 B ping-pong A->B->A on a reliable ordered channel: rtt_p50_us, rtt_p99_us
  bulk        64 MiB in 16 KiB messages A->B, A's buffered amount kept under 1 MiB:
              bulk_mib_s, bulk_cpu_ms_per_mib (process CPU time, all threads, / 64)
  unreliable  1200 B messages on an unordered, maxRetransmits=0 channel for 2 s (buffered amount
              under 1 MiB), then 0.5 s for stragglers: unreliable_rx_mib_s, unreliable_loss_pct
  many        64 pairs (128 connections) at once: many_open_s until all channels are open on both
              ends, then after 0.5 s idle rss_kib_per_connection (RSS growth / 128)

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

        def answer(d):  # on the main thread: A's offer -> B, which answers
            b.set_remote_description(d)
            b.set_local_description(ldc.Description.Type.Answer)

        a.on_local_description(lambda d: sig.post(answer, d))
        b.on_local_description(lambda d: sig.post(a.set_remote_description, d))
        a.on_local_candidate(lambda c: sig.post(b.add_remote_candidate, c))
        b.on_local_candidate(lambda c: sig.post(a.add_remote_candidate, c))

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
        total = 64 << 20
        sent = got = 0
        cpu0 = cpu_time()
        t0 = time.perf_counter()
        deadline = t0 + DEADLINE_S
        while got < total:
            while sent < total and ca.buffered_amount() < CAP:
                ca.send(msg)
                sent += len(msg)
            while (m := cb.receive()) is not None:
                got += len(m)
            time.sleep(50e-6)
            check(deadline, f"bulk stalled: {got} of {total} bytes received, {sent} sent, "
                            f"buffered {ca.buffered_amount()}")
        secs = time.perf_counter() - t0
        cpu_ms = (cpu_time() - cpu0) * 1000.0
        return {"bulk_mib_s": 64.0 / secs, "bulk_cpu_ms_per_mib": cpu_ms / 64.0}
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
                for _ in range(32):
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


WORKLOADS = [("setup", setup), ("rtt", rtt), ("bulk", bulk), ("unreliable", unreliable), ("many", many)]


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
        faulthandler.dump_traceback_later(HARD_DEADLINE_S, exit=True)
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
