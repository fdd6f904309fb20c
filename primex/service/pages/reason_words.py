"""Why a verification failed, and the lead-in of the server's one-line errors, in the page's
language. A failure of the log's verification is typed (`primex.audit.reasons.Reason`, and
the verifier's check names): its words are said here by code. The detail the verifier
adds (which key, which field) is free English text from the code that refused: the page
shows it as written, introduced by a translated lead-in and marked `lang="en"`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from primex.audit.phrases import phrase, render
from primex.audit.reasons import Reason

# the verifier's check names (primex.committee.verify.Failure.check)
CHECKS = ("entry", "time", "chain", "registry", "workflow", "custody", "signature",
          "checkpoint", "witness", "fork")

EN: dict[str, str] = {
    "check.entry": "entry", "check.time": "time", "check.chain": "chain",
    "check.registry": "key registry", "check.workflow": "workflow",
    "check.custody": "chain of custody", "check.signature": "signature",
    "check.checkpoint": "checkpoint", "check.witness": "witness", "check.fork": "fork",
    **{f"reason.{r.name}": r.summary for r in Reason},
    "failure.entry": "entry {seq}: {check} check failed: {reason}",
    "failure.entry_unknown": "entry {seq}: {check} check failed",
    "failure.log": "log: {check} check failed",
}

FR: dict[str, str] = {
    "check.entry": "entrée", "check.time": "horodatage", "check.chain": "chaînage",
    "check.registry": "registre des clés", "check.workflow": "déroulement",
    "check.custody": "chaîne de possession", "check.signature": "signature",
    "check.checkpoint": "point de contrôle", "check.witness": "témoin",
    "check.fork": "bifurcation",
    "reason.MALFORMED": "l'entrée n'est pas une ligne de journal bien formée",
    "reason.TIME_BACKWARDS": "l'entrée est datée d'avant la précédente",
    "reason.CHAIN_BROKEN": "le lien prev ne pointe pas vers l'entrée précédente",
    "reason.UNKNOWN_KEY": "le signataire n'est pas une clé enregistrée",
    "reason.WRONG_ROLE": "le rôle du signataire ne peut pas enregistrer cet événement",
    "reason.REVOKED_KEY": "la clé du signataire est révoquée",
    "reason.BAD_REGISTRATION": "la clé n'a pas été enregistrée par une clé valide du comité",
    "reason.NO_SUCCESSOR": "la dernière clé d'un rôle ne peut pas être révoquée",
    "reason.KEY_MISMATCH": "la clé ne correspond pas à la clé publique enregistrée",
    "reason.WORKFLOW": "l'événement n'est pas permis dans l'état de la demande",
    "reason.SEPARATION": "une personne tient un seul rôle par demande",
    "reason.FOUR_EYES": "les résultats doivent être contrôlés par davantage de délégué·e·s "
                        "différent·e·s",
    "reason.BAD_SIGNATURE": "la signature ne se vérifie pas",
    "reason.CUSTODY": "une entrée n'est pas le résultat enregistré de l'étape précédente",
    "failure.entry": "entrée {seq} : échec du contrôle « {check} » : {reason}",
    "failure.entry_unknown": "entrée {seq} : échec du contrôle « {check} »",
    "failure.log": "journal : échec du contrôle « {check} »",
}

NL: dict[str, str] = {
    "check.entry": "item", "check.time": "tijdstip", "check.chain": "keten",
    "check.registry": "sleutelregister", "check.workflow": "verloop",
    "check.custody": "bewaringsketen", "check.signature": "handtekening",
    "check.checkpoint": "checkpoint", "check.witness": "getuige", "check.fork": "splitsing",
    "reason.MALFORMED": "het item is geen geldige regel van het logboek",
    "reason.TIME_BACKWARDS": "het item is gedateerd vóór het vorige",
    "reason.CHAIN_BROKEN": "de prev-link wijst niet naar het vorige item",
    "reason.UNKNOWN_KEY": "de ondertekenaar is geen geregistreerde sleutel",
    "reason.WRONG_ROLE": "de rol van de ondertekenaar mag deze gebeurtenis niet vastleggen",
    "reason.REVOKED_KEY": "de sleutel van de ondertekenaar is ingetrokken",
    "reason.BAD_REGISTRATION": "de sleutel werd niet door een geldige sleutel van het comité "
                               "geregistreerd",
    "reason.NO_SUCCESSOR": "de laatste sleutel van een rol kan niet worden ingetrokken",
    "reason.KEY_MISMATCH": "de sleutel komt niet overeen met de geregistreerde publieke "
                           "sleutel",
    "reason.WORKFLOW": "de gebeurtenis is niet toegestaan in de toestand van de aanvraag",
    "reason.SEPARATION": "één persoon heeft één rol per aanvraag",
    "reason.FOUR_EYES": "de output moet door meer verschillende functionarissen worden "
                        "gecontroleerd",
    "reason.BAD_SIGNATURE": "de handtekening klopt niet",
    "reason.CUSTODY": "een invoer is niet de vastgelegde output van de vorige stap",
    "failure.entry": "item {seq}: controle ‘{check}’ mislukt: {reason}",
    "failure.entry_unknown": "item {seq}: controle ‘{check}’ mislukt",
    "failure.log": "logboek: controle ‘{check}’ mislukt",
}

REASONS = {"en": EN, "fr": FR, "nl": NL}


def failure_said(failure: Any, lang: str) -> tuple[str, str]:
    """A verification failure (`check`, `seq`, typed `reason`, free `message`) as (what
    failed in the page's language, the verifier's own English detail)."""
    words = REASONS[lang]
    check = getattr(failure, "check", "")
    named = phrase(f"check.{check}") if check in CHECKS else str(check)
    reason = getattr(failure, "reason", None)
    seq = getattr(failure, "seq", None)
    if seq is None:
        said = phrase("failure.log", check=named)
    elif isinstance(reason, Reason):
        said = phrase("failure.entry", seq=seq, check=named, reason=phrase(f"reason.{reason.name}"))
    else:
        said = phrase("failure.entry_unknown", seq=seq, check=named)
    return render(said, words), str(getattr(failure, "message", ""))


def refusal_said(exc: Any, lang: str) -> tuple[str, str]:
    """A refusal raised while replaying a request's history (`primex.audit.reasons`), like a
    failure of the entry it names."""
    reason = getattr(exc, "reason", None)
    check = reason.check if isinstance(reason, Reason) else "entry"
    failure = _Refusal(check, str(getattr(exc, "what", exc)), getattr(exc, "seq", None), reason)
    return failure_said(failure, lang)


@dataclass(frozen=True)
class _Refusal:
    check: str
    message: str
    seq: int | None
    reason: Any


__all__ = ["CHECKS", "REASONS", "failure_said", "refusal_said"]
