#!/usr/bin/env python3
"""The engine figures as a markdown table, each beside its floor from the same run (bench/floors.sh).

Usage: bench/engine-table.py OUT JALM_TXT [BASELINE_TXT]
OUT holds floor-lat.txt, floor-pipe.txt and floor-fsync.txt; JALM_TXT (and BASELINE_TXT, the same
jalm-bench run against another build) hold `RESULT NAME VALUE` lines. A row whose figure was not measured
is left out; a floor that was not measured is shown as "—". Nothing here is a measurement of its own.
"""
import pathlib
import re
import sys


def results(path):
    return {k: float(v) for k, v in re.findall(r"^RESULT (\S+) (\S+)$", pathlib.Path(path).read_text(), re.M)}


def field(path, name):
    p = pathlib.Path(path)
    m = re.search(rf"{name}=([0-9.]+)", p.read_text()) if p.exists() else None
    return float(m.group(1)) if m else None


out = pathlib.Path(sys.argv[1])
this = results(sys.argv[2])
base = results(sys.argv[3]) if len(sys.argv) > 3 else None
lat, lat_cpu = field(out / "floor-lat.txt", "median"), field(out / "floor-lat.txt", "cpu_us_per_msg")
pipe, pipe_cpu = field(out / "floor-pipe.txt", "msgs/s"), field(out / "floor-pipe.txt", "cpu_us_per_msg")
fsync = field(out / "floor-fsync.txt", "p50_us")


def times(k, v):
    return None if v is None else k * v


serial = lat * 3 + fsync if lat is not None and fsync is not None else None
# (label, RESULT name, floor, how the floor is made, lower is better, target)
rows = [
    ("3-step `sys.echo`, 1 client, p50 µs", "e2e_3step_c1_p50_us", serial,
     "3 × ping-pong p50 + fdatasync p50", True, "≤ 500"),
    ("3-step, 1 client, p99 µs", "e2e_3step_c1_p99_us", None, "", True, ""),
    ("3-step capsules/s, 1 client", "e2e_3step_c1_per_s", 1e6 / serial if serial else None,
     "1 / (3 × ping-pong p50 + fdatasync p50)", False, ""),
    ("3-step capsules/s, 64 clients", "e2e_3step_per_s", times(1 / 3, pipe),
     "ping-pong 64 in flight ÷ 3", False, "≥ 10,000"),
    ("1-step capsules/s, 64 clients", "e2e_1step_per_s", pipe, "ping-pong 64 in flight", False, "≥ 15,000"),
    ("daemon CPU µs per 3-step capsule, 64 clients", "e2e_3step_cpu_us", times(3, pipe_cpu),
     "3 × ping-pong CPU per round trip, 64 in flight", True, "≤ 100"),
    ("… of which jalmd", "e2e_3step_cpu_jalmd_us", None, "", True, ""),
    ("… of which layers", "e2e_3step_cpu_layers_us", None, "", True, ""),
    ("daemon CPU µs per 3-step capsule, 1 client", "e2e_3step_c1_cpu_us", times(3, lat_cpu),
     "3 × ping-pong CPU per round trip, 1 in flight", True, ""),
    ("daemon CPU µs per 1-step capsule, 64 clients", "e2e_1step_cpu_us", pipe_cpu,
     "ping-pong CPU per round trip, 64 in flight", True, ""),
    ("idle RSS MiB, jalmd + every layer process", "idle_rss_mib", None, "", True, "≤ 80 MB (= 76.3 MiB)"),
    ("idle PSS MiB (shared pages split)", "idle_pss_mib", None, "", True, ""),
    ("idle processes", "idle_processes", None, "", True, ""),
    ("idle CPU ms per second, whole tree", "idle_cpu_ms_per_s", None, "", True, ""),
    ("journal bytes per 3-step capsule", "journal_bytes_per_3step", None, "", True, "≤ 500"),
]


def num(v):
    if v is None:
        return "—"
    return f"{v:,.0f}" if abs(v) >= 100 or v == int(v) else f"{v:.1f}"


def ratio(v, floor, lower):
    if v is None or not floor:
        return "—"
    return f"{v / floor:.2f}× floor" if lower else f"{v / floor:.3f} of floor"


head = ["figure", "value", "floor", "ratio"]
if base is not None:
    head += ["baseline", "baseline ratio", "value ÷ baseline"]
head += ["target", "floor is"]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for label, key, floor, how, lower, target in rows:
    if key not in this and (base is None or key not in base):
        continue
    v = this.get(key)
    cells = [label, num(v), num(floor), ratio(v, floor, lower)]
    if base is not None:
        b = base.get(key)
        cells += [num(b), ratio(b, floor, lower), f"{v / b:.2f}" if v is not None and b else "—"]
    cells += [target, how]
    print("| " + " | ".join(cells) + " |")
