"""The log's state, derived only from its entries: the Merkle tree, the key registry and
every request's state. No files, no locks: the SPP's writer (:mod:`primex.audit.log`) and
the committee's verifier (:mod:`primex.committee.verify`) feed it the same entries in order.

``LogState.apply(entry, witness_check)`` checks the entry against the state (time, chain,
registry, workflow: the rules of :mod:`primex.audit.trust` and
:mod:`primex.audit.workflow`) and applies it; it returns the key that must verify the
entry's signature. Key events and installation-wide events (``linkage_key_rotation``:
no request) are signature-checked here, at once (they are few, and the registry is what
every other check relies on); the signatures of request entries are checked by whoever
reads a request (:meth:`primex.audit.log.AuditLog.state`) or by the verifier, so opening a
huge log stays fast.
"""

from __future__ import annotations

from primex.audit import trust
from primex.audit.entry import Entry
from primex.audit.reasons import Reason, Untrusted
from primex.audit.tree import MerkleTree
from primex.audit.workflow import (
    GLOBAL_EVENTS,
    KEY_EVENTS,
    KeyInfo,
    Registry,
    RequestState,
    WitnessCheck,
    apply_event,
    check_global_event,
)


class LogState:
    """Replay state; `keep` keeps entries and histories (the verifier does not)."""

    def __init__(self, *, keep: bool = True) -> None:
        self.keep = keep
        self.entries: list[Entry] = []
        self.tree = MerkleTree()
        self.registry = Registry()
        self.requests: dict[str, RequestState] = {}
        self.global_last: str | None = None
        self.last_time = ""
        self.origin: str | None = None

    @property
    def size(self) -> int:
        return len(self.tree)

    def chain_last(self, request: str | None) -> str | None:
        if request is None:
            return self.global_last
        st = self.requests.get(request)
        return st.last_leaf if st is not None else None

    def apply(
        self, entry: Entry, witness_check: WitnessCheck | None, *, custody: bool = False
    ) -> KeyInfo:
        """Check `entry` against the state and apply it (see the module docstring).

        `custody`: also check the chain of custody between steps (the verifier's C1 check;
        the steps refuse such inputs themselves)."""
        trust.check_time(self.last_time, entry)
        trust.check_chain(self.chain_last(entry.request), entry)
        if entry.type in KEY_EVENTS:
            if entry.request is not None:
                raise Untrusted(Reason.MALFORMED, "key events carry no request id",
                                where=f"entry {entry.seq}", seq=entry.seq)
            signer = trust.apply_key_event(self.registry, entry)
            self.global_last = entry.leaf_hex
        elif entry.type in GLOBAL_EVENTS:  # like key events: no request, checked at once
            if entry.request is not None:
                raise Untrusted(Reason.MALFORMED, f"{entry.type} carries no request id",
                                where=f"entry {entry.seq}", seq=entry.seq)
            signer = trust.authorize_actor(self.registry, entry)
            check_global_event(entry.type, entry.body, f"entry {entry.seq}")
            trust.check_signature(signer, entry)
            self.global_last = entry.leaf_hex
        else:
            if entry.request is None:
                raise Untrusted(Reason.MALFORMED, f"{entry.type} needs a request id",
                                where=f"entry {entry.seq}", seq=entry.seq)
            signer = trust.authorize_actor(self.registry, entry)
            st = self.requests.get(entry.request)
            if custody:
                trust.check_custody(st, entry)
            st = apply_event(
                st, entry.request, entry.type, entry.body, signer, entry.seq, witness_check
            )
            self.requests[entry.request] = st
            if self.keep:
                st.history.append(entry)
            st.last_leaf = entry.leaf_hex
        if self.origin is None:
            self.origin = entry.origin
        if self.keep:
            self.entries.append(entry)
        self.tree.append(entry.leaf_hash)
        self.last_time = entry.time
        return signer
