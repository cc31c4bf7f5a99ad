"""The dedicated-server workload through libdatachannel (the engine of Godot's official WebRTC
plugin), the same shape as bench/godot/server.gd: a server process with N connections (default
64) to one client process holding the N client ends, both looping at 60 Hz, signaled over a local
TCP socket (one JSON object per line). Each client sends 64 B inputs at 30 Hz on an unreliable
channel (unordered, maxRetransmits 0, negotiated id 2); the server sends each client a 400 B
state at 30 Hz on it and a 100 B event once a second on a reliable one (negotiated id 1).

    python libdatachannel_server.py --role server --port P [--clients N] [--seconds S]
    python libdatachannel_server.py --role client --port P [--clients N]

The server prints one line: SERVER_JSON {...} with the keys of server.gd. Its CPU includes the
Python loop around the library (about 8,000 calls a second at 64 connections).
"""

import argparse
import json
import os
import queue
import socket
import sys
import time

import libdatachannel as ldc

STATE_HZ = 30
FRAME_S = 1.0 / 60


def cpu_s():
    t = os.times()
    return t.user + t.system


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4.0


class Link:
    """JSON lines over TCP; what the library's callbacks send is queued and written by the
    main loop (no socket write from the library's threads)."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.out = queue.SimpleQueue()

    def post(self, msg):
        self.out.put(msg)

    def flush(self):
        while True:
            try:
                msg = self.out.get_nowait()
            except queue.Empty:
                return
            self.sock.setblocking(True)
            self.sock.sendall((json.dumps(msg) + "\n").encode())
            self.sock.setblocking(False)

    def received(self):
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
        except BlockingIOError:
            pass
        lines = self.buf.split(b"\n")
        self.buf = lines.pop()
        return [json.loads(l) for l in lines if l]


def negotiated(id, reliable):
    init = ldc.DataChannelInit()
    init.negotiated = True
    init.id = id
    if not reliable:
        r = ldc.Reliability()
        r.unordered = True
        r.max_retransmits = 0
        init.reliability = r
    return init


class Peer:
    def __init__(self, i, link):
        c = ldc.Configuration()
        c.bind_address = "127.0.0.1"
        c.disable_auto_negotiation = True
        self.pc = ldc.PeerConnection(c)
        self.pc.on_local_description(lambda d: link.post({"i": i, "type": str(d.type_string()), "sdp": str(d)}))
        self.pc.on_local_candidate(lambda cand: link.post({"i": i, "cand": cand.candidate(), "mid": cand.mid()}))
        self.reliable = self.pc.create_data_channel("events", negotiated(1, True))
        self.unreliable = self.pc.create_data_channel("state", negotiated(2, False))

    def apply(self, msg):
        if "sdp" in msg:
            self.pc.set_remote_description(ldc.Description(msg["sdp"], msg["type"]))
            if msg["type"] == "offer":
                self.pc.set_local_description(ldc.Description.Type.Answer)
        else:
            self.pc.add_remote_candidate(ldc.Candidate(msg["cand"], msg["mid"]))

    def is_open(self):
        return self.reliable.is_open() and self.unreliable.is_open()


def drain(ch):
    n = 0
    while ch.receive() is not None:
        n += 1
    return n


def frames(until):
    """Yields once per 1/60 s tick until `until()` is true."""
    next_tick = time.perf_counter()
    while not until():
        yield
        next_tick += FRAME_S
        left = next_tick - time.perf_counter()
        if left > 0:
            time.sleep(left)
        else:
            next_tick = time.perf_counter()


def serve(port, clients, seconds):
    listener = socket.create_server(("127.0.0.1", port))
    conn, _ = listener.accept()
    link = Link(conn)
    rss0 = rss_kib()
    peers = [Peer(i, link) for i in range(clients)]
    opened_from = None
    deadline = time.perf_counter() + 30
    for _ in frames(lambda: all(p.is_open() for p in peers)):
        for msg in link.received():
            if opened_from is None:
                opened_from = time.perf_counter()
            peers[msg["i"]].apply(msg)
        link.flush()
        if time.perf_counter() > deadline:
            sys.exit("libdatachannel_server.py: the connections did not open within 30 s")
    open_s = time.perf_counter() - opened_from
    link.post({"go": True})
    link.flush()
    state, event = b"\0" * 400, b"\0" * 100
    inputs = states_sent = events_sent = 0
    frame_max = 0.0
    cpu0 = cpu_s()
    t0 = last = time.perf_counter()
    for _ in frames(lambda: time.perf_counter() - t0 >= seconds):
        now = time.perf_counter()
        frame_max = max(frame_max, (now - last) * 1000.0)
        last = now
        elapsed = now - t0
        for p in peers:
            inputs += drain(p.unreliable)
            drain(p.reliable)
        while states_sent < int(elapsed * STATE_HZ) + 1:
            for p in peers:
                p.unreliable.send(state)
            states_sent += 1
        while events_sent < int(elapsed) + 1:
            for p in peers:
                p.reliable.send(event)
            events_sent += 1
    cpu = cpu_s() - cpu0
    rss = (rss_kib() - rss0) / clients
    link.post({"done": True})
    link.flush()
    report = None
    deadline = time.perf_counter() + 10
    for _ in frames(lambda: report is not None or time.perf_counter() > deadline):
        for p in peers:
            inputs += drain(p.unreliable)
        for msg in link.received():
            if "report" in msg:
                report = msg
    if report is None:
        sys.exit("libdatachannel_server.py: no report from the client")
    print("SERVER_JSON " + json.dumps({
        "server_cpu_s": cpu,
        "server_rss_kib_per_connection": rss,
        "server_open_s": open_s,
        "server_frame_max_ms": frame_max,
        "server_inputs_delivered_pct": 100.0 * inputs / max(report["inputs_sent"], 1),
        "server_states_delivered_pct": 100.0 * report["states"] / max(states_sent * clients, 1),
        "server_events_delivered_pct": 100.0 * report["events"] / max(events_sent * clients, 1),
    }), flush=True)
    for p in peers:
        p.pc.close()
    os._exit(0)


def client(port, clients):
    deadline = time.perf_counter() + 10
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            if time.perf_counter() > deadline:
                sys.exit(f"libdatachannel_server.py (client): cannot reach the server on {port}")
            time.sleep(0.05)
    link = Link(conn)
    peers = [Peer(i, link) for i in range(clients)]
    for p in peers:
        p.pc.set_local_description(ldc.Description.Type.Offer)
    link.flush()
    inp = b"\0" * 64
    state = {"going": False, "done_at": None}
    t0 = 0.0
    inputs_sent = states = events = 0
    for _ in frames(lambda: state["done_at"] is not None and time.perf_counter() >= state["done_at"]):
        for msg in link.received():
            if "go" in msg:
                state["going"] = True
                t0 = time.perf_counter()
            elif "done" in msg:
                state["going"] = False
                state["done_at"] = time.perf_counter() + 1.0
            else:
                peers[msg["i"]].apply(msg)
        link.flush()
        for p in peers:
            states += drain(p.unreliable)
            events += drain(p.reliable)
        if state["going"]:
            due = int((time.perf_counter() - t0) * STATE_HZ) + 1
            while inputs_sent < due * clients:
                for p in peers:
                    p.unreliable.send(inp)
                inputs_sent += clients
    link.post({"report": True, "inputs_sent": inputs_sent, "states": states, "events": events})
    link.flush()
    time.sleep(1.0)
    for p in peers:
        p.pc.close()
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=["server", "client"], required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=20.0)
    a = ap.parse_args()
    if a.role == "server":
        serve(a.port, a.clients, a.seconds)
    else:
        client(a.port, a.clients)


if __name__ == "__main__":
    main()
