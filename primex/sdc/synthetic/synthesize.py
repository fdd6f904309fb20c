"""Synthetic microdata releases with SDV (the optional extra `primex[synth]`).

Some research questions need record-level data that k-anonymity would destroy; the route is
to release *synthetic* records fitted on the coded, linked extract (never on data holding a
NISS: `synthesize` refuses a frame with a `niss` column or an 11-digit identifier column).

* GaussianCopula by default, CTGAN optional; fixed seeds so that the same request and data
  give the same synthetic file.
* Catalogue constraints: categorical columns only take values seen in the real data; numeric
  columns stay within their real range (SDV's min/max enforcement); the RI amount stays within
  the range observed for the same category (the legal amount depends on category and month,
  and every real amount is at most that); entry quarters never follow exit quarters.
* Before anything can be signed off, `primex.sdc.synthetic.evaluate.evaluate` measures the
  disclosure risk against a holdout the model never saw, and the privacy officer's thresholds
  decide pass or fail.

SDV is licensed under the Business Source License 1.1: fine for the administration's own
use, not for offering a commercial synthetic-data service (see docs/synthetic-release.md).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd

from primex.errors import PrimexError
from primex.sdc.synthetic.evaluate import SyntheticEvaluation, SyntheticThresholds, evaluate

Model = Literal["gaussian_copula", "ctgan"]
INSTALL_HINT = (
    "synthetic output needs the optional extra: run `make install` (it installs it) or "
    "`pip install torch==2.13.0 && pip install 'primex[synth]'`"
)
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_NEVER = {"niss", "pseudonym", "record_id"}


@dataclass(frozen=True)
class SynthesisParams:
    """How to synthesise: explicit, recorded in the disclosure report."""

    model: Model = "gaussian_copula"
    seed: int = 20261124
    holdout_share: float = 0.2
    epochs: int = 50  # CTGAN only
    rows: int | None = None  # default: as many as the training data

    def __post_init__(self) -> None:
        if self.model not in ("gaussian_copula", "ctgan"):
            raise PrimexError(
                f"unknown synthesis model {self.model!r}",
                where="output.synthetic.model",
                hint="gaussian_copula or ctgan",
            )
        if not 0.05 <= self.holdout_share <= 0.5:
            raise PrimexError(
                "holdout_share must be between 0.05 and 0.5", where="output.synthetic"
            )


def require_sdv() -> Any:
    """Import SDV or fail with the install hint (never an ImportError traceback)."""
    try:
        import sdv  # noqa: F401
        from sdv.metadata import Metadata
        from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer
    except ImportError:
        raise PrimexError("SDV is not installed", hint=INSTALL_HINT) from None
    return Metadata, GaussianCopulaSynthesizer, CTGANSynthesizer


def _sdtype(series: pd.Series, column: str, column_types: Mapping[str, str]) -> str:
    kind = column_types.get(column)
    if kind in ("integer", "decimal"):
        return "numerical"
    if kind is not None:
        return "categorical"
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    return "numerical" if numeric else "categorical"


def _refuse_identifiers(df: pd.DataFrame) -> None:
    bad = [c for c in df.columns if c in _NEVER]
    for col in df.columns:
        if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
            sample = df[col].dropna().astype(str).head(200)
            if len(sample) and sample.str.fullmatch(r"\d{11}").mean() > 0.5:
                bad.append(col)
    if bad:
        raise PrimexError(
            f"refusing to fit a synthesizer on identifying columns: {', '.join(sorted(set(bad)))}",
            hint="fit on the coded, linked extract without pseudonyms or record ids",
        )


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # torch comes with the extra; GaussianCopula does not need it
        pass


def split_holdout(df: pd.DataFrame, share: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic split into the training part (fitted) and the holdout (never seen)."""
    rng = np.random.default_rng(seed)
    is_holdout = np.zeros(len(df), dtype=bool)
    n_hold = round(len(df) * share)
    is_holdout[rng.choice(len(df), size=n_hold, replace=False)] = True
    return df[~is_holdout].reset_index(drop=True), df[is_holdout].reset_index(drop=True)


def synthesize(
    train: pd.DataFrame, params: SynthesisParams, column_types: Mapping[str, str]
) -> pd.DataFrame:
    """Fit the chosen SDV synthesizer on `train` and sample synthetic rows, deterministically.
    `column_types`: the catalogue type of each column it knows (integer and decimal columns
    are numerical, other typed ones categorical; an untyped column by its dtype)."""
    _refuse_identifiers(train)
    metadata_cls, gaussian, ctgan = require_sdv()
    columns = {c: {"sdtype": _sdtype(train[c], c, column_types)} for c in train.columns}
    data = train.copy()
    for col, meta in columns.items():
        if meta["sdtype"] == "categorical":
            data[col] = data[col].astype("object").where(data[col].notna(), None)
    metadata = metadata_cls.load_from_dict({"tables": {"extract": {"columns": columns}}})
    _seed_everything(params.seed)
    if params.model == "ctgan":
        synth = ctgan(metadata, epochs=params.epochs, verbose=False, enable_gpu=False)
    else:
        synth = gaussian(metadata, default_distribution="truncnorm")
    synth.fit({"extract": data})  # SDV 2 takes {table name: frame}
    synth._set_random_state(params.seed)  # SDV's documented way to fix sampling
    _seed_everything(params.seed)
    sampled = synth.sample(num_rows=params.rows or len(train))
    out = sampled["extract"] if isinstance(sampled, dict) else sampled
    return apply_constraints(train, out)


def _quarter_index(values: pd.Series) -> pd.Series:
    def idx(v: object) -> float:
        m = _QUARTER.match(str(v)) if isinstance(v, str) else None
        return float(int(m.group(1)) * 4 + int(m.group(2)) - 1) if m else np.nan

    return values.map(idx)


def apply_constraints(real: pd.DataFrame, synthetic: pd.DataFrame) -> pd.DataFrame:
    """Repair synthetic rows so that they satisfy the catalogue's constraints."""
    out = synthetic.copy()
    for col in real.columns:
        if col not in out.columns:
            continue
        if pd.api.types.is_numeric_dtype(real[col]) and not pd.api.types.is_bool_dtype(real[col]):
            out[col] = out[col].clip(real[col].min(), real[col].max())
        else:
            allowed = set(real[col].dropna().astype(str))
            bad = out[col].notna() & ~out[col].astype(str).isin(allowed)
            out.loc[bad, col] = None
    if {"amount", "category"} <= set(real.columns):
        bounds = real.groupby(real["category"].astype(str))["amount"].agg(["min", "max"])
        key = out["category"].astype(str)
        lo = key.map(bounds["min"]).astype(float)
        hi = key.map(bounds["max"]).astype(float)
        amt = pd.to_numeric(out["amount"], errors="coerce")
        out["amount"] = amt.clip(lower=lo, upper=hi).round(2)
    if {"entry_quarter", "exit_quarter"} <= set(out.columns):
        e, x = _quarter_index(out["entry_quarter"]), _quarter_index(out["exit_quarter"])
        swap = (e > x).to_numpy()
        out.loc[swap, ["entry_quarter", "exit_quarter"]] = out.loc[
            swap, ["exit_quarter", "entry_quarter"]
        ].to_numpy()
    return out[list(real.columns)]


def _numeric_decimals(df: pd.DataFrame) -> pd.DataFrame:
    """DuckDB DECIMAL columns arrive as Python Decimal objects: make them floats."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            first = out[col].dropna().head(1)
            if len(first) and isinstance(first.iloc[0], Decimal):
                out[col] = out[col].astype("float64")
    return out


def protect_synthetic(
    extract: pd.DataFrame,
    *,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    params: SynthesisParams,
    thresholds: SyntheticThresholds,
    column_types: Mapping[str, str],
    analyses: Sequence[dict[str, Any]] = (),
) -> tuple[pd.DataFrame, SyntheticEvaluation]:
    """Synthesise a coded extract and evaluate it; the caller refuses release unless passed."""
    data = _numeric_decimals(extract.drop(columns=[c for c in extract.columns if c in _NEVER]))
    train, holdout = split_holdout(data, params.holdout_share, params.seed)
    synthetic = synthesize(train, params, column_types)
    evaluation = evaluate(
        train,
        holdout,
        synthetic,
        quasi_identifiers=quasi_identifiers,
        sensitive=sensitive,
        thresholds=thresholds,
        analyses=analyses,
        seed=params.seed,
    )
    return synthetic, evaluation
