"""Declarative extraction protocols (`protocols/quarterly.yaml`, `protocols/annual.yaml`).

A protocol names the source stores, the grain (quarter or year), the indicators with their
breakdowns and the table-protection method. It is versioned in the repository: its SHA-256 is
recorded in every manifest, so a change of protocol is a visible change of method.
Validation reports every problem with `file:line` and a hint (ruamel keeps line numbers).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from primex.errors import ConfigError, ValidationError
from primex.extract.indicators import INDICATORS, SECTOR

GRAINS = ("quarter", "year")
METHODS = ("suppression", "cellkey")
# outcomes: bcss_model = the demo's one home opens the warehouse file; bcss_service = the
# leavers go to `primex bcss serve` at `path` (a URL) and positions come back (issue 19)
SOURCE_KINDS = {"prima": ("duckdb", "parquet"),
                "outcomes": ("bcss_model", "bcss_service", "none")}
PROTOCOL_KEYS = {
    "name", "version", "description", "grain", "source", "stable_after_days", "series",
    "protection", "indicators", "series_breakdowns",
}


def protocols_dir() -> Path:
    """`protocols/` of the repository (the versioned protocol and profile files)."""
    return Path(__file__).resolve().parents[2] / "protocols"


@dataclass(frozen=True)
class IndicatorRequest:
    id: str
    breakdowns: tuple[str, ...]


@dataclass(frozen=True)
class SourceSpec:
    kind: str
    path: str

    def resolve(self, home_root: Path) -> Path:
        p = Path(self.path).expanduser()
        return p if p.is_absolute() else home_root / p


@dataclass(frozen=True)
class Protocol:
    name: str
    version: int
    description: str
    grain: str
    prima: SourceSpec
    outcomes: SourceSpec
    stable_after_days: int
    series: int | None  # None = all available periods
    series_breakdowns: tuple[str, ...]  # breakdowns computed for every period (else: the last)
    method: str
    indicators: tuple[IndicatorRequest, ...]
    file: Path
    text: str = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def find_protocol(name_or_path: str) -> Path:
    """`quarterly` → protocols/quarterly.yaml; a path is taken as it is."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise ConfigError("protocol file not found", where=str(p))
        return p
    candidate = protocols_dir() / f"{name_or_path}.yaml"
    if not candidate.exists():
        known = sorted(x.stem for x in protocols_dir().glob("*.yaml") if x.stem != "profiles")
        raise ConfigError(
            f"unknown protocol {name_or_path!r}",
            where="--protocol",
            hint=f"known protocols: {', '.join(known)}; or give a path to a YAML file",
        )
    return candidate


def load_protocol(name_or_path: str | Path) -> Protocol:
    path = find_protocol(str(name_or_path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not a protocol: the file is not UTF-8 text", where=str(path),
                          hint="give a protocol YAML file") from None
    except OSError as exc:  # a folder, an unreadable file
        raise ConfigError(f"cannot read the protocol ({exc.strerror})", where=str(path),
                          hint="give a protocol YAML file") from None
    return parse_protocol(text, path)


def _where(path: Path, node: Any, key: Any = None) -> str:
    """`file:line` of a mapping key (or sequence item), 1-based."""
    try:
        if key is None:
            line = node.lc.line
        elif isinstance(node, CommentedSeq):
            line = node.lc.item(key)[0]
        else:
            line = node.lc.key(key)[0]
        return f"{path}:{line + 1}"
    except (AttributeError, KeyError, TypeError, IndexError):
        return str(path)


def parse_protocol(text: str, path: Path) -> Protocol:
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"not valid YAML ({getattr(exc, 'problem', exc)})",
            where=f"{path}{line}",
            hint="check indentation and quoting",
        ) from None
    if not isinstance(data, CommentedMap):
        raise ConfigError("a protocol must be a mapping", where=f"{path}:1")
    problems: list[str] = []

    def bad(where: str, what: str) -> None:
        problems.append(f"{where}: {what}")

    for key in data:
        if key not in PROTOCOL_KEYS:
            known = ", ".join(sorted(PROTOCOL_KEYS))
            bad(_where(path, data, key), f"unknown key {key!r} (known: {known})")
    for key in ("name", "grain", "source", "indicators", "protection"):
        if key not in data:
            bad(f"{path}:1", f"missing key {key!r}")

    name = str(data.get("name", ""))
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        bad(_where(path, data, "version"), "version must be a positive integer")
        version = 1
    grain = data.get("grain", "quarter")
    if grain not in GRAINS:
        bad(_where(path, data, "grain"), f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")

    sources: dict[str, SourceSpec] = {}
    src = data.get("source", CommentedMap())
    if not isinstance(src, CommentedMap):
        bad(_where(path, data, "source"), "source must be a mapping with prima: and outcomes:")
        src = CommentedMap()
    for key in src:
        if key not in SOURCE_KINDS:
            bad(_where(path, src, key), f"unknown source {key!r} (known: prima, outcomes)")
    defaults = {"prima": ("duckdb", "spp/prima.duckdb"), "outcomes": ("none", "")}
    for role, kinds in SOURCE_KINDS.items():
        spec = src.get(role)
        if spec is None:
            sources[role] = SourceSpec(*defaults[role])
            continue
        if not isinstance(spec, CommentedMap):
            bad(_where(path, src, role), f"source.{role} must be a mapping with kind: and path:")
            sources[role] = SourceSpec(*defaults[role])
            continue
        kind = spec.get("kind", defaults[role][0])
        if kind not in kinds:
            bad(_where(path, spec, "kind") if "kind" in spec else _where(path, src, role),
                f"source.{role}.kind must be one of {', '.join(kinds)}, not {kind!r}")
        for k in spec:
            if k not in ("kind", "path"):
                bad(_where(path, spec, k),
                    f"unknown key {k!r} in source.{role} (known: kind, path)")
        sources[role] = SourceSpec(str(kind), str(spec.get("path", defaults[role][1])))

    stable = data.get("stable_after_days", 0)
    if not isinstance(stable, int) or isinstance(stable, bool) or not 0 <= stable <= 366:
        bad(_where(path, data, "stable_after_days"), "stable_after_days must be an integer 0..366")
        stable = 0
    series_raw = data.get("series", "all")
    series: int | None = None
    if series_raw != "all":
        if isinstance(series_raw, int) and not isinstance(series_raw, bool) and series_raw >= 1:
            series = series_raw
        else:
            bad(_where(path, data, "series"),
                "series must be `all` or a positive number of periods")

    sb_raw = data.get("series_breakdowns", ["region"])
    series_breakdowns: tuple[str, ...] = ("region",)
    if not isinstance(sb_raw, list) or any(not isinstance(b, str) for b in sb_raw):
        bad(_where(path, data, "series_breakdowns"), "series_breakdowns must be a list of names")
    else:
        series_breakdowns = tuple(sb_raw)
        if SECTOR in series_breakdowns:  # 20 000 sectors x every period: nobody reads it
            bad(_where(path, data, "series_breakdowns"),
                f"{SECTOR!r} cannot be a series breakdown (sectors are published for the "
                "period only); list it under the indicator's breakdowns")

    method = "suppression"
    prot = data.get("protection", CommentedMap())
    if isinstance(prot, CommentedMap):
        for k in prot:
            if k != "method":
                bad(_where(path, prot, k), f"unknown key {k!r} in protection (known: method)")
        method = prot.get("method", "suppression")
        if method not in METHODS:
            here = _where(path, prot, "method") if "method" in prot else \
                _where(path, data, "protection")
            bad(here,
                f"protection.method must be one of {', '.join(METHODS)}, not {method!r}")
    else:
        bad(_where(path, data, "protection"), "protection must be a mapping with method:")

    requests: list[IndicatorRequest] = []
    items = data.get("indicators", CommentedSeq())
    if not isinstance(items, CommentedSeq) or not items:
        bad(_where(path, data, "indicators") if "indicators" in data else f"{path}:1",
            "indicators must be a non-empty list of {id:, breakdowns:}")
        items = CommentedSeq()
    seen: set[str] = set()
    for i, item in enumerate(items):
        here = _where(path, items, i)
        if isinstance(item, str):
            item_id, item_map = item, None
        elif isinstance(item, CommentedMap):
            item_id, item_map = str(item.get("id", "")), item
        else:
            bad(here, "an indicator is an id or a mapping {id:, breakdowns:}")
            continue
        ind = INDICATORS.get(item_id)
        if ind is None:
            bad(here, f"unknown indicator {item_id!r} (known: {', '.join(sorted(INDICATORS))})")
            continue
        if item_id in seen:
            bad(here, f"indicator {item_id!r} listed twice")
        seen.add(item_id)
        if grain not in ind.grains:
            bad(here, f"indicator {item_id!r} is not defined at grain {grain!r} "
                      f"(only {', '.join(ind.grains)})")
        breakdowns: tuple[str, ...] = ind.breakdowns
        if item_map is not None:
            for k in item_map:
                if k not in ("id", "breakdowns"):
                    bad(_where(path, item_map, k), f"unknown key {k!r} (known: id, breakdowns)")
            raw = item_map.get("breakdowns")
            if raw is not None:
                if not isinstance(raw, CommentedSeq):
                    bad(_where(path, item_map, "breakdowns"), "breakdowns must be a list")
                else:
                    for j, b in enumerate(raw):
                        if b not in ind.breakdowns:
                            bad(_where(path, raw, j),
                                f"indicator {item_id!r} has no breakdown {b!r} "
                                f"(allowed: {', '.join(ind.breakdowns)})")
                    breakdowns = tuple(str(b) for b in raw)
                    if "total" not in breakdowns:
                        breakdowns = ("total", *breakdowns)
        requests.append(IndicatorRequest(item_id, breakdowns))

    if problems:
        raise ValidationError(
            f"invalid protocol ({len(problems)} problem{'s' if len(problems) > 1 else ''}): "
            + problems[0],
            problems,
            where=None,
            hint="see docs/statistician.md for the protocol format",
        )
    return Protocol(
        name=name, version=int(version), description=str(data.get("description", "")),
        grain=str(grain), prima=sources["prima"], outcomes=sources["outcomes"],
        stable_after_days=int(stable), series=series, series_breakdowns=series_breakdowns,
        method=str(method),
        indicators=tuple(requests), file=path, text=text,
    )
