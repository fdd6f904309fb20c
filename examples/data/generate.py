"""Write the small synthetic survey file `households.csv` used by docs/disclosure-microdata.md.

Deterministic (fixed seed): running it again rewrites the same bytes. Entirely synthetic:
its columns mimic a household survey such as sdcMicro's `testdata` (no real person in it).

    .venv/bin/python examples/data/generate.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
HOUSEHOLDS = 100
SEED = 20261124


def rows(rng: np.random.Generator) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for hid in range(1, HOUSEHOLDS + 1):
        size = int(rng.choice([1, 2, 3, 4, 5], p=[0.25, 0.3, 0.2, 0.15, 0.1]))
        house = {
            "hid": hid,
            "urbrur": int(rng.choice([1, 2], p=[0.7, 0.3])),
            "region": int(rng.integers(1, 4)),
            "roof": int(rng.choice([1, 2, 3, 4], p=[0.6, 0.25, 0.1, 0.05])),
            "walls": int(rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1])),
            "water": int(rng.choice([1, 2, 3, 4, 5], p=[0.5, 0.2, 0.15, 0.1, 0.05])),
            "electcon": int(rng.choice([0, 1], p=[0.1, 0.9])),
            "sampling_weight": int(rng.integers(40, 260)),
        }
        head_age = int(rng.integers(20, 85))
        for member in range(size):
            relat = 1 if member == 0 else (2 if member == 1 and rng.random() < 0.7 else 3)
            age = (
                head_age
                if relat == 1
                else (
                    max(18, head_age + int(rng.integers(-6, 7)))
                    if relat == 2
                    else int(rng.integers(0, max(1, head_age - 17)))
                )
            )
            adult = age >= 18
            position = (
                str(rng.choice(["employed", "unemployed", "inactive"], p=[0.5, 0.2, 0.3]))
                if adult
                else "student"
            )
            income = round(float(rng.lognormal(7.2, 0.5)), 2) if adult else 0.0
            out.append(
                {
                    **house,
                    "relat": relat,
                    "sex": int(rng.integers(1, 3)),
                    "age": age,
                    "position_group": position,
                    "income": income,
                    "expenditure": round(float(rng.lognormal(6.8, 0.4)), 2),
                }
            )
    return out


def main() -> None:
    data = rows(np.random.default_rng(SEED))
    with (HERE / "households.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(data[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    with (HERE / "age-hierarchy.csv").open("w", newline="", encoding="utf-8") as f:
        # ARX form: the original value, then each level up; no header.
        for age in range(100):
            low5, low10 = age - age % 5, age - age % 10
            f.write(f"{age};{low5}-{low5 + 4};{low10}-{low10 + 9};*\n")


if __name__ == "__main__":
    main()
