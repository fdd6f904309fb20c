"""Public pseudonymisation entry points from every kind of input, one core, warm.

`primex.linkage.pseudonymise` and `pseudonymise_column` on 5 M national numbers given as an
Arrow string array, a NumPy `U11` array (what `np.array(list_of_str)` makes), a NumPy `S11`
array and a Python list; the process is pinned to one core (the kernel would otherwise use
one thread per core), the first call warms the compiled kernel, the figure is the median of
3 runs. Goal: ≥ 5 M/s for every input. The kernel alone is shown for comparison.

    python benchmarks/bench_pseudonym_inputs.py [--rows 5000000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from primex.linkage import pseudonymise, pseudonymise_column
from primex.linkage.hmac_kernel import hmac_sha256_rows
from primex.linkage.pseudonym import MESSAGE_PREFIX, pseudonym_of

GOAL = 5.0  # M/s


def _rate(n: int, call: Callable[[], object], repeats: int = 3) -> tuple[float, float]:
    """(M/s by wall time, M/s by CPU time): on a shared machine the CPU-time figure is what
    one core delivers when it is ours (the wall-time one also counts waiting for it)."""
    call()  # warm: kernel loaded, caches filled
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return n / statistics.median(wall) / 1e6, n / statistics.median(cpu) / 1e6


def measure(rows: int) -> dict[str, tuple[float, float]]:
    # not Linux: the figure is then for all cores
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rng = np.random.default_rng(5)
    digits = rng.integers(ord("0"), ord("9") + 1, (rows, 11), dtype=np.uint8)
    as_s11 = digits.view("S11").ravel()
    as_u11 = as_s11.astype("U11")
    as_list = as_u11.tolist()
    as_arrow = pa.array(as_list, pa.string())
    key = bytes(range(32))
    # the results are the reference's, whatever the input kind
    want = [pseudonym_of(v, key) for v in as_list[:3]]
    assert pseudonymise(as_arrow[:3], key).to_pylist() == want
    assert pseudonymise(as_u11[:3], key).tolist() == want
    assert pseudonymise(as_list[:3], key) == want
    return {
        "kernel alone (digit matrix)": _rate(rows, lambda: hmac_sha256_rows(
            digits, key, prefix=MESSAGE_PREFIX, out_len=16, as_hex=True)),
        "pseudonymise(Arrow) -> Arrow": _rate(rows, lambda: pseudonymise(as_arrow, key)),
        "pseudonymise(NumPy U11) -> NumPy": _rate(rows, lambda: pseudonymise(as_u11, key)),
        "pseudonymise(NumPy S11) -> NumPy": _rate(rows, lambda: pseudonymise(as_s11, key)),
        "pseudonymise(list) -> list": _rate(rows, lambda: pseudonymise(as_list, key)),
        "pseudonymise_column(list) -> Arrow": _rate(
            rows, lambda: pseudonymise_column(as_list, key)),
    }


def run(quick: bool = False) -> list[dict]:
    rows = 1_000_000 if quick else 5_000_000
    rates = measure(rows)
    for name, (wall, cpu) in rates.items():
        print(f"{name}: {wall:.2f} M/s wall, {cpu:.2f} M/s CPU ({rows:,} values, one core, "
              f"warm; load average {os.getloadavg()[0]:.1f})")
    kernel = rates.pop("kernel alone (digit matrix)")[1]
    return [{
        "name": f"linkage: {name}, {rows / 1e6:.0f} M NISS, one core (wall {wall:.2f} M/s)",
        "figure": round(cpu, 2), "unit": "M/s of CPU time", "goal": f"≥ {GOAL:g} M/s",
        "peer": f"kernel alone {kernel:.2f} M/s", "ratio": round(cpu / kernel, 2),
        "passed": cpu >= GOAL,
    } for name, (wall, cpu) in rates.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    for name, (wall, cpu) in measure(args.rows).items():
        print(f"{name}: {wall:.2f} M/s wall, {cpu:.2f} M/s CPU")


if __name__ == "__main__":
    main()
