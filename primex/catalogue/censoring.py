"""Censoring codes of linked outcomes: why a linked category has no observed value.

A linked outcome (e.g. `position_group` at `exit+4q`) cannot be observed for every spell:
the spell may still be running (no exit quarter), the target quarter may lie outside the
warehouse's quarters, or the warehouse may hold no row for the person in that quarter.
Censoring is data, not an error: these rows carry an explicit code, counted like any other
category in tables and microdata and explained in the codebook.
"""

from __future__ import annotations

NOT_OBSERVED_RUNNING = "not_observed_running"
NOT_OBSERVED_OUTSIDE_DATA = "not_observed_outside_data"
NO_WAREHOUSE_RECORD = "no_warehouse_record"

CENSORING_CODES: dict[str, str] = {
    NOT_OBSERVED_RUNNING: "not observed: the spell had not ended by the end of the data, so "
                          "the quarter relative to its exit does not exist yet",
    NOT_OBSERVED_OUTSIDE_DATA: "not observed: the target quarter lies outside the quarters "
                               "the warehouse holds (e.g. after the data's end)",
    NO_WAREHOUSE_RECORD: "observed quarter, but the warehouse has no position for the person "
                         "in it (not in the social-security records that quarter)",
}

# Not censoring but an explicit code too: the person is in the warehouse that quarter and the
# variable does not apply (a wage class for someone who is not an employee).
NOT_APPLICABLE = "not_applicable"
NOT_APPLICABLE_DESCRIPTION = ("observed quarter, but the variable does not apply to the "
                              "person's position (e.g. no wage class outside employment)")
# Codes of an outcome that could not be observed: what `censored: drop` removes.
NOT_OBSERVED = (NOT_OBSERVED_RUNNING, NOT_OBSERVED_OUTSIDE_DATA)
