"""The French and Dutch catalogues of what the log's entries say: a request's history
(`primex.requests.history_text`), the committee's report (`primex.committee.report`: only
the French and Dutch here, see REPORT below), the
summary lines of a request (`primex.requests.describe`) and the notes of its risk
pre-assessment (`primex.requests.assess`). The English ones live next to the
code that says it (the CLI prints them); these have the same keys and the same parameters
(tests/test_portal_i18n_history.py). Domain terms stay as users say them (CPAS, RI, PIIS,
sha256); the Dutch pages say KSZ for the BCSS, as the rest of the portal does."""

from __future__ import annotations

from primex.audit.keys import ROLES
from primex.requests.assess import NOTES_EN as ASSESS_EN
from primex.requests.describe import EN as DESCRIBE_EN
from primex.requests.history_text import EN as HISTORY_EN
from primex.service.pages.i18n import FR, NL, TERMS

HISTORY_FR: dict[str, str] = {
    "history.submission": "spécification sha256 {sha256}…",
    "history.conditions": "conditions : {conditions}",
    "history.no_conditions": "aucune condition supplémentaire",
    "history.decision.approve": "décision : approbation",
    "history.decision.return": "décision : renvoi",
    "history.decision": "décision : {decision}",
    "history.passed": "réussie",
    "history.not_passed": "non réussie",
    "conditions.tightened": "{condition} (renforcée)",
    "conditions.four_eyes": "quatre yeux : {checkers} délégué·e·s différent·e·s contrôlent "
                            "les résultats",
    "conditions.with_notes": "{conditions} ; notes : {notes}",
    "conditions.notes": "notes : {notes}",
}

HISTORY_NL: dict[str, str] = {
    "history.submission": "specificatie sha256 {sha256}…",
    "history.conditions": "voorwaarden: {conditions}",
    "history.no_conditions": "geen bijkomende voorwaarden",
    "history.decision.approve": "beslissing: goedgekeurd",
    "history.decision.return": "beslissing: teruggestuurd",
    "history.decision": "beslissing: {decision}",
    "history.passed": "geslaagd",
    "history.not_passed": "niet geslaagd",
    "conditions.tightened": "{condition} (verstrengd)",
    "conditions.four_eyes": "vier ogen: {checkers} verschillende functionarissen controleren "
                            "de output",
    "conditions.with_notes": "{conditions}; notities: {notes}",
    "conditions.notes": "notities: {notes}",
}

REPORT_FR: dict[str, str] = {
    "event.submission": "soumise",
    "event.return": "renvoyée pour modifications",
    "event.rejection": "refusée",
    "event.approval": "approuvée",
    "event.amendment": "conditions modifiées",
    "event.extraction": "extraite",
    "event.coding": "codée (BCSS)",
    "event.disclosure_result": "contrôle de divulgation",
    "event.output_check": "résultats contrôlés",
    "event.signoff": "signée",
    "event.release": "livrée",
    "event.access": "ouverte",
    "event.closure": "clôturée",
    "event.key_add": "clé enregistrée",
    "event.key_revoke": "clé révoquée",
    "event.linkage_key_rotation": "clé maîtresse du couplage renouvelée (BCSS)",
    **{f"role.{role}": TERMS["fr"][role] for role in ROLES},
    "who": "{actor} ({role})",
    "asked": "{who} le {when} : {details}",
    "approved": "{who} le {when}",
    "decided": "{event} par {who} le {when}",
    "signed": "{who} le {when}, manifeste {manifest}",
    "released": "le {when}, {details}",
    "none": "aucune",
    "no_summary": "(aucun résumé enregistré)",
    "not_trusted": "son historique contient une entrée dont la signature ne se vérifie pas : "
                   "{reason}",
    "verified": "vérifié : {size} entrées, signatures, chaînes, déroulement et points de "
                "contrôle",
    "verified_witnessed": "vérifié : {size} entrées, signatures, chaînes, déroulement et "
                          "points de contrôle ; le témoin a contresigné la taille {witnessed}",
    "verification_failed": "ÉCHEC DE LA VÉRIFICATION : {reason}",
    "period": "du {since} au {until}",
    "period.start": "début",
    "period.now": "maintenant",
    "details.submission": "« {title} », spécification {spec}",
    "details.reasons": "motifs : {reasons}",
    "details.approval": "conditions : {conditions}",
    "details.amendment": "conditions : {conditions} ; motif : {reason}",
    "details.extraction": "manifeste {manifest}",
    "details.extraction_snapshot": "manifeste {manifest}, instantané {snapshot}",
    "details.coding": "clé {key}, résultat codé {manifest}",
    "details.disclosure": "{verdict}, fichiers {manifest}",
    "details.disclosure_summary": "{verdict}, fichiers {manifest} ; {summary}",
    "verdict.passed": "réussi",
    "verdict.failed": "ÉCHOUÉ",
    "details.output_check": "décision : {decision}",
    "details.output_check_comment": "décision : {decision} ; {comment}",
    "decision.approve": "approbation",
    "decision.return": "renvoi",
    "details.signoff": "manifeste {manifest} ({files} fichiers)",
    "details.release": "à {recipient}, paquet {package}, point de contrôle contresigné par le "
                       "témoin de taille {size}",
    "details.access": "fichier {name} {sha256}",
    "details.closure": "{reasons} ; {destroyed}",
    "details.destroyed": "{files} fichier(s) de travail détruit(s)",
    "details.key_add": "{name} comme {role} (personne {person})",
}

REPORT_NL: dict[str, str] = {
    "event.submission": "ingediend",
    "event.return": "teruggestuurd voor wijzigingen",
    "event.rejection": "geweigerd",
    "event.approval": "goedgekeurd",
    "event.amendment": "voorwaarden gewijzigd",
    "event.extraction": "geëxtraheerd",
    "event.coding": "gecodeerd (KSZ)",
    "event.disclosure_result": "onthullingscontrole",
    "event.output_check": "output gecontroleerd",
    "event.signoff": "ondertekend",
    "event.release": "vrijgegeven",
    "event.access": "geopend",
    "event.closure": "afgesloten",
    "event.key_add": "sleutel geregistreerd",
    "event.key_revoke": "sleutel ingetrokken",
    "event.linkage_key_rotation": "hoofdsleutel van de koppeling vernieuwd (KSZ)",
    **{f"role.{role}": TERMS["nl"][role] for role in ROLES},
    "who": "{actor} ({role})",
    "asked": "{who} op {when}: {details}",
    "approved": "{who} op {when}",
    "decided": "{event} door {who} op {when}",
    "signed": "{who} op {when}, manifest {manifest}",
    "released": "op {when}, {details}",
    "none": "geen",
    "no_summary": "(geen samenvatting vastgelegd)",
    "not_trusted": "de geschiedenis bevat een item waarvan de handtekening niet klopt: {reason}",
    "verified": "geverifieerd: {size} items, handtekeningen, ketens, verloop en checkpoints",
    "verified_witnessed": "geverifieerd: {size} items, handtekeningen, ketens, verloop en "
                          "checkpoints; de getuige heeft grootte {witnessed} medeondertekend",
    "verification_failed": "VERIFICATIE MISLUKT: {reason}",
    "period": "van {since} tot {until}",
    "period.start": "begin",
    "period.now": "nu",
    "details.submission": "“{title}”, specificatie {spec}",
    "details.reasons": "redenen: {reasons}",
    "details.approval": "voorwaarden: {conditions}",
    "details.amendment": "voorwaarden: {conditions}; reden: {reason}",
    "details.extraction": "manifest {manifest}",
    "details.extraction_snapshot": "manifest {manifest}, momentopname {snapshot}",
    "details.coding": "sleutel {key}, gecodeerde output {manifest}",
    "details.disclosure": "{verdict}, bestanden {manifest}",
    "details.disclosure_summary": "{verdict}, bestanden {manifest}; {summary}",
    "verdict.passed": "geslaagd",
    "verdict.failed": "MISLUKT",
    "details.output_check": "beslissing: {decision}",
    "details.output_check_comment": "beslissing: {decision}; {comment}",
    "decision.approve": "goedkeuring",
    "decision.return": "terugsturing",
    "details.signoff": "manifest {manifest} ({files} bestanden)",
    "details.release": "aan {recipient}, pakket {package}, door de getuige medeondertekend "
                       "checkpoint van grootte {size}",
    "details.access": "bestand {name} {sha256}",
    "details.closure": "{reasons}; {destroyed}",
    "details.destroyed": "{files} werkbestand(en) vernietigd",
    "details.key_add": "{name} als {role} (persoon {person})",
}

DESCRIBE_FR: dict[str, str] = {
    "describe.in": "{name} dans {values}",
    "describe.all_spells": "tous les épisodes",
    "describe.every_other_spell": "tous les autres épisodes",
    "describe.filters": "filtres : {filters}",
    "describe.groups": "groupes : étude = {study}, comparaison = {comparison}",
    "describe.kind.microdata": "microdonnées",
    "describe.kind.tables": "tableaux",
    "describe.kind.synthetic": "données synthétiques",
    "describe.output": "{kind} ({format})",
    "describe.output_tables": "{kind} ({format}) : {tables}",
    "describe.table": "{name} = {dimensions} ({measure})",
    "describe.table_weights": "{name} = {dimensions} ({measure}, pondération {weights})",
    "describe.priority": "{name} : {priority}",
    **{f"describe.priority.{p}": FR[f"priority_{p}"] for p in ("keep", "high", "normal", "low")},
}

DESCRIBE_NL: dict[str, str] = {
    "describe.in": "{name} in {values}",
    "describe.all_spells": "alle episodes",
    "describe.every_other_spell": "alle andere episodes",
    "describe.filters": "filters: {filters}",
    "describe.groups": "groepen: studie = {study}, vergelijking = {comparison}",
    "describe.kind.microdata": "microdata",
    "describe.kind.tables": "tabellen",
    "describe.kind.synthetic": "synthetische gegevens",
    "describe.output": "{kind} ({format})",
    "describe.output_tables": "{kind} ({format}): {tables}",
    "describe.table": "{name} = {dimensions} ({measure})",
    "describe.table_weights": "{name} = {dimensions} ({measure}, gewichten {weights})",
    "describe.priority": "{name}: {priority}",
    **{f"describe.priority.{p}": NL[f"priority_{p}"] for p in ("keep", "high", "normal", "low")},
}

ASSESS_FR: dict[str, str] = {
    "assess.no_hierarchy": "{variable} : aucune hiérarchie utilisable sur ces données "
                           "({problem}) ; seulement tout ou rien",
    "assess.not_derivable": "non calculables avant l'extraction, laissées hors de la clé : "
                            "{variables}",
    "assess.no_record": "aucun enregistrement des données actuelles ne correspond à la "
                        "population",
    "assess.no_generalisation": "aucune généralisation de ces quasi-identifiants n'atteint la "
                                "cible dans le budget de recherche ; retirez une variable ou "
                                "restreignez la demande",
    "assess.linked_sensitive": "les variables couplées de l'entrepôt sont sensibles : la "
                               "l-diversité est contrôlée après le couplage, pas dans cette "
                               "pré-évaluation",
    "assess.groups": "groupes : étude {study} épisodes, comparaison {comparison} épisodes",
    "assess.running": "{running} des {spells} épisodes sont encore en cours : leurs "
                      "{variables} à {at} ne peuvent pas être observées, {action} ; les "
                      "épisodes dont le trimestre de résultat tombe après le dernier trimestre "
                      "de l'entrepôt sont connus après le couplage",
    "assess.censored_drop": "retirés avant la protection (censored: drop)",
    "assess.censored_keep": "gardés avec le code not_observed_running (censored: keep)",
    "assess.table_not_derivable": "dimensions non calculables avant l'extraction, laissées "
                                  "de côté : {dimensions}",
}

ASSESS_NL: dict[str, str] = {
    "assess.no_hierarchy": "{variable}: geen bruikbare hiërarchie op deze gegevens "
                           "({problem}); alleen alles of niets",
    "assess.not_derivable": "niet af te leiden vóór de extractie, weggelaten uit de sleutel: "
                            "{variables}",
    "assess.no_record": "geen enkel record van de huidige gegevens valt in de populatie",
    "assess.no_generalisation": "geen veralgemening van deze quasi-identificatoren haalt het "
                                "doel binnen het zoekbudget; laat een variabele weg of beperk "
                                "de aanvraag",
    "assess.linked_sensitive": "gekoppelde variabelen uit het datawarehouse zijn gevoelig: "
                               "l-diversiteit wordt na de koppeling gecontroleerd, niet in "
                               "deze voorafgaande inschatting",
    "assess.groups": "groepen: studie {study} episodes, vergelijking {comparison} episodes",
    "assess.running": "{running} van de {spells} episodes lopen nog: hun {variables} op {at} "
                      "kunnen niet worden waargenomen, {action}; episodes waarvan het "
                      "uitkomstkwartaal na het laatste kwartaal van het datawarehouse valt, "
                      "zijn pas na de koppeling bekend",
    "assess.censored_drop": "weggelaten vóór de bescherming (censored: drop)",
    "assess.censored_keep": "behouden met de code not_observed_running (censored: keep)",
    "assess.table_not_derivable": "dimensies niet af te leiden vóór de extractie, "
                                  "weggelaten: {dimensions}",
}

HISTORY = {"en": HISTORY_EN, "fr": HISTORY_FR, "nl": HISTORY_NL}
# The report's English catalogue is the committee's own (primex.committee.report.WORDS, which
# only the portal's views import: the SPP side keeps its imports of the committee to the few
# tests/test_architecture.py names); the portal's English names a role as its other pages do
# ("privacy officer", where the CLI's report keeps the log's "privacy_officer").
REPORT_ROLES_EN = {f"role.{role}": TERMS["en"][role] for role in ROLES}
REPORT = {"fr": REPORT_FR, "nl": REPORT_NL}
DESCRIBE = {"en": DESCRIBE_EN, "fr": DESCRIBE_FR, "nl": DESCRIBE_NL}
ASSESS = {"en": ASSESS_EN, "fr": ASSESS_FR, "nl": ASSESS_NL}
# every catalogue of this module, by name (the tests compare its languages key by key)
CATALOGUES = {"history": HISTORY, "describe": DESCRIBE, "assess": ASSESS}
