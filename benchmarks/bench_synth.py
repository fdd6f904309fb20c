"""Benchmark of the synthetic PRIMA + warehouse generator.

Goal (issue 2): 1 M persons x 36 months within 3 minutes and 6 GB peak RSS on the 2-core
machine. Each generation runs in a child process; the parent samples the child's RSS with
psutil every 50 ms and keeps the peak. No peer generator exists, so the reference is DuckDB
itself: the time DuckDB takes to copy the same rows (every table of both stores) into fresh
database files. The ratio says how much the synthesis costs on top of merely writing.

    .venv/bin/python benchmarks/bench_synth.py [--quick] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
TIME_GOAL_S = 180.0
RSS_GOAL_GB = 6.0

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from primex.synthetic import SynthConfig, generate
persons, months, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
t = time.perf_counter()
r = generate(SynthConfig(persons=persons, start="2022-01", months=months, seed=1),
             out / "prima.duckdb", out / "warehouse.duckdb")
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": use.ru_utime + use.ru_stime,
                  "benefit_rows": r.benefit_rows, "position_rows": r.position_rows}))
"""

_COPY = """
import sys, time, duckdb
src, dst = sys.argv[1], sys.argv[2]
con = duckdb.connect(dst)
con.execute("SET threads = 2")
con.execute(f"ATTACH '{src}' AS src (READ_ONLY)")
tables = [r[0] for r in con.execute(
    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()]
t = time.perf_counter()
for name in tables:
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM src.{name}")
con.execute("CHECKPOINT")
print(time.perf_counter() - t)
"""


def _peak_rss_run(args: list[str]) -> tuple[str, float]:
    """Run a child process, return (stdout, peak RSS in GB of the child and its children)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"child failed: {err.strip().splitlines()[-1:]}")
    return out, peak / 1e9


def _generate(persons: int, months: int, folder: Path) -> tuple[dict, float]:
    out, peak = _peak_rss_run(
        [sys.executable, "-c", _CHILD, str(persons), str(months), str(folder)]
    )
    return json.loads(out.strip().splitlines()[-1]), peak


def _raw_copy_seconds(folder: Path) -> float:
    total = 0.0
    for name in ("prima.duckdb", "warehouse.duckdb"):
        dst = folder / f"copy-{name}"
        out = subprocess.run(
            [sys.executable, "-c", _COPY, str(folder / name), str(dst)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        total += float(out.strip().splitlines()[-1])
        dst.unlink()
    return total


def run(quick: bool = False, repeat: int | None = None) -> list[dict]:
    persons, months = (100_000, 36) if quick else (1_000_000, 36)
    repeat = repeat or (3 if quick else 1)
    label = f"{persons // 1000}k" if persons < 1_000_000 else f"{persons // 1_000_000}M"
    times, cpus, peaks, copies = [], [], [], []
    rows = {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
            folder = Path(tmp)
            info, peak = _generate(persons, months, folder)
            times.append(info["seconds"])
            cpus.append(info["cpu"])
            peaks.append(peak)
            rows = info
            copies.append(_raw_copy_seconds(folder))
    seconds = statistics.median(times)
    peak = max(peaks)
    copy = statistics.median(copies)
    # the time goal is for 1 M persons; a quick run is scaled linearly (said so in the goal)
    scale = 1_000_000 / persons
    total_rows = rows["benefit_rows"] + rows["position_rows"]
    return [
        {
            "name": f"synth generate {label} persons x {months} months: wall time",
            "figure": round(seconds, 2),
            "unit": "s",
            "goal": f"<= {TIME_GOAL_S:.0f} s for 1 M persons"
            + (" (quick run, scaled x10)" if quick else ""),
            "peer": f"DuckDB raw copy of the same {total_rows:,} rows: {copy:.1f} s",
            "ratio": round(seconds / copy, 2) if copy else None,
            "passed": seconds * scale <= TIME_GOAL_S,
        },
        {
            "name": f"synth generate {label} persons x {months} months: peak RSS",
            "figure": round(peak, 2),
            "unit": "GB",
            "goal": f"<= {RSS_GOAL_GB:.0f} GB for 1 M persons",
            "peer": "none (no peer generator); figure vs goal",
            "ratio": round(peak / RSS_GOAL_GB, 2),
            "passed": peak <= RSS_GOAL_GB,
        },
        {
            "name": f"synth generate {label} persons x {months} months: CPU time",
            "figure": round(statistics.median(cpus), 2),
            "unit": "s",
            "goal": "(informative: the machine is shared, CPU time is less noisy)",
            "peer": "–",
            "ratio": None,
            "passed": True,
        },
        {
            "name": f"synth generate {label} persons x {months} months: throughput",
            "figure": round(total_rows / seconds),
            "unit": "rows/s",
            "goal": "(informative)",
            "peer": f"DuckDB raw copy: {total_rows / copy:,.0f} rows/s" if copy else "–",
            "ratio": round(copy / seconds, 2) if copy else None,
            "passed": True,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k persons, 3 repeats")
    parser.add_argument("--repeat", type=int, default=None, help="runs to take the median of")
    args = parser.parse_args()
    for row in run(quick=args.quick, repeat=args.repeat):
        status = "PASS" if row["passed"] else "FAIL"
        print(
            f"{status}  {row['name']}: {row['figure']:,} {row['unit']}  (goal {row['goal']}; "
            f"peer {row['peer']}; ratio {row['ratio']})"
        )


if __name__ == "__main__":
    main()
