"""primex.committee: what the committee runs on its own machine, with its own home.

* :mod:`primex.committee.witness`: the witness (``Witness``, ``cosign_latest``): cosigns
  checkpoints consistent with every one it cosigned before; its state lives only here.
* :mod:`primex.committee.verify`: ``verify_log(home) -> VerifyResult`` (the independent
  replay of the whole log).
* :mod:`primex.committee.resume`: what the committee verified, so the next run resumes.
* :mod:`primex.committee.report`: the committee's readable history (markdown / HTML).

It imports the read/verify side of :mod:`primex.audit` (entries, canonical form, Merkle
proofs, checkpoints, trust decisions, workflow) and nothing of the SPP's steps
(tests/test_architecture.py).
"""
