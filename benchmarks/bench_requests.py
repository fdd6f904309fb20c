"""Benchmark of request validation and the risk pre-assessment.

Goals (issue 3: "instant, precise feedback on the YAML"; a pre-assessment before submitting):
* validating a request file (YAML, schema, catalogue, policy) well under 100 ms, warm;
* the pre-assessment's risk measures (fk, records violating k, expected re-identifications)
  on the peers' synthetic data at least as fast as sdcMicro's measure_risk (recorded figures
  of ../shared/reference/peers.md: R cannot run here), and with the same violation counts;
* `primex request assess` on the default demo data (20 000 persons) within 5 s.

    .venv/bin/python benchmarks/bench_requests.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peer_data import generate as peer_data  # noqa: E402

from primex.home import Home  # noqa: E402
from primex.requests.assess import assess, key_frequencies, measure  # noqa: E402
from primex.requests.validate import validate_bytes, validate_file  # noqa: E402

EXAMPLES = ROOT / "examples" / "requests"
VALIDATE_GOAL_MS = 100.0
ASSESS_GOAL_S = 5.0
# peers.md: sdcMicro 5.8.1 measure_risk seconds, and records with fk < 3, on the peers' data
SDCMICRO_MEASURE_RISK_S = {100_000: 0.3, 1_000_000: 2.4}
FK_BELOW_3 = {100_000: 54871, 1_000_000: 90526}
KEYS_7 = ["region", "urbrur", "sex", "agegroup", "educ", "marital", "hhsize"]


def _median_time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _validate_rows(repeat: int) -> list[dict]:
    files = sorted(EXAMPLES.glob("*.yaml"))
    today = dt.date(2026, 1, 1)
    for path in files:  # warm the catalogue, policy and geography caches
        validate_file(path, today=today)
    raws = [(p.read_bytes(), str(p)) for p in files]
    per_file = _median_time(
        lambda: [validate_bytes(raw, name, today=today) for raw, name in raws], repeat
    ) / len(raws)
    ms = per_file * 1000
    return [{
        "name": f"request validate (YAML + schema + catalogue + policy), {len(files)} examples",
        "figure": round(ms, 2), "unit": "ms per file",
        "goal": f"< {VALIDATE_GOAL_MS:.0f} ms per file (instant feedback)",
        "peer": "none: no peer validates request specs", "ratio": None,
        "passed": ms < VALIDATE_GOAL_MS,
    }]


def _risk_rows(sizes: list[int], repeat: int) -> list[dict]:
    rows = []
    for n in sizes:
        data = peer_data(n)
        columns = [np.unique(data[k].to_numpy(), return_inverse=True)[1].astype(np.int64)
                   for k in KEYS_7]
        result = {}

        def once() -> None:
            fk = key_frequencies(columns, n)  # noqa: B023
            result["risk"] = measure(fk, 3)  # noqa: B023

        seconds = _median_time(once, repeat)
        peer = SDCMICRO_MEASURE_RISK_S[n]
        same = result["risk"].violating_k == FK_BELOW_3[n]
        rows.append({
            "name": f"pre-assessment risk measures, peers' data {n // 1000}k x 7 keys "
                    f"(fk<3: {result['risk'].violating_k}, sdcMicro {FK_BELOW_3[n]})",
            "figure": round(seconds, 4), "unit": "s",
            "goal": "same violation count as sdcMicro, not slower than its measure_risk",
            "peer": f"sdcMicro 5.8.1 measure_risk {peer} s (recorded, peers.md; R not run here)",
            "ratio": round(seconds / peer, 3),
            "passed": same and seconds <= peer,
        })
    return rows


def _assess_rows(persons: int, repeat: int) -> list[dict]:
    from primex.requests.validate import validate_file as vf
    from primex.synthetic import SynthConfig
    from primex.synthetic import generate as synth

    with tempfile.TemporaryDirectory(prefix="bench-requests-") as tmp:
        home = Home(Path(tmp))
        synth(SynthConfig(persons=persons, start="2022-01", months=24, seed=1),
              home.prima_db, home.warehouse_db)
        rows = []
        for name in ("young-adults-trajectories.yaml", "ri-by-arrondissement.yaml"):
            spec = vf(EXAMPLES / name, home=home).raise_for_problems()
            seconds = _median_time(lambda spec=spec: assess(spec, home), repeat)
            rows.append({
                "name": f"request assess {name} on demo data ({persons} persons)",
                "figure": round(seconds, 3), "unit": "s",
                "goal": f"< {ASSESS_GOAL_S:.0f} s",
                "peer": "none: no peer pre-assesses a request", "ratio": None,
                "passed": seconds < ASSESS_GOAL_S,
            })
        return rows


def run(quick: bool = False) -> list[dict]:
    repeat = 3 if quick else 7
    rows = _validate_rows(repeat=5 if quick else 20)
    rows += _risk_rows([100_000] if quick else [100_000, 1_000_000], repeat)
    rows += _assess_rows(5_000 if quick else 20_000, repeat)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer repeats")
    args = parser.parse_args()
    for row in run(quick=args.quick):
        ratio = "" if row["ratio"] is None else f"  ratio {row['ratio']}"
        print(f"{'PASS' if row['passed'] else 'FAIL'}  {row['name']}: {row['figure']} "
              f"{row['unit']}  (goal {row['goal']}; peer {row['peer']}){ratio}")


if __name__ == "__main__":
    main()
