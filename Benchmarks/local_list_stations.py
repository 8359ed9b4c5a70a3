#!/usr/bin/env python3
"""Holds N simulated stations connected to `evctl serve` and answers what `local-list push` sends.

GetConfiguration reports LocalAuthListMaxLength and SendLocalListMaxLength; GetLocalListVersion
and SendLocalList keep each station's list. Loopback only; stops by itself after --max-seconds.
Prints one JSON line when all stations are connected ("ready"), and a summary at the end.
"""
import argparse
import asyncio
import json
import sys
import time

import websockets


async def station(url, identity, args, stats, ready):
    async with websockets.connect(f"{url}/{identity}", subprotocols=["ocpp1.6"], max_size=None,
                                  ping_interval=None) as ws:
        await ws.send(json.dumps([2, "b", "BootNotification",
                                  {"chargePointVendor": "Bench", "chargePointModel": "LocalList"}]))
        await ws.recv()
        ready.append(identity)
        version, entries = 0, {}
        async for text in ws:
            frame = json.loads(text)
            if frame[0] != 2:
                continue
            _, mid, action, payload = frame
            stats["calls"] += 1
            if action == "GetConfiguration":
                answer = {"configurationKey": [
                    {"key": "LocalAuthListMaxLength", "readonly": True, "value": str(args.max_list)},
                    {"key": "SendLocalListMaxLength", "readonly": True, "value": str(args.max_message)}]}
            elif action == "GetLocalListVersion":
                answer = {"listVersion": version}
            elif action == "SendLocalList":
                if payload["updateType"] == "Full":
                    entries = {}
                for entry in payload.get("localAuthorizationList", []):
                    if "idTagInfo" in entry:
                        entries[entry["idTag"]] = entry["idTagInfo"]
                    else:
                        entries.pop(entry["idTag"], None)
                version = payload["listVersion"]
                stats["entries"][identity] = len(entries)
                stats["last_ack"] = time.time()
                answer = {"status": "Accepted"}
            else:
                await ws.send(json.dumps([4, mid, "NotImplemented", "", {}]))
                continue
            await ws.send(json.dumps([3, mid, answer]))


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="ws://127.0.0.1:9004/ocpp")
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--max-list", type=int, default=10000)
    parser.add_argument("--max-message", type=int, default=1000)
    parser.add_argument("--max-seconds", type=int, default=600)
    args = parser.parse_args()
    assert args.url.startswith("ws://127.0.0.1:"), "loopback only"
    stats = {"calls": 0, "entries": {}, "last_ack": None}
    ready = []
    tasks = [asyncio.create_task(station(args.url, f"CP{i:06d}", args, stats, ready))
             for i in range(args.stations)]
    while len(ready) < args.stations:
        await asyncio.sleep(0.1)
    print(json.dumps({"ready": len(ready)}), flush=True)
    deadline = time.time() + args.max_seconds
    try:
        while time.time() < deadline and not sys.stdin.closed:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
    finally:
        for task in tasks:
            task.cancel()
        sizes = list(stats["entries"].values())
        print(json.dumps({"calls": stats["calls"], "stations_with_list": len(sizes),
                          "min_entries": min(sizes, default=0), "max_entries": max(sizes, default=0),
                          "last_ack": stats["last_ack"]}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
