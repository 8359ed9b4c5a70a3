"""Hostile text and impossible numbers from a station must neither reach a terminal raw nor crash
the CLI (issue 10 item 7, issue 11 item 4). Frames are sent raw, as a hostile station would."""
import asyncio
import json
import os

from test_charge_point import connect

ESC = "\x1b"
HOSTILE = ESC + "]0;pwned" + "\x07" + ESC + "[2J"


async def exchange(ws, frames):
    replies = []
    for frame in frames:
        await ws.send(json.dumps(frame))
        while True:  # skip what serve asks on its own meanwhile (the configuration fetch after a boot)
            reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            if not (isinstance(reply, list) and reply and reply[0] == 2):
                break
        replies.append(reply)
    return replies


def test_hostile_boot_fields_are_escaped_on_terminals_and_exact_in_json(evctl):
    async def scenario():
        async with connect(evctl, "CP-1") as ws:
            return await exchange(ws, [
                [2, "b1", "BootNotification", {
                    "chargePointVendor": "V" + HOSTILE, "chargePointModel": "M" + ESC + "[31m",
                    "firmwareVersion": "1.0" + ESC + "c"}],
                [2, "s1", "StatusNotification", {
                    "connectorId": 1, "errorCode": "OtherError", "status": "Faulted",
                    "info": "boom" + HOSTILE}],
                [2, HOSTILE, HOSTILE, {}],
            ])

    replies = asyncio.run(scenario())
    assert replies[0][0] == 3 and replies[1][0] == 3
    tty = dict(evctl.env, EVCTL_FORCE_TTY="1", NO_COLOR="1")
    for args in (["station", "list", "-o", "wide"], ["station", "list", "-o", "tsv"],
                 ["station", "show", "CP-1"], ["alarm", "list", "-o", "wide"],
                 ["station", "events", "CP-1"], ["event", "list", "-o", "tsv"], ["status"]):
        import subprocess
        result = subprocess.run([os.environ.get("EVCTL_BIN", "evctl"), "--db", evctl.db, *args],
                                capture_output=True, text=True, env=tty, timeout=60)
        assert result.returncode == 0, (args, result.stderr)
        assert ESC not in result.stdout and "\x07" not in result.stdout, (args, result.stdout)
        assert ESC not in result.stderr, (args, result.stderr)
    wide = evctl.run("station", "list", "-o", "wide").stdout
    assert "V\\x1b]0;pwned\\x07\\x1b[2J" in wide
    exact = json.loads(evctl.run("station", "list", "-o", "json").stdout)
    assert [s["vendor"] for s in exact if s["identity"] == "CP-1"] == ["V" + HOSTILE]
    code, log = evctl.stop()
    assert ESC not in log and "\x07" not in log, log


def test_impossible_meter_numbers_are_flagged_and_left_out_of_sums(evctl):
    int64_min, int64_max = -2**63, 2**63 - 1

    async def scenario():
        async with connect(evctl, "CP-1") as ws:
            start = lambda mid, meter, at: [2, mid, "StartTransaction", {
                "connectorId": 1, "idTag": "GOOD1", "meterStart": meter, "timestamp": at}]
            first = await exchange(ws, [start("t1", int64_min, "2026-11-20T10:00:00Z")])
            tx1 = first[0][2]["transactionId"]
            stop = lambda mid, tx, meter, at: [2, mid, "StopTransaction", {
                "transactionId": tx, "meterStop": meter, "timestamp": at}]
            await exchange(ws, [stop("p1", tx1, int64_max, "2026-11-20T11:00:00Z")])
            tx2 = (await exchange(ws, [start("t2", 50_000, "2026-11-20T12:00:00Z")]))[0][2]["transactionId"]
            await exchange(ws, [stop("p2", tx2, 1_000, "2026-11-20T13:00:00Z")])
            tx3 = (await exchange(ws, [start("t3", 0, "2026-11-20T14:00:00Z")]))[0][2]["transactionId"]
            await ws.send('[2,"m3","MeterValues",{"connectorId":1,"transactionId":%d,"meterValue":'
                          '[{"timestamp":"2026-11-20T14:30:00Z","sampledValue":[{"value":"1e309",'
                          '"measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}]' % tx3)
            await asyncio.wait_for(ws.recv(), timeout=10)
            tx4 = (await exchange(ws, [start("t4", 1_000, "2026-11-20T15:00:00Z")]))[0][2]["transactionId"]
            await exchange(ws, [stop("p4", tx4, 13_345, "2026-11-20T16:00:00Z")])
            return tx1, tx2, tx3, tx4

    tx1, tx2, tx3, tx4 = asyncio.run(scenario())
    for args in (["report", "sessions"], ["report", "sessions", "-o", "csv"],
                 ["report", "energy", "--by", "day", "--chart"], ["report", "energy", "--by", "station", "-o", "json"],
                 ["transaction", "list"], ["transaction", "show", str(tx1)], ["transaction", "show", str(tx3)],
                 ["status"]):
        result = evctl.run(*args, check=False)
        assert result.returncode == 0, (args, result.returncode, result.stderr)
    sessions = {s["id"]: s for s in json.loads(evctl.run("report", "sessions", "-o", "json").stdout)}
    for tx in (tx1, tx2, tx3):
        assert sessions[tx]["implausible"], sessions[tx]
        assert sessions[tx]["energy_kwh"] is None and sessions[tx]["energy_wh"] is None
    assert sessions[tx1]["meter_start_wh"] == int64_min and sessions[tx1]["meter_stop_wh"] == int64_max
    assert sessions[tx4]["energy_wh"] == 12_345 and sessions[tx4]["energy_kwh"] == 12.345
    assert sessions[tx4]["implausible"] is None
    report = evctl.run("report", "sessions", "-o", "csv")
    assert "warning: 3 session(s) with implausible meter readings" in report.stderr
    total = json.loads(evctl.run("report", "energy", "--by", "station", "-o", "json").stdout)[-1]
    assert total["station"] == "total" and total["energy_wh"] == 12_345 and total["energy_kwh"] == 12.345
    _, log = evctl.stop()
    assert "CP-1: meterStart -9223372036854775808 Wh is negative; stored as sent" in log, log
    assert "energy reading is not a finite number" in log, log


def test_output_formats_with_a_live_station(evctl):
    """`-o` is honoured with a station answering (issue 10 items 12 and 13)."""
    from test_remote_commands import cli, online

    async def scenario():
        station, ws, task = await online(evctl, "CP-1")
        results = {}
        results["chart_csv"] = await cli(evctl, "profile", "composite", "CP-1", "--connector", "1",
                                         "--duration", "3600", "--chart", "-o", "csv")
        results["chart_json"] = await cli(evctl, "profile", "composite", "CP-1", "--connector", "1",
                                          "--duration", "3600", "--chart", "-o", "json")
        results["reserve_json"] = await cli(evctl, "reservation", "create", "--station", "CP-1",
                                            "--connector", "1", "--id-tag", "GOOD1", "--expires", "30m",
                                            "-o", "json")
        results["push_table"] = await cli(evctl, "local-list", "push", "--station", "CP-1", "--full",
                                          "-o", "table")
        task.cancel()
        await ws.close()
        return results

    results = asyncio.run(scenario())
    for name, result in results.items():
        assert result.returncode == 0, (name, result.stderr)
    csv = results["chart_csv"]
    assert csv.stdout.startswith("from_s,to_s,limit,phases\n") and "█" not in csv.stdout
    assert "█" in csv.stderr
    json.loads(results["chart_json"].stdout)
    reserved = json.loads(results["reserve_json"].stdout)  # one JSON document, no text line after it
    assert [r["state"] for r in reserved] == ["accepted"], reserved
    push = results["push_table"].stdout.splitlines()
    assert push[0].split() == ["STATION", "RESULT", "DETAIL"] and push[1].startswith("CP-1  "), push


def test_rejections_write_one_error_line_even_quiet(evctl):
    """A station's refusal is a failure with an `error:` line, also with -q (issue 10 item 13)."""
    from ocpp.exceptions import GenericError
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call, call_result
    from ocpp.v16.enums import Action
    from test_remote_commands import cli

    class Refusing(ChargePoint):
        @on(Action.reserve_now)
        async def reserve_now(self, **p):
            return call_result.ReserveNow(status="Rejected")

        @on(Action.get_composite_schedule)
        async def get_composite_schedule(self, **p):
            return call_result.GetCompositeSchedule(status="Rejected")

        @on(Action.get_configuration)
        async def get_configuration(self, **p):
            raise GenericError(description="configuration is locked")

    async def scenario():
        ws = await connect(evctl, "CP-1")
        station = Refusing("CP-1", ws)
        task = asyncio.create_task(station.start())
        await station.call(call.BootNotification(charge_point_vendor="Test", charge_point_model="Peer"))
        results = [
            await cli(evctl, "-q", "reservation", "create", "--station", "CP-1", "--connector", "1",
                      "--id-tag", "GOOD1", "--expires", "30m", "-o", "json"),
            await cli(evctl, "-q", "profile", "composite", "CP-1", "--connector", "1", "--duration", "60"),
            await cli(evctl, "profile", "composite", "CP-1", "--connector", "1", "--duration", "60"),
            await cli(evctl, "-q", "station", "config", "get", "CP-1"),
        ]
        task.cancel()
        await ws.close()
        return results

    for result in asyncio.run(scenario()):
        assert result.returncode == 1, (result.args, result.returncode, result.stderr)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and "CP-1" in errors[0], (result.args, result.stderr)
        if "json" in result.args:
            assert result.stdout == "" or json.loads(result.stdout) is not None
