"""Utility (information loss) of perturbed continuous variables, as sdcMicro defines them.

* IL1s = sum_j sum_i |x_ij - x'_ij| / (sd(x_j) * sqrt(2))  (an un-normalised sum; sd with
  n - 1; missing terms dropped).  `il1s_mean` divides by n*p for a per-value figure.
* eigen = sum_j |lambda_j - lambda'_j| / lambda_j, where lambda are the eigenvalues (in
  decreasing order) of the covariance of the standardised data, i.e. the correlation matrix,
  of the original and of the perturbed data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _matrix(df: pd.DataFrame | np.ndarray) -> np.ndarray:
    return np.asarray(df, dtype=np.float64).reshape(len(df), -1)


def il1s(x: pd.DataFrame | np.ndarray, xm: pd.DataFrame | np.ndarray) -> float:
    """sdcMicro's IL1s (see module doc)."""
    a, b = _matrix(x), _matrix(xm)
    sd = np.nanstd(a, axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.abs(a - b) / (sd * np.sqrt(2.0))
    terms[~np.isfinite(terms)] = np.nan
    return float(np.nansum(terms))


def il1s_mean(x: pd.DataFrame | np.ndarray, xm: pd.DataFrame | np.ndarray) -> float:
    """IL1s divided by the number of values (comparable across data sizes)."""
    a = _matrix(x)
    return il1s(x, xm) / a.size if a.size else 0.0


def _corr_eigen(a: np.ndarray) -> np.ndarray:
    z = pd.DataFrame(a)
    z = (z - z.mean()) / z.std(ddof=1)
    cov = z.cov(min_periods=2).to_numpy()  # pairwise complete observations, like R's var
    return np.sort(np.linalg.eigvalsh(cov))[::-1]


def eigen_utility(x: pd.DataFrame | np.ndarray, xm: pd.DataFrame | np.ndarray) -> float:
    """sdcMicro's eigen measure (see module doc)."""
    e1 = _corr_eigen(_matrix(x))
    e2 = _corr_eigen(_matrix(xm))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(np.abs(e1 - e2) / e1))
