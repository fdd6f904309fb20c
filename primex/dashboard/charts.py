"""Server-side SVG charts: a line chart for series and a bar chart for breakdowns.

Written by hand on purpose: the site must work offline with no JavaScript and no CDN, and the
few shapes needed (polyline, rectangles, axis ticks) are simpler to emit as SVG than to bundle
a charting library. Every chart has a <title> and a <desc> (read by screen readers) and the
page shows the same figures in a table next to it. A missing value (suppressed or not
available) breaks the line / leaves the bar out; it is never drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#1f5f99", "#c0504d", "#5b8f29", "#8064a2", "#d08c1f")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1-2-5 steps)."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 0.5:
        ticks.append(round(t, 10))
        t += step
    return ticks


def fmt(value: float, decimals: int, lang: str = "en") -> str:
    """1 234 567 / 12.3 (12,3 outside English), thin space as thousands separator, never
    "-0"."""
    if round(value, decimals) == 0:
        value = 0.0
    text = f"{value:,.{decimals}f}".replace(",", "\u202f")
    return text if lang == "en" else text.replace(".", ",")


CHAR_W = 7.8  # width of one character at 12px in DejaVu Sans, "m" included: no clipped label


def _text_width(text: str) -> float:
    return len(text) * CHAR_W


def line_chart(chart_id: str, title: str, labels: Sequence[str],
               series: Sequence[tuple[str, Sequence[float | None]]], unit: str,
               decimals: int = 0, width: int = 720, height: int = 300, lang: str = "en",
               describe: Callable[[str, str, str, str, str, str, str, str], str] | None = None,
               ) -> str:
    # the unit sits above the plot (top margin), the last x label needs half its width
    right = max(40, int(_text_width(labels[-1]) / 2) + 8) if labels else 40
    left, top, bottom = 70, 34, 40 + 22 * len(series) if len(series) > 1 else 40
    pw, ph = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None and math.isfinite(v)]
    lo = min([0.0, *values]) if values else 0.0
    hi = max(values) if values else 1.0
    ticks = nice_ticks(lo, hi)
    y0, y1 = ticks[0], ticks[-1]
    n = max(1, len(labels) - 1)

    def x(i: int) -> float:
        return left + pw * i / n if len(labels) > 1 else left + pw / 2

    def y(v: float) -> float:
        return top + ph * (1 - (v - y0) / (y1 - y0 or 1))

    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">'
        f'{escape(_describe(labels, series, unit, decimals, lang, describe))}</desc>',
    ]
    for t in ticks:
        parts.append(f'<line class="grid" x1="{left}" x2="{left + pw}" y1="{y(t):.1f}" '
                     f'y2="{y(t):.1f}"/>')
        parts.append(f'<text class="tick" x="{left - 6}" y="{y(t) + 4:.1f}" '
                     f'text-anchor="end">'
                     f'{fmt(t, 0 if abs(t) >= 10 or t == int(t) else 1, lang)}</text>')
    # x labels: every `step`-th and the last, dropping any that would touch its neighbour
    step = max(1, math.ceil(len(labels) / 8))
    wanted = sorted({*range(0, len(labels), step), len(labels) - 1}) if labels else []
    kept: list[int] = []
    for i in reversed(wanted):
        if not kept or x(kept[-1]) - x(i) >= _text_width(labels[i]) + 6:
            kept.append(i)
    for i in kept:
        parts.append(f'<text class="tick" x="{x(i):.1f}" y="{top + ph + 18}" '
                     f'text-anchor="middle">{escape(labels[i])}</text>')
    for k, (name, vs) in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(vs):
            if v is None or not math.isfinite(v):
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(i):.1f},{y(v):.1f}")
            parts.append(f'<circle class="point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" '
                         f'fill="{color}"><title>{escape(labels[i])}: {fmt(v, decimals, lang)}'
                         f'</title></circle>')
        if segment:
            segments.append(segment)
        for seg in segments:
            parts.append(f'<polyline class="line" fill="none" stroke="{color}" '
                         f'stroke-width="2.5" points="{" ".join(seg)}"/>')
        if len(series) > 1:
            ly = top + ph + 28 + 22 * k
            parts.append(f'<rect x="{left}" y="{ly}" width="12" height="12" fill="{color}"/>'
                         f'<text class="legend" x="{left + 18}" y="{ly + 10}">{escape(name)}'
                         "</text>")
    parts.append(f'<text class="unit" x="{left - 60}" y="{top - 16}">{escape(unit)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(chart_id: str, title: str, labels: Sequence[str], values: Sequence[float | None],
              unit: str, decimals: int = 0, width: int = 720, lang: str = "en",
              missing: str = "x",
              describe: Callable[[str, str, str, str, str, str, str, str], str] | None = None,
              ) -> str:
    labels = [_short(lab) for lab in labels]
    texts = [fmt(v, decimals, lang) for v in values if v is not None and math.isfinite(v)]
    bar, gap = 20, 6
    # margins from the longest label and value: nothing is cut at the edges
    left = int(max([_text_width(lab) for lab in labels] + [40.0])) + 14
    right = int(max([_text_width(t) for t in texts] + [_text_width(missing)])) + 14
    width = max(width, left + right + 200)
    height = 20 + len(labels) * (bar + gap)
    finite = [v for v in values if v is not None and math.isfinite(v)]
    hi = max([*finite, 0.0]) or 1.0
    pw = width - left - right
    parts = [
        f'<svg class="chart bars" id="{chart_id}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">'
        f'{escape(_describe(labels, [(title, values)], unit, decimals, lang, describe))}</desc>',
    ]
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        yy = 10 + i * (bar + gap)
        parts.append(f'<text class="tick" x="{left - 8}" y="{yy + bar * 0.7:.1f}" '
                     f'text-anchor="end">{escape(lab)}</text>')
        if v is None or not math.isfinite(v):
            parts.append(f'<text class="missing" x="{left + 4}" y="{yy + bar * 0.7:.1f}">'
                         f"{escape(missing)}</text>")
            continue
        w = max(1.0, pw * max(v, 0.0) / hi)
        parts.append(f'<rect class="bar" x="{left}" y="{yy}" width="{w:.1f}" height="{bar}" '
                     f'fill="{PALETTE[0]}"><title>{escape(lab)}: {fmt(v, decimals, lang)}'
                     "</title></rect>")
        parts.append(f'<text class="value" x="{left + w + 4:.1f}" y="{yy + bar * 0.7:.1f}">'
                     f"{fmt(v, decimals, lang)}</text>")
    parts.append("</svg>")
    return "\n".join(parts)


def _short(label: str, limit: int = 42) -> str:
    """Long place names are shortened with an ellipsis (the table has them in full)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _describe(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
              unit: str, decimals: int, lang: str = "en",
              describe: Callable[[str, str, str, str, str, str, str, str], str] | None = None,
              ) -> str:
    """A one-sentence text alternative: first, last, min and max of each series. `describe`
    words it in the page's language (arguments: name, unit, first value, first label, last
    value, last label, lowest, highest); English by default."""
    out = []
    for name, vs in series:
        pts = [(lab, v) for lab, v in zip(labels, vs, strict=False)
               if v is not None and math.isfinite(v)]
        if not pts:
            out.append(f"{name}: x.")
            continue
        lo = min(pts, key=lambda p: p[1])
        hi = max(pts, key=lambda p: p[1])
        args = (name, unit, fmt(pts[0][1], decimals, lang), pts[0][0],
                fmt(pts[-1][1], decimals, lang), pts[-1][0],
                f"{fmt(lo[1], decimals, lang)} ({lo[0]})",
                f"{fmt(hi[1], decimals, lang)} ({hi[0]})")
        english = "{} ({}): {} in {}, {} in {}; lowest {}, highest {}."
        out.append(describe(*args) if describe else english.format(*args))
    return " ".join(out)
