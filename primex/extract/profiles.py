"""Dissemination profiles (`protocols/profiles.yaml`): who may see which figures.

A profile is a named set of display rules: the finest geography shown, the minimum number of
persons behind a published count or a rate's numerator, the minimum denominator of a share and
the minimum population of a rate per 1 000. The dashboard is built for one profile and records
it (with the file's hash) in its manifest. A profile can never allow record-level data.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from primex.errors import ConfigError, ValidationError
from primex.extract.indicators import GEO_LEVELS
from primex.extract.protocol import _where, protocols_dir

_KEYS = {"description", "dashboard", "geography", "min_count", "min_denominator",
         "min_population", "decimals"}


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    dashboard: bool
    geography: tuple[str, ...]
    min_count: int
    min_denominator: int
    min_population: int
    decimals: int

    def allows(self, breakdown: str) -> bool:
        """Geographic breakdowns finer than the profile's geography are not shown."""
        return breakdown not in GEO_LEVELS or breakdown in self.geography

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["geography"] = list(self.geography)
        return d


def profiles_file() -> Path:
    return protocols_dir() / "profiles.yaml"


def file_sha256(path: Path | None = None) -> str:
    return hashlib.sha256((path or profiles_file()).read_bytes()).hexdigest()


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    path = path or profiles_file()
    try:
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("profiles file not found", where=str(path)) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"not valid YAML ({getattr(exc, 'problem', exc)})",
                          where=f"{path}:{mark.line + 1}" if mark else str(path)) from None
    if not isinstance(data, CommentedMap) or not isinstance(data.get("profiles"), CommentedMap):
        raise ConfigError("expected a mapping `profiles:` of named profiles", where=f"{path}:1")
    problems: list[str] = []
    out: dict[str, Profile] = {}
    for name, spec in data["profiles"].items():
        here = _where(path, data["profiles"], name)
        if not isinstance(spec, CommentedMap):
            problems.append(f"{here}: profile {name!r} must be a mapping")
            continue
        for k in spec:
            if k not in _KEYS:
                hint = (" (record-level data is never part of a profile)"
                        if "record" in str(k) else "")
                problems.append(f"{_where(path, spec, k)}: unknown key {k!r}{hint}")
        geo = spec.get("geography", ["region"])
        if not isinstance(geo, list) or not geo or any(g not in GEO_LEVELS for g in geo):
            problems.append(f"{_where(path, spec, 'geography') if 'geography' in spec else here}: "
                            f"geography must list levels among {', '.join(GEO_LEVELS)}")
            geo = ["region"]
        nums: dict[str, int] = {}
        for k, default, lo in (("min_count", 10, 1), ("min_denominator", 50, 1),
                               ("min_population", 1000, 1), ("decimals", 0, 0)):
            v = spec.get(k, default)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                problems.append(f"{_where(path, spec, k)}: {k} must be an integer >= {lo}")
                v = default
            nums[k] = v
        dash = spec.get("dashboard", True)
        if not isinstance(dash, bool):
            problems.append(f"{_where(path, spec, 'dashboard')}: dashboard must be true or false")
            dash = False
        out[str(name)] = Profile(name=str(name), description=str(spec.get("description", "")),
                                 dashboard=dash, geography=tuple(map(str, geo)), **nums)
    if problems:
        raise ValidationError(f"invalid profiles file: {problems[0]}", problems,
                              hint="see docs/statistician.md#profiles")
    return out


def get_profile(name: str, path: Path | None = None) -> Profile:
    profiles = load_profiles(path)
    if name not in profiles:
        raise ConfigError(f"unknown profile {name!r}", where="--profile",
                          hint=f"one of: {', '.join(profiles)}")
    return profiles[name]
