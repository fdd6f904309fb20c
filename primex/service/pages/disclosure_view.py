"""The output check's disclosure report as the officer's and the president's pages say it:
built from the fields of the protection step's JSON report (`disclosure-report.json`,
written by `primex.protection.step`), said with the catalogues of `disclosure_words` in the
page's language. Nothing here reads the report's English sentences (its `summary`, the
Markdown); the full JSON stays on the page, below, for the expert.

What the report holds that is free text from the step (a search note, the level labels)
is not repeated: the page says the same from the typed fields (levels, counts, shares)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from primex.audit.phrases import Join, Phrase, Text, phrase, render
from primex.requests.describe import EN as DESCRIBE_EN
from primex.service.pages.disclosure_words import DISCLOSURE
from primex.service.pages.history_words import DESCRIBE

# sdcMicro's measures, in the order the report's table lists them
RISK_METRICS = ("global_risk_ER", "global_risk_pct", "max_individual_risk", "sample_uniques",
                "high_risk_records")
# the exact search's budget as primex.sdc.tables.optimal.OptimumParams.budget() writes it
_BUDGET = re.compile(r"^(?:(?P<masters>\d+) master MIPs and (?P<nodes>\d+) nodes"
                     r"(?:, then (?P<rounds>\d+) neighbourhoods of (?P<lns_nodes>\d+) nodes)?)?"
                     r"(?: or )?(?:(?P<seconds>[0-9.]+) s)?$")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any, lang: str, decimals: int = 0) -> str:
    from primex.dashboard.i18n import number

    return number(float(value), decimals, lang)


def figure(value: Any, lang: str) -> str:
    """A measure as a person reads it in `lang`: 4 significant digits (20,87; 0,1429), not
    the 17 of a float's repr; whole numbers with the language's thousands separator; text
    (or nothing) unchanged."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return _number(value, lang)
    if isinstance(value, float):
        short = f"{value:.4g}"
        if "e" in short or "n" in short:  # 1e-05, nan, inf: as written
            return short
        decimals = len(short.split(".")[1]) if "." in short else 0
        return _number(float(short), lang, decimals)
    return str(value)


def percent(share: Any, lang: str) -> str:
    """A share (0.5938) as 59.4% (en), 59,4 % (fr, narrow no-break space), 59,4% (nl)."""
    return _number(float(share) * 100, lang, 1) + ("\u202f%" if lang == "fr" else "%")


class DisclosureView:
    """The report of one protection, said in one language (see the module docstring)."""

    def __init__(self, report: Mapping[str, Any], lang: str) -> None:
        self.report, self.lang = report, lang
        self.words = DISCLOSURE[lang]
        self.details = _dict(report.get("details"))

    def say(self, text: Text) -> str:
        return render(text, self.words)

    # --- the summary line -------------------------------------------------------------
    def summary(self) -> Text:
        """The step's summary line (`primex.protection.step._summary`) from the fields it is
        made of; in English the very same sentence."""
        kind, d = self.report.get("kind"), self.details
        verdict = phrase("verdict.passed" if self.report.get("passed") else "verdict.failed")
        if kind == "microdata":
            named = [phrase("summary.level", variable=q, level=self._level_name(q, lv))
                     for q, lv in _dict(d.get("levels")).items() if lv]
            return phrase("summary.microdata", verdict=verdict,
                          generalised=named or phrase("none"),
                          values=d.get("values_suppressed", 0),
                          records=d.get("records_suppressed", 0))
        if kind == "tables":
            parts = [phrase("summary.table", name=name, primary=t.get("primary"),
                            secondary=t.get("secondary"),
                            audit=phrase("summary.audit_passed" if t.get("passed")
                                         else "summary.audit_failed"))
                     for name, t in _dict(d.get("tables")).items()]
            return phrase("summary.tables", verdict=verdict, method=str(d.get("method")),
                          tables=Join(self.words["summary.table_sep"], tuple(parts)))
        checks = _dict(d.get("evaluation")).get("checks") or []
        failed = [str(c.get("check")) for c in checks if not c.get("passed")]
        if failed:
            return phrase("summary.synthetic_failed", verdict=verdict, checks=failed)
        return phrase("summary.synthetic", verdict=verdict)

    @staticmethod
    def _level_name(variable: str, level: Any) -> str:
        """The catalogue's name of a hierarchy level (`age_10y`, `total`), as the step's
        summary names it; `level N` for a variable outside the catalogue."""
        from primex.catalogue import load_catalogue

        cat = load_catalogue()
        if variable in cat:
            names = cat.hierarchy_levels(variable)
            return str(names[min(int(level), len(names) - 1)])
        return f"level {level}"

    # --- microdata ------------------------------------------------------------------------
    def risk(self) -> list[dict[str, str]]:
        """Before / after rows: plain label, the technical name, the two figures."""
        d, lang = self.details, self.lang
        before, after = _dict(d.get("risk_before")), _dict(d.get("risk_after"))
        params = _dict(d.get("parameters"))
        rows = []
        if "kanon_violations_before" in d:
            rows.append(self._row(phrase("risk.kanon_violations", k=params.get("k", "k")),
                                  "kanon_violations", d.get("kanon_violations_before"),
                                  d.get("kanon_violations_after")))
        for m in RISK_METRICS:
            if m in before or m in after:
                b, a = before.get(m), after.get(m)
                if m == "global_risk_pct":  # already a percentage
                    rows.append({"label": self.say(phrase(f"risk.{m}")), "name": m,
                                 "before": "—" if b is None else percent(b / 100, lang),
                                 "after": "—" if a is None else percent(a / 100, lang)})
                else:
                    rows.append(self._row(phrase(f"risk.{m}"), m, b, a))
        lb, la = _dict(d.get("ldiversity_before")), _dict(d.get("ldiversity_after"))
        if lb or la:
            rows.append(self._row(phrase("risk.violations_l", l=params.get("l", "l"),
                                         sensitive=str(lb.get("sensitive")
                                                       or params.get("sensitive"))),
                                  "violations_l", lb.get("violations_l"), la.get("violations_l")))
        return rows

    def _row(self, label: Phrase, name: str, before: Any, after: Any) -> dict[str, str]:
        return {"label": self.say(label), "name": name, "before": figure(before, self.lang),
                "after": figure(after, self.lang)}

    def generalised(self) -> list[dict[str, str]]:
        rows = []
        for q, lv in _dict(self.details.get("levels")).items():
            name = self._level_name(q, lv)
            if not lv:
                meaning: Text = phrase("level.original")
            elif name == "total":
                meaning = phrase("level.total")
            else:
                meaning = phrase("level.named", level=name)
            rows.append({"variable": q, "level": str(lv), "name": name,
                         "meaning": self.say(meaning)})
        return rows

    def removed(self) -> list[str]:
        """Per variable released as `*` everywhere: why, and what the researcher could
        change (the step's `notices`, said from its typed `removed` field: QI -> the other
        variables whose removal would keep it, or None)."""
        d = self.details
        params = _dict(d.get("parameters"))
        priorities = _dict(d.get("priorities"))
        budget = percent(params.get("max_suppression", 0), self.lang)
        lines = []
        for q, others in _dict(d.get("removed")).items():
            head = phrase("removed.head", variable=q, k=params.get("k", "k"), budget=budget)
            if not isinstance(others, list):
                lines.append(phrase("removed.alone", head=head))
                continue
            kept = [o for o in others if priorities.get(o) == "keep"]
            change = phrase("removed.lower_keep", variables=kept) if kept else phrase(
                "removed.mark_keep")
            lines.append(phrase("removed.unless", head=head, variable=q, change=change,
                                others=phrase("removed.others_one" if len(others) == 1
                                              else "removed.others_many",
                                              others=[str(o) for o in others])))
        return [self.say(line) for line in lines]

    def released_as(self) -> list[str]:
        """Columns named after the level they hold (`age_5y` released as `age_10y`)."""
        return [self.say(phrase("released_as", variable=q, column=str(name)))
                for q, name in _dict(self.details.get("released_as")).items()]

    def suppressed(self) -> list[dict[str, str]]:
        d, lang = self.details, self.lang
        rows: list[dict[str, str]] = []
        n = d.get("n_records")
        if "records_suppressed" in d:
            value = figure(d["records_suppressed"], lang)
            if isinstance(n, int) and n:
                value += f" ({percent(d['records_suppressed'] / n, lang)})"
            rows.append({"label": self.say(phrase("suppressed.records")),
                         "name": "records_suppressed", "value": value})
        if "values_suppressed" in d:
            rows.append({"label": self.say(phrase("suppressed.values")),
                         "name": "values_suppressed", "value": figure(d["values_suppressed"],
                                                                      lang)})
        rows += [{"label": self.say(phrase("suppressed.variable", variable=q)),
                  "name": f"suppressions.{q}", "value": figure(c, lang)}
                 for q, c in _dict(d.get("suppressions")).items()]
        dropped = d.get("dropped_by_conditions")
        if dropped:
            rows.append({"label": self.say(phrase("suppressed.dropped")),
                         "name": "dropped_by_conditions", "value": ", ".join(map(str, dropped))})
        return rows

    def reason(self) -> str | None:
        """Why values were blanked: the step's fixed explanation, said in the page's
        language (the report carries it in English only)."""
        return self.say(phrase("suppressed.reason")) if self.details.get(
            "suppression_reason") else None

    def utility(self) -> dict[str, Any]:
        d, lang = self.details, self.lang
        u = _dict(d.get("utility"))
        lines: list[Text] = []
        if "records_without_suppression" in u:
            lines.append(phrase("utility.records_without",
                                share=percent(u["records_without_suppression"], lang)))
        loss = _dict(d.get("information_loss"))
        if "loss" in loss:
            lines.append(phrase("utility.loss_average", loss=figure(loss["loss"], lang),
                                records=figure(loss.get("loss_if_records_suppressed"), lang)))
        if "generalised_to_total" in u:
            lines.append(phrase("utility.to_total",
                                variables=list(u["generalised_to_total"]) or phrase("none")))
        priorities = _dict(d.get("priorities"))
        if priorities:
            # the request summary's words for a priority (describe.priority.*)
            said = [render(phrase("describe.priority", name=q,
                                  priority=phrase(f"describe.priority.{p}")
                                  if f"describe.priority.{p}" in DESCRIBE_EN else str(p)),
                           DESCRIBE[lang]) for q, p in priorities.items()]
            lines.append(phrase("utility.priorities", priorities=said))
        per_variable = _dict(u.get("information_loss"))
        return {"lines": [self.say(line) for line in lines],
                "caption": self.say(phrase("utility.loss_caption")),
                "loss": [{"variable": q, "value": figure(v, lang)}
                         for q, v in per_variable.items()]}

    # --- tables ---------------------------------------------------------------------------
    def tables(self) -> list[dict[str, Any]]:
        lang = self.lang
        out = []
        for name, t in _dict(self.details.get("tables")).items():
            rows = [
                (phrase("table.cells"), "cells", figure(t.get("cells"), lang)),
                (phrase("table.published"), "published_share",
                 percent(t.get("published_share", 0), lang)),
                (phrase("table.primary"), "primary", figure(t.get("primary"), lang)),
                (phrase("table.secondary"), "secondary", figure(t.get("secondary"), lang)),
                (phrase("table.ledger"), "differencing_flags",
                 figure(t.get("differencing_flags", 0), lang)),
                (phrase("table.audit"), "passed",
                 self.say(phrase("audit.passed" if t.get("passed") else "audit.failed"))),
            ]
            banded = [phrase("summary.level", variable=dim, level=lv)
                      for dim, lv in _dict(t.get("generalised")).items()]
            rows.append((phrase("table.banded"), "generalised",
                         self.say(banded or phrase("none"))))
            optimum = self._optimum(t.get("secondary_optimum"))
            if optimum is not None:
                together = t.get("secondary_optimum_tables") or []
                label = phrase("table.optimum_together", tables=list(together)) if len(
                    together) > 1 else phrase("table.optimum")
                rows.append((label, "secondary_optimum", self.say(optimum)))
            measure = str(t.get("measure"))
            out.append({
                "name": name,
                "caption": self.say(phrase("table.caption", name=name,
                                           dimensions=" × ".join(t.get("dimensions") or []),
                                           measure=measure)),
                "passed": bool(t.get("passed")),
                "rows": [{"label": self.say(label), "name": key, "value": value}
                         for label, key, value in rows],
            })
        return out

    def _optimum(self, o: Any) -> Text | None:
        """The exact search's line of the report (`primex.protection.step._optimum_md`), from
        its fields."""
        if not isinstance(o, dict) or not o:
            return None
        lang = self.lang
        if not o.get("checked"):
            return phrase("opt.not_computed", cells=figure(o.get("cells"), lang))
        budget = self._budget(o)
        bound = figure(o.get("lower_bound"), lang)
        if o.get("released") == "exact search":
            best, low = o.get("best_secondary_cells"), o.get("lower_bound")
            where: Text = phrase("opt.proven") if o.get("proven_optimal") else phrase(
                "opt.at_most",
                pct=figure(round(100.0 * (best - low) / low, 2) if low else 0, lang),
                bound=bound, budget=budget)
            return phrase("opt.exact_released", best=figure(best, lang),
                          fewer=figure(o.get("extra_cells"), lang),
                          heuristic=figure(o.get("heuristic_secondary_cells"), lang),
                          where=where)
        if o.get("proven_optimal"):
            value = o.get("extra_value")
            if value is None:
                return phrase("opt.optimum_heuristic",
                              best=figure(o.get("best_secondary_cells"), lang),
                              extra=figure(o.get("extra_cells"), lang))
            return phrase("opt.optimum_heuristic_value",
                          best=figure(o.get("best_secondary_cells"), lang),
                          extra=figure(o.get("extra_cells"), lang),
                          value=figure(abs(value), lang),
                          direction=phrase("opt.lower" if value < 0 else "opt.higher"))
        return phrase("opt.not_proven", budget=budget,
                      heuristic=figure(o.get("heuristic_secondary_cells"), lang),
                      pct=figure(o.get("heuristic_above_bound_pct"), lang), bound=bound)

    def _budget(self, o: dict[str, Any]) -> Text:
        """The search's budget in the page's words; a budget written otherwise is shown as
        written (it names figures, not sentences)."""
        text = o.get("budget") or f"{o.get('time_limit_s') or 0:g} s"
        found = _BUDGET.match(str(text))
        if found is None or not any(found.groupdict().values()):
            return str(text)
        parts: list[Text] = []
        if found["masters"] and found["rounds"]:
            parts.append(phrase("budget.work_lns", masters=found["masters"],
                                nodes=found["nodes"], rounds=found["rounds"],
                                lns_nodes=found["lns_nodes"]))
        elif found["masters"]:
            parts.append(phrase("budget.work", masters=found["masters"], nodes=found["nodes"]))
        if found["seconds"]:
            parts.append(phrase("budget.time", seconds=figure(float(found["seconds"]),
                                                               self.lang)))
        return parts[0] if len(parts) == 1 else phrase("budget.or", first=parts[0],
                                                       second=parts[1])

    # --- synthetic ------------------------------------------------------------------------
    def synthetic(self) -> dict[str, Any] | None:
        ev = _dict(self.details.get("evaluation"))
        if not ev:
            return None
        lang = self.lang
        checks = [{"check": str(c.get("check")), "value": figure(c.get("value"), lang),
                   "limit": figure(c.get("limit"), lang),
                   "result": self.say(phrase("synthetic.pass" if c.get("passed")
                                             else "synthetic.fail"))}
                  for c in ev.get("checks") or []]
        score = _dict(ev.get("utility")).get("quality_score")
        return {"checks": checks, "quality": self.say(phrase(
            "synthetic.quality", score="n/a" if score is None else figure(score, lang)))}

    # --- everything ---------------------------------------------------------------------
    def page(self) -> dict[str, Any]:
        passed = bool(self.report.get("passed"))
        if not isinstance(self.report.get("details"), dict):
            # no report, or not the protection step's (no fields to say it from): its summary
            # as written, never a summary made up from missing fields
            return {"summary": str(self.report.get("summary") or ""), "as_written": True,
                    "result": self.say(phrase("result.passed" if passed else "result.failed"))
                    if self.report else "",
                    "passed": passed, "kind": self.report.get("kind"), "risk": [],
                    "removed": [], "released_as": [],
                    "generalised": [], "suppressed": [], "reason": None,
                    "utility": {"lines": [], "loss": [], "caption": ""}, "tables": [],
                    "synthetic": None}
        return {
            "summary": self.say(self.summary()), "as_written": False,
            "result": self.say(phrase("result.passed" if passed else "result.failed")),
            "passed": passed, "kind": self.report.get("kind"),
            "risk": self.risk(), "generalised": self.generalised(),
            "removed": self.removed(), "released_as": self.released_as(),
            "suppressed": self.suppressed(), "reason": self.reason(),
            "utility": self.utility(), "tables": self.tables(),
            "synthetic": self.synthetic(),
        }


def disclosure_view(report: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """What the page shows of a protection's report, in `lang`."""
    return DisclosureView(report, lang).page()


__all__ = ["RISK_METRICS", "DisclosureView", "disclosure_view", "figure", "percent"]
