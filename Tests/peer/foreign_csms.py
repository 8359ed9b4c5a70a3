#!/usr/bin/env python3
"""A central system that is not ours: the mobilityhouse `ocpp` library's documented pattern.

It validates every CALL and CALLRESULT against the official 1.6 JSON schemas (library default),
writes what it received as JSON lines to --log, answers BootNotification with --boot-status, and
with --remote-start sends RemoteStartTransaction once the first transaction has stopped; with
--tls-cert it serves wss:// (and with --client-ca requires a client certificate).

  python foreign_csms.py --port 9000 --log /tmp/received.jsonl [--boot-status Rejected]
"""
import argparse
import asyncio
import json
from datetime import datetime, timezone

from websockets.asyncio.server import serve

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

ARGS = None
NEXT_TX = [100]


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log(identity, action, payload):
    with open(ARGS.log, "a") as f:
        f.write(json.dumps({"identity": identity, "action": action, "payload": payload}) + "\n")


class Central(ChargePoint):
    @on(Action.boot_notification)
    def on_boot(self, **p):
        log(self.id, "BootNotification", p)
        return call_result.BootNotification(current_time=now(), interval=ARGS.interval, status=ARGS.boot_status)

    @on(Action.heartbeat)
    def on_heartbeat(self, **p):
        log(self.id, "Heartbeat", p)
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    def on_status(self, **p):
        log(self.id, "StatusNotification", p)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, **p):
        log(self.id, "Authorize", p)
        return call_result.Authorize(id_tag_info={"status": "Blocked" if p["id_tag"] == "BLOCKED" else "Accepted"})

    @on(Action.start_transaction)
    def on_start(self, **p):
        log(self.id, "StartTransaction", p)
        NEXT_TX[0] += 1
        return call_result.StartTransaction(transaction_id=NEXT_TX[0], id_tag_info={"status": "Accepted"})

    @on(Action.meter_values)
    def on_meter(self, **p):
        log(self.id, "MeterValues", p)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop(self, **p):
        log(self.id, "StopTransaction", p)
        return call_result.StopTransaction()

    @after(Action.stop_transaction)
    async def after_stop(self, **p):
        if ARGS.remote_start:
            asyncio.get_running_loop().call_later(0.2, lambda: asyncio.ensure_future(self.send_remote_start()))

    async def send_remote_start(self):
        result = await self.call(call.RemoteStartTransaction(id_tag="REMOTE1", connector_id=1))
        log(self.id, "RemoteStartTransaction.conf", {"status": result.status})


async def on_connect(websocket):
    identity = websocket.request.path.strip("/").split("/")[-1]
    await Central(identity, websocket).start()


async def main():
    context = None
    if ARGS.tls_cert:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        if ARGS.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(ARGS.client_ca)
    async with serve(on_connect, "127.0.0.1", ARGS.port, subprotocols=["ocpp1.6"], ssl=context):
        await asyncio.sleep(ARGS.max_seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--boot-status", default="Accepted")
    parser.add_argument("--interval", type=int, default=300)
    parser.add_argument("--remote-start", action="store_true")
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--tls-cert", help="serve wss:// with this certificate (PEM)")
    parser.add_argument("--tls-key")
    parser.add_argument("--client-ca", help="require a client certificate signed by this CA")
    ARGS = parser.parse_args()
    asyncio.run(main())
