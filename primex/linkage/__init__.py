"""primex.linkage: the BCSS side of the trust boundary.

Public API (the keystore is deliberately NOT re-exported: only modules of this package may
import `primex.linkage.keystore`):

* `derive_project_key(master_key, project_id) -> bytes`, `pseudonymise(nn11_values,
  project_key)` (Arrow in, Arrow out; NumPy in, NumPy out; a list otherwise),
  `pseudonymise_column(column, project_key) -> pyarrow.Array`,
  `key_id(project_key) -> str` (pseudonym.py: the scheme pinned with the BCSS);
* `primex.linkage.niss`: normalisation to nn11 and validation with a reason;
* `primex.linkage.join`: the warehouse join at quarters relative to the spell's events;
* `primex.linkage.code.code_extract`: the batch behind `primex linkage code`.
"""

from primex.linkage.pseudonym import (
    derive_project_key,
    key_id,
    pseudonym_of,
    pseudonymise,
    pseudonymise_column,
)

__all__ = [
    "derive_project_key",
    "key_id",
    "pseudonym_of",
    "pseudonymise",
    "pseudonymise_column",
]
