"""The one error type users see.

Every failure a user can cause (a bad file, a wrong role, a missing key) is raised as a
PrimexError carrying *what* went wrong, *where* (file:line:col, field path, request id) and a
*hint* on how to fix it. The CLI prints it as one line and exits with code 2; no traceback
reaches a user unless --debug is given. Messages must never contain a NISS or a key.
"""

from __future__ import annotations


class PrimexError(Exception):
    """A user-facing error: what happened, where, and how to fix it."""

    exit_code = 2

    def __init__(self, what: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.what = what
        self.where = where
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = []
        if self.where:
            parts.append(f"{self.where}: ")
        parts.append(self.what)
        if self.hint:
            parts.append(f" (hint: {self.hint})")
        return "".join(parts)


class ConfigError(PrimexError):
    """A configuration or declarative file (catalogue, protocol, profile) is invalid."""


class ValidationError(PrimexError):
    """A user-supplied file failed validation; `problems` lists every problem found."""

    def __init__(self, what: str, problems: list[str] | None = None, **kw: str | None) -> None:
        self.problems = list(problems or [])
        super().__init__(what, **kw)  # type: ignore[arg-type]


class PermissionDenied(PrimexError):
    """An actor tried an action its role or the separation of duties forbids."""


class IntegrityError(PrimexError):
    """Something that must verify (a signature, a hash, a proof, a log) does not."""
