"""Indicator sheets in four languages: definition, why it matters, how to read it,
precautions, source, update frequency (the data date comes from the run's manifest).

English texts are the indicator's own (primex.extract.indicators, the reference wording);
French, Dutch and German are here. Families of indicators built from one pattern (profile
shares, rates by benefit, art. 60 / art. 61, outcome lags) share a pattern with the group
named in each language. `sheet()` raises KeyError for an indicator without a translation,
so the build (and tests/test_dashboard_i18n.py) catch a missing sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

from primex.dashboard import i18n
from primex.extract.indicators import INDICATORS, Indicator

Texts = dict[str, tuple[str, str, str]]  # lang -> (definition, interest, precautions)


@dataclass(frozen=True)
class Sheet:
    name: str
    definition: str
    interest: str
    reading: str
    precautions: str
    source: str
    frequency: str


READING = {
    "persons": {
        "fr": "Un nombre de personnes ; pour un trimestre ou une année, la moyenne des effectifs "
              "mensuels. Comparez des périodes, ou des zones de taille semblable ; entre zones "
              "de tailles différentes, préférez les taux pour 1 000 habitants.",
        "nl": "Een aantal personen; voor een kwartaal of jaar het gemiddelde van de "
              "maandelijkse aantallen. Vergelijk periodes of gebieden van gelijkaardige "
              "grootte; tussen gebieden van verschillende grootte zijn de ratio's per 1 000 "
              "inwoners beter.",
        "de": "Eine Anzahl Personen; für ein Quartal oder ein Jahr der Durchschnitt der "
              "Monatszahlen. Vergleichen Sie Zeiträume oder Gebiete ähnlicher Größe; zwischen "
              "Gebieten unterschiedlicher Größe sind die Quoten je 1 000 Einwohner besser.",
        "en": "A number of persons; for a quarter or a year, the average of the monthly "
              "counts. Compare periods, or areas of similar size; between areas of different "
              "size, prefer the rates per 1 000 inhabitants."},
    "per 1 000": {
        "fr": "Un taux : 25 signifie 25 bénéficiaires pour 1 000 habitants de 18 à 64 ans de "
              "la zone. Il permet de comparer des zones de tailles différentes.",
        "nl": "Een ratio: 25 betekent 25 gerechtigden per 1 000 inwoners van 18 tot 64 jaar "
              "van het gebied. Zo kan men gebieden van verschillende grootte vergelijken.",
        "de": "Eine Quote: 25 bedeutet 25 Leistungsempfänger je 1 000 Einwohner von 18 bis 64 "
              "Jahren des Gebiets. So lassen sich Gebiete unterschiedlicher Größe vergleichen.",
        "en": "A rate: 25 means 25 beneficiaries per 1 000 inhabitants aged 18-64 of the "
              "area. It compares areas of different size."},
    "%": {
        "fr": "Un pourcentage d'un ensemble défini dans la fiche. Un écart de quelques points "
              "entre petites zones peut être dû au hasard ; regardez l'évolution sur plusieurs "
              "périodes.",
        "nl": "Een percentage van een geheel dat de fiche omschrijft. Een verschil van enkele "
              "punten tussen kleine gebieden kan toeval zijn; kijk naar de evolutie over "
              "meerdere periodes.",
        "de": "Ein Prozentsatz eines im Blatt beschriebenen Ganzen. Ein Unterschied von "
              "wenigen Punkten zwischen kleinen Gebieten kann Zufall sein; betrachten Sie die "
              "Entwicklung über mehrere Zeiträume.",
        "en": "A percentage of a whole the sheet defines. A gap of a few points between small "
              "areas may be chance; look at the trend over several periods."},
    "distribution": {
        "fr": "Une répartition : les pourcentages des catégories font ensemble 100 % (aux "
              "arrondis près). Comparez la part d'une même catégorie d'une période à l'autre.",
        "nl": "Een verdeling: de percentages van de categorieën samen zijn 100 % (afrondingen "
              "buiten beschouwing). Vergelijk het aandeel van eenzelfde categorie tussen "
              "periodes.",
        "de": "Eine Verteilung: die Prozentsätze der Kategorien ergeben zusammen 100 % "
              "(Rundungen ausgenommen). Vergleichen Sie den Anteil derselben Kategorie "
              "zwischen Zeiträumen.",
        "en": "A distribution: the percentages of the categories add up to 100 % (rounding "
              "aside). Compare the share of one category from one period to the next."},
    "transition": {
        "fr": "Une matrice de transition : chaque ligne « A → B » donne la part de la cohorte "
              "qui était en position A il y a un an et en position B à la fin de la période. "
              "Les lignes « CPAS → … » montrent où vont les bénéficiaires.",
        "nl": "Een overgangsmatrix: elke rij « A → B » geeft het aandeel van het cohort dat "
              "een jaar eerder in positie A en aan het einde van de periode in positie B was. "
              "De rijen « OCMW → … » tonen waar de gerechtigden naartoe gaan.",
        "de": "Eine Übergangsmatrix: jede Zeile „A → B“ gibt den Anteil der Kohorte an, der "
              "vor einem Jahr in Stellung A und am Ende des Zeitraums in Stellung B war. Die "
              "Zeilen „ÖSHZ → …“ zeigen, wohin die Leistungsempfänger gehen.",
        "en": "A transition matrix: each row 'A → B' gives the share of the cohort that was "
              "in position A a year before and in position B at the end of the period. The "
              "rows 'CPAS → …' show where beneficiaries go."},
}
SOURCES = {
    "prima": {"fr": "PRIMA (SPP Intégration sociale), demandes de remboursement des CPAS",
              "nl": "PRIMA (POD Maatschappelijke Integratie), terugbetalingsaanvragen van de "
                    "OCMW's",
              "de": "PRIMA (ÖPD Soziale Eingliederung), Erstattungsanträge der ÖSHZ",
              "en": "PRIMA (SPP Social Integration), CPAS reimbursement requests"},
    "population": {"fr": " ; population : Statbel (synthétique dans la démonstration)",
                   "nl": "; bevolking: Statbel (synthetisch in de demo)",
                   "de": "; Bevölkerung: Statbel (in der Demo synthetisch)",
                   "en": "; population: Statbel (synthetic in the demo)"},
    "bcss": {"fr": " ; positions : Datawarehouse marché du travail et protection sociale "
                   "(BCSS), données pseudonymisées",
             "nl": "; posities: Datawarehouse arbeidsmarkt en sociale bescherming (KSZ), "
                   "gepseudonimiseerde gegevens",
             "de": "; Stellungen: Data-Warehouse Arbeitsmarkt und Sozialschutz (ZDSS), "
                   "pseudonymisierte Daten",
             "en": "; positions: Labour market and social protection data warehouse (BCSS), "
                   "pseudonymised data"},
}
FREQUENCY = {
    "quarter": {"fr": "trimestrielle", "nl": "driemaandelijks", "de": "vierteljährlich",
                "en": "quarterly"},
    "year": {"fr": "annuelle", "nl": "jaarlijks", "de": "jährlich", "en": "yearly"},
}

_CENSOR = {
    "fr": "Les données commencent à un mois donné : une période de droit en cours ce "
          "mois-là a pu commencer plus tôt et est écartée quand son début compte.",
    "nl": "De gegevens beginnen in een bepaalde maand: een periode die toen liep kan vroeger "
          "begonnen zijn en wordt weggelaten waar het begin telt.",
    "de": "Die Daten beginnen in einem bestimmten Monat: ein damals laufender Anspruch kann "
          "früher begonnen haben und bleibt außen vor, wo sein Beginn zählt.",
}
_STOCK_PREC = {
    "fr": "Les moyennes mensuelles diffèrent du nombre de personnes distinctes sur un "
          "trimestre ou une année (bien plus élevé). Seuls les mois stables sont comptés : un "
          "CPAS peut encore corriger un mois, ce qui révise le chiffre à la publication "
          "suivante.",
    "nl": "Maandgemiddelden verschillen van het aantal verschillende personen over een "
          "kwartaal of jaar (veel hoger). Enkel stabiele maanden tellen: een OCMW kan een "
          "maand nog corrigeren, wat het cijfer bij de volgende publicatie herziet.",
    "de": "Monatsdurchschnitte unterscheiden sich von der Zahl verschiedener Personen in "
          "einem Quartal oder Jahr (viel höher). Nur stabile Monate zählen: ein ÖSHZ kann "
          "einen Monat noch berichtigen, was die Zahl bei der nächsten Veröffentlichung "
          "revidiert.",
}
_RATE_PREC = {
    "fr": "Commune du CPAS pour les bénéficiaires, commune de résidence pour la population ; "
          "pour les sans-abri elles peuvent différer. Population synthétique dans la "
          "démonstration. Les taux sur de petites populations ne sont pas publiés.",
    "nl": "OCMW-gemeente voor de gerechtigden, woongemeente voor de bevolking; voor daklozen "
          "kunnen ze verschillen. Synthetische bevolking in de demo. Ratio's op kleine "
          "bevolkingen worden niet gepubliceerd.",
    "de": "ÖSHZ-Gemeinde für die Leistungsempfänger, Wohngemeinde für die Bevölkerung; bei "
          "Obdachlosen können sie abweichen. Synthetische Bevölkerung in der Demo. Quoten "
          "kleiner Bevölkerungen werden nicht veröffentlicht.",
}
_PROFILE_PREC = {
    "fr": "Part de la moyenne mensuelle des bénéficiaires du RI et de l'ERIS ; "
          "caractéristiques enregistrées le mois payé.",
    "nl": "Aandeel in het maandgemiddelde van de RI- en ERIS-gerechtigden; kenmerken zoals "
          "geregistreerd in de betaalde maand.",
    "de": "Anteil am Monatsdurchschnitt der RI- und ERIS-Empfänger; Merkmale wie im "
          "gezahlten Monat erfasst.",
}
_PROFILE_INTEREST = {
    "fr": "Décrit qui recourt au CPAS et comment cela varie entre zones et dans le temps.",
    "nl": "Beschrijft wie een beroep doet op het OCMW en hoe dat verschilt tussen gebieden "
          "en in de tijd.",
    "de": "Beschreibt, wer das ÖSHZ in Anspruch nimmt und wie sich das zwischen Gebieten und "
          "über die Zeit ändert.",
}
_BCSS_PREC = {
    "fr": "Positions du datawarehouse de la BCSS (une par personne et trimestre, la plus "
          "proche du marché du travail : RI partiel et temps partiel = travailleur). Les "
          "personnes que le datawarehouse ne retrouve pas sont écartées.",
    "nl": "Posities uit het datawarehouse van de KSZ (één per persoon en kwartaal, de meest "
          "arbeidsmarktnabije: gedeeltelijk leefloon en deeltijds werk = werkende). Personen "
          "die het datawarehouse niet terugvindt, vallen weg.",
    "de": "Stellungen aus dem Data-Warehouse der ZDSS (eine je Person und Quartal, die "
          "arbeitsmarktnächste: Teil-RI und Teilzeit = Erwerbstätiger). Personen, die das "
          "Data-Warehouse nicht findet, entfallen.",
}

# DE names (FR and NL names are the indicator's own)
NAME_DE = {
    "stock_ri": "Bezieher des Eingliederungseinkommens (RI)",
    "stock_eris": "Bezieher der gleichwertigen Sozialhilfe (ERIS)",
    "stock_total": "Bezieher von RI oder ERIS",
    "rate_18_64": "RI- und ERIS-Bezieher je 1 000 Einwohner von 18 bis 64 Jahren",
    "rate_ri_18_64": "RI-Bezieher je 1 000 Einwohner von 18 bis 64 Jahren",
    "rate_eris_18_64": "ERIS-Bezieher je 1 000 Einwohner von 18 bis 64 Jahren",
    "share_students": "Anteil der Studierenden unter den RI-Beziehern",
    "entries": "Zugänge in RI oder ERIS",
    "exits": "Abgänge aus RI oder ERIS",
    "reentries_12m": "Rückkehr in RI oder ERIS binnen 12 Monaten",
    "spell_duration": "Dauer beendeter Anspruchszeiten",
    "long_rights": "Anteil der seit 2 Jahren oder länger offenen Ansprüche",
    "art60_share": "Anteil in Beschäftigung nach Art. 60 §7",
    "art61_share": "Anteil in Beschäftigung nach Art. 61",
    "art60_persons": "Personen in Beschäftigung nach Art. 60 §7",
    "art61_persons": "Personen in Beschäftigung nach Art. 61",
    "art60_starts": "Neue Verträge nach Art. 60 §7",
    "art61_starts": "Neue Verträge nach Art. 61",
    "art60_completed": "Zu Ende geführte Verträge nach Art. 60 §7",
    "piis_coverage": "PIIS-Abdeckung",
    "piis_new": "Neue PIIS-Verträge",
    "piis_running": "Personen mit laufendem PIIS",
    "piis_type_share": "Neue PIIS-Verträge nach Art",
    "piis_success": "Erfolgreich abgeschlossene PIIS-Verträge",
    "piis_duration": "Dauer beendeter PIIS-Verträge",
    "piis_outcome": "Beendete PIIS-Verträge nach Ergebnis",
    "outcome_work_4q": "Erwerbstätig 4 Quartale nach dem Verlassen des RI",
    "outcome_work_8q": "Erwerbstätig 8 Quartale nach dem Verlassen des RI",
    "position_4q": "Stellung 4 Quartale nach dem Verlassen des RI",
    "position_8q": "Stellung 8 Quartale nach dem Verlassen des RI",
    "persons_year_ri": "Personen mit mindestens einem Monat RI im Jahr",
    "persons_year_eris": "Personen mit mindestens einem Monat ERIS im Jahr",
    "share_women": "Frauenanteil",
    "share_18_24": "Anteil junger Menschen von 18 bis 24 Jahren",
    "share_50_64": "Anteil der Personen von 50 bis 64 Jahren",
    "share_non_eu": "Anteil der Nicht-EU-Staatsangehörigen",
    "share_eu": "Anteil der Staatsangehörigen anderer EU-Länder",
    "share_cohabitant": "Anteil in Kategorie 1 (zusammenwohnend)",
    "share_isolated": "Anteil in Kategorie 2 (alleinstehend)",
    "share_family": "Anteil in Kategorie 3 (mit Familie zu Lasten)",
    "share_eris": "Anteil von ERIS an RI und ERIS",
    "transition_from_cpas": "Situation der RI/ERIS-Bezieher ein Jahr später",
    "transition_to_cpas": "Situation der RI/ERIS-Bezieher ein Jahr zuvor",
}

TEXTS: dict[str, Texts] = {}


def _stock(ind_id: str, fr: str, nl: str, de: str) -> None:
    TEXTS[ind_id] = {
        "fr": (f"Nombre de personnes {fr} payé par un CPAS au cours d'un mois ; le chiffre d'un "
               "trimestre (d'une année) est la moyenne de ses effectifs mensuels. Une personne "
               "compte une fois par mois, au CPAS qui a payé.",
               "La mesure phare du dernier filet de sécurité : combien de personnes en "
               "dépendent, où, et comment cela évolue.", _STOCK_PREC["fr"]),
        "nl": (f"Aantal personen {nl} uitbetaald door een OCMW in een maand; het cijfer van "
               "een kwartaal (jaar) is het gemiddelde van de maandelijkse aantallen. Een "
               "persoon telt één keer per maand, bij het OCMW dat betaalde.",
               "De kernmaat van het laatste vangnet: hoeveel mensen ervan afhangen, waar, en "
               "hoe dat evolueert.", _STOCK_PREC["nl"]),
        "de": (f"Zahl der Personen {de}, von einem ÖSHZ in einem Monat gezahlt; die Zahl "
               "eines Quartals (Jahres) ist der Durchschnitt der Monatszahlen. Eine Person "
               "zählt einmal im Monat, beim zahlenden ÖSHZ.",
               "Die Leitgröße des letzten Sicherheitsnetzes: wie viele Menschen davon "
               "abhängen, wo, und wie sich das entwickelt.", _STOCK_PREC["de"]),
    }


_stock("stock_ri", "avec le RI", "met leefloon (RI)", "mit RI")
_stock("stock_eris", "avec l'ERIS", "met equivalent leefloon (ERIS)", "mit ERIS")
_stock("stock_total", "avec le RI ou l'ERIS", "met RI of ERIS", "mit RI oder ERIS")


def _rate(ind_id: str, fr: str, nl: str, de: str) -> None:
    TEXTS[ind_id] = {
        "fr": (f"Nombre mensuel moyen de bénéficiaires {fr} âgés de 18 à 64 ans, divisé par "
               "la population de 18 à 64 ans de la même zone, fois 1 000.",
               "Compare des zones de tailles différentes : l'intensité du recours au CPAS.",
               _RATE_PREC["fr"]),
        "nl": (f"Gemiddeld maandelijks aantal gerechtigden {nl} van 18 tot 64 jaar, gedeeld "
               "door de bevolking van 18 tot 64 jaar van hetzelfde gebied, maal 1 000.",
               "Vergelijkt gebieden van verschillende grootte: de intensiteit van het beroep "
               "op het OCMW.", _RATE_PREC["nl"]),
        "de": (f"Durchschnittliche monatliche Zahl der Bezieher {de} von 18 bis 64 Jahren, "
               "geteilt durch die Bevölkerung von 18 bis 64 Jahren desselben Gebiets, mal "
               "1 000.", "Vergleicht Gebiete unterschiedlicher Größe: wie stark das ÖSHZ in "
               "Anspruch genommen wird.", _RATE_PREC["de"]),
    }


_rate("rate_18_64", "du RI ou de l'ERIS", "op RI of ERIS", "von RI oder ERIS")
_rate("rate_ri_18_64", "du RI", "op RI", "von RI")
_rate("rate_eris_18_64", "de l'ERIS", "op ERIS", "von ERIS")

for _id, _fr, _nl, _de in (
    ("share_women", "des femmes", "van de vrouwen", "der Frauen"),
    ("share_18_24", "des jeunes de 18 à 24 ans", "van de jongeren van 18 tot 24 jaar",
     "der jungen Menschen von 18 bis 24 Jahren"),
    ("share_50_64", "des personnes de 50 à 64 ans", "van de personen van 50 tot 64 jaar",
     "der Personen von 50 bis 64 Jahren"),
    ("share_non_eu", "des ressortissants hors UE", "van de niet-EU-onderdanen",
     "der Nicht-EU-Staatsangehörigen"),
    ("share_eu", "des ressortissants d'un autre pays de l'UE",
     "van de onderdanen van een andere EU-lidstaat",
     "der Staatsangehörigen anderer EU-Länder"),
    ("share_cohabitant", "de la catégorie 1 (cohabitant)", "van categorie 1 (samenwonend)",
     "der Kategorie 1 (zusammenwohnend)"),
    ("share_isolated", "de la catégorie 2 (isolé)", "van categorie 2 (alleenstaand)",
     "der Kategorie 2 (alleinstehend)"),
    ("share_family", "de la catégorie 3 (famille à charge)",
     "van categorie 3 (gezin ten laste)", "der Kategorie 3 (mit Familie zu Lasten)"),
    ("share_eris", "de l'ERIS", "van ERIS", "von ERIS"),
):
    TEXTS[_id] = {
        "fr": (f"Part {_fr} parmi les bénéficiaires mensuels moyens du RI et de l'ERIS, en %.",
               _PROFILE_INTEREST["fr"], _PROFILE_PREC["fr"]),
        "nl": (f"Aandeel {_nl} bij de gemiddelde maandelijkse RI- en ERIS-gerechtigden, in %.",
               _PROFILE_INTEREST["nl"], _PROFILE_PREC["nl"]),
        "de": (f"Anteil {_de} an den durchschnittlichen monatlichen RI- und ERIS-Beziehern, "
               "in %.", _PROFILE_INTEREST["de"], _PROFILE_PREC["de"]),
    }

TEXTS["share_students"] = {
    "fr": ("Nombre mensuel moyen de bénéficiaires du RI avec un PIIS étudiant, en % du nombre "
           "mensuel moyen de bénéficiaires du RI.",
           "Suit le poids des jeunes qui combinent études et RI.",
           "Le statut d'étudiant est celui du mois ; il peut changer dans l'année."),
    "nl": ("Gemiddeld maandelijks aantal leefloners met een student-GPMI, in % van het "
           "gemiddelde maandelijkse aantal leefloners.",
           "Volgt het gewicht van jongeren die studies en leefloon combineren.",
           "Het studentenstatuut is dat van de maand; het kan in de loop van het jaar "
           "veranderen."),
    "de": ("Durchschnittliche monatliche Zahl der RI-Bezieher mit einem Studierenden-PIIS, in "
           "% der durchschnittlichen monatlichen Zahl der RI-Bezieher.",
           "Verfolgt das Gewicht junger Menschen, die Studium und RI verbinden.",
           "Der Studierendenstatus ist der des Monats; er kann sich im Jahr ändern."),
}
TEXTS["entries"] = {
    "fr": ("Nombre de périodes de droit (mois consécutifs d'une même aide au même CPAS) dont "
           "le premier mois tombe dans la période.",
           "Flux d'entrée : combien de personnes se tournent à nouveau vers le CPAS.",
           _CENSOR["fr"] + " Un changement de CPAS ou de type d'aide ouvre une nouvelle période."),
    "nl": ("Aantal periodes (opeenvolgende maanden van dezelfde steun bij hetzelfde OCMW) "
           "waarvan de eerste maand in de periode valt.",
           "Instroom: hoeveel mensen zich opnieuw tot het OCMW wenden.",
           _CENSOR["nl"] + " Een wissel van OCMW of van steun opent een nieuwe periode."),
    "de": ("Zahl der Anspruchszeiten (aufeinanderfolgende Monate derselben Hilfe beim selben "
           "ÖSHZ), deren erster Monat in den Zeitraum fällt.",
           "Zugang: wie viele Menschen sich neu an das ÖSHZ wenden.",
           _CENSOR["de"] + " Ein Wechsel des ÖSHZ oder der Hilfe beginnt eine neue Zeit."),
}
TEXTS["exits"] = {
    "fr": ("Nombre de périodes de droit dont le dernier mois tombe dans la période, comptées "
           "seulement si le mois suivant est dans les données stables.",
           "Flux de sortie : combien de personnes quittent le revenu du CPAS.",
           "Une sortie n'est connue qu'un mois plus tard. Une interruption d'un mois compte "
           "comme une sortie et une nouvelle entrée."),
    "nl": ("Aantal periodes waarvan de laatste maand in de periode valt, enkel geteld als de "
           "volgende maand in de stabiele gegevens zit.",
           "Uitstroom: hoeveel mensen het OCMW-inkomen verlaten.",
           "Een uitstroom is pas een maand later gekend. Een onderbreking van één maand telt "
           "als uitstroom en nieuwe instroom."),
    "de": ("Zahl der Anspruchszeiten, deren letzter Monat in den Zeitraum fällt, nur gezählt, "
           "wenn der Folgemonat in den stabilen Daten liegt.",
           "Abgang: wie viele Menschen das ÖSHZ-Einkommen verlassen.",
           "Ein Abgang ist erst einen Monat später bekannt. Eine einmonatige Unterbrechung "
           "zählt als Abgang und neuer Zugang."),
}
TEXTS["reentries_12m"] = {
    "fr": ("Entrées (nouvelles périodes de droit) de personnes dont la période précédente "
           "s'est terminée au plus 12 mois avant.",
           "Beaucoup de retours signalent des sorties qui ne durent pas.",
           _CENSOR["fr"] + " Les périodes terminées avant le début des données ne sont pas vues."),
    "nl": ("Instroom (nieuwe periodes) van personen wier vorige periode ten hoogste 12 maanden "
           "eerder eindigde.", "Veel terugkeer wijst op uitstroom die niet duurzaam is.",
           _CENSOR["nl"] + " Periodes die vóór het begin van de gegevens eindigden, zijn "
           "niet zichtbaar."),
    "de": ("Zugänge (neue Anspruchszeiten) von Personen, deren vorige Anspruchszeit höchstens "
           "12 Monate zuvor endete.", "Viele Rückkehrer deuten auf nicht dauerhafte Abgänge.",
           _CENSOR["de"] + " Vor Datenbeginn beendete Zeiten sind nicht sichtbar."),
}
TEXTS["spell_duration"] = {
    "fr": ("Périodes de droit terminées dans la période, par durée (1-3, 4-6, 7-12, 13-24, 25+ "
           "mois), en % de toutes les périodes terminées.",
           "Distingue les passages courts par le CPAS de la dépendance de longue durée.",
           _CENSOR["fr"]),
    "nl": ("Periodes die in de periode eindigden, per duur (1-3, 4-6, 7-12, 13-24, 25+ "
           "maanden), in % van alle beëindigde periodes.",
           "Onderscheidt korte passages bij het OCMW van langdurige afhankelijkheid.",
           _CENSOR["nl"]),
    "de": ("Im Zeitraum beendete Anspruchszeiten nach Dauer (1-3, 4-6, 7-12, 13-24, 25+ "
           "Monate), in % aller beendeten Zeiten.",
           "Unterscheidet kurze Aufenthalte beim ÖSHZ von langfristiger Abhängigkeit.",
           _CENSOR["de"]),
}
TEXTS["long_rights"] = {
    "fr": ("Parmi les bénéficiaires du dernier mois de la période, le % dont la période de "
           "droit dure depuis 24 mois ou plus.",
           "Mesure la dépendance de longue durée au dernier filet de sécurité.",
           "Calculé seulement quand les données couvrent 24 mois ; une interruption d'un mois "
           "redémarre la période."),
    "nl": ("Bij de gerechtigden van de laatste maand van de periode, het % wiens periode al "
           "24 maanden of langer loopt.",
           "Meet de langdurige afhankelijkheid van het laatste vangnet.",
           "Enkel berekend als de gegevens 24 maanden beslaan; een onderbreking van één "
           "maand herstart de periode."),
    "de": ("Unter den Beziehern des letzten Monats des Zeitraums der Anteil in %, deren "
           "Anspruchszeit seit 24 Monaten oder länger läuft.",
           "Misst die langfristige Abhängigkeit vom letzten Sicherheitsnetz.",
           "Nur berechnet, wenn die Daten 24 Monate abdecken; eine einmonatige Unterbrechung "
           "startet die Zeit neu."),
}
for _m, _lab in (("art60", "art. 60 §7"), ("art61", "art. 61")):
    TEXTS[f"{_m}_share"] = {
        "fr": (f"Personnes avec un contrat {_lab} en cours dans la période, en % des personnes "
               "aidées par le CPAS (RI, ERIS ou mesure d'emploi).",
               "Activation : combien de personnes le CPAS met à l'emploi.",
               "Pendant le contrat la personne est salariée et ne reçoit en général pas de RI, "
               "d'où le dénominateur élargi. Les régions financent ces emplois depuis 2015."),
        "nl": (f"Personen met een lopend contract {_lab} in de periode, in % van de personen "
               "die het OCMW steunt (RI, ERIS of tewerkstellingsmaatregel).",
               "Activering: hoeveel mensen het OCMW aan het werk zet.",
               "Tijdens het contract is de persoon werknemer en krijgt meestal geen leefloon, "
               "vandaar de bredere noemer. De gewesten financieren deze jobs sinds 2015."),
        "de": (f"Personen mit laufendem Vertrag nach {_lab} im Zeitraum, in % der vom ÖSHZ "
               "unterstützten Personen (RI, ERIS oder Beschäftigungsmaßnahme).",
               "Aktivierung: wie viele Menschen das ÖSHZ in Arbeit bringt.",
               "Während des Vertrags ist die Person Arbeitnehmer und erhält meist kein RI, "
               "daher der breitere Nenner. Die Regionen finanzieren diese Stellen seit 2015."),
    }
    TEXTS[f"{_m}_persons"] = {
        "fr": (f"Personnes avec un contrat {_lab} en cours à un moment de la période.",
               "Le nombre de personnes mises à l'emploi par les CPAS.",
               "Géographie : le CPAS du contrat. Financement régional depuis 2015."),
        "nl": (f"Personen met een contract {_lab} dat ergens in de periode liep.",
               "Het aantal mensen dat de OCMW's aan het werk zetten.",
               "Geografie: het OCMW van het contract. Gewestelijke financiering sinds 2015."),
        "de": (f"Personen mit einem Vertrag nach {_lab}, der im Zeitraum lief.",
               "Die Zahl der von den ÖSHZ in Arbeit gebrachten Menschen.",
               "Geografie: das ÖSHZ des Vertrags. Regionale Finanzierung seit 2015."),
    }
    TEXTS[f"{_m}_starts"] = {
        "fr": (f"Contrats {_lab} commençant dans la période.",
               "Le flux d'entrée dans les emplois d'activation.",
               "Les contrats sont comptés, pas les personnes."),
        "nl": (f"Contracten {_lab} die in de periode beginnen.",
               "De instroom in activeringsjobs.", "Contracten worden geteld, geen personen."),
        "de": (f"Verträge nach {_lab}, die im Zeitraum beginnen.",
               "Der Zugang zu Aktivierungsstellen.",
               "Gezählt werden Verträge, nicht Personen."),
    }
TEXTS["art60_completed"] = {
    "fr": ("Contrats art. 60 §7 terminés dans la période et menés à leur terme, en % des "
           "contrats art. 60 §7 terminés dans la période.",
           "Un contrat mené à terme ouvre en général le droit aux allocations de chômage.",
           "Une fin anticipée peut aussi être un passage à un emploi ordinaire."),
    "nl": ("Contracten art. 60 §7 die in de periode eindigden en voltooid werden, in % van de "
           "contracten art. 60 §7 die in de periode eindigden.",
           "Een voltooid contract opent meestal het recht op werkloosheidsuitkeringen.",
           "Een vroegtijdig einde kan ook een overstap naar een gewone job zijn."),
    "de": ("Im Zeitraum beendete und zu Ende geführte Verträge nach Art. 60 §7, in % der im "
           "Zeitraum beendeten Verträge nach Art. 60 §7.",
           "Ein zu Ende geführter Vertrag eröffnet meist den Anspruch auf "
           "Arbeitslosengeld.", "Ein vorzeitiges Ende kann auch ein Wechsel in eine reguläre "
           "Stelle sein."),
}
TEXTS["piis_coverage"] = {
    "fr": ("Bénéficiaires du RI de la période avec un PIIS en cours à un moment de la "
           "période, en % des bénéficiaires du RI.",
           "Le PIIS est général pour les nouveaux bénéficiaires depuis novembre 2016 : la "
           "couverture montre son application.",
           "Les bénéficiaires plus anciens (avant 2016) n'y sont pas tenus."),
    "nl": ("Leefloners van de periode met een GPMI dat ergens in de periode liep, in % van "
           "de leefloners.", "Het GPMI is sinds november 2016 algemeen voor nieuwe "
           "leefloners: de dekking toont hoe ver dat toegepast wordt.",
           "Oudere gerechtigden (vóór 2016) zijn er niet toe verplicht."),
    "de": ("RI-Bezieher des Zeitraums mit einem im Zeitraum laufenden PIIS, in % der "
           "RI-Bezieher.", "Das PIIS gilt seit November 2016 für alle neuen RI-Bezieher: die "
           "Abdeckung zeigt seine Anwendung.",
           "Ältere Bezieher (vor 2016) sind nicht dazu verpflichtet."),
}
TEXTS["piis_new"] = {
    "fr": ("Contrats PIIS (projet individualisé d'intégration sociale) commençant dans la "
           "période.", "Le volume de nouveaux trajets d'intégration ouverts par les CPAS.",
           "Une personne peut signer plusieurs contrats ; on compte des contrats."),
    "nl": ("GPMI-contracten (geïndividualiseerd project voor maatschappelijke integratie) "
           "die in de periode beginnen.",
           "Het volume nieuwe integratietrajecten dat de OCMW's openen.",
           "Een persoon kan meerdere contracten tekenen; contracten worden geteld."),
    "de": ("PIIS-Verträge (individualisiertes Projekt zur sozialen Eingliederung), die im "
           "Zeitraum beginnen.", "Der Umfang neuer Eingliederungswege der ÖSHZ.",
           "Eine Person kann mehrere Verträge unterschreiben; gezählt werden Verträge."),
}
TEXTS["piis_running"] = {
    "fr": ("Personnes aidées par un CPAS avec un contrat PIIS en cours à un moment de la "
           "période.", "Combien de personnes suivent un trajet d'intégration.",
           "Seules comptent les personnes payées RI/ERIS ou en mesure d'emploi dans la "
           "période."),
    "nl": ("Personen die een OCMW steunt met een GPMI dat ergens in de periode liep.",
           "Hoeveel mensen een integratietraject volgen.",
           "Enkel personen met RI/ERIS of een tewerkstellingsmaatregel in de periode tellen."),
    "de": ("Vom ÖSHZ unterstützte Personen mit einem im Zeitraum laufenden PIIS-Vertrag.",
           "Wie viele Menschen einem Eingliederungsweg folgen.",
           "Nur Personen mit RI/ERIS oder einer Beschäftigungsmaßnahme im Zeitraum zählen."),
}
TEXTS["piis_type_share"] = {
    "fr": ("Contrats PIIS commençant dans la période par type (études, emploi, social, "
           "formation), en % de tous les nouveaux contrats PIIS.",
           "Quels chemins d'intégration les CPAS choisissent.",
           "Le type est celui enregistré à la signature."),
    "nl": ("GPMI-contracten die in de periode beginnen, per type (studies, werk, sociaal, "
           "opleiding), in % van alle nieuwe GPMI-contracten.",
           "Welke integratiewegen de OCMW's kiezen.",
           "Het type is dat bij de ondertekening."),
    "de": ("Im Zeitraum beginnende PIIS-Verträge nach Art (Studium, Beschäftigung, sozial, "
           "Ausbildung), in % aller neuen PIIS-Verträge.",
           "Welche Eingliederungswege die ÖSHZ wählen.",
           "Die Art ist die bei der Unterzeichnung erfasste."),
}
TEXTS["piis_success"] = {
    "fr": ("Contrats PIIS terminés dans la période avec l'issue « réussite », en % des "
           "contrats PIIS terminés avec une issue connue.",
           "Comment on mesure la progression du trajet : la part des contrats dont les "
           "objectifs ont été atteints.",
           "L'issue est l'appréciation du CPAS ; les pratiques diffèrent entre CPAS."),
    "nl": ("GPMI-contracten die in de periode eindigden met resultaat « geslaagd », in % "
           "van de GPMI-contracten die met een gekend resultaat eindigden.",
           "Hoe de vooruitgang van het traject gemeten wordt: het aandeel contracten "
           "waarvan de doelen bereikt werden.",
           "Het resultaat is de beoordeling van het OCMW; de praktijken verschillen."),
    "de": ("Im Zeitraum mit dem Ergebnis „erfolgreich“ beendete PIIS-Verträge, in % der mit "
           "bekanntem Ergebnis beendeten PIIS-Verträge.",
           "Wie der Fortschritt gemessen wird: der Anteil der Verträge, deren Ziele "
           "erreicht wurden.",
           "Das Ergebnis ist die Einschätzung des ÖSHZ; die Praxis ist unterschiedlich."),
}
TEXTS["piis_duration"] = {
    "fr": ("Contrats PIIS terminés dans la période par durée, en % de tous les contrats "
           "PIIS terminés dans la période.",
           "Les contrats longs (études) et courts (recherche d'emploi) ne mesurent pas la "
           "même chose.", "Les contrats en cours ne sont pas comptés."),
    "nl": ("GPMI-contracten die in de periode eindigden, per duur, in % van alle "
           "GPMI-contracten die in de periode eindigden.",
           "Lange contracten (studies) en korte (werk zoeken) meten niet hetzelfde.",
           "Lopende contracten tellen niet mee."),
    "de": ("Im Zeitraum beendete PIIS-Verträge nach Dauer, in % aller im Zeitraum beendeten "
           "PIIS-Verträge.",
           "Lange Verträge (Studium) und kurze (Arbeitsuche) messen nicht dasselbe.",
           "Laufende Verträge werden nicht gezählt."),
}
TEXTS["piis_outcome"] = {
    "fr": ("Contrats PIIS terminés dans la période par issue, en % de tous les contrats "
           "terminés.", "Complète la part de réussite : comment finissent les autres "
           "contrats.", "Comme pour la part de réussite."),
    "nl": ("GPMI-contracten die in de periode eindigden, per resultaat, in % van alle "
           "beëindigde contracten.", "Vult het slaagpercentage aan: hoe de andere "
           "contracten eindigen.", "Zoals bij het slaagpercentage."),
    "de": ("Im Zeitraum beendete PIIS-Verträge nach Ergebnis, in % aller beendeten Verträge.",
           "Ergänzt den Erfolgsanteil: wie die übrigen Verträge enden.",
           "Wie beim Erfolgsanteil."),
}
for _k in (4, 8):
    TEXTS[f"outcome_work_{_k}q"] = {
        "fr": (f"Personnes sorties du RI au trimestre situé {_k} trimestres avant la période : "
               "le % au travail (salarié ou indépendant) le dernier jour de la période, selon "
               "le datawarehouse de la BCSS.",
               "L'insertion sur le marché du travail que visent le RI et l'activation.",
               _BCSS_PREC["fr"]),
        "nl": (f"Personen die het leefloon verlieten in het kwartaal {_k} kwartalen vóór de "
               "periode: het % aan het werk (werknemer of zelfstandige) op de laatste dag van "
               "de periode, volgens het datawarehouse van de KSZ.",
               "De inschakeling op de arbeidsmarkt die leefloon en activering nastreven.",
               _BCSS_PREC["nl"]),
        "de": (f"Personen, die das RI im Quartal {_k} Quartale vor dem Zeitraum verließen: der "
               "Anteil in % in Arbeit (Arbeitnehmer oder Selbständiger) am letzten Tag des "
               "Zeitraums, laut Data-Warehouse der ZDSS.",
               "Die Arbeitsmarkteingliederung, die RI und Aktivierung anstreben.",
               _BCSS_PREC["de"]),
    }
    TEXTS[f"position_{_k}q"] = {
        "fr": (f"Personnes sorties du RI {_k} trimestres avant la période, par position "
               "socio-économique le dernier jour de la période, en % de celles retrouvées.",
               "Où vont les sortants : travail, chômage, retour au CPAS, inactivité.",
               _BCSS_PREC["fr"]),
        "nl": (f"Personen die het leefloon {_k} kwartalen vóór de periode verlieten, per "
               "sociaaleconomische positie op de laatste dag van de periode, in % van wie "
               "teruggevonden werd.",
               "Waar de uitstromers naartoe gaan: werk, werkloosheid, terug naar het OCMW, "
               "inactiviteit.", _BCSS_PREC["nl"]),
        "de": (f"Personen, die das RI {_k} Quartale vor dem Zeitraum verließen, nach "
               "sozioökonomischer Stellung am letzten Tag des Zeitraums, in % der "
               "Gefundenen.", "Wohin die Abgänger gehen: Arbeit, Arbeitslosigkeit, zurück "
               "zum ÖSHZ, Nichterwerbstätigkeit.", _BCSS_PREC["de"]),
    }
for _b, _fr, _nl, _de in (("ri", "du RI", "leefloon", "RI"),
                          ("eris", "de l'ERIS", "equivalent leefloon", "ERIS")):
    TEXTS[f"persons_year_{_b}"] = {
        "fr": (f"Personnes distinctes ayant bénéficié {_fr} pendant au moins un mois de "
               "l'année civile.", "La portée de l'aide sur une année : environ 1,5 fois la "
               "moyenne mensuelle.", "Ventilations selon la situation du premier mois d'aide "
               "de l'année. Non comparable aux moyennes mensuelles."),
        "nl": (f"Verschillende personen met minstens één maand {_nl} in het kalenderjaar.",
               "Het bereik van de steun over een jaar: ongeveer 1,5 keer het maandgemiddelde.",
               "Uitsplitsingen volgens de situatie in de eerste steunmaand van het jaar. Niet "
               "vergelijkbaar met maandgemiddelden."),
        "de": (f"Verschiedene Personen mit mindestens einem Monat {_de} im Kalenderjahr.",
               "Die Reichweite der Hilfe über ein Jahr: etwa das 1,5-Fache des "
               "Monatsdurchschnitts.", "Gliederungen nach der Lage im ersten Hilfemonat des "
               "Jahres. Nicht mit Monatsdurchschnitten vergleichbar."),
    }
for _c, _fr, _nl, _de in (
    ("from_cpas", "Personnes avec le RI ou l'ERIS le dernier mois du trimestre un an avant "
                  "la période", "Personen met RI of ERIS in de laatste maand van het "
                  "kwartaal een jaar vóór de periode", "Personen mit RI oder ERIS im letzten "
                  "Monat des Quartals ein Jahr vor dem Zeitraum"),
    ("to_cpas", "Personnes avec le RI ou l'ERIS le dernier mois de la période",
     "Personen met RI of ERIS in de laatste maand van de periode",
     "Personen mit RI oder ERIS im letzten Monat des Zeitraums"),
):
    TEXTS[f"transition_{_c}"] = {
        "fr": (f"{_fr}, selon leur position socio-économique (groupe du datawarehouse de la "
               "BCSS) le dernier jour du trimestre un an avant et le dernier jour de la "
               "période : une matrice de transition, chaque case en % de la cohorte.",
               "Mobilité sur le marché du travail : passages entre travail, chômage, CPAS et "
               "inactivité.", _BCSS_PREC["fr"]),
        "nl": (f"{_nl}, volgens hun sociaaleconomische positie (groep van het datawarehouse "
               "van de KSZ) op de laatste dag van het kwartaal een jaar eerder en op de "
               "laatste dag van de periode: een overgangsmatrix, elke cel in % van het cohort.",
               "Mobiliteit op de arbeidsmarkt: overgangen tussen werk, werkloosheid, OCMW en "
               "inactiviteit.", _BCSS_PREC["nl"]),
        "de": (f"{_de}, nach sozioökonomischer Stellung (Gruppe des Data-Warehouse der ZDSS) "
               "am letzten Tag des Quartals ein Jahr zuvor und am letzten Tag des Zeitraums: "
               "eine Übergangsmatrix, jede Zelle in % der Kohorte.",
               "Mobilität auf dem Arbeitsmarkt: Wechsel zwischen Arbeit, Arbeitslosigkeit, "
               "ÖSHZ und Nichterwerbstätigkeit.", _BCSS_PREC["de"]),
    }

_BCSS_IDS = {"outcome_work_4q", "outcome_work_8q", "position_4q", "position_8q",
             "transition_from_cpas", "transition_to_cpas"}
_DISTRIBUTIONS = {"spell_duration", "piis_type_share", "piis_duration", "piis_outcome",
                  "position_4q", "position_8q"}


def reading_kind(ind: Indicator) -> str:
    if ind.id.startswith("transition_"):
        return "transition"
    if ind.id in _DISTRIBUTIONS:
        return "distribution"
    return ind.unit


def sheet(ind: Indicator, lang: str) -> Sheet:
    if lang == "en":
        name, (definition, interest, precautions) = ind.name_en, (
            ind.definition, ind.interest, ind.precautions)
    else:
        name = {"fr": ind.name_fr, "nl": ind.name_nl, "de": NAME_DE[ind.id]}[lang]
        definition, interest, precautions = TEXTS[ind.id][lang]
    source = SOURCES["prima"][lang]
    if ind.unit == "per 1 000":
        source += SOURCES["population"][lang]
    if ind.id in _BCSS_IDS:
        source += SOURCES["bcss"][lang]
    frequency = ", ".join(FREQUENCY[g][lang] for g in ind.grains)
    keep = i18n.keep_together
    return Sheet(name=keep(name), definition=keep(definition), interest=keep(interest),
                 reading=keep(READING[reading_kind(ind)][lang]), precautions=keep(precautions),
                 source=source, frequency=frequency)


def missing() -> list[str]:
    """Indicators without a complete sheet in some language (empty when all are there)."""
    out = []
    for ind in INDICATORS.values():
        for lang in ("fr", "nl", "de", "en"):
            try:
                s = sheet(ind, lang)
            except KeyError:
                out.append(f"{ind.id}:{lang}")
                continue
            if not all(vars(s).values()):
                out.append(f"{ind.id}:{lang}")
    return out
