"""Run every benchmark of the project and write benchmarks/RESULTS.md.

Each benchmarks/bench_*.py exposes `run(quick: bool = False) -> list[dict]` with rows
{name, figure, unit, goal, peer, ratio, passed}. Every benchmark runs in its own process so
that one's memory does not inflate another's peak RSS. Usage:

    python benchmarks/run_all.py [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKER = "@@PRIMEX-BENCH-JSON@@"

# The benchmark is imported under its own module name from the benchmarks folder, so that
# multiprocessing workers and dataclasses can find it again by name.
_CHILD = """
import importlib, json, pathlib, sys
path = pathlib.Path(sys.argv[1])
sys.path.insert(0, str(path.parent))
mod = importlib.import_module(path.stem)
rows = mod.run(quick=sys.argv[2] == "1")
print("{marker}" + json.dumps(rows, default=str))
""".replace("{marker}", MARKER)


def _run_one(path: Path, quick: bool) -> tuple[list[dict], str | None, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), "1" if quick else "0"],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    elapsed = time.perf_counter() - start
    sys.stdout.write(proc.stdout.replace(MARKER, "rows: "))
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :]), None, elapsed
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return [], " / ".join(tail) or f"exit code {proc.returncode}", elapsed


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", nargs="*", default=None, help="bench_<NAME>.py to run")
    args = parser.parse_args()

    paths = sorted(HERE.glob("bench_*.py"))
    if args.only:
        paths = [p for p in paths if p.stem.removeprefix("bench_") in args.only]
    lines = [
        "# Benchmark results",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
        f"{' (quick sizes)' if args.quick else ''}. Written by `make bench` "
        "(benchmarks/run_all.py). Machines are shared and noisy: figures are medians of "
        "repeated runs where the benchmark repeats, and ratios compare with a peer measured "
        "in the same run (or the peer's recorded figure where it cannot run here, as stated).",
        "",
        "| benchmark | figure | goal | peer | ratio to peer | met | script |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    # With --only, keep the rows of the benchmarks that were not run again.
    kept: list[str] = []
    results = HERE / "RESULTS.md"
    if args.only and results.exists():
        rerun = {p.stem for p in paths}
        for line in results.read_text(encoding="utf-8").splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            is_row = line.startswith("| ") and len(cells) == 7
            if is_row and cells[6].startswith("bench_") and cells[6] not in rerun:
                kept.append(line)
    failures = 0
    for path in paths:
        print(f"== {path.name}", flush=True)
        rows, error, elapsed = _run_one(path, args.quick)
        if error:
            failures += 1
            lines.append(f"| {path.stem} | failed to run: {error} | | | | no | {path.stem} |")
            continue
        for row in rows:
            met = "yes" if row.get("passed") else "**no**"
            failures += 0 if row.get("passed") else 1
            lines.append(
                f"| {row['name']} | {_fmt(row.get('figure'))} {row.get('unit', '')} | "
                f"{row.get('goal', '')} | {row.get('peer', '')} | {_fmt(row.get('ratio'))} "
                f"| {met} | {path.stem} |"
            )
        print(f"   ({elapsed:.1f} s)", flush=True)
    lines[6:6] = kept
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {results}; {failures} goal(s) not met or failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
