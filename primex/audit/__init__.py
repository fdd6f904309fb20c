"""primex.audit: the signed, tamper-evident audit log; the system of record of requests.

Modules (each has its own docstring with the details):

* :mod:`primex.audit.trust`: every trust decision (signatures, registration, role,
  revocation, succession, chain, witness cosignature, chain of custody), with typed
  reasons from :mod:`primex.audit.reasons`; ``verify_request_history(log, request)``.
* :mod:`primex.audit.entry` (one entry), :mod:`primex.audit.state` (the replay: tree,
  registry, request states; no files), :mod:`primex.audit.store` (the entries file, lock,
  torn tail, checkpoint files).
* :mod:`primex.audit.keys`: identities. ``create_identity(home, role, name, passphrase)``,
  ``load_signer(home, name, passphrase=None) -> Signer`` (``.name .role .person
  .public_key_bytes .sign(data)``), ``load_encryption_private_key(home, name)``.
* :mod:`primex.audit.log`: ``open_log(home) -> AuditLog``; ``AuditLog.append(type, request,
  body, signer) -> Entry`` refuses what the workflow forbids (PermissionDenied /
  ValidationError); ``.entries(request)``, ``.state(request) -> RequestState``,
  ``.register_key``, ``.revoke_key``, ``.checkpoint()``, ``.inclusion_proof(seq, size)``,
  every reader verified (a forged entry is refused, never acted on),
  ``.witnessed_checkpoint(seq)``, ``.batch()``.
* :mod:`primex.audit.workflow`: the state machine as data (``TRANSITIONS``, ``STATES``)
  and ``apply_event``, used by both the log and the verifier.
* :mod:`primex.audit.canonical`: canonical JSON (``dumps``, ``loads``, ``sha256_hex`` for
  manifests).
* :mod:`primex.audit.merkle`: RFC 9162 ``leaf_hash``, ``root``, ``inclusion_proof``,
  ``consistency_proof``, ``verify_inclusion``, ``verify_consistency``.
* :mod:`primex.audit.checkpoint`: C2SP signed-note checkpoints and cosignatures.
* :mod:`primex.audit.tree` / :mod:`primex.audit.files`: the level-keeping Merkle tree;
  fsync and atomic writes.

The committee's side (witness, independent verifier, report) is :mod:`primex.committee`.
This package imports no pipeline step and nothing of the committee; every step imports it.
"""
