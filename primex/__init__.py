"""primex: the research-extract service of the Belgian SPP Intégration sociale.

Subpackages follow the flow of one request (see docs/architecture.md):
requests -> extract -> linkage (BCSS side) -> disclosure -> release, with the catalogue and
the audit log underneath every step and the CLI on top.
"""

__version__ = "0.1.0"
