#!/usr/bin/env python3
"""side_by_side.py RUNS ROUNDS CELL...: one markdown row from a file of runs of two warm servers
side by side (bench/fleet.sh, bench/cluster.sh): each line "off|on CPU0 CPU1 {fbsd_load JSON}".
Prints | CELL... | off MiB/s | on MiB/s | ratio on/off | CPU s per GiB (off/on) | rounds |, medians
of the runs without a failed client."""
import json, statistics, sys

runs, rounds, cells = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = {"off": [], "on": []}
for line in open(runs):
    side, c0, c1, result = line.rstrip("\n").split(" ", 3)
    r = json.loads(result) if result.startswith("{") else {}
    if not r.get("total_mib") or r.get("failed_clients"):
        continue
    rows[side].append((r["aggregate_mib_s"], (float(c1) - float(c0)) / r["total_mib"] * 1024))


def med(side, i):
    return statistics.median(x[i] for x in rows[side]) if rows[side] else 0


off, on = med("off", 0), med("on", 0)
print(f"| {' | '.join(cells)} | {off:.1f} | {on:.1f} | **{on / off if off else 0:.3f}** | "
      f"{med('off', 1):.2f}/{med('on', 1):.2f} | {len(rows['off'])}/{len(rows['on'])} of {rounds} |")
