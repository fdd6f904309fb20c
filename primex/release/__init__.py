"""primex.release: the release gate, the encrypted package, and opening it.

Nothing leaves unless the audit log holds the president's valid sign-off over exactly the
files that leave, in a checkpoint the committee's witness cosigned (docs/release.md).

* :mod:`primex.release.manifest`: the canonical manifest ``{"files": [{name, bytes,
  sha256}]}`` and its SHA-256; ``collect_protected(work_dir)`` manifests
  ``<work_dir>/protected/`` (the contract with the protection step).
* :mod:`primex.release.gate`: ``check_release(home, request_id) -> Evidence``; every
  refusal is ``ReleaseRefused`` / ``ReleaseTampered`` with a ``.reason`` of ``REASONS``.
* :mod:`primex.release.package`: ``build_release(home, request_id, signer) -> Released``:
  gate, ZIP package, encryption, ``release`` entry.
* :mod:`primex.release.envelope`: the ``primex-release/v1`` encryption (X25519, HKDF-SHA256,
  AES-256-GCM in chunks).
* :mod:`primex.release.open`: ``open_package`` / ``verify_package``: decrypt and verify
  everything offline; nothing is logged.
* :mod:`primex.release.codebook`: the Frictionless ``datapackage.json``.
* :mod:`primex.release.signoff`: what the president sees and signs.
* :mod:`primex.release.access`: the researcher's optional ``access`` entries.
"""
