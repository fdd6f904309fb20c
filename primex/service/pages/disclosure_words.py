"""The words of the output check's disclosure report on the portal, in English, French and
Dutch (same keys, same parameters: tests/test_portal_i18n_disclosure.py).

The protection step writes its report in English (`disclosure-report.md`, its `summary`
field); the page does not translate those sentences: `disclosure_view` says the report's
JSON fields again with these catalogues. The English summary templates are the step's own
words, so the English page reads as the report does. A measure keeps its technical name
(sdcMicro's `global_risk_ER`, …) next to its plain label, for the expert."""

from __future__ import annotations

EN: dict[str, str] = {
    "verdict.passed": "passed",
    "verdict.failed": "FAILED",
    "result.passed": "Result: passed.",
    "result.failed": "Result: FAILED — nothing can be released.",
    "none": "none",
    "summary.microdata": "microdata {verdict}; generalised: {generalised}; {values} values "
                         "suppressed in {records} records",
    "summary.level": "{variable} → {level}",
    "summary.tables": "tables {verdict} ({method}); {tables}",
    "summary.table": "{name}: {primary} primary, {secondary} secondary, {audit}",
    "summary.table_sep": "; ",
    "summary.audit_passed": "audit passed",
    "summary.audit_failed": "AUDIT FAILED",
    "summary.synthetic": "synthetic {verdict}",
    "summary.synthetic_failed": "synthetic {verdict}; failed: {checks}",
    # microdata: the risk measures (sdcMicro's names beside them on the page)
    "risk.kanon_violations": "Records violating {k}-anonymity",
    "risk.global_risk_ER": "Expected re-identifications",
    "risk.global_risk_pct": "Global risk (share of the records)",
    "risk.max_individual_risk": "Highest individual risk",
    "risk.sample_uniques": "Sample uniques (records alone with their key, fk = 1)",
    "risk.high_risk_records": "High-risk records",
    "risk.violations_l": "Records with fewer than {l} distinct values of {sensitive}",
    "level.original": "original values",
    "level.total": "fully generalised (removed)",
    "level.named": "grouped into {level}",
    "removed.head": "{variable} is * in every record (removed): no level of {variable} below its "
                    "total reaches k = {k} with at most {budget} of the records suppressed",
    "removed.alone": "{head}, even with every other variable removed; a larger population (a "
                     "longer period, more benefits or regions) could keep it.",
    "removed.unless": "{head} unless {others} removed instead; to keep {variable}, {change} (or "
                      "leave those out of the request), or ask for a larger population (a longer "
                      "period, more benefits or regions).",
    "removed.others_one": "{others} is",
    "removed.others_many": "{others} are",
    "removed.lower_keep": "lower the priority keep of {variables}",
    "removed.mark_keep": "mark it keep in disclosure.priorities",
    "released_as": "{variable} (requested) is released as {column}",
    "suppressed.records": "Records with a blanked value",
    "suppressed.values": "Values blanked",
    "suppressed.variable": "Values blanked in {variable}",
    "suppressed.dropped": "Dropped by the officer's conditions",
    "suppressed.reason": "After generalisation, these records still shared their combination "
                         "of quasi-identifiers with fewer than k records. The fewest, least "
                         "important values were blanked (a blank matches any value) so that "
                         "each such record is indistinguishable from at least k records.",
    "utility.records_without": "{share} of the records have no suppressed value.",
    "utility.loss_caption": "Information loss per variable (0 = as collected, 1 = removed)",
    "utility.loss_average": "Average information loss per value: {loss} (blanking whole "
                            "records, as ARX does, would give {records}).",
    "utility.to_total": "Generalised to the total (removed): {variables}.",
    "utility.priorities": "Priorities: {priorities}.",
    # tables
    "table.caption": "{name} ({dimensions}; {measure})",
    "table.cells": "Cells (margins included)",
    "table.published": "Share of the cells published",
    "table.primary": "Primary suppressions (cells under the rules)",
    "table.secondary": "Secondary suppressions (so that no primary cell can be recalculated)",
    "table.ledger": "Cells forced by the differencing ledger (earlier releases)",
    "table.audit": "Audit (no suppressed cell can be recalculated)",
    "table.banded": "Dimensions banded before suppression",
    "table.optimum": "Distance to the optimum",
    "table.optimum_together": "Distance to the optimum (tables {tables} protected together)",
    "audit.passed": "passed",
    "audit.failed": "FAILED",
    "opt.not_computed": "the exact optimum was not computed: {cells} cells, above the size "
                        "the exact search takes on.",
    "opt.exact_released": "the exact search's pattern is released: {best} secondary cells, "
                          "{fewer} fewer than the heuristic's {heuristic} ({where}).",
    "opt.proven": "the proven optimum",
    "opt.at_most": "at most {pct} % above the best lower bound ({bound}) found within "
                   "{budget}",
    "opt.optimum_heuristic": "the exact optimum has {best} secondary cells; the heuristic "
                             "suppressed {extra} more.",
    "opt.optimum_heuristic_value": "the exact optimum has {best} secondary cells; the "
                                   "heuristic suppressed {extra} more (suppressed value "
                                   "{value} {direction}).",
    "opt.lower": "lower",
    "opt.higher": "higher",
    "opt.not_proven": "optimum not proven within {budget}; the heuristic's {heuristic} "
                      "secondary cells are at most {pct} % above the best lower bound "
                      "({bound}).",
    "budget.work": "{masters} master MIPs and {nodes} nodes",
    "budget.work_lns": "{masters} master MIPs and {nodes} nodes, then {rounds} neighbourhoods "
                       "of {lns_nodes} nodes",
    "budget.time": "{seconds} s",
    "budget.or": "{first} or {second}",
    "synthetic.pass": "pass",
    "synthetic.fail": "FAIL",
    "synthetic.quality": "SDMetrics quality score: {score}",
}

FR: dict[str, str] = {
    "verdict.passed": "réussie",
    "verdict.failed": "ÉCHOUÉE",
    "result.passed": "Résultat : réussi.",
    "result.failed": "Résultat : ÉCHEC — rien ne peut être livré.",
    "none": "aucune",
    "summary.microdata": "protection des microdonnées {verdict} ; généralisation : "
                         "{generalised} ; {values} valeurs masquées dans {records} "
                         "enregistrements",
    "summary.level": "{variable} → {level}",
    "summary.tables": "protection des tableaux {verdict} ({method}) ; {tables}",
    "summary.table": "{name} : {primary} primaires, {secondary} secondaires, {audit}",
    "summary.table_sep": " ; ",
    "summary.audit_passed": "audit réussi",
    "summary.audit_failed": "AUDIT ÉCHOUÉ",
    "summary.synthetic": "protection des données synthétiques {verdict}",
    "summary.synthetic_failed": "protection des données synthétiques {verdict} ; contrôles "
                                "échoués : {checks}",
    "risk.kanon_violations": "Enregistrements qui enfreignent la {k}-anonymité",
    "risk.global_risk_ER": "Réidentifications attendues",
    "risk.global_risk_pct": "Risque global (part des enregistrements)",
    "risk.max_individual_risk": "Risque individuel le plus élevé",
    "risk.sample_uniques": "Uniques dans l'échantillon (enregistrements seuls avec leur clé, "
                           "fk = 1)",
    "risk.high_risk_records": "Enregistrements à risque élevé",
    "risk.violations_l": "Enregistrements avec moins de {l} valeurs distinctes de {sensitive}",
    "level.original": "valeurs d'origine",
    "level.total": "entièrement généralisée (retirée)",
    "level.named": "regroupée en {level}",
    "removed.head": "{variable} vaut * dans chaque enregistrement (retirée) : aucun niveau de "
                    "{variable} sous son total n'atteint k = {k} avec au plus {budget} des "
                    "enregistrements masqués",
    "removed.alone": "{head}, même si toutes les autres variables sont retirées ; une population "
                     "plus large (une période plus longue, davantage de prestations ou de "
                     "régions) pourrait la garder.",
    "removed.unless": "{head}, à moins de retirer {others} à sa place ; pour garder "
                      "{variable}, {change} (ou laissez-les hors de la demande), ou demandez une "
                      "population plus large (une période plus longue, davantage de prestations "
                      "ou de régions).",
    "removed.others_one": "{others}",
    "removed.others_many": "{others}",
    "removed.lower_keep": "abaissez la priorité keep de {variables}",
    "removed.mark_keep": "marquez-la keep dans disclosure.priorities",
    "released_as": "{variable} (demandée) est livrée sous le nom {column}",
    "suppressed.records": "Enregistrements avec une valeur masquée",
    "suppressed.values": "Valeurs masquées",
    "suppressed.variable": "Valeurs masquées dans {variable}",
    "suppressed.dropped": "Retirées par les conditions du/de la délégué·e",
    "suppressed.reason": "Après la généralisation, ces enregistrements partageaient encore "
                         "leur combinaison de quasi-identifiants avec moins de k "
                         "enregistrements. Les valeurs les moins nombreuses et les moins "
                         "importantes ont été masquées (une valeur masquée correspond à "
                         "n'importe quelle valeur), pour que chacun de ces enregistrements "
                         "soit indiscernable d'au moins k enregistrements.",
    "utility.records_without": "{share} des enregistrements n'ont aucune valeur masquée.",
    "utility.loss_caption": "Perte d'information par variable (0 = telle que collectée, "
                            "1 = retirée)",
    "utility.loss_average": "Perte d'information moyenne par valeur : {loss} (masquer des "
                            "enregistrements entiers, comme le fait ARX, donnerait {records}).",
    "utility.to_total": "Généralisées jusqu'au total (retirées) : {variables}.",
    "utility.priorities": "Priorités : {priorities}.",
    "table.caption": "{name} ({dimensions} ; {measure})",
    "table.cells": "Cellules (marges comprises)",
    "table.published": "Part des cellules publiées",
    "table.primary": "Suppressions primaires (cellules sous les règles)",
    "table.secondary": "Suppressions secondaires (pour qu'aucune cellule primaire ne puisse "
                       "être recalculée)",
    "table.ledger": "Cellules imposées par le registre des différences (livraisons "
                    "antérieures)",
    "table.audit": "Audit (aucune cellule masquée ne peut être recalculée)",
    "table.banded": "Dimensions regroupées avant la suppression",
    "table.optimum": "Distance à l'optimum",
    "table.optimum_together": "Distance à l'optimum (tableaux {tables} protégés ensemble)",
    "audit.passed": "réussi",
    "audit.failed": "ÉCHOUÉ",
    "opt.not_computed": "l'optimum exact n'a pas été calculé : {cells} cellules, au-delà de la "
                        "taille que la recherche exacte traite.",
    "opt.exact_released": "le masquage de la recherche exacte est livré : {best} cellules "
                          "secondaires, {fewer} de moins que les {heuristic} de l'heuristique "
                          "({where}).",
    "opt.proven": "l'optimum prouvé",
    "opt.at_most": "au plus {pct} % au-dessus de la meilleure borne inférieure ({bound}) "
                   "trouvée dans {budget}",
    "opt.optimum_heuristic": "l'optimum exact a {best} cellules secondaires ; l'heuristique "
                             "en a masqué {extra} de plus.",
    "opt.optimum_heuristic_value": "l'optimum exact a {best} cellules secondaires ; "
                                   "l'heuristique en a masqué {extra} de plus (valeur masquée "
                                   "{value} {direction}).",
    "opt.lower": "plus basse",
    "opt.higher": "plus élevée",
    "opt.not_proven": "optimum non prouvé dans {budget} ; les {heuristic} cellules "
                      "secondaires de l'heuristique sont au plus {pct} % au-dessus de la "
                      "meilleure borne inférieure ({bound}).",
    "budget.work": "{masters} MIP maîtres et {nodes} nœuds",
    "budget.work_lns": "{masters} MIP maîtres et {nodes} nœuds, puis {rounds} voisinages de "
                       "{lns_nodes} nœuds",
    "budget.time": "{seconds} s",
    "budget.or": "{first} ou {second}",
    "synthetic.pass": "réussi",
    "synthetic.fail": "ÉCHEC",
    "synthetic.quality": "Score de qualité SDMetrics : {score}",
}

NL: dict[str, str] = {
    "verdict.passed": "geslaagd",
    "verdict.failed": "MISLUKT",
    "result.passed": "Resultaat: geslaagd.",
    "result.failed": "Resultaat: MISLUKT — er kan niets worden vrijgegeven.",
    "none": "geen",
    "summary.microdata": "microdata {verdict}; veralgemeend: {generalised}; {values} waarden "
                         "onderdrukt in {records} records",
    "summary.level": "{variable} → {level}",
    "summary.tables": "tabellen {verdict} ({method}); {tables}",
    "summary.table": "{name}: {primary} primair, {secondary} secundair, {audit}",
    "summary.table_sep": "; ",
    "summary.audit_passed": "audit geslaagd",
    "summary.audit_failed": "AUDIT MISLUKT",
    "summary.synthetic": "synthetische gegevens {verdict}",
    "summary.synthetic_failed": "synthetische gegevens {verdict}; mislukte controles: "
                                "{checks}",
    "risk.kanon_violations": "Records die {k}-anonimiteit schenden",
    "risk.global_risk_ER": "Verwachte heridentificaties",
    "risk.global_risk_pct": "Globaal risico (aandeel van de records)",
    "risk.max_individual_risk": "Hoogste individuele risico",
    "risk.sample_uniques": "Unieke records in de steekproef (alleen met hun sleutel, fk = 1)",
    "risk.high_risk_records": "Records met hoog risico",
    "risk.violations_l": "Records met minder dan {l} verschillende waarden van {sensitive}",
    "level.original": "oorspronkelijke waarden",
    "level.total": "volledig veralgemeend (verwijderd)",
    "level.named": "gegroepeerd tot {level}",
    "removed.head": "{variable} is * in elk record (verwijderd): geen niveau van {variable} onder "
                    "het totaal haalt k = {k} met hoogstens {budget} van de records onderdrukt",
    "removed.alone": "{head}, zelfs als alle andere variabelen worden verwijderd; een grotere "
                     "populatie (een langere periode, meer uitkeringen of gewesten) zou ze "
                     "kunnen behouden.",
    "removed.unless": "{head}, tenzij in de plaats {others}; om {variable} te "
                      "behouden: {change} (of laat die weg uit de aanvraag), of vraag een "
                      "grotere populatie (een langere periode, meer uitkeringen of gewesten).",
    "removed.others_one": "{others} verwijderd wordt",
    "removed.others_many": "{others} verwijderd worden",
    "removed.lower_keep": "verlaag de prioriteit keep van {variables}",
    "removed.mark_keep": "markeer ze keep in disclosure.priorities",
    "released_as": "{variable} (gevraagd) wordt vrijgegeven als {column}",
    "suppressed.records": "Records met een onderdrukte waarde",
    "suppressed.values": "Onderdrukte waarden",
    "suppressed.variable": "Onderdrukte waarden in {variable}",
    "suppressed.dropped": "Weggelaten door de voorwaarden van de functionaris",
    "suppressed.reason": "Na de veralgemening deelden deze records hun combinatie van "
                         "quasi-identificatoren nog met minder dan k records. De minst "
                         "talrijke, minst belangrijke waarden werden onderdrukt (een lege "
                         "waarde past bij elke waarde), zodat elk van die records niet te "
                         "onderscheiden is van minstens k records.",
    "utility.records_without": "{share} van de records heeft geen onderdrukte waarde.",
    "utility.loss_caption": "Informatieverlies per variabele (0 = zoals verzameld, "
                            "1 = verwijderd)",
    "utility.loss_average": "Gemiddeld informatieverlies per waarde: {loss} (hele records "
                            "onderdrukken, zoals ARX doet, zou {records} geven).",
    "utility.to_total": "Veralgemeend tot het totaal (verwijderd): {variables}.",
    "utility.priorities": "Prioriteiten: {priorities}.",
    "table.caption": "{name} ({dimensions}; {measure})",
    "table.cells": "Cellen (marges inbegrepen)",
    "table.published": "Aandeel gepubliceerde cellen",
    "table.primary": "Primaire onderdrukkingen (cellen onder de regels)",
    "table.secondary": "Secundaire onderdrukkingen (zodat geen primaire cel kan worden "
                       "herberekend)",
    "table.ledger": "Cellen opgelegd door het verschillenregister (eerdere vrijgaven)",
    "table.audit": "Audit (geen onderdrukte cel kan worden herberekend)",
    "table.banded": "Dimensies gegroepeerd vóór de onderdrukking",
    "table.optimum": "Afstand tot het optimum",
    "table.optimum_together": "Afstand tot het optimum (tabellen {tables} samen beschermd)",
    "audit.passed": "geslaagd",
    "audit.failed": "MISLUKT",
    "opt.not_computed": "het exacte optimum werd niet berekend: {cells} cellen, boven de "
                        "grootte die de exacte zoektocht aankan.",
    "opt.exact_released": "het patroon van de exacte zoektocht wordt vrijgegeven: {best} "
                          "secundaire cellen, {fewer} minder dan de {heuristic} van de "
                          "heuristiek ({where}).",
    "opt.proven": "het bewezen optimum",
    "opt.at_most": "hoogstens {pct} % boven de beste ondergrens ({bound}) gevonden binnen "
                   "{budget}",
    "opt.optimum_heuristic": "het exacte optimum heeft {best} secundaire cellen; de "
                             "heuristiek onderdrukte er {extra} meer.",
    "opt.optimum_heuristic_value": "het exacte optimum heeft {best} secundaire cellen; de "
                                   "heuristiek onderdrukte er {extra} meer (onderdrukte "
                                   "waarde {value} {direction}).",
    "opt.lower": "lager",
    "opt.higher": "hoger",
    "opt.not_proven": "optimum niet bewezen binnen {budget}; de {heuristic} secundaire cellen "
                      "van de heuristiek liggen hoogstens {pct} % boven de beste ondergrens "
                      "({bound}).",
    "budget.work": "{masters} master-MIP's en {nodes} knopen",
    "budget.work_lns": "{masters} master-MIP's en {nodes} knopen, daarna {rounds} omgevingen "
                       "van {lns_nodes} knopen",
    "budget.time": "{seconds} s",
    "budget.or": "{first} of {second}",
    "synthetic.pass": "geslaagd",
    "synthetic.fail": "MISLUKT",
    "synthetic.quality": "SDMetrics-kwaliteitsscore: {score}",
}

DISCLOSURE = {"en": EN, "fr": FR, "nl": NL}

__all__ = ["DISCLOSURE", "EN", "FR", "NL"]
