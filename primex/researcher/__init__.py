"""The research centre's side: what runs on the researcher's machine, offline.

* :mod:`primex.researcher.open`: ``open_package`` / ``verify_package``: decrypt a release
  package and verify everything it carries (signatures, manifest, inclusion proofs); nothing
  is logged.
* :mod:`primex.researcher.access`: read an opened folder for the optional ``access`` entries.

It reads the formats of :mod:`primex.exchange` and never imports the SPP's gate
(:mod:`primex.release`) or the audit log writer (tests/test_architecture.py enforces it).
"""
