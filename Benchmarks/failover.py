"""Failover time (issue 14): PostgreSQL, HAProxy (Examples/ha/haproxy.cfg) and three serve nodes on
loopback, N stations (default 1,000) running sessions through HAProxy; `kill -9` of the node
holding the most; the time until the last of its stations is booted again on another node.
A benchmark, not a test (Tests/peer/test_failover.py checks correctness with 300).

    EVCTL_BIN=.build/release/evctl python Benchmarks/failover.py [STATIONS] > result.json
"""
import asyncio
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "peer"))
from ha_harness import HA, Ledger, Station  # noqa: E402


async def measure(ha, identities, ledger):
    stop = asyncio.Event()
    tasks = [asyncio.create_task(Station(i, ha.front, ledger, pause=5).run(stop)) for i in identities]
    started = time.time()
    while sum(1 for i in identities if ledger.connected_at[i]) < len(identities):
        if time.time() - started > 300:
            raise SystemExit("not every station came online")
        await asyncio.sleep(0.2)
    online_s = time.time() - started
    await asyncio.sleep(5)
    held = {n: ha.connections(n) for n in ha.nodes}
    victim = max(held, key=held.get)
    killed_at = time.time()
    ha.kill_node(victim)

    def dropped():
        return [i for i in identities if any(t >= killed_at for t in ledger.dropped_at[i])]
    while len(dropped()) < held[victim] and time.time() - killed_at < 120:
        await asyncio.sleep(0.05)
    moved = dropped()
    while any(not any(t > killed_at for t in ledger.connected_at[i]) for i in moved):
        if time.time() - killed_at > 300:
            raise SystemExit("stations did not come back")
        await asyncio.sleep(0.05)
    backs = sorted(min(t for t in ledger.connected_at[i] if t > killed_at) - killed_at for i in moved)
    stop.set()
    await asyncio.gather(*tasks)
    return {"stations": len(identities), "all_online_s": round(online_s, 2), "per_node": held,
            "killed_node": victim, "moved": len(moved), "first_back_s": round(backs[0], 2),
            "median_back_s": round(backs[len(backs) // 2], 2), "last_back_s": round(backs[-1], 2),
            "goal_s": 10, "starts": len(ledger.starts), "stops": len(ledger.stops)}


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    identities = [f"FO-{n:04d}" for n in range(count)]
    with tempfile.TemporaryDirectory(prefix="evha") as workdir:
        ha = HA(workdir)
        try:
            ha.start(identities)
            ledger = Ledger()
            result = asyncio.run(measure(ha, identities, ledger))
        finally:
            ha.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
