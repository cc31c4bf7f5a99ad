"""The other end of the interop test: an aiortc (pure-Python WebRTC) peer that meets a headless
Godot peer (interop/godot/interop_peer.gd, using this addon) in a lobby of our signaling
server, and echoes every message back as it came (text stays text, binary stays binary).

    python aiortc_peer.py --url ws://127.0.0.1:PORT --lobby CODE --role offer|answer

As offerer it opens the in-band channels "reliable" (ordered) and "unordered" (ordered: false,
maxRetransmits: 0); both sides create the negotiated channel "negotiated" with id 5. It closes
the channel "closeme" when asked ("close-please" on it), answers "empty-please" with an empty text
and an empty binary message, and exits when the Godot peer says "bye".
"""
import argparse
import asyncio
import json
import sys

import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp


def log(*a):
    print("aiortc:", *a, file=sys.stderr, flush=True)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--lobby", required=True)
    ap.add_argument("--role", choices=["offer", "answer"], required=True)
    args = ap.parse_args()

    done = asyncio.Event()
    pc = RTCPeerConnection()
    ws = await websockets.connect(args.url)
    await ws.send(json.dumps({"type": "join", "lobby": args.lobby, "mesh": True}))
    joined = json.loads(await ws.recv())
    if joined.get("type") != "joined":
        log("join refused:", joined)
        return 1
    godot_id = joined["peers"][0]

    async def send(kind, data):
        await ws.send(json.dumps({"type": kind, "to": godot_id, "data": data}))

    def echo(channel):
        @channel.on("message")
        def on_message(message):
            if message == "bye":
                done.set()
                return
            if channel.label == "closeme" and message == "close-please":
                channel.close()
                return
            if message == "empty-please":
                channel.send("")  # 0-byte text, then 0-byte binary
                channel.send(b"")
                return
            channel.send(message)  # str stays text, bytes stay binary

    @pc.on("datachannel")
    def on_datachannel(channel):
        log("remote channel", channel.label)
        echo(channel)

    negotiated = pc.createDataChannel("negotiated", negotiated=True, id=5)
    echo(negotiated)
    if args.role == "offer":
        for ch in (pc.createDataChannel("reliable"),
                   pc.createDataChannel("unordered", ordered=False, maxRetransmits=0),
                   pc.createDataChannel("closeme")):
            echo(ch)
        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers fully first
        await send("offer", {"sdp": pc.localDescription.sdp})

    async def signaling():
        async for raw in ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind in ("offer", "answer"):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["data"]["sdp"], type=kind))
                if kind == "offer":
                    await pc.setLocalDescription(await pc.createAnswer())
                    await send("answer", {"sdp": pc.localDescription.sdp})
            elif kind == "candidate":
                line = msg["data"].get("candidate", "")
                if line:
                    cand = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:") else line)
                    cand.sdpMid = msg["data"].get("mid")
                    cand.sdpMLineIndex = msg["data"].get("index", 0)
                    await pc.addIceCandidate(cand)

    task = asyncio.ensure_future(signaling())
    try:
        await asyncio.wait_for(done.wait(), timeout=60)
    except asyncio.TimeoutError:
        log("timed out waiting for 'bye'")
        return 1
    finally:
        task.cancel()
        await pc.close()
        await ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
