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
    "gate.already_released": "the package was already released",
    "gate.no_signoff": "the president has not signed off the output",
    "gate.no_disclosure_result": "no disclosure control was recorded",
    "gate.disclosure_not_passed": "the disclosure control did not pass",
    "gate.no_output_check": "no privacy officer has approved the output",
    "gate.too_few_output_checks": "the output needs approvals by more different privacy officers",
    "gate.unknown_key": "a signer is not a registered key",
    "gate.wrong_role": "a signer's role may not take this decision",
    "gate.revoked_key": "a signer's key is revoked",
    "gate.not_witnessed": "the log is not cosigned by the witness up to this entry",
    "gate.no_recipient": "the request names no recipient",
    "gate.unregistered_recipient": "the recipient's key is not registered",
    "gate.identifying_column": "a protected file still has an identifying column",
    "gate.niss_found": "a protected file holds a national number",
    "gate.unsigned_file": "a file is not in the signed manifest",
    "gate.recipient_not_signed": "the recipient is not the one signed off",
    "gate.manifest_mismatch": "the files differ from the signed manifest",
    "gate.malformed_signoff": "the sign-off entry is malformed",
    "gate.bad_signature": "a signature does not verify",
    "gate.bad_key_registration": "a key was not registered by a valid committee key",
    "gate.disclosure_other_manifest": "the disclosure control passed other files",
    "gate.report_mismatch": "the disclosure report is not the one recorded",
    "gate.inclusion_failed": "the entry is not proven included in the witnessed log",
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
    "gate.already_released": "le paquet a déjà été livré",
    "gate.no_signoff": "le/la président·e n'a pas signé les résultats",
    "gate.no_disclosure_result": "aucun contrôle de divulgation n'a été enregistré",
    "gate.disclosure_not_passed": "le contrôle de divulgation n'a pas réussi",
    "gate.no_output_check": "aucun·e délégué·e à la protection des données n'a approuvé les "
                            "résultats",
    "gate.too_few_output_checks": "les résultats doivent être approuvés par davantage de "
                                  "délégué·e·s différent·e·s",
    "gate.unknown_key": "un signataire n'est pas une clé enregistrée",
    "gate.wrong_role": "le rôle d'un signataire ne permet pas cette décision",
    "gate.revoked_key": "la clé d'un signataire est révoquée",
    "gate.not_witnessed": "le journal n'est pas contresigné par le témoin jusqu'à cette entrée",
    "gate.no_recipient": "la demande ne nomme aucun destinataire",
    "gate.unregistered_recipient": "la clé du destinataire n'est pas enregistrée",
    "gate.identifying_column": "un fichier protégé contient encore une colonne identifiante",
    "gate.niss_found": "un fichier protégé contient un numéro national",
    "gate.unsigned_file": "un fichier ne figure pas dans le manifeste signé",
    "gate.recipient_not_signed": "le destinataire n'est pas celui qui a été signé",
    "gate.manifest_mismatch": "les fichiers diffèrent du manifeste signé",
    "gate.malformed_signoff": "l'entrée de signature est mal formée",
    "gate.bad_signature": "une signature ne se vérifie pas",
    "gate.bad_key_registration": "une clé n'a pas été enregistrée par une clé valide du comité",
    "gate.disclosure_other_manifest": "le contrôle de divulgation a porté sur d'autres fichiers",
    "gate.report_mismatch": "le rapport de divulgation n'est pas celui qui a été enregistré",
    "gate.inclusion_failed": "l'inclusion de l'entrée dans le journal contresigné n'est pas "
                             "prouvée",
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
    "gate.already_released": "het pakket werd al vrijgegeven",
    "gate.no_signoff": "de voorzitter heeft de output niet ondertekend",
    "gate.no_disclosure_result": "er werd geen onthullingscontrole vastgelegd",
    "gate.disclosure_not_passed": "de onthullingscontrole is niet geslaagd",
    "gate.no_output_check": "geen enkele functionaris voor gegevensbescherming keurde de output "
                            "goed",
    "gate.too_few_output_checks": "de output moet door meer verschillende functionarissen worden "
                                  "goedgekeurd",
    "gate.unknown_key": "een ondertekenaar is geen geregistreerde sleutel",
    "gate.wrong_role": "de rol van een ondertekenaar laat deze beslissing niet toe",
    "gate.revoked_key": "de sleutel van een ondertekenaar is ingetrokken",
    "gate.not_witnessed": "het logboek is tot dit item niet door de getuige medeondertekend",
    "gate.no_recipient": "de aanvraag noemt geen ontvanger",
    "gate.unregistered_recipient": "de sleutel van de ontvanger is niet geregistreerd",
    "gate.identifying_column": "een beschermd bestand heeft nog een identificerende kolom",
    "gate.niss_found": "een beschermd bestand bevat een rijksregisternummer",
    "gate.unsigned_file": "een bestand staat niet in het ondertekende manifest",
    "gate.recipient_not_signed": "de ontvanger is niet degene die werd ondertekend",
    "gate.manifest_mismatch": "de bestanden verschillen van het ondertekende manifest",
    "gate.malformed_signoff": "het ondertekeningsitem is ongeldig",
    "gate.bad_signature": "een handtekening klopt niet",
    "gate.bad_key_registration": "een sleutel werd niet door een geldige sleutel van het comité "
                                 "geregistreerd",
    "gate.disclosure_other_manifest": "de onthullingscontrole betrof andere bestanden",
    "gate.report_mismatch": "het onthullingsrapport is niet het vastgelegde",
    "gate.inclusion_failed": "de opname van het item in het medeondertekende logboek is niet "
                             "bewezen",
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


def refusal_codes(lang: str) -> dict[str, str]:
    """The typed refusal codes the API names in its error answers (`reason`: the log's
    Reason names, the release gate's codes) with their words in `lang`, for the page's
    script (portal.js says a refusal by its code, the server's English line after it)."""
    words = REASONS[lang]
    codes = {r.name: words[f"reason.{r.name}"] for r in Reason}
    codes.update({key.removeprefix("gate."): text for key, text in words.items()
                  if key.startswith("gate.")})
    return codes


__all__ = ["CHECKS", "REASONS", "failure_said", "refusal_codes", "refusal_said"]
