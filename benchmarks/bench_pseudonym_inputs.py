"""Public pseudonymisation entry points from every kind of input, one core, warm.

`primex.linkage.pseudonymise` and `pseudonymise_column` on 5 M national numbers given as an
Arrow string array, a NumPy `U11` array (what `np.array(list_of_str)` makes), a NumPy `S11`
array and a Python list; the process is pinned to one core (the kernel would otherwise use
one thread per core), the first call warms the compiled kernel, the figure is the median of
3 runs, timed with the answer held (and again counting its release, e.g. 5 M `str` freed).
Goal: ≥ 5 M/s for every input. The kernel alone is shown for comparison (the default one and,
where the CPU has them, each other compiled variant).

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
from typing import NamedTuple

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from primex.linkage import pseudonymise, pseudonymise_column
from primex.linkage.hmac_kernel import available_variants, default_variant, hmac_sha256_rows
from primex.linkage.pseudonym import MESSAGE_PREFIX, pseudonym_of

GOAL = 5.0  # M/s


class Rate(NamedTuple):
    """M/s of one call, medians: `wall`/`cpu` stop the clock with the answer still held (what
    the call costs the caller who uses it); `*_freed` also count dropping the answer (for a
    list, freeing 5 M `str` objects), as the first version of this benchmark did. On a shared
    machine the CPU-time figures are what one core delivers when it is ours."""

    wall: float
    cpu: float
    wall_freed: float
    cpu_freed: float


def _rate(n: int, call: Callable[[], object], repeats: int = 3) -> Rate:
    call()  # warm: kernel loaded, caches filled
    times: list[tuple[float, float, float, float]] = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = call()
        t1, c1 = time.perf_counter(), time.process_time()
        del result
        times.append((t1 - t0, c1 - c0, time.perf_counter() - t0, time.process_time() - c0))
    return Rate(*(n / statistics.median(column) / 1e6 for column in zip(*times, strict=True)))


def measure(rows: int) -> dict[str, Rate]:
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
    others = {f"kernel alone, {v} variant": _rate(rows, lambda v=v: hmac_sha256_rows(
        digits, key, prefix=MESSAGE_PREFIX, out_len=16, as_hex=True, variant=v))
        for v in available_variants() if v not in (default_variant(), "portable", "python")}
    return {
        "kernel alone (digit matrix)": _rate(rows, lambda: hmac_sha256_rows(
            digits, key, prefix=MESSAGE_PREFIX, out_len=16, as_hex=True)),
        **others,
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
    for name, rate in rates.items():
        print(f"{name}: {_line(rate)} ({rows:,} values, one core, warm; "
              f"load average {os.getloadavg()[0]:.1f})")
    kernel = rates.pop("kernel alone (digit matrix)").cpu
    rates = {name: rate for name, rate in rates.items() if not name.startswith("kernel")}
    return [{
        "name": f"linkage: {name}, {rows / 1e6:.0f} M NISS, one core (wall {rate.wall:.2f} M/s;"
                f" {rate.cpu_freed:.2f} M/s CPU counting the answer's release)",
        "figure": round(rate.cpu, 2), "unit": "M/s of CPU time", "goal": f"≥ {GOAL:g} M/s",
        "peer": f"kernel alone {kernel:.2f} M/s", "ratio": round(rate.cpu / kernel, 2),
        "passed": rate.cpu >= GOAL,
    } for name, rate in rates.items()]


def _line(rate: Rate) -> str:
    return (f"{rate.wall:.2f} M/s wall, {rate.cpu:.2f} M/s CPU (answer kept); "
            f"{rate.wall_freed:.2f} M/s wall, {rate.cpu_freed:.2f} M/s CPU (answer freed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    for name, rate in measure(args.rows).items():
        print(f"{name}: {_line(rate)}")


if __name__ == "__main__":
    main()
