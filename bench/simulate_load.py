#!/usr/bin/env python3
"""simulate_load.py DLL DIALECT PORT CLIENTS MIB: runs CLIENTS `netdump-server simulate` clients
at once (linux: --dialect linux --memory MIB M; freebsd: --size MIB M), each from its own
127.0.0.x, and prints one JSON line: the dumps' seconds (the longest client's own figure, from
its first packet to its last: a process's start-up is not the server's), MiB in all, aggregate
MiB/s, failed clients, what was sent again (linux: requests the server repeated; freebsd: the
client's retransmits) and the clients' CPU seconds (their own rusage: on a 2-core machine they
compete with the server). The shared load generator (fbsd_load) speaks only FreeBSD, so
bench/run.sh drives the Linux rows, and the FreeBSD rows they are compared with, with this.
Not part of the test run."""
import json
import os
import re
import subprocess
import sys
import time

dll, dialect, port, clients, mib = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
size = ["--dialect", "linux", "--memory", f"{mib}M"] if dialect == "linux" else ["--size", f"{mib}M"]
start = time.monotonic()
children = {}
for i in range(clients):
    command = ["dotnet", dll, "simulate", "--server", "127.0.0.1", "--port", port,
               "--source", f"127.0.0.{i + 2}", "--seed", str(i + 1)] + size
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, stderr=subprocess.DEVNULL)
    children[process.pid] = process
failed = cpu = longest = repeats = 0
while children:
    pid, status, usage = os.wait4(-1, 0)
    process = children.pop(pid, None)
    if process is None:
        continue
    cpu += usage.ru_utime + usage.ru_stime
    # the summary line ends with the client's own seconds ("..., 2.91 s")
    summary = process.stdout.read().strip()
    seconds = re.findall(r"([0-9.]+) s$", summary)
    # what the server sent again: linux "N requests (M repeated)", freebsd "M retransmits" (the client's)
    found = re.search(r"\((\d+) repeated\)|(\d+) retransmits", summary)
    repeats += int(found.group(1) or found.group(2)) if found else 0
    longest = max(longest, float(seconds[-1]) if seconds else 0)
    failed += 0 if os.waitstatus_to_exitcode(status) == 0 and seconds else 1
wall = longest or time.monotonic() - start
total = clients * mib
print(json.dumps({"dialect": dialect, "clients": clients, "wall_s": wall, "total_mib": total,
                  "mib_s": total / wall, "failed_clients": failed, "repeats": repeats, "client_cpu_s": cpu}))
