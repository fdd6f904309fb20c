"""Statistical disclosure control: microdata (risk, k-anonymity, l-diversity, perturbation)
and tables (primary/secondary suppression with an attacker audit, cell-key noise, the
release ledger). The public API is re-exported here from the two halves."""

from primex.disclosure._micro_api import *  # noqa: F403
from primex.disclosure._micro_api import __all__ as _micro_all
from primex.disclosure._table_api import *  # noqa: F403
from primex.disclosure._table_api import __all__ as _table_all

__all__ = [*_micro_all, *_table_all]
