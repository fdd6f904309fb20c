"""Choropleth maps of Belgium by commune (565, REFNIS 2025), arrondissement, province, region.

Geometry: `data/communes-2025.json`, made by `data/make_communes.py` from
bmesuere/belgium-topojson (CC0 1.0; 581 communes of 2019, regrouped into the 565 of 2025 with
the merger table). Coarser areas are drawn as the set of their communes' polygons; their
outlines are the commune edges that are not shared by two communes of the same area (shared
borders come from the same topology arcs, so both sides have identical points). Written by
hand because no well-kept offline package draws Belgian communes as SVG.

A hidden figure is never coloured: its area is hatched (`fill="url(#hatch-…)"`, class
`suppressed`) and named in the legend list under the map.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from html import escape
from itertools import pairwise
from pathlib import Path

import numpy as np

from primex.catalogue import geography

DATA = Path(__file__).parent / "data" / "communes-2025.json"
COLORS = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
LEGEND_H = 64
Point = tuple[float, float]


@dataclass(frozen=True)
class Geometry:
    width: float
    height: float
    rings: dict[str, list[list[Point]]]  # commune -> rings


@cache
def geometry() -> Geometry:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    rings = {code: [list(zip(r[0::2], r[1::2], strict=True)) for r in rs]
             for code, rs in data["rings"].items()}
    return Geometry(float(data["width"]), float(data["height"]), rings)


def _num(v: float) -> str:
    return f"{v:g}"


def _ring_path(ring: list[Point]) -> str:
    return "M" + "L".join(f"{_num(x)} {_num(y)}" for x, y in ring) + "Z"


@cache
def _members(level: str) -> dict[str, tuple[str, ...]]:
    """Area code -> its communes (REFNIS 2025)."""
    if level == "commune":
        return {c: (c,) for c in geometry().rings}
    parents = geography.parents("commune")
    out: dict[str, list[str]] = defaultdict(list)
    for commune, area in zip(parents["commune"], parents[level], strict=True):
        out[str(area)].append(str(commune))
    return {k: tuple(sorted(v)) for k, v in out.items()}


@cache
def area_paths(level: str) -> dict[str, str]:
    geo = geometry()
    return {area: "".join(_ring_path(r) for c in communes for r in geo.rings.get(c, []))
            for area, communes in _members(level).items()}


@cache
def _boundary_edges(level: str) -> tuple[tuple[Point, Point], ...]:
    out: set[tuple[Point, Point]] = set()
    for communes in _members(level).values():
        out.update(_area_edges(communes))
    return tuple(sorted(out))


@cache
def outline(level: str) -> str:
    """Path data of the borders between areas of `level` (and the country's border)."""
    return _chain(list(_boundary_edges(level)))


def _chain(segments: list[tuple[Point, Point]]) -> str:
    """Join loose segments into polylines (a much shorter SVG than one move per segment)."""
    adj: dict[Point, list[Point]] = defaultdict(list)
    for a, b in segments:
        adj[a].append(b)
        adj[b].append(a)
    used: set[tuple[Point, Point]] = set()
    out = []
    for a, b in segments:
        if (a, b) in used:
            continue
        line = [a, b]
        used.add((a, b))
        cur = b
        while True:
            nxt = next((n for n in adj[cur] if ((cur, n) if cur <= n else (n, cur)) not in used),
                       None)
            if nxt is None:
                break
            used.add((cur, nxt) if cur <= nxt else (nxt, cur))
            line.append(nxt)
            cur = nxt
        out.append("M" + "L".join(f"{_num(x)} {_num(y)}" for x, y in line))
    return "".join(out)


@cache
def label_points(level: str) -> dict[str, Point]:
    """A point well inside each area (the inside grid point farthest from its border): a
    centroid can fall outside (Flemish Brabant's falls in Brussels)."""
    geo = geometry()
    out: dict[str, Point] = {}
    for area, communes in _members(level).items():
        rings = [np.array(r) for c in communes for r in geo.rings.get(c, [])]
        edges = np.array([(a, b) for a, b in _area_edges(communes)], dtype=np.float64)
        if not rings or len(edges) == 0:
            continue
        pts = np.vstack(rings)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        step = max(2.0, float(min(hi - lo)) / 25)
        xs, ys = np.meshgrid(np.arange(lo[0], hi[0], step), np.arange(lo[1], hi[1], step))
        cand = np.column_stack([xs.ravel(), ys.ravel()])
        inside = np.zeros(len(cand), dtype=bool)
        for r in rings:
            inside ^= _inside(cand, r)
        cand = cand[inside]
        if len(cand) == 0:
            c = pts.mean(axis=0)
            out[area] = (float(c[0]), float(c[1]))
            continue
        a, b = edges[:, 0, :], edges[:, 1, :]
        ab = b - a
        denom = np.maximum((ab ** 2).sum(axis=1), 1e-9)
        t = np.clip(((cand[:, None, :] - a[None]) * ab[None]).sum(axis=2) / denom, 0, 1)
        proj = a[None] + t[..., None] * ab[None]
        dist = np.sqrt(((cand[:, None, :] - proj) ** 2).sum(axis=2)).min(axis=1)
        best = cand[int(np.argmax(dist))]
        out[area] = (float(best[0]), float(best[1]))
    return out


@cache
def _area_edges(communes: tuple[str, ...]) -> list[tuple[Point, Point]]:
    """The outline of a set of communes: the edges that only one of its rings has (a border
    shared by two of them comes from the same arc, so both sides have identical points)."""
    geo = geometry()
    count: Counter[tuple[Point, Point]] = Counter()
    for c in communes:
        for ring in geo.rings.get(c, []):
            for a, b in pairwise([*ring, ring[0]]):
                if a != b:
                    count[(a, b) if a <= b else (b, a)] += 1
    return [e for e, k in count.items() if k == 1]


def _inside(points: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon test of many points against one ring (vectorised)."""
    x, y = points[:, 0:1], points[:, 1:2]
    x1, y1 = ring[:, 0][None], ring[:, 1][None]
    x2, y2 = np.roll(ring[:, 0], -1)[None], np.roll(ring[:, 1], -1)[None]
    crosses = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    return (crosses & (x < xi)).sum(axis=1) % 2 == 1


def _classes(values: list[float]) -> list[float]:
    """Quintile class bounds of the shown values (4 inner bounds)."""
    finite = sorted(values)
    if not finite:
        return []
    return [finite[min(len(finite) - 1, int(len(finite) * k / 5))] for k in range(1, 5)]


@dataclass(frozen=True)
class MapText:
    title: str
    desc: str
    hatched: str  # legend text of the hatch swatch
    fmt: Callable[[float], str]


def choropleth(map_id: str, level: str, values: dict[str, float | None],
               names: dict[str, str], province_names: dict[str, str], text: MapText,
               ) -> tuple[str, list[str]]:
    """The SVG map and the names of the hatched (not published) areas, sorted."""
    geo = geometry()
    paths = area_paths(level)
    shown = {k: v for k, v in values.items() if v is not None and math.isfinite(v)}
    bounds = _classes(list(shown.values()))

    def color(v: float) -> str:
        return COLORS[sum(v > b for b in bounds)]

    height = geo.height + LEGEND_H
    width = geo.width
    parts = [
        f'<svg class="map" id="{map_id}" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'role="img" aria-labelledby="{map_id}-t {map_id}-d" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{map_id}-t">{escape(text.title)}</title>',
        f'<desc id="{map_id}-d">{escape(text.desc)}</desc>',
        f'<defs><pattern id="hatch-{map_id}" width="5" height="5" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="5" height="5" fill="#f2f2f2"/><line x1="0" y1="0" x2="0" y2="5" '
        'stroke="#8a8a8a" stroke-width="1.6"/></pattern></defs>',
    ]
    hatched: list[str] = []
    thin = ' stroke="#ffffff" stroke-width="0.35"' if level == "commune" else ""
    for code in sorted(paths):
        v = shown.get(code)
        name = names.get(code, code)
        if v is None:
            hatched.append(name)
            parts.append(f'<g class="area suppressed" data-code="{code}" '
                         f'fill="url(#hatch-{map_id})"{thin}><title>{escape(name)}: x</title>'
                         f'<path d="{paths[code]}"/></g>')
        else:
            parts.append(f'<g class="area" data-code="{code}" fill="{color(v)}"{thin}>'
                         f"<title>{escape(name)}: {escape(text.fmt(v))}</title>"
                         f'<path d="{paths[code]}"/></g>')
    if level != "province" and level != "region":
        parts.append(f'<path class="outline" fill="none" stroke="#555" stroke-width="0.5" '
                     f'd="{outline(level)}"/>')
    parts.append(f'<path class="outline" fill="none" stroke="#222" stroke-width="1.2" '
                 f'd="{outline("province")}"/>')
    for code, (x, y) in sorted(label_points("province").items()):
        label = province_names.get(code, code)
        parts.append(f'<text class="place" x="{x:.0f}" y="{y:.0f}" text-anchor="middle">'
                     f"{escape(label)}</text>")
    y0 = geo.height + 14
    edges = [min(shown.values()), *bounds, max(shown.values())] if shown else []
    slot = (width - 40) / 6
    for k, c in enumerate(COLORS if shown else []):
        x = 20 + slot * k
        parts.append(f'<rect x="{x:.0f}" y="{y0}" width="16" height="12" fill="{c}" '
                     'stroke="#666"/>')
        parts.append(f'<text class="legend" x="{x + 20:.0f}" y="{y0 + 11}">'
                     f"{escape(text.fmt(edges[k]))}–{escape(text.fmt(edges[k + 1]))}</text>")
    parts.append(f'<rect x="20" y="{y0 + 24}" width="16" height="12" '
                 f'fill="url(#hatch-{map_id})" stroke="#666"/>'
                 f'<text class="legend" x="40" y="{y0 + 35}">{escape(text.hatched)} '
                 f"({len(hatched)})</text>")
    parts.append("</svg>")
    return "\n".join(parts), sorted(hatched)
