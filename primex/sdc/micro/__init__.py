"""Microdata disclosure control: risk, k-anonymity, l-diversity, perturbation, utility."""

from primex.sdc.micro.anonymize import AnonymizationResult, anonymize
from primex.sdc.micro.hierarchy import GeneralisationHierarchy
from primex.sdc.micro.ldiversity import LDiversity, ldiversity
from primex.sdc.micro.perturb import add_noise, microaggregate, pram
from primex.sdc.micro.problem import MicroProblem
from primex.sdc.micro.risk import MicroRisk, measure_risk
from primex.sdc.micro.utility import eigen_utility, il1s
from primex.sdc.params import MicrodataPolicy

__all__: list[str] = [
    "AnonymizationResult",
    "GeneralisationHierarchy",
    "LDiversity",
    "MicroProblem",
    "MicroRisk",
    "MicrodataPolicy",
    "add_noise",
    "anonymize",
    "eigen_utility",
    "il1s",
    "ldiversity",
    "measure_risk",
    "microaggregate",
    "pram",
]
