"""The portal's words in English, French and Dutch. One flat table per language (a handful
of pages does not need gettext catalogues and a compile step); a missing word falls back to
English, and tests/test_portal_pages.py checks that no language misses one."""

from __future__ import annotations

LANGUAGES = ("en", "fr", "nl")
NAMES = {"en": "English", "fr": "Français", "nl": "Nederlands"}

EN: dict[str, str] = {
    "preassessment_unavailable": "The pre-assessment cannot be computed:",
    "not_trusted": "Not trusted:",
    "verifier_detail": "Details (as the verifier wrote them):",
    "server_said": "The server's message:",
    "preassessment_help": "The requested combination of variables measured on today's PRIMA "
                          "data, before anything is extracted, as the officer's command "
                          "prints it. It is an estimate: the protection step measures the "
                          "real output again.",
    "population_size": "Population (person-spells on the current data)",
    "key": "Key (quasi-identifiers)",
    "pre_within": "Within target: the disclosure step should reach it without generalising "
                  "further.",
    "pre_above": "Above target: the cheapest generalisations that would reach it are below.",
    "pre_no_generalisation": "Above target: no generalisation found; drop a variable or narrow "
                             "the request.",
    "risk_of_key": "Risk of the requested key",
    "measure": "Measure",
    "value": "Value",
    "share": "Share",
    "records": "Records",
    "sample_uniques": "Sample uniques (fk = 1)",
    "violating_k": "Records violating k =",
    "expected_reid": "Expected re-identifications",
    "suppression_budget": "Suppression budget",
    "what_to_change": "What to change: the cheapest generalisations that reach the target",
    "generalise_as": "Generalise",
    "table_cells": "Table",
    "cells": "Cells",
    "small_cells": "Cells under",
    "above_target": "above target",
    "assess_notes": "Notes of the assessment",
    "assess_caption": "Disclosure risk as asked, and with the cheapest generalisations",
    "as_asked": "As asked",
    "cost": "cost",
    "within_target": "Within the service's risk targets as asked.",
    "not_within_target": "Not within the service's risk targets as asked: the protection will "
                         "generalise or suppress; the cheapest generalisations are beside it.",
    "full_assessment": "The full pre-assessment",
    "before": "Before",
    "after": "After",
    "generalised": "Generalisation of the quasi-identifiers",
    "level": "Level",
    "utility": "Utility cost (information loss)",
    "full_report": "The full disclosure report",
    "app": "primex portal",
    "skip": "Skip to the content",
    "nav": "Main menu",
    "home": "Requests",
    "new": "New request",
    "audit": "Audit",
    "enrol": "Signing key",
    "logout": "Log out",
    "login": "Log in",
    "language": "Language",
    "signed_in_as": "Signed in as",
    "welcome": "Log in with your organisation's account to follow your research requests.",
    "waiting": "Waiting for you",
    "nothing_waits": "Nothing waits for you.",
    "all_requests": "All requests you may see",
    "nothing": "Nothing here.",
    "request": "Request",
    "title": "Title",
    "state": "State",
    "organisation": "Organisation",
    "updated": "Updated",
    "editor_help": "Paste your request (YAML) or load a file, then check it. Every problem "
                   "is shown beside its line.",
    "file": "Load a file",
    "yaml": "Request (YAML)",
    "check": "Check",
    "assess": "Risk pre-assessment",
    "submit_sign": "Sign and submit",
    "problems": "Problems",
    "no_problems": "No problem: the request is valid.",
    "line": "Line",
    "fix": "Fix",
    "summary": "Summary",
    "purpose": "Purpose",
    "legal_basis": "Legal basis",
    "variables": "Variables",
    "linkage": "Linkage",
    "population": "Population",
    "requested_output": "Output",
    "priorities_stated": "Priorities",
    "none": "none",
    "retention": "Keep until",
    "timeline": "Timeline",
    "when": "When",
    "event": "Event",
    "who": "Who",
    "details": "Details",
    "diff": "Changes since the previous version",
    "comments": "Comments",
    "add_comment": "Add a comment",
    "send": "Send",
    "approve_form": "Approve with conditions",
    "conditions_help": "Each enforceable condition is a field; leave a field empty to keep "
                       "the request's own value. Notes are free text and are not enforced.",
    "notes": "Notes (one per line)",
    "approve": "Approve and sign",
    "return": "Return to the researcher",
    "reject": "Reject",
    "reasons": "Reasons (one per line)",
    "output_check": "Output check",
    "files_leaving": "Files that will leave",
    "preview": "Preview (first rows)",
    "suppressed": "suppressed",
    "risk": "Risk before and after protection",
    "why": "What was generalised or suppressed, and why",
    "approve_output": "Approve the output and sign",
    "return_output": "Return the output",
    "signoff": "Sign-off",
    "manifest": "Manifest",
    "size": "Bytes",
    "hash": "SHA-256",
    "recipient": "Recipient",
    "recipient_key": "Encryption key of",
    "history": "History in one page",
    "sign": "Sign exactly these files",
    "download": "Download the package",
    "open_with": "Open and verify it on your machine with:",
    "resubmit": "Edit and submit again",
    "report": "Audit report",
    "verification": "Verification of the log",
    "key_events": "Key registrations and revocations",
    "asked": "Asked",
    "approved": "Approved",
    "signed": "Signed",
    "released": "Released",
    "enrol_help": "Create your signing key in this browser. The private key never leaves it "
                  "(it cannot even be exported); give the public key below to the committee, "
                  "which registers it in the signed log.",
    "make_key": "Create my signing key",
    "public_key": "Your public key",
    "no_key": "This browser has no signing key: create one on the Signing key page.",
    "working": "Working…",
    "done": "Done.",
    "replace_key": "This browser already has a signing key (shown below). A new key replaces "
    "it for good: you cannot sign with the new one until the committee has registered it. "
    "Replace it?",
    "not_found": "Not found.",
    "no_such_request": "There is no request you may see with the id",
    "jobs": "SPP steps",
    "output_conditions": "Conditions on the output, per requested variable",
    "output_conditions_help": "Generalise a variable at least to a level of its catalogue "
                              "hierarchy, drop it from the release, or change how much it "
                              "matters to the protection (the researcher's priority is "
                              "preselected). The protection step applies each of them.",
    "output_conditions_help_plain": "Generalise a variable at least to a level of its "
                                    "catalogue hierarchy, or drop it from the release. The "
                                    "protection step applies each of them.",
    "variable": "Variable",
    "generalise_to": "Generalise at least to",
    "as_requested": "as requested",
    "no_levels": "no intermediate level",
    "drop_variable": "Drop",
    "priority": "Priority",
    "priority_keep": "keep", "priority_high": "high", "priority_normal": "normal",
    "priority_low": "low",
    "researchers_choice": "researcher's choice",
    "default": "default",
    "output_checks": "output checks",
    "output_checked_once": "Output checked.",
    "output_not_checked": "The output is not checked yet.",
    "of": "of",
    "awaiting_other_checker": "You approved this output; it now waits for the check of "
                              "another privacy officer (four eyes).",
    "independent_check": "Four eyes: decide on your own. The other officer's decision is "
                         "shown once you have decided.",
    "suggestions": "Suggestions from the request schema",
    "completion_help": "Ctrl+Space lists the keys (or values) the request schema allows at the "
                       "cursor; arrows choose, Enter inserts, Escape closes.",
    "next": "Next step",
}

FR: dict[str, str] = {
    "preassessment_unavailable": "La pré-évaluation ne peut pas être calculée :",
    "not_trusted": "Pas digne de confiance :",
    "verifier_detail": "Détail (tel que le vérificateur l'a écrit, en anglais) :",
    "server_said": "Message du serveur (en anglais) :",
    "preassessment_help": "La combinaison de variables demandée, mesurée sur les données "
                          "PRIMA actuelles avant toute extraction, comme l'affiche la "
                          "commande du délégué. C'est une estimation : l'étape de protection "
                          "mesure à nouveau les résultats réels.",
    "population_size": "Population (épisodes de personnes sur les données actuelles)",
    "key": "Clé (quasi-identifiants)",
    "pre_within": "Dans la cible : l'étape de protection devrait l'atteindre sans généraliser "
                  "davantage.",
    "pre_above": "Au-dessus de la cible : les généralisations les moins coûteuses qui "
                 "l'atteindraient sont ci-dessous.",
    "pre_no_generalisation": "Au-dessus de la cible : aucune généralisation trouvée ; retirez une "
                             "variable ou restreignez la demande.",
    "risk_of_key": "Risque de la clé demandée",
    "measure": "Mesure",
    "value": "Valeur",
    "share": "Part",
    "records": "Enregistrements",
    "sample_uniques": "Uniques de l'échantillon (fk = 1)",
    "violating_k": "Enregistrements qui violent k =",
    "expected_reid": "Réidentifications attendues",
    "suppression_budget": "Budget de suppression",
    "what_to_change": "Que changer : les généralisations les moins coûteuses qui atteignent la "
                      "cible",
    "generalise_as": "Généraliser",
    "table_cells": "Tableau",
    "cells": "Cellules",
    "small_cells": "Cellules sous",
    "above_target": "au-dessus de la cible",
    "assess_notes": "Remarques de l'évaluation",
    "assess_caption": "Risque de divulgation tel que demandé, et avec les généralisations "
                      "les moins coûteuses",
    "as_asked": "Tel que demandé",
    "cost": "coût",
    "within_target": "Dans les limites de risque du service tel que demandé.",
    "not_within_target": "Hors des limites de risque du service tel que demandé : la protection "
                         "généralisera ou supprimera ; les généralisations les moins coûteuses "
                         "sont à côté.",
    "full_assessment": "La pré-évaluation complète",
    "before": "Avant",
    "after": "Après",
    "generalised": "Généralisation des quasi-identifiants",
    "level": "Niveau",
    "utility": "Coût en utilité (perte d'information)",
    "full_report": "Le rapport de contrôle complet",
    "app": "portail primex",
    "skip": "Aller au contenu",
    "nav": "Menu principal",
    "home": "Demandes",
    "new": "Nouvelle demande",
    "audit": "Audit",
    "enrol": "Clé de signature",
    "logout": "Se déconnecter",
    "login": "Se connecter",
    "language": "Langue",
    "signed_in_as": "Connecté en tant que",
    "welcome": "Connectez-vous avec le compte de votre organisation pour suivre vos demandes "
               "de recherche.",
    "waiting": "En attente de votre part",
    "nothing_waits": "Rien n'attend votre action.",
    "all_requests": "Toutes les demandes que vous pouvez voir",
    "nothing": "Rien ici.",
    "request": "Demande",
    "title": "Titre",
    "state": "État",
    "organisation": "Organisation",
    "updated": "Mise à jour",
    "editor_help": "Collez votre demande (YAML) ou chargez un fichier, puis vérifiez-la. "
                   "Chaque problème est affiché à côté de sa ligne.",
    "file": "Charger un fichier",
    "yaml": "Demande (YAML)",
    "check": "Vérifier",
    "assess": "Pré-évaluation du risque",
    "submit_sign": "Signer et soumettre",
    "problems": "Problèmes",
    "no_problems": "Aucun problème : la demande est valide.",
    "line": "Ligne",
    "fix": "Correction",
    "summary": "Résumé",
    "purpose": "Finalité",
    "legal_basis": "Base légale",
    "variables": "Variables",
    "linkage": "Couplage",
    "population": "Population",
    "requested_output": "Résultat demandé",
    "priorities_stated": "Priorités",
    "none": "aucun",
    "retention": "Conserver jusqu'au",
    "timeline": "Chronologie",
    "when": "Quand",
    "event": "Événement",
    "who": "Qui",
    "details": "Détails",
    "diff": "Modifications depuis la version précédente",
    "comments": "Commentaires",
    "add_comment": "Ajouter un commentaire",
    "send": "Envoyer",
    "approve_form": "Approuver avec conditions",
    "conditions_help": "Chaque condition applicable est un champ ; laissez un champ vide pour "
                       "garder la valeur de la demande. Les notes sont du texte libre, non "
                       "appliqué.",
    "notes": "Notes (une par ligne)",
    "approve": "Approuver et signer",
    "return": "Renvoyer au chercheur",
    "reject": "Refuser",
    "reasons": "Motifs (un par ligne)",
    "output_check": "Contrôle des résultats",
    "files_leaving": "Fichiers qui sortiront",
    "preview": "Aperçu (premières lignes)",
    "suppressed": "supprimée",
    "risk": "Risque avant et après protection",
    "why": "Ce qui a été généralisé ou supprimé, et pourquoi",
    "approve_output": "Approuver les résultats et signer",
    "return_output": "Renvoyer les résultats",
    "signoff": "Signature",
    "manifest": "Manifeste",
    "size": "Octets",
    "hash": "SHA-256",
    "recipient": "Destinataire",
    "recipient_key": "Clé de chiffrement de",
    "history": "L'historique en une page",
    "sign": "Signer exactement ces fichiers",
    "download": "Télécharger le paquet",
    "open_with": "Ouvrez-le et vérifiez-le sur votre machine avec :",
    "resubmit": "Modifier et soumettre à nouveau",
    "report": "Rapport d'audit",
    "verification": "Vérification du journal",
    "key_events": "Enregistrements et révocations de clés",
    "asked": "Demandé",
    "approved": "Approuvé",
    "signed": "Signé",
    "released": "Livré",
    "enrol_help": "Créez votre clé de signature dans ce navigateur. La clé privée ne le "
                  "quitte jamais (elle n'est même pas exportable) ; donnez la clé publique "
                  "ci-dessous au comité, qui l'enregistre dans le journal signé.",
    "make_key": "Créer ma clé de signature",
    "public_key": "Votre clé publique",
    "no_key": "Ce navigateur n'a pas de clé de signature : créez-en une sur la page Clé de "
              "signature.",
    "working": "En cours…",
    "done": "Terminé.",
    "replace_key": "Ce navigateur a déjà une clé de signature (affichée ci-dessous). Une "
    "nouvelle clé la remplace définitivement : vous ne pourrez signer avec la nouvelle "
    "qu'après son enregistrement par le comité. La remplacer ?",
    "not_found": "Introuvable.",
    "no_such_request": "Aucune demande que vous pouvez voir ne porte l'identifiant",
    "jobs": "Étapes du SPP",
    "output_conditions": "Conditions sur les résultats, par variable demandée",
    "output_conditions_help": "Généraliser une variable au moins à un niveau de sa "
                              "hiérarchie du catalogue, la retirer de la livraison, ou "
                              "changer son importance pour la protection (la priorité du "
                              "chercheur est présélectionnée). L'étape de protection "
                              "applique chacune d'elles.",
    "output_conditions_help_plain": "Généraliser une variable au moins à un niveau de sa "
                                    "hiérarchie du catalogue, ou la retirer de la livraison. "
                                    "L'étape de protection applique chacune d'elles.",
    "variable": "Variable",
    "generalise_to": "Généraliser au moins à",
    "as_requested": "telle que demandée",
    "no_levels": "aucun niveau intermédiaire",
    "drop_variable": "Retirer",
    "priority": "Priorité",
    "priority_keep": "garder", "priority_high": "haute", "priority_normal": "normale",
    "priority_low": "basse",
    "researchers_choice": "choix du chercheur",
    "default": "par défaut",
    "output_checks": "contrôles des résultats",
    "output_checked_once": "Résultats contrôlés.",
    "output_not_checked": "Les résultats ne sont pas encore contrôlés.",
    "of": "sur",
    "awaiting_other_checker": "Vous avez approuvé ces résultats ; ils attendent le contrôle "
                              "d'un·e autre délégué·e à la protection des données (quatre "
                              "yeux).",
    "independent_check": "Quatre yeux : décidez seul·e. La décision de l'autre délégué·e "
                         "s'affiche après la vôtre.",
    "suggestions": "Suggestions du schéma de la demande",
    "completion_help": "Ctrl+Espace liste les clés (ou valeurs) que le schéma de la demande "
                       "permet au curseur ; les flèches choisissent, Entrée insère, Échap "
                       "ferme.",
    "next": "Étape suivante",
}

NL: dict[str, str] = {
    "preassessment_unavailable": "De voorafgaande inschatting kan niet worden berekend:",
    "not_trusted": "Niet betrouwbaar:",
    "verifier_detail": "Detail (zoals de verificatie het schreef, in het Engels):",
    "server_said": "Melding van de server (in het Engels):",
    "preassessment_help": "De gevraagde combinatie van variabelen, gemeten op de huidige "
                          "PRIMA-gegevens vóór er iets wordt geëxtraheerd, zoals het commando "
                          "van de functionaris ze toont. Het is een schatting: de "
                          "beschermingsstap meet de echte output opnieuw.",
    "population_size": "Populatie (episodes van personen op de huidige gegevens)",
    "key": "Sleutel (quasi-identificatoren)",
    "pre_within": "Binnen het doel: de beschermingsstap zou het moeten halen zonder verder te "
                  "veralgemenen.",
    "pre_above": "Boven het doel: de goedkoopste veralgemeningen die het zouden halen staan "
                 "hieronder.",
    "pre_no_generalisation": "Boven het doel: geen veralgemening gevonden; laat een variabele weg "
                             "of beperk de aanvraag.",
    "risk_of_key": "Risico van de gevraagde sleutel",
    "measure": "Maatstaf",
    "value": "Waarde",
    "share": "Aandeel",
    "records": "Records",
    "sample_uniques": "Unieke records (fk = 1)",
    "violating_k": "Records die k schenden, k =",
    "expected_reid": "Verwachte heridentificaties",
    "suppression_budget": "Onderdrukkingsbudget",
    "what_to_change": "Wat te wijzigen: de goedkoopste veralgemeningen die het doel halen",
    "generalise_as": "Veralgemenen",
    "table_cells": "Tabel",
    "cells": "Cellen",
    "small_cells": "Cellen onder",
    "above_target": "boven het doel",
    "assess_notes": "Opmerkingen bij de inschatting",
    "assess_caption": "Onthullingsrisico zoals gevraagd, en met de goedkoopste "
                      "veralgemeningen",
    "as_asked": "Zoals gevraagd",
    "cost": "kost",
    "within_target": "Binnen de risicodoelen van de dienst zoals gevraagd.",
    "not_within_target": "Niet binnen de risicodoelen van de dienst zoals gevraagd: de "
                         "bescherming zal veralgemenen of onderdrukken; de goedkoopste "
                         "veralgemeningen staan ernaast.",
    "full_assessment": "De volledige voorafgaande inschatting",
    "before": "Voor",
    "after": "Na",
    "generalised": "Veralgemening van de quasi-identificatoren",
    "level": "Niveau",
    "utility": "Kost in bruikbaarheid (informatieverlies)",
    "full_report": "Het volledige beschermingsrapport",
    "app": "primex-portaal",
    "skip": "Naar de inhoud",
    "nav": "Hoofdmenu",
    "home": "Aanvragen",
    "new": "Nieuwe aanvraag",
    "audit": "Audit",
    "enrol": "Ondertekeningssleutel",
    "logout": "Afmelden",
    "login": "Aanmelden",
    "language": "Taal",
    "signed_in_as": "Aangemeld als",
    "welcome": "Meld u aan met de account van uw organisatie om uw onderzoeksaanvragen te "
               "volgen.",
    "waiting": "Wacht op u",
    "nothing_waits": "Er wacht niets op u.",
    "all_requests": "Alle aanvragen die u mag zien",
    "nothing": "Niets hier.",
    "request": "Aanvraag",
    "title": "Titel",
    "state": "Status",
    "organisation": "Organisatie",
    "updated": "Bijgewerkt",
    "editor_help": "Plak uw aanvraag (YAML) of laad een bestand, en controleer ze. Elk "
                   "probleem staat naast zijn regel.",
    "file": "Een bestand laden",
    "yaml": "Aanvraag (YAML)",
    "check": "Controleren",
    "assess": "Voorafgaande risico-inschatting",
    "submit_sign": "Ondertekenen en indienen",
    "problems": "Problemen",
    "no_problems": "Geen probleem: de aanvraag is geldig.",
    "line": "Regel",
    "fix": "Oplossing",
    "summary": "Samenvatting",
    "purpose": "Doel",
    "legal_basis": "Rechtsgrond",
    "variables": "Variabelen",
    "linkage": "Koppeling",
    "population": "Populatie",
    "requested_output": "Gevraagde output",
    "priorities_stated": "Prioriteiten",
    "none": "geen",
    "retention": "Bewaren tot",
    "timeline": "Tijdlijn",
    "when": "Wanneer",
    "event": "Gebeurtenis",
    "who": "Wie",
    "details": "Details",
    "diff": "Wijzigingen sinds de vorige versie",
    "comments": "Opmerkingen",
    "add_comment": "Een opmerking toevoegen",
    "send": "Versturen",
    "approve_form": "Goedkeuren met voorwaarden",
    "conditions_help": "Elke afdwingbare voorwaarde is een veld; laat een veld leeg om de "
                       "waarde van de aanvraag te behouden. Notities zijn vrije tekst en worden "
                       "niet afgedwongen.",
    "notes": "Notities (één per regel)",
    "approve": "Goedkeuren en ondertekenen",
    "return": "Terugsturen naar de onderzoeker",
    "reject": "Weigeren",
    "reasons": "Redenen (één per regel)",
    "output_check": "Outputcontrole",
    "files_leaving": "Bestanden die vertrekken",
    "preview": "Voorbeeld (eerste rijen)",
    "suppressed": "onderdrukt",
    "risk": "Risico voor en na de bescherming",
    "why": "Wat veralgemeend of onderdrukt werd, en waarom",
    "approve_output": "De output goedkeuren en ondertekenen",
    "return_output": "De output terugsturen",
    "signoff": "Ondertekening",
    "manifest": "Manifest",
    "size": "Bytes",
    "hash": "SHA-256",
    "recipient": "Ontvanger",
    "recipient_key": "Versleutelingssleutel van",
    "history": "De geschiedenis op één pagina",
    "sign": "Precies deze bestanden ondertekenen",
    "download": "Het pakket downloaden",
    "open_with": "Open en controleer het op uw computer met:",
    "resubmit": "Aanpassen en opnieuw indienen",
    "report": "Auditrapport",
    "verification": "Verificatie van het logboek",
    "key_events": "Registraties en intrekkingen van sleutels",
    "asked": "Gevraagd",
    "approved": "Goedgekeurd",
    "signed": "Ondertekend",
    "released": "Vrijgegeven",
    "enrol_help": "Maak uw ondertekeningssleutel in deze browser. De private sleutel verlaat "
                  "hem nooit (hij kan zelfs niet worden geëxporteerd); geef de publieke "
                  "sleutel hieronder aan het comité, dat hem in het ondertekende logboek "
                  "registreert.",
    "make_key": "Mijn ondertekeningssleutel maken",
    "public_key": "Uw publieke sleutel",
    "no_key": "Deze browser heeft geen ondertekeningssleutel: maak er een op de pagina "
              "Ondertekeningssleutel.",
    "working": "Bezig…",
    "done": "Klaar.",
    "replace_key": "Deze browser heeft al een ondertekeningssleutel (hieronder). Een nieuwe "
    "sleutel vervangt hem definitief: u kunt er pas mee ondertekenen nadat het comité hem "
    "heeft geregistreerd. Vervangen?",
    "not_found": "Niet gevonden.",
    "no_such_request": "Er is geen aanvraag die u mag zien met het nummer",
    "jobs": "Stappen van de POD",
    "output_conditions": "Voorwaarden op de output, per gevraagde variabele",
    "output_conditions_help": "Veralgemeen een variabele minstens tot een niveau van haar "
                              "catalogushiërarchie, laat haar weg uit de vrijgave, of wijzig "
                              "hoe zwaar ze weegt in de bescherming (de prioriteit van de "
                              "onderzoeker is voorgeselecteerd). De beschermingsstap past "
                              "elk ervan toe.",
    "output_conditions_help_plain": "Veralgemeen een variabele minstens tot een niveau van "
                                    "haar catalogushiërarchie, of laat haar weg uit de "
                                    "vrijgave. De beschermingsstap past elk ervan toe.",
    "variable": "Variabele",
    "generalise_to": "Minstens veralgemenen tot",
    "as_requested": "zoals gevraagd",
    "no_levels": "geen tussenniveau",
    "drop_variable": "Weglaten",
    "priority": "Prioriteit",
    "priority_keep": "behouden", "priority_high": "hoog", "priority_normal": "normaal",
    "priority_low": "laag",
    "researchers_choice": "keuze van de onderzoeker",
    "default": "standaard",
    "output_checks": "outputcontroles",
    "output_checked_once": "Output gecontroleerd.",
    "output_not_checked": "De output is nog niet gecontroleerd.",
    "of": "van",
    "awaiting_other_checker": "U hebt deze output goedgekeurd; hij wacht nu op de controle "
                              "van een andere functionaris voor gegevensbescherming (vier "
                              "ogen).",
    "independent_check": "Vier ogen: beslis zelfstandig. De beslissing van de andere "
                         "functionaris verschijnt nadat u hebt beslist.",
    "suggestions": "Suggesties uit het schema van de aanvraag",
    "completion_help": "Ctrl+Spatie toont de sleutels (of waarden) die het schema van de "
                       "aanvraag bij de cursor toelaat; pijltjes kiezen, Enter voegt in, "
                       "Escape sluit.",
    "next": "Volgende stap",
}

# states and log events, as the log names them -> words (fallback: the log's own name)
TERMS: dict[str, dict[str, str]] = {
    "en": {
        "submitted": "submitted", "returned": "returned", "rejected": "rejected",
        "approved": "approved", "extracted": "extracted", "coded": "coded",
        "protected": "protected", "output_checked": "output checked",
        "signed_off": "signed off", "released": "released", "closed": "closed",
        "submission": "submission", "return": "return", "rejection": "rejection",
        "approval": "approval", "amendment": "amendment", "extraction": "extraction",
        "coding": "coding (BCSS)", "disclosure_result": "protection",
        "output_check": "output check", "signoff": "sign-off", "release": "release",
        "closure": "closure",
        "researcher": "researcher", "privacy_officer": "privacy officer",
        "president": "president", "bcss_operator": "BCSS operator", "committee": "committee",
        "spp_operator": "SPP operator", "log": "log service",
    },
    "fr": {
        "submitted": "soumise", "returned": "renvoyée", "rejected": "refusée",
        "approved": "approuvée", "extracted": "extraite", "coded": "codée",
        "protected": "protégée", "output_checked": "résultats contrôlés",
        "signed_off": "signée", "released": "livrée", "closed": "clôturée",
        "submission": "soumission", "return": "renvoi", "rejection": "refus",
        "approval": "approbation", "amendment": "modification", "extraction": "extraction",
        "coding": "codage (BCSS)", "disclosure_result": "protection",
        "output_check": "contrôle des résultats", "signoff": "signature",
        "release": "livraison", "closure": "clôture",
        "researcher": "chercheur·e", "privacy_officer": "délégué·e à la protection des données",
        "president": "président·e", "bcss_operator": "opérateur BCSS", "committee": "comité",
        "spp_operator": "opérateur SPP", "log": "service du journal",
    },
    "nl": {
        "submitted": "ingediend", "returned": "teruggestuurd", "rejected": "geweigerd",
        "approved": "goedgekeurd", "extracted": "geëxtraheerd", "coded": "gecodeerd",
        "protected": "beschermd", "output_checked": "output gecontroleerd",
        "signed_off": "ondertekend", "released": "vrijgegeven", "closed": "afgesloten",
        "submission": "indiening", "return": "terugsturing", "rejection": "weigering",
        "approval": "goedkeuring", "amendment": "wijziging", "extraction": "extractie",
        "coding": "codering (KSZ)", "disclosure_result": "bescherming",
        "output_check": "outputcontrole", "signoff": "ondertekening", "release": "vrijgave",
        "closure": "afsluiting",
        "researcher": "onderzoeker", "privacy_officer": "functionaris voor gegevensbescherming",
        "president": "voorzitter", "bcss_operator": "KSZ-operator", "committee": "comité",
        "spp_operator": "POD-operator", "log": "logdienst",
    },
}

MESSAGES = {"en": EN, "fr": FR, "nl": NL}


def pick_language(cookie: str | None, accept: str | None) -> str:
    """The cookie's choice, else the first supported language the browser asks for."""
    if cookie in LANGUAGES:
        return cookie  # type: ignore[return-value]
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def term(lang: str, name: str | None) -> str:
    """A state or event of the log in `lang` (unknown names as the log writes them)."""
    return TERMS.get(lang, {}).get(name or "", name or "")


def translator(lang: str) -> dict[str, str]:
    return {**EN, **MESSAGES.get(lang, {})}
