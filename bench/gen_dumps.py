#!/usr/bin/env python3
"""gen_dumps.py DIR N: N dump directories under DIR, each with a dump.json as the server writes
it (the fields of src/Netdump.Actors/Storage/DumpJson.cs), for the catalog's scale run:
5,000 hosts, 40 panics on 4 kernels, a fifth incomplete, received over the last 100 days."""
import json, os, sys, random, datetime

root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root, mode=0o700, exist_ok=True)
rng = random.Random(15)
now = datetime.datetime.now(datetime.timezone.utc)
kernels = [f"FreeBSD 14.{k}-RELEASE #0 releng/14.{k}-n26{k}679-10e31f0946d8: Fri May 31 05:41:19 UTC 2024\n    root@releng1:/usr/obj/usr/src/amd64.amd64/sys/GENERIC\n" for k in range(4)]
panics = [f"page fault while in kernel mode: fault virtual address = 0x{p:x}{{addr:x}} in module {p}" for p in range(40)]
for i in range(n):
    host = rng.randrange(5000)
    ip = f"10.{host // 250}.{host % 250}.{rng.randrange(1, 250)}"
    at = now - datetime.timedelta(seconds=i * 86.4)  # 100,000 dumps over 100 days, newest first
    name = f"{ip}-{at.astimezone().strftime('%Y-%m-%d-%H:%M:%S')}-{i}"
    d = os.path.join(root, name)
    os.mkdir(d, 0o700)
    complete = rng.random() > 0.2
    length = 4 << 30
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    report = {
        "status": "complete" if complete else "incomplete",
        "reason": None if complete else "client timed out",
        "client_ip": ip, "server_ip": "192.0.2.1", "herald_path": "", "herald_path_fallback": None,
        "directory": d, "received_at": stamp, "finished_at": stamp,
        "magic": "FreeBSD Kernel Dump", "hostname": f"web{host}.example.org", "architecture": "amd64",
        "architecture_version": 2, "version_string": kernels[host % 4],
        "panic_string": panics[rng.randrange(40)].format(addr=rng.randrange(1 << 32)),
        "dump_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "dump_length": length, "block_size": 512, "dump_key_size": 0,
        "bytes_received": length if complete else length // 2,
        "ranges": [[0, length if complete else length // 2]], "holes": [] if complete else [[length // 2, length]],
        "holes_known_until": length, "rate_bytes_per_second": None, "average_rate_bytes_per_second": None, "eta_seconds": None,
        "key_bytes_received": 0, "compression": "none", "encrypted": False, "parity_ok": True,
        "vmcore": "vmcore" if complete else "vmcore-incomplete", "sha256": None, "superseded_by": None,
        "recovered": False, "dialect": "freebsd",
    }
    with open(os.path.join(d, "dump.json"), "w") as f:
        json.dump(report, f, indent=2)
