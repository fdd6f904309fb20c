"""Benchmark: table protection (primary + secondary suppression + attacker audit).

Run: .venv/bin/python benchmarks/bench_disclosure_tables.py [--quick]

Cases (goals from issue 6):
* ref-1k: sdcTable's reference 1k magnitude table (../shared/reference/sdctable, 165 primary
  cells). Goal: <= 151 secondaries (sdcTable GAUSS, 14.5 s), <= 2 s, zero audit failures.
  Skipped when the reference folder is absent.
* ref-1k as a request's protection step releases it: the heuristic, then the exact search
  within the step's work budget (primex.protection.step.OPTIMUM_CHECK), whose pattern is
  released when smaller.
* ref-1k distance to the optimum (issue 16 #4): the exact MIP (primex.sdc.tables.optimal)
  on the same problem, within --mip-seconds (default 600 s wall), for the best lower bound;
  goal: the released pattern <= 5 % above the optimum (compared with the proven lower bound
  when the optimum is not proven).
* gen-50k: the same kind of table from the generator below at 51 597 cells
  (region 1+10+70 x nace 1+10+80 x size 1+6, n = 150 000). Goal <= 30 s protected and audited.
  Peer: sdcTable SIMPLEHEURISTIC_OLD 1 558 secondaries in 0.82 s on its own 50k table
  (recorded in peers.md; R is not run here; GAUSS/SIMPLEHEURISTIC did not finish).
* commune-100k: commune (565 Belgian communes -> arrondissement -> province -> region ->
  Belgium) x age band (12 five-year bands -> 6 ten-year -> *) x category (8 -> *), all
  margins, about 106 000 cells, a frequency table with min_count 10. Goal <= 60 s.

The generator reproduces the shape described in peers.md: leaf codes drawn with
P(i) ∝ 1/i^a (region a = 0.7, nace a = 0.8, size a = 1.15, fitted on the 1k microdata) and
turnover = round(lognormal(10, 1.5)), numpy default_rng(seed). The cell counts of the 10k and
50k tables in peers.md (9 620 and 51 597) are matched exactly by (6,5,8,7,3) and
(10,7,10,8,6); the exact generator of peers.md is not published, so primary counts differ.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from primex.protection.step import OPTIMUM_CHECK  # noqa: E402
from primex.sdc.tables import protect_table  # noqa: E402
from primex.sdc.tables.build import hierarchies_from_sdctable  # noqa: E402
from primex.sdc.tables.optimal import OptimumParams, distance_to_optimum  # noqa: E402

REF = ROOT.parent / "shared" / "reference"
LEVELS = {"safety_range": 10, "min_interval": 1}  # the service defaults (policy.yaml)
RULES_SDC = {"min_count": 3, "p_percent": 20, "dominance": {"n": 2, "k": 85}, **LEVELS}


def _zipf(rng: np.random.Generator, k: int, a: float, n: int) -> np.ndarray:
    p = 1.0 / np.arange(1, k + 1) ** a
    return rng.choice(k, size=n, p=p / p.sum())


def sdctable_like(n: int, a: int, b: int, c: int, d: int, s: int,
                  seed: int = 12345) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Microdata and ARX-form hierarchies of a region x nace x size magnitude table."""
    rng = np.random.default_rng(seed)
    reg = [f"R{i + 1:02d}{j + 1:02d}" for i in range(a) for j in range(b)]
    nac = [f"N{i + 1:02d}{j + 1:02d}" for i in range(c) for j in range(d)]
    siz = [f"S{i + 1:02d}" for i in range(s)]
    df = pd.DataFrame({
        "region": np.asarray(reg)[_zipf(rng, len(reg), 0.7, n)],
        "nace": np.asarray(nac)[_zipf(rng, len(nac), 0.8, n)],
        "size": np.asarray(siz)[_zipf(rng, len(siz), 1.15, n)],
        "turnover": np.round(rng.lognormal(10.0, 1.5, n)),
    })
    hier = {
        "region": pd.DataFrame({"l0": reg, "l1": [r[:3] for r in reg], "l2": "*"}),
        "nace": pd.DataFrame({"l0": nac, "l1": [x[:3] for x in nac], "l2": "*"}),
        "size": pd.DataFrame({"l0": siz, "l1": "*"}),
    }
    return df, hier


def commune_table(n: int = 400_000, seed: int = 7) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Commune x age band x category microdata; communes from the REFNIS list when present,
    otherwise a synthetic 565-commune hierarchy of the same shape."""
    rng = np.random.default_rng(seed)
    ref = REF / "communes-2025-refnis.csv"
    if ref.exists():
        c = pd.read_csv(ref, dtype=str)
        geo = pd.DataFrame({"commune": c["nis"], "arr": "A" + c["arrondissement_nis"],
                            "prov": "P" + c["province_nis"], "reg": "G" + c["region_nis"],
                            "top": "*"})
    else:
        rows = [(f"C{i:05d}", f"A{i % 43:02d}", f"P{(i % 43) % 11:02d}",
                 f"G{((i % 43) % 11) % 3}", "*") for i in range(565)]
        geo = pd.DataFrame(rows, columns=["commune", "arr", "prov", "reg", "top"])
    bands = [f"{18 + 5 * i}-{22 + 5 * i}" for i in range(12)]
    age = pd.DataFrame({"band": bands, "ten": [f"{18 + 10 * (i // 2)}+10" for i in range(12)],
                        "top": "*"})
    cats = [f"cat{i}" for i in range(8)]
    cat = pd.DataFrame({"category": cats, "top": "*"})
    df = pd.DataFrame({
        "commune": geo["commune"].to_numpy()[_zipf(rng, len(geo), 1.0, n)],
        "age": np.asarray(bands)[rng.integers(0, 12, n)],
        "category": np.asarray(cats)[_zipf(rng, 8, 1.0, n)],
    })
    return df, {"commune": geo, "age": age, "category": cat}


def _time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


# Wall-clock budget of the exact MIP on the reference table (--mip-seconds N to change).
MIP_SECONDS = 600.0


def _distance_rows(pt: object, seconds: float, released: int) -> list[dict]:
    """The released pattern against the exact optimum (issue 16 #4): goal <= 5 % above it."""
    t, c = time.perf_counter(), time.process_time()
    d = distance_to_optimum(pt.problem, OptimumParams(time_limit_s=seconds),
                            progress=lambda line: print(f"  MIP {line}", flush=True))
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    load = os.getloadavg()[0]
    h = released
    best, bound = min(d["best_secondary_cells"], released), d["lower_bound"]
    above_best = 100.0 * (h - best) / best if best else 0.0
    proven = d["proven_optimal"]
    return [{
        "name": "tables: sdcTable ref 1k, released pattern vs exact MIP optimum (secondary "
                "cells)",
        "figure": f"released {h} (heuristic alone {d['heuristic_secondary_cells']}) vs "
                  f"{'optimum' if proven else 'best found'} {best}, lower bound {bound:g} "
                  f"({round(100.0 * (h - bound) / bound, 2) if bound else None} % above the "
                  "bound)",
        "unit": "", "goal": "heuristic <= 5 % above the optimum",
        "peer": f"sdcTable GAUSS 151, SIMPLEHEURISTIC 169; OPT/HITAS never finished "
                f"(peers.md). MIP {wall:.0f} s wall, {cpu:.0f} s CPU, load {load:.1f}; "
                + ("optimum proven" if proven else "optimum not proven"),
        "ratio": round(h / bound, 3) if bound else None,
        "passed": bool(bound) and h <= 1.05 * bound,
        "extra": {"above_best_pct": round(above_best, 2), **d}}]


def run(quick: bool = False) -> list[dict]:
    rows: list[dict] = []
    rep = 1 if quick else 3
    sd = REF / "sdctable"
    if (sd / "table_1k_microdata.csv").exists():
        micro = pd.read_csv(sd / "table_1k_microdata.csv")
        hier = hierarchies_from_sdctable(pd.read_csv(sd / "table_1k_hierarchies.csv"))
        sec, pt = _time(lambda: protect_table(micro, ["region", "nace", "size"], "turnover",
                                              hierarchies=hier, rules=RULES_SDC), rep)
        r = pt.report
        rows.append({
            "name": "tables: sdcTable ref 1k, secondary suppressions", "figure":
            float(r["secondary"]), "unit": "cells", "goal": "<= 151 (sdcTable GAUSS)",
            "peer": "sdcTable GAUSS 151 in 14.5 s; SIMPLEHEURISTIC 169 in 20.8 s (peers.md)",
            "ratio": r["secondary"] / 151, "passed": r["secondary"] <= 151 and r["passed"]})
        t = time.perf_counter()
        step = protect_table(micro, ["region", "nace", "size"], "turnover", hierarchies=hier,
                             rules=RULES_SDC, exact=OPTIMUM_CHECK)
        step_s = time.perf_counter() - t
        released = int(step.report["secondary"])
        rows.append({
            "name": "tables: sdcTable ref 1k, released by a request's protection step "
                    f"(heuristic + exact search, {OPTIMUM_CHECK.budget()})",
            "figure": float(released), "unit": "cells",
            "goal": "<= the heuristic's, audited, same answer on every run",
            "peer": f"sdcTable GAUSS 151; heuristic alone {r['secondary']}; "
                    f"{step_s:.0f} s wall", "ratio": released / 151,
            "passed": released <= r["secondary"] and step.passed})
        rows.extend(_distance_rows(pt, 60.0 if quick else MIP_SECONDS, released))
        rows.append({
            "name": "tables: sdcTable ref 1k, protect + audit time", "figure": round(sec, 3),
            "unit": "s", "goal": "<= 2 s, 0 audit failures",
            "peer": "sdcTable GAUSS 14.5 s (peers.md, R not run here)", "ratio": sec / 14.5,
            "passed": sec <= 2.0 and r["audit"]["failures"] == 0})
    micro, hier = sdctable_like(150_000, 10, 7, 10, 8, 6)
    sec, pt = _time(lambda: protect_table(micro, ["region", "nace", "size"], "turnover",
                                          hierarchies=hier, rules=RULES_SDC), 1)
    r = pt.report
    rows.append({
        "name": f"tables: generated 50k ({r['cells']} cells, {r['primary']} primary, "
                f"{r['secondary']} secondary)", "figure": round(sec, 3), "unit": "s",
        "goal": "<= 30 s protected and audited, 0 failures",
        "peer": "sdcTable SIMPLEHEURISTIC_OLD 0.82 s (1 558 sec.), GAUSS did not finish "
                "(peers.md)", "ratio": sec / 0.82,
        "passed": sec <= 30 and r["passed"]})
    if not quick:
        micro, hier = commune_table()
        sec, pt = _time(lambda: protect_table(micro, ["commune", "age", "category"],
                                              hierarchies=hier,
                                              rules={"min_count": 10, **LEVELS}), 1)
        r = pt.report
        rows.append({
            "name": f"tables: commune x age x category ({r['cells']} cells, {r['primary']} "
                    f"primary, {r['secondary']} secondary)", "figure": round(sec, 3),
            "unit": "s", "goal": "<= 60 s protected and audited, 0 failures",
            "peer": "none measured (sdcTable GAUSS did not finish at 50k)", "ratio": None,
            "passed": sec <= 60 and r["passed"]})
    return rows




if __name__ == "__main__":
    if "--mip-seconds" in sys.argv:
        MIP_SECONDS = float(sys.argv[sys.argv.index("--mip-seconds") + 1])
    for row in run(quick="--quick" in sys.argv):
        print(f"{row['name']}: {row['figure']} {row['unit']} (goal {row['goal']}; peer "
              f"{row['peer']}; ratio {row['ratio']}) -> {'PASS' if row['passed'] else 'FAIL'}")
