"""The peers' synthetic benchmark data (../shared/reference/peers.md), reproduced exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd

# (name, K, a): P(i) proportional to 1/i^a for values 1..K, drawn in this order.
COLUMNS: list[tuple[str, int, float]] = [
    ("region", 10, 0.5),
    ("urbrur", 2, 0.5),
    ("sex", 2, 0.1),
    ("agegroup", 16, 0.3),
    ("educ", 6, 0.8),
    ("marital", 5, 1.0),
    ("hhsize", 10, 1.2),
    ("occup", 12, 0.9),
]


def generate(n: int, seed: int = 12345) -> pd.DataFrame:
    """numpy default_rng(seed); each column rng.choice(1..K, p ~ 1/i^a); weight U(50,500)."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    for name, k, a in COLUMNS:
        p = 1.0 / np.arange(1, k + 1) ** a
        data[name] = rng.choice(np.arange(1, k + 1), size=n, p=p / p.sum())
    data["weight"] = np.round(rng.uniform(50, 500, size=n), 2)
    return pd.DataFrame(data)
