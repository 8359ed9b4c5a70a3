#!/usr/bin/env python3
"""A bare central system that answers every CALL after --delay seconds and logs each CALL's
arrival (monotonic time, identity, action) as a JSON line to --log: for load-schedule tests.

  python slow_csms.py --port 9000 --delay 0.3 --log /tmp/arrivals.jsonl
"""
import argparse
import asyncio
import json
import time
from datetime import datetime, timezone

from websockets.asyncio.server import serve

ARGS = None


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def answer(ws, message_id, action):
    await asyncio.sleep(ARGS.delay if action == "Heartbeat" else 0)
    payload = {"currentTime": now()}
    if action == "BootNotification":
        payload.update(status="Accepted", interval=300)
    await ws.send(json.dumps([3, message_id, payload if action in ("BootNotification", "Heartbeat") else {}]))


async def station(ws):
    identity = ws.request.path.rsplit("/", 1)[-1]
    async for text in ws:
        message = json.loads(text)
        if message[0] != 2:
            continue
        with open(ARGS.log, "a") as f:
            f.write(json.dumps({"t": time.monotonic(), "identity": identity, "action": message[2]}) + "\n")
        asyncio.ensure_future(answer(ws, message[1], message[2]))


async def main():
    async with serve(station, "127.0.0.1", ARGS.port, subprotocols=["ocpp1.6"]):
        await asyncio.sleep(ARGS.max_seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--log", required=True)
    parser.add_argument("--max-seconds", type=float, default=120)
    ARGS = parser.parse_args()
    asyncio.run(main())
