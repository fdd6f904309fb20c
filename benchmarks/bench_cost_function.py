"""The protection step's generalisation search (issue 16): fewest variables to their total,
priorities as loss weights, on the peers' benchmark data (../shared/reference/peers.md).

ARX 3.9.2 (recorded in peers.md, same data and hierarchies value -> (v-1)//3 -> *, k=3, 5 %):
1.4 s for 1M x 7; its optimum generalises agegroup one level and suppresses 22319 records.
ARX publishes no information-loss figure for that run, so the loss reported here is ours
(normalised certainty penalty, blanked value = 1) of our optimum and, when they agree, of
ARX's node too.

    .venv/bin/python benchmarks/bench_cost_function.py [--quick]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _peer_data import COLUMNS, generate  # noqa: E402

from primex.sdc.micro import GeneralisationHierarchy as Hierarchy  # noqa: E402
from primex.sdc.micro import anonymize  # noqa: E402


def _thirds(p: int) -> dict[str, Hierarchy]:
    return {q: Hierarchy.from_functions(q, range(1, k + 1), lambda v: (v - 1) // 3)
            for q, k, _ in COLUMNS[:p]}


def main() -> None:
    quick = "--quick" in sys.argv
    repeat = 1 if quick else 3
    big = 2_000_000 if quick else 10_000_000
    cases = [(1_000_000, 7, 3, 1.0), (big, 8, 5, 10.0 * big / 10_000_000)]
    for n, p, k, goal in cases:
        data = generate(n)
        keys = [c[0] for c in COLUMNS[:p]]
        hs = _thirds(p)
        walls, cpus, loads = [], [], []
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            r = anonymize(data, keys, hs, k=k, max_suppression=0.05, avoid_total=True)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
            loads.append(os.getloadavg()[0])
        totals = [q for q in keys if r.levels[q] == r.params["hierarchy_heights"][q]]
        print(f"{n // 1_000_000}M x {p} keys, k={k}: median of {repeat}: "
              f"{statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU "
              f"(goal <= {goal:.1f} s; load average {statistics.median(loads):.1f} on "
              f"{os.cpu_count()} cores) "
              f"levels {r.levels} suppressed {r.records_suppressed} records, "
              f"loss {r.information_loss['loss']:.4f}, to total {totals or 'none'}, "
              f"passed {r.passed}")
        del data


if __name__ == "__main__":
    main()
