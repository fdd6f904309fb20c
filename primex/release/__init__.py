"""primex.release: the SPP's side of a release: the gate, the sign-off and the package.

Nothing leaves unless the audit log holds the president's valid sign-off over exactly the
bytes that leave, for a recipient the researcher registered, in a checkpoint the committee's
witness cosigned (docs/release.md). What runs on the researcher's machine (open, verify,
access) is :mod:`primex.researcher`; the formats both sides share are :mod:`primex.exchange`.

* :mod:`primex.release.manifest`: which files of ``<work>/protected/`` form the release
  manifest (``collect_protected``), and the report names.
* :mod:`primex.release.gate`: ``check_release(home, request_id) -> Evidence``; every
  refusal is ``ReleaseRefused`` / ``ReleaseTampered`` with a ``.reason`` of ``REASONS``.
* :mod:`primex.release.recipient`: whose key the package would be encrypted for;
  :mod:`primex.release.recipient_views`: the verified view of it at submission, approval
  and sign-off.
* :mod:`primex.release.leak_scan`: no identifying column, no national number leaves.
* :mod:`primex.release.package`: ``build_release(home, request_id, signer) -> Released``:
  gate, ZIP package, encryption, ``release`` entry; crash-safe and idempotent.
* :mod:`primex.release.codebook`: the Frictionless ``datapackage.json``.
* :mod:`primex.release.signoff`: what the president sees and signs.
"""
