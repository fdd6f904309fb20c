"""Benchmark: the quarterly protocol plus the dashboard build on 1 M persons x 36 months.

Goal (issues 8 and 21): <= 60 s for `primex extract run --protocol quarterly` (43
indicators) followed by `primex dashboard build` (public profile, all four languages, maps by
commune, open-data package) on a synthetic PRIMA of 1 M beneficiaries over 36 months.
The data are generated once with the project's generator into benchmarks/out/
(gitignored) and reused. Each timed repetition starts from a home without extracts or site, so
it measures the full extraction + protection + rendering. No peer tool publishes such a
dashboard; the figure is compared with the goal only (ratio = figure / goal).

    .venv/bin/python benchmarks/bench_dashboard.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from primex.dashboard.build import build_site  # noqa: E402
from primex.extract.protocol import load_protocol  # noqa: E402
from primex.extract.run import run_protocol  # noqa: E402
from primex.home import Home  # noqa: E402
from primex.synthetic import SynthConfig, generate  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
GOAL_S = 60.0


def _data(persons: int, months: int) -> Home:
    home = Home(OUT / f"dashboard-{persons}x{months}")
    if not (home.prima_db.exists() and home.warehouse_db.exists()):
        home.spp.mkdir(parents=True, exist_ok=True)
        home.bcss.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        generate(SynthConfig(persons=persons, start="2022-07", months=months, seed=8),
                 home.prima_db, home.warehouse_db)
        print(f"generated {persons:,} persons x {months} months in "
              f"{time.perf_counter() - t:.0f} s -> {home.root}")
    return home


def _once(home: Home) -> tuple[float, float, float, float]:
    shutil.rmtree(home.extracts, ignore_errors=True)
    shutil.rmtree(home.site, ignore_errors=True)
    c0, t0 = time.process_time(), time.perf_counter()
    run_protocol(home, load_protocol("quarterly"))
    c1, t1 = time.process_time(), time.perf_counter()
    build_site(home, None, "public")
    c2, t2 = time.process_time(), time.perf_counter()
    # CPU seconds (this process, DuckDB's threads included) and the load average too: on a
    # shared machine the wall clock says more about the neighbours than about the code
    print(f"  protocol {t1 - t0:.1f} s (CPU {c1 - c0:.1f} s), site in 4 languages "
          f"{t2 - t1:.1f} s (CPU {c2 - c1:.1f} s), load average {os.getloadavg()[0]:.1f}",
          flush=True)
    return t1 - t0, t2 - t1, c1 - c0, c2 - c1


def run(quick: bool = False, reps: int | None = None) -> list[dict]:
    persons, months, default_reps = (100_000, 36, 1) if quick else (1_000_000, 36, 3)
    reps = reps or default_reps
    home = _data(persons, months)
    load0 = os.getloadavg()[0]
    timings = [_once(home) for _ in range(reps)]
    extract = statistics.median(t[0] for t in timings)
    total = statistics.median(t[0] + t[1] for t in timings)
    cpu = statistics.median(t[2] + t[3] for t in timings)
    load = f"load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after, 2 cores"
    label = f"{persons // 1000}k persons x {months} months"
    goal = f"<= {GOAL_S:.0f} s for 1 M persons x 36 months"
    return [
        {"name": f"dashboard: quarterly protocol + site build, {label}", "figure": total,
         "unit": "s", "goal": goal,
         "peer": f"none (no peer builds this dashboard); CPU {cpu:.1f} s; {load}",
         "ratio": total / GOAL_S, "passed": total <= GOAL_S},
        {"name": f"dashboard: quarterly protocol run alone, {label}", "figure": extract,
         "unit": "s", "goal": "part of the above", "peer": "none", "ratio": None,
         "passed": extract <= GOAL_S},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k persons, one repetition")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (median)")
    args = parser.parse_args()
    for row in run(args.quick, args.reps):
        ratio = "" if row["ratio"] is None else f" (ratio to goal {row['ratio']:.2f})"
        print(f"{row['name']}: {row['figure']:.1f} {row['unit']} — goal {row['goal']}{ratio} "
              f"— {'PASS' if row['passed'] else 'FAIL'}")


if __name__ == "__main__":
    main()
