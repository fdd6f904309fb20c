"""Regenerate `communes-2025.json` (run by hand; not imported by primex).

Input: `belgium.json` of github.com/bmesuere/belgium-topojson (CC0 1.0; base map from
github.com/arneh61/Belgium-Map, properties from Statbel REFNIS 2019), commit a903fda.
The 581 communes of 2019 are regrouped into the 565 of REFNIS 2025 with the merger table of
shared/reference/domain-belgium.md (a merged commune is drawn as the set of its former
communes' polygons; the inner edges are dropped when the outline is drawn). Coordinates are
projected like primex.dashboard.geomap, simplified (Douglas-Peucker, 0.35 px, per shared
arc) and snapped to a 0.5 px grid.

    python primex/dashboard/data/make_communes.py belgium.json > communes-2025.json
"""

from __future__ import annotations

import json
import math
import sys

WIDTH = 800
LAT0 = math.radians(50.5)
BBOX = (2.54, 49.49, 6.41, 51.51)
MERGED = {
    "11007": "11002", "11056": "46030", "23023": "23106", "23024": "23106", "23032": "23106",
    "37007": "37022", "37015": "37022", "37012": "37021", "37018": "37021",
    "44012": "44086", "44048": "44086", "44034": "44087", "44073": "44087",
    "44040": "44088", "44043": "44088", "44045": "46029", "46014": "46029",
    "46003": "46030", "46013": "46030", "71057": "71071", "71069": "71071",
    "71022": "71072", "73040": "71072", "73006": "73110", "73032": "73110",
    "73009": "73111", "73083": "73111", "82003": "82039", "82005": "82039",
}


def project(lon: float, lat: float) -> tuple[float, float]:
    scale = WIDTH / ((BBOX[2] - BBOX[0]) * math.cos(LAT0))
    x = (lon - BBOX[0]) * math.cos(LAT0) * scale
    y = (BBOX[3] - lat) * scale
    return round(x, 1), round(y, 1)


def simplify(pts: list[tuple[float, float]], eps: float) -> list[tuple[float, float]]:
    """Douglas-Peucker on one arc: its ends stay, so shared borders stay shared."""
    if len(pts) < 3:
        return pts
    (ax, ay), (bx, by) = pts[0], pts[-1]
    dx, dy = bx - ax, by - ay
    norm = math.hypot(dx, dy)
    best, idx = -1.0, 0
    for i in range(1, len(pts) - 1):
        px, py = pts[i]
        d = abs(dy * (px - ax) - dx * (py - ay)) / norm if norm else math.hypot(px - ax, py - ay)
        if d > best:
            best, idx = d, i
    if best <= eps:
        return [pts[0], pts[-1]]
    return simplify(pts[: idx + 1], eps)[:-1] + simplify(pts[idx:], eps)


def snap(p: tuple[float, float]) -> tuple[float, float]:
    return round(p[0] * 2) / 2, round(p[1] * 2) / 2


def main(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        topo = json.load(fh)
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append(project(x * sx + tx, y * sy + ty))
        arcs.append([snap(p) for p in simplify(pts, 0.35)])

    def ring(indices: list[int]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for i in indices:
            pts = arcs[i] if i >= 0 else arcs[~i][::-1]
            for p in pts:
                if not out or out[-1] != p:
                    out.append(p)
        return out

    shapes: dict[str, list[list[list[float]]]] = {}
    population: dict[str, int] = {}
    for geom in topo["objects"]["municipalities"]["geometries"]:
        nis = geom["properties"]["nis"]
        code = MERGED.get(nis, nis)
        polys = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        for poly in polys:
            for r in poly:
                pts = ring(r)
                if len(pts) >= 4:
                    shapes.setdefault(code, []).append([c for p in pts for c in p])
        population[code] = population.get(code, 0) + int(geom["properties"]["population"])
    height = project(BBOX[0], BBOX[1])[1]
    json.dump({"source": "bmesuere/belgium-topojson a903fda (CC0 1.0), regrouped to REFNIS 2025",
               "width": WIDTH, "height": height, "population_2020": population,
               "rings": shapes}, sys.stdout, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
