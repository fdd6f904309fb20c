"""Disclosure and utility evaluation of a synthetic microdata file, before any sign-off.

Every disclosure measure is compared with the same measure computed on a *holdout* of real
records that the synthesizer never saw: an independent sample of real people is the natural
baseline for "how close may a released record come to a training record". A generator that
memorises (copies) training records scores far above that baseline and fails.

Measures (all on the training data the model was fitted on):

* identical records: share of synthetic rows equal to some training row on all
  quasi-identifiers, on all quasi-identifiers of a training *sample unique*, and on all
  variables;
* distance to closest record (DCR): Gower distance from each synthetic row to its nearest
  training row, against the same distance from each holdout row; summarised as the
  probability that a synthetic row lies closer to the training data than a holdout row
  ("closer-to-train share", ≈ 0.5 for a generator that does not memorise, → 1 for copies);
* attribute disclosure for each sensitive variable: the correct attribution probability
  (CAP) an attacker who knows a training person's quasi-identifiers gets from the synthetic
  file, against the CAP the holdout gives.

The privacy officer's thresholds (`SyntheticThresholds`) decide pass or fail.
Utility: SDMetrics' QualityReport (column shapes and pair trends) when the extra is present,
plus the analyses a request names (cross-tables: total variation distance; regressions:
coefficients on real vs synthetic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from primex.sdc.params import SyntheticPolicy

# Pass/fail thresholds of a synthetic release: the typed, default-free parameters of
# primex.sdc.params (the service policy's `synthetic:` block). Shares are compared with the
# holdout baseline: the synthetic value may exceed the baseline's by at most the stated margin.
SyntheticThresholds = SyntheticPolicy


@dataclass
class SyntheticEvaluation:
    passed: bool
    checks: list[dict[str, Any]]
    disclosure: dict[str, Any]
    utility: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": self.checks,
            "disclosure": self.disclosure,
            "utility": self.utility,
        }


# --- identical records ---------------------------------------------------------------------


def _row_keys(df: pd.DataFrame, cols: Sequence[str]) -> pd.Series:
    """One hashable key per row over `cols` (missing values compare equal to each other)."""
    if not cols:
        return pd.Series(np.zeros(len(df), dtype=np.uint64), index=df.index)
    return pd.util.hash_pandas_object(df[list(cols)].astype("string").fillna("<NA>"), index=False)


def identical_shares(
    train: pd.DataFrame, other: pd.DataFrame, quasi_identifiers: Sequence[str]
) -> dict[str, float]:
    """Shares of `other`'s rows identical to a training row (on QIs, on a unique, on all)."""
    if len(other) == 0:
        return {"identical_qi": 0.0, "identical_unique_qi": 0.0, "identical_all": 0.0}
    cols = list(train.columns)
    train_qi = _row_keys(train, quasi_identifiers)
    other_qi = _row_keys(other, quasi_identifiers)
    counts = train_qi.value_counts()
    uniques = set(counts.index[counts.to_numpy() == 1])
    train_all = set(_row_keys(train, cols))
    other_all = _row_keys(other, cols)
    return {
        "identical_qi": float(other_qi.isin(set(train_qi)).mean()),
        "identical_unique_qi": float(other_qi.isin(uniques).mean()),
        "identical_all": float(other_all.isin(train_all).mean()),
    }


# --- distance to closest record ----------------------------------------------------------------


class _GowerEncoder:
    """Encodes mixed data for Gower distances to be computed with matrix products.

    Numeric columns are divided by their training range (|dx| summed per column); each
    categorical column becomes a 0/1 one-hot block, so the number of mismatching categorical
    columns between two rows is n_categorical − (one-hot dot product): one BLAS product
    instead of a Python loop or a tree index (which degrades to brute force with dozens of
    one-hot dimensions anyway).
    """

    def __init__(self, train: pd.DataFrame) -> None:
        self.columns = list(train.columns)
        self.numeric: dict[str, tuple[float, float]] = {}
        self.levels: dict[str, list[str]] = {}
        for col in self.columns:
            s = train[col]
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                values = pd.to_numeric(s, errors="coerce")
                lo = float(values.min()) if values.notna().any() else 0.0
                hi = float(values.max()) if values.notna().any() else 1.0
                self.numeric[col] = (lo, (hi - lo) or 1.0)
            else:
                self.levels[col] = sorted(s.astype("string").fillna("<NA>").unique().tolist())

    def encode(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        nums = [
            np.nan_to_num(
                (pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float) - lo) / span,
                nan=0.0,
            )
            for c, (lo, span) in self.numeric.items()
        ]
        num = np.column_stack(nums) if nums else np.zeros((len(df), 0))
        blocks = []
        for col, levels in self.levels.items():
            codes = pd.Categorical(df[col].astype("string").fillna("<NA>"), categories=levels).codes
            onehot = np.zeros((len(df), len(levels) + 1), dtype=np.float32)
            onehot[np.arange(len(df)), np.where(codes < 0, len(levels), codes)] = 1.0
            blocks.append(onehot)
        cat = np.hstack(blocks) if blocks else np.zeros((len(df), 0), dtype=np.float32)
        return num.astype(np.float32), cat


def _nearest_gower(
    queries: tuple[np.ndarray, np.ndarray],
    reference: tuple[np.ndarray, np.ndarray],
    n_columns: int,
    chunk: int = 512,
) -> np.ndarray:
    """Exact Gower distance of every query row to its nearest reference row."""
    q_num, q_cat = queries
    r_num, r_cat = reference
    n_cat = q_cat.sum(axis=1)[0] if len(q_cat) and q_cat.shape[1] else 0.0
    out = np.empty(len(q_num), dtype=np.float64)
    for start in range(0, len(q_num), chunk):
        stop = start + chunk
        d = n_cat - q_cat[start:stop] @ r_cat.T if q_cat.shape[1] else 0.0
        d = np.zeros((len(q_num[start:stop]), len(r_num)), dtype=np.float32) + d
        for j in range(q_num.shape[1]):
            d += np.abs(q_num[start:stop, j : j + 1] - r_num[None, :, j])
        out[start:stop] = d.min(axis=1)
    return np.maximum(out, 0.0) / max(n_columns, 1)


def dcr_comparison(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    sample: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """DCR of synthetic and holdout rows to the training rows, and the closer-to-train share."""
    rng = np.random.default_rng(seed)
    enc = _GowerEncoder(train)
    p = len(enc.columns)

    def pick(df: pd.DataFrame, n: int) -> pd.DataFrame:
        if len(df) <= n:
            return df
        return df.iloc[np.sort(rng.choice(len(df), size=n, replace=False))]

    train_full = enc.encode(pick(train, 20 * sample))
    syn_q = enc.encode(pick(synthetic, sample))
    hold_q = enc.encode(pick(holdout, sample))
    syn_to_train = _nearest_gower(syn_q, train_full, p)
    hold_to_train = _nearest_gower(hold_q, train_full, p)
    # P(DCR of a synthetic row < DCR of a holdout row), ties counting one half: the
    # Mann-Whitney probability. ≈ 0.5 when synthetic rows are as far from the training
    # data as new real people are; → 1 for a generator that copies training records.
    ranks = rankdata(np.concatenate([syn_to_train, hold_to_train]))
    n1, n2 = len(syn_to_train), len(hold_to_train)
    u_syn_greater = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    closer = float(1.0 - u_syn_greater / (n1 * n2)) if n1 and n2 else 0.0
    qs = [0.05, 0.25, 0.5]
    return {
        "synthetic_to_train": {
            f"q{int(q * 100):02d}": float(np.quantile(syn_to_train, q)) for q in qs
        },
        "holdout_to_train": {
            f"q{int(q * 100):02d}": float(np.quantile(hold_to_train, q)) for q in qs
        },
        "synthetic_exact_copies": float(np.mean(syn_to_train == 0.0)),
        "holdout_exact_copies": float(np.mean(hold_to_train == 0.0)),
        "closer_to_train_share": closer,
        "rows_compared": len(syn_q[0]),
    }


# --- attribute disclosure (correct attribution probability) ------------------------------------


def correct_attribution_probability(
    train: pd.DataFrame,
    released: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: str,
) -> dict[str, float]:
    """Mean CAP over training records whose QI combination occurs in `released`.

    For a training record with key q and sensitive value s, CAP is the share of released
    rows with key q whose sensitive value is s (Taub et al.'s CAP). Also returns the share
    of training records that could be matched at all.
    """
    if len(train) == 0 or len(released) == 0:
        return {"cap": 0.0, "matched_share": 0.0}
    t_key = _row_keys(train, quasi_identifiers).to_numpy()
    r_key = _row_keys(released, quasi_identifiers).to_numpy()
    t_val = train[sensitive].astype("string").fillna("<NA>").to_numpy()
    r_val = released[sensitive].astype("string").fillna("<NA>").to_numpy()
    rel = pd.DataFrame({"k": r_key, "v": r_val})
    per_value = rel.groupby(["k", "v"]).size()
    per_key = rel.groupby("k").size()
    tr = pd.DataFrame({"k": t_key, "v": t_val})
    num = per_value.reindex(pd.MultiIndex.from_frame(tr[["k", "v"]])).to_numpy(dtype=float)
    den = per_key.reindex(tr["k"]).to_numpy(dtype=float)
    matched = ~np.isnan(den)
    if not matched.any():
        return {"cap": 0.0, "matched_share": 0.0}
    cap = np.nan_to_num(num[matched], nan=0.0) / den[matched]
    return {"cap": float(cap.mean()), "matched_share": float(matched.mean())}


# --- utility ----------------------------------------------------------------------------------


def crosstab_distance(
    real: pd.DataFrame, synthetic: pd.DataFrame, variables: Sequence[str]
) -> float:
    """Total variation distance between the joint distributions of `variables`."""
    cols = list(variables)
    p = real[cols].astype("string").fillna("<NA>").value_counts(normalize=True)
    q = synthetic[cols].astype("string").fillna("<NA>").value_counts(normalize=True)
    joined = pd.concat([p, q], axis=1).fillna(0.0)
    return float(0.5 * np.abs(joined.iloc[:, 0] - joined.iloc[:, 1]).sum())


def regression_comparison(
    real: pd.DataFrame, synthetic: pd.DataFrame, outcome: str, predictors: Sequence[str]
) -> dict[str, Any]:
    """OLS on real and synthetic data (categorical predictors one-hot, first level dropped)."""

    # A predictor that is text on either side (categorical codes come back from SDV as
    # text) is categorical on both, so that the dummy columns line up.
    categorical = [
        p
        for p in predictors
        if not (
            pd.api.types.is_numeric_dtype(real[p]) and pd.api.types.is_numeric_dtype(synthetic[p])
        )
        or pd.api.types.is_bool_dtype(real[p])
    ]

    def design(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
        frame = df[list(predictors)].copy()
        for p in categorical:
            frame[p] = frame[p].astype("string")
        x = pd.get_dummies(frame, drop_first=True, dtype=float)
        x.insert(0, "intercept", 1.0)
        y = pd.to_numeric(df[outcome], errors="coerce")
        keep = y.notna() & x.notna().all(axis=1)
        return x[keep].to_numpy(float), y[keep].to_numpy(float), list(x.columns)

    xr, yr, names = design(real)
    xs, ys, names_s = design(synthetic)
    if names_s != names:  # align dummy columns (a level may be missing on one side)
        frame = pd.DataFrame(xs, columns=names_s).reindex(columns=names, fill_value=0.0)
        xs = frame.to_numpy(float)
    br = np.linalg.lstsq(xr, yr, rcond=None)[0]
    bs = np.linalg.lstsq(xs, ys, rcond=None)[0]
    return {
        "outcome": outcome,
        "coefficients": {
            n: {"real": float(a), "synthetic": float(b)}
            for n, a, b in zip(names, br, bs, strict=True)
        },
        "max_abs_difference": float(np.max(np.abs(br - bs))) if len(br) else 0.0,
    }


def quality_report_score(real: pd.DataFrame, synthetic: pd.DataFrame) -> float | None:
    """SDMetrics' overall quality score (0..1), or None when sdmetrics is not installed."""
    try:
        from sdmetrics.reports import QualityReport
    except ImportError:
        return None
    metadata: dict[str, Any] = {"columns": {}}
    for col in real.columns:
        s = real[col]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        metadata["columns"][col] = {"sdtype": "numerical" if numeric else "categorical"}
    report = QualityReport()
    report.generate(
        {"extract": real}, {"extract": synthetic}, {"tables": {"extract": metadata}}, verbose=False
    )
    return float(report.get_score())


# --- the evaluation -----------------------------------------------------------------------------


def evaluate(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    thresholds: SyntheticThresholds,
    analyses: Sequence[dict[str, Any]] = (),
    seed: int = 0,
    utility_report: bool = True,
) -> SyntheticEvaluation:
    """Evaluate `synthetic` against the training data it was fitted on and a holdout."""
    qis = [c for c in quasi_identifiers if c in train.columns]
    syn_ident = identical_shares(train, synthetic, qis)
    hold_ident = identical_shares(train, holdout, qis)
    dcr = dcr_comparison(train, holdout, synthetic, seed=seed)
    caps = {}
    for s in sensitive:
        if s not in train.columns:
            continue
        t, h, y = train, holdout, synthetic
        if _is_continuous(train[s]):
            # An attacker guesses a range, not a cent-exact amount: compare deciles.
            edges = np.unique(np.nanquantile(train[s].astype(float), np.linspace(0, 1, 11)))
            t, h, y = (
                df.assign(**{s: np.searchsorted(edges[1:-1], df[s].astype(float), side="right")})
                for df in (train, holdout, synthetic)
            )
        caps[s] = {
            "synthetic": correct_attribution_probability(t, y, qis, s),
            "holdout": correct_attribution_probability(t, h, qis, s),
        }
    checks = [
        _check(
            "identical on all variables",
            syn_ident["identical_all"],
            hold_ident["identical_all"]
            + thresholds.max_identical_all_excess
            + _noise(hold_ident["identical_all"], len(holdout), len(synthetic)),
            "share of synthetic rows equal to a training row on every variable",
        ),
        _check(
            "identical to a sample unique on the quasi-identifiers",
            syn_ident["identical_unique_qi"],
            hold_ident["identical_unique_qi"]
            + thresholds.max_unique_match_excess
            + _noise(hold_ident["identical_unique_qi"], len(holdout), len(synthetic)),
            "share of synthetic rows reproducing the key of a training record that is unique",
        ),
        _check(
            "closer to training than to holdout",
            dcr["closer_to_train_share"],
            thresholds.max_closer_to_train,
            "P(DCR synthetic < DCR holdout); ≈ 0.5 when the generator does not memorise",
        ),
    ]
    for s, pair in caps.items():
        checks.append(
            _check(
                f"attribute disclosure (CAP) of {s}",
                pair["synthetic"]["cap"],
                pair["holdout"]["cap"]
                + thresholds.max_cap_excess
                + _noise(
                    pair["holdout"]["cap"],
                    max(1, round(pair["holdout"]["matched_share"] * len(train))),
                    max(1, round(pair["synthetic"]["matched_share"] * len(train))),
                ),
                "correct attribution probability from the QIs, against the holdout's",
            )
        )
    utility: dict[str, Any] = {}
    if utility_report:
        utility["quality_score"] = quality_report_score(train, synthetic)
    results = []
    for analysis in analyses:
        if "crosstab" in analysis:
            cols = list(analysis["crosstab"])
            results.append({"crosstab": cols, "tvd": crosstab_distance(train, synthetic, cols)})
        elif "regression" in analysis:
            reg = analysis["regression"]
            results.append(
                {"regression": regression_comparison(train, synthetic, reg["y"], reg["x"])}
            )
    utility["analyses"] = results
    return SyntheticEvaluation(
        passed=all(c["passed"] for c in checks),
        checks=checks,
        disclosure={
            "synthetic": syn_ident,
            "holdout_baseline": hold_ident,
            "dcr": dcr,
            "cap": caps,
            "thresholds": asdict(thresholds),
        },
        utility=utility,
    )


def _is_continuous(series: pd.Series) -> bool:
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    return bool(numeric and series.nunique(dropna=True) > 20)


def _noise(p: float, n_baseline: int, n_other: int) -> float:
    """Three standard errors of a difference of two shares: the holdout is a sample too, so
    a limit without this margin would fail good generators by chance (≈ 0.1 % one-sided)."""
    if n_baseline <= 0 or n_other <= 0:
        return 0.0
    return 3.0 * float(np.sqrt(max(p * (1 - p), 0.0) * (1 / n_baseline + 1 / n_other)))


def _check(name: str, value: float, limit: float, meaning: str) -> dict[str, Any]:
    return {
        "check": name,
        "value": round(float(value), 6),
        "limit": round(float(limit), 6),
        "passed": bool(value <= limit),
        "meaning": meaning,
    }
