"""Public microdata SDC API (re-exported by primex.disclosure)."""

from primex.disclosure.anonymize import AnonymizationResult, anonymize
from primex.disclosure.hierarchy import Hierarchy as QIHierarchy
from primex.disclosure.ldiversity import LDiversity, ldiversity
from primex.disclosure.micro_report import build_report, risk_report, write_report
from primex.disclosure.perturb import add_noise, microaggregate, pram
from primex.disclosure.protect import catalogue_quasi_identifiers, protect_microdata
from primex.disclosure.risk import MicroRisk, measure_risk
from primex.disclosure.utility import eigen_utility, il1s

__all__: list[str] = [
    "AnonymizationResult",
    "LDiversity",
    "MicroRisk",
    "QIHierarchy",
    "add_noise",
    "anonymize",
    "build_report",
    "catalogue_quasi_identifiers",
    "eigen_utility",
    "il1s",
    "ldiversity",
    "measure_risk",
    "microaggregate",
    "pram",
    "protect_microdata",
    "risk_report",
    "write_report",
]
