"""Synthetic persons: beneficiaries of PRIMA and the warehouse's comparison population.

Every attribute is drawn for all persons at once (numpy); the shares are the published
magnitudes of the domain notes (see docs/synthetic-data.md for each figure and its source).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from primex.catalogue import geography
from primex.synthetic.population import commune_population

REGIONS = np.array([geography.FLANDERS, geography.WALLONIA, geography.BRUSSELS])
# shares of RI beneficiaries by region, Feb 2023 (RTL/FPB): F 25 %, W 46 %, B 29 %
BENEFICIARY_REGION_SHARES = np.array([0.25, 0.46, 0.29])
_URBAN = 0.3  # beneficiaries concentrate in large communes: weight = pop * pop^0.3

SEX = np.array(["M", "F"])
NATIONALITY_GROUPS = np.array(["BE", "EU", "NON_EU"])
# (BE, EU, NON_EU) per region F/W/B: overall about 60/10/30, non-Belgians most in Brussels
_NAT_BY_REGION = np.array([[0.55, 0.09, 0.36], [0.72, 0.08, 0.20], [0.45, 0.15, 0.40]])
# refugees per region (2016 pattern F 22 %, B 11 %, W 6.5 %, scaled to 15 % overall, 2023)
_REFUGEE_BY_REGION = np.array([0.283, 0.083, 0.142])
_EU = {"FR": 22, "RO": 20, "IT": 14, "NL": 10, "ES": 8, "PT": 7, "PL": 7, "BG": 7, "DE": 3, "GR": 2}
_REFUGEE_ORIGIN = {"SY": 30, "AF": 22, "ER": 15, "IQ": 10, "SO": 8, "PS": 8, "TR": 3, "GN": 4}
_NON_EU = {
    "MA": 30, "CD": 10, "TR": 10, "DZ": 8, "GN": 7, "CM": 7, "RU": 5, "TN": 6, "SN": 5,
    "BR": 5, "UA": 7,
}  # fmt: skip
COUNTRIES = np.array(sorted({"BE", *_EU, *_REFUGEE_ORIGIN, *_NON_EU}))

HOUSEHOLD_TYPES = np.array(["single", "couple", "couple_children", "single_parent", "other"])
_HH_STUDENT = np.array([0.20, 0.0, 0.0, 0.05, 0.75])
_HH_OTHER = np.array([0.42, 0.09, 0.10, 0.19, 0.20])

YOUNG_SHARE = 0.335  # 18-24: about one third (33.3 % in 2021)
STUDENT_SHARE_YOUNG = 0.465  # gives 1/6 students overall, ~93 % of them aged 18-24
STUDENT_SHARE_OLDER = 0.0175
FEMALE_STUDENT = 0.57
FEMALE_OTHER = 0.5124  # gives 52.2 % women overall (2024)
# ages 25+ by band (lower bound, upper bound, weight)
_OLDER_BANDS = np.array([[25, 34, 0.22], [35, 44, 0.18], [45, 54, 0.15], [55, 64, 0.10],
                         [65, 79, 0.015]])  # fmt: skip
ERIS_NON_EU = 0.85  # non-refugee non-EU nationals on ERIS rather than RI
ERIS_EU = 0.35
BIS_SHARE_ERIS = 0.35  # ERIS beneficiaries known by a BIS number rather than a national number


@dataclass
class People:
    """Column arrays, one entry per person."""

    commune: np.ndarray  # int32 REFNIS
    region: np.ndarray  # int8 index into REGIONS
    female: np.ndarray  # bool
    age: np.ndarray  # int16 completed years at the reference month
    student: np.ndarray  # bool
    nat_group: np.ndarray  # int8 index into NATIONALITY_GROUPS
    country: np.ndarray  # int16 index into COUNTRIES
    refugee: np.ndarray  # bool
    eris: np.ndarray  # bool
    bis: np.ndarray  # bool
    household_type: np.ndarray  # int8 index into HOUSEHOLD_TYPES
    household_size: np.ndarray  # int16
    household_num: np.ndarray  # int64, synthetic household number
    category: np.ndarray  # int8 1/2/3
    sector: np.ndarray  # int16 sector index within the commune

    def __len__(self) -> int:
        return len(self.commune)


def _choose(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    cum = np.cumsum(probs / probs.sum())
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(probs) - 1)


def _choose_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Categorical draw where each person uses the probability row `probs[rows]`."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)[rows]
    u = rng.random(len(rows))[:, None]
    return np.minimum((u >= cum).sum(axis=1), probs.shape[1] - 1)


def _draw_from(rng: np.random.Generator, weights: dict[str, int], n: int) -> np.ndarray:
    codes = np.array(list(weights))
    picked = codes[_choose(rng, np.array(list(weights.values()), dtype=float), n)]
    return np.searchsorted(COUNTRIES, picked).astype(np.int16)


def _communes(
    rng: np.random.Generator, region: np.ndarray, urban: float
) -> tuple[np.ndarray, np.ndarray]:
    pop = commune_population()
    codes = pop["commune"].to_numpy().astype(np.int32)
    sizes = pop["population"].to_numpy().astype(float)
    weight = sizes * (sizes / 10_000) ** urban
    commune = np.zeros(len(region), dtype=np.int32)
    n_sectors = np.zeros(len(region), dtype=np.int32)
    sectors_of = np.maximum(1, np.round(sizes / 580)).astype(np.int32)  # ~19,800 sectors
    for r, code in enumerate(REGIONS):
        mask = region == r
        in_region = (pop["region"] == code).to_numpy()
        idx = np.flatnonzero(in_region)[_choose(rng, weight[in_region], int(mask.sum()))]
        commune[mask] = codes[idx]
        n_sectors[mask] = sectors_of[idx]
    sector = np.floor(rng.random(len(region)) * n_sectors).astype(np.int16)
    return commune, sector


def beneficiaries(rng: np.random.Generator, n: int) -> People:
    region = _choose(rng, BENEFICIARY_REGION_SHARES, n).astype(np.int8)
    commune, sector = _communes(rng, region, _URBAN)

    young = rng.random(n) < YOUNG_SHARE
    band = _choose(rng, _OLDER_BANDS[:, 2], n)
    lo, hi = _OLDER_BANDS[band, 0], _OLDER_BANDS[band, 1]
    older_age = lo + np.floor(rng.random(n) * (hi - lo + 1))
    age = np.where(young, rng.integers(18, 25, n), older_age).astype(np.int16)
    student = rng.random(n) < np.where(young, STUDENT_SHARE_YOUNG, STUDENT_SHARE_OLDER)
    female = rng.random(n) < np.where(student, FEMALE_STUDENT, FEMALE_OTHER)

    nat_group = _choose_rows(rng, _NAT_BY_REGION, region).astype(np.int8)
    non_eu = nat_group == 2
    refugee = non_eu & (rng.random(n) < (_REFUGEE_BY_REGION / _NAT_BY_REGION[:, 2])[region])
    country = np.full(n, np.searchsorted(COUNTRIES, "BE"), dtype=np.int16)
    country = np.where(nat_group == 1, _draw_from(rng, _EU, n), country)
    country = np.where(refugee, _draw_from(rng, _REFUGEE_ORIGIN, n), country)
    country = np.where(non_eu & ~refugee, _draw_from(rng, _NON_EU, n), country)

    # ERIS: foreigners outside the population register (recognised refugees get RI)
    p_eris = np.where(non_eu & ~refugee, ERIS_NON_EU, np.where(nat_group == 1, ERIS_EU, 0.0))
    eris = rng.random(n) < p_eris
    bis = eris & (rng.random(n) < BIS_SHARE_ERIS)

    hh = np.where(
        student,
        _choose(rng, _HH_STUDENT, n),
        _choose(rng, _HH_OTHER, n),
    ).astype(np.int8)
    size = np.select(
        [hh == 0, hh == 1, hh == 2, hh == 3],
        [1, 2, 2 + rng.geometric(0.55, n), 1 + rng.geometric(0.5, n)],
        default=2 + rng.integers(0, 3, n),
    ).astype(np.int16)
    category = np.select(
        [hh == 0, hh == 3, hh == 2],
        [2, 3, np.where(rng.random(n) < 0.5, 3, 1)],
        default=1,
    ).astype(np.int8)
    household_num = rng.choice(10**10, size=n, replace=False).astype(np.int64)
    _pair_couples(rng, commune, hh, size, category, household_num)

    return People(
        commune=commune,
        region=region,
        female=female,
        age=age,
        student=student,
        nat_group=nat_group,
        country=country.astype(np.int16),
        refugee=refugee,
        eris=eris,
        bis=bis,
        household_type=hh,
        household_size=size,
        household_num=household_num,
        category=category,
        sector=sector,
    )


def _pair_couples(
    rng: np.random.Generator,
    commune: np.ndarray,
    hh: np.ndarray,
    size: np.ndarray,
    category: np.ndarray,
    household_num: np.ndarray,
) -> None:
    """Half of the childless couples are two beneficiaries of the same household (both paid
    at the cohabitant rate): pair them within their commune, in place."""
    idx = np.flatnonzero((hh == 1) & (rng.random(len(hh)) < 0.5))
    if len(idx) < 2:
        return
    idx = idx[np.lexsort((rng.random(len(idx)), commune[idx]))]
    first, second = idx[0:-1:2], idx[1::2]
    same = commune[first] == commune[second]
    first, second = first[same], second[same]
    household_num[second] = household_num[first]
    size[second] = size[first]
    category[first] = 1
    category[second] = 1


def comparison(rng: np.random.Generator, n: int) -> People:
    """People who never had RI: residents aged 18-64 spread like the population."""
    pop = commune_population()
    region_pop = np.array([pop.loc[pop["region"] == r, "population"].sum() for r in REGIONS])
    region = _choose(rng, region_pop.astype(float), n).astype(np.int8)
    commune, sector = _communes(rng, region, 0.0)
    age = rng.integers(18, 65, n).astype(np.int16)
    female = rng.random(n) < 0.5
    nat_group = _choose(rng, np.array([0.87, 0.08, 0.05]), n).astype(np.int8)
    country = np.full(n, np.searchsorted(COUNTRIES, "BE"), dtype=np.int16)
    country = np.where(nat_group == 1, _draw_from(rng, _EU, n), country)
    country = np.where(nat_group == 2, _draw_from(rng, _NON_EU, n), country)
    zeros = np.zeros(n, dtype=bool)
    hh = _choose(rng, np.array([0.35, 0.25, 0.25, 0.08, 0.07]), n).astype(np.int8)
    return People(
        commune=commune,
        region=region,
        female=female,
        age=age,
        student=zeros,
        nat_group=nat_group,
        country=country.astype(np.int16),
        refugee=zeros,
        eris=zeros,
        bis=zeros,
        household_type=hh,
        household_size=np.ones(n, dtype=np.int16),
        household_num=np.zeros(n, dtype=np.int64),
        category=np.ones(n, dtype=np.int8),
        sector=sector,
    )
