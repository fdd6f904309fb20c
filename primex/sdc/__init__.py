"""Statistical disclosure control, as a pure library: data frames and typed parameter objects
in, results out; no home folder, no files, no log (the protection step, primex.protection,
applies it to a request).

* `primex.sdc.micro`: risk (sdcMicro-exact), k-anonymity by optimal generalisation with local
  suppression, l-diversity, perturbation (MDAV, noise, PRAM), utility;
* `primex.sdc.tables`: hierarchical tables, primary and secondary suppression with the LP
  attacker audit, cell-key noise;
* `primex.sdc.synthetic`: SDV synthesis and its disclosure/utility evaluation.

It imports nothing of primex but `primex.errors` (tests/test_architecture.py).
"""
