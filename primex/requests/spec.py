"""The request spec: what a research centre asks for, as a pydantic v2 model.

The model is the single source of the shape of a request. It is published as JSON Schema
(`primex request schema > request.schema.json`; the committed copy at the repository root is
kept in sync by a test) so that editors complete and check request files through the
`# yaml-language-server: $schema=...` line. The model checks the *shape* (types, formats,
allowed values); `primex.requests.validate` adds what needs the catalogue, the data and the
service policy (variables exist, periods inside the data, minimums respected).

Field names are a contract: extraction, linkage, disclosure and release read them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

BENEFITS = ("RI", "ERIS", "art60", "art61", "PIIS")
Benefit = Literal["RI", "ERIS", "art60", "art61", "PIIS"]

REQUEST_ID_PATTERN = r"^REQ-\d{4}-\d{4,}$"
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$|^\d{4}Q[1-4]$"
LINK_PATTERN = r"^(entry|exit)[+-]\d{1,2}q$"
MEASURE_PATTERN = r"^(count|(sum|mean):[a-z][a-z0-9_]*)$"
PUBLIC_KEY_PATTERN = r"^primex-x25519:[A-Za-z0-9+/]{43}=$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
VARIABLE_PATTERN = r"^[a-z][a-z0-9_]*$"

SPEC_VERSION = 1
GROUP = "group"  # the extract's column naming a spell's group (study | comparison)

VariableName = Annotated[str, Field(pattern=VARIABLE_PATTERN, max_length=64)]


class _Model(BaseModel):
    # strict: YAML already gives typed values, so "5" for a number is a mistake worth
    # reporting rather than silently coercing; extra="forbid": a misspelt field is an error.
    model_config = ConfigDict(extra="forbid", strict=True)


class Requester(_Model):
    """Who asks, and the key the release will be encrypted for."""

    organisation: str = Field(min_length=2, max_length=200, description="Research centre.")
    contact: str = Field(
        pattern=EMAIL_PATTERN, max_length=200, description="E-mail address of the contact person."
    )
    public_key: str = Field(
        pattern=PUBLIC_KEY_PATTERN,
        description=(
            "X25519 public key the release is encrypted for, as printed by "
            "`primex keys init --role researcher`: primex-x25519:<base64 of 32 bytes>."
        ),
    )


class Period(_Model):
    """Months `YYYY-MM` (or quarters `YYYYQn`), both ends included."""

    start: str = Field(pattern=PERIOD_PATTERN, examples=["2023-01", "2023Q1"])
    end: str = Field(pattern=PERIOD_PATTERN, examples=["2024-06", "2024Q2"])

    def start_month(self) -> dt.date:
        """First day of the first month of the period."""
        return period_bound(self.start, end=False)

    def end_month(self) -> dt.date:
        """First day of the last month of the period."""
        return period_bound(self.end, end=True)


def period_bound(text: str, *, end: bool) -> dt.date:
    """`2023-04` → 2023-04-01; `2023Q2` → 2023-04-01 (start) or 2023-06-01 (end)."""
    if "Q" in text:
        year, quarter = text.split("Q")
        month = (int(quarter) - 1) * 3 + (3 if end else 1)
        return dt.date(int(year), month, 1)
    year, month = text.split("-")
    return dt.date(int(year), int(month), 1)


class RangeFilter(_Model):
    """Keep units whose value lies in [min, max] (both included)."""

    min: int | float | None = None
    max: int | float | None = None


FilterValue = RangeFilter | list[str | int | bool]


class Groups(_Model):
    """A study population and a comparison group inside the population (issue 16): a spell
    is in the study group when it matches `study`, else in the comparison group when it
    matches `comparison` (`{}` matches every other spell), else outside the request. The
    extract gets a column `group` (study | comparison) that tables may use as a dimension."""

    study: dict[VariableName, FilterValue] = Field(
        min_length=1, description="Filters that define the study group, e.g. {art60: [true]}.")
    comparison: dict[VariableName, FilterValue] = Field(
        default_factory=dict,
        description="Filters that define the comparison group; {} = every other spell.")


class Population(_Model):
    """Whom the request covers: beneficiaries of these benefits in this period."""

    benefits: list[Benefit] = Field(min_length=1, max_length=5)
    period: Period
    filters: dict[VariableName, FilterValue] = Field(
        default_factory=dict,
        description=(
            "Filters on catalogue variables: a range {min, max} for numbers, a list of values "
            "(REFNIS codes as quoted text, e.g. \"04000\") for categories."
        ),
    )
    groups: Groups | None = Field(
        default=None, description="A study population and a comparison group (column `group`).")


class Linkage(_Model):
    """BCSS warehouse variables observed at quarters relative to an event of the spell."""

    variables: list[VariableName] = Field(min_length=1, max_length=20)
    at: list[Annotated[str, Field(pattern=LINK_PATTERN)]] = Field(
        min_length=1,
        max_length=20,
        description="event (entry | exit) and offset in quarters, e.g. exit+4q, entry-4q.",
        examples=[["exit+4q", "exit+8q"]],
    )
    censored: Literal["keep", "drop"] = Field(
        default="keep",
        description=(
            "Spells whose outcome cannot be observed at a point (still running, or the quarter "
            "lies after the data's end): keep them with an explicit code "
            "(not_observed_running, not_observed_outside_data), or drop them before "
            "protection. The disclosure report and codebook say which, and how many."),
    )


class TableSpec(_Model):
    """One table of counts or amounts."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    dimensions: list[VariableName] = Field(min_length=1, max_length=6)
    measure: str = Field(
        default="count",
        pattern=MEASURE_PATTERN,
        description="count, sum:VARIABLE or mean:VARIABLE.",
    )
    weights: VariableName | None = None


class Regression(_Model):
    """An OLS regression to compare on real and synthetic data."""

    y: VariableName
    x: list[VariableName] = Field(min_length=1, max_length=20)


class Analysis(_Model):
    """One utility analysis for a synthetic release: a cross-table or a regression."""

    crosstab: list[VariableName] | None = Field(default=None, min_length=2, max_length=4)
    regression: Regression | None = None

    @model_validator(mode="after")
    def _one(self) -> Analysis:
        if (self.crosstab is None) == (self.regression is None):
            raise ValueError("give exactly one of crosstab or regression")
        return self


class SyntheticOutput(_Model):
    """Synthetic microdata (kind: synthetic): the model and the analyses to compare."""

    model: Literal["gaussian_copula", "ctgan"] = "gaussian_copula"
    analyses: list[Analysis] = Field(default_factory=list, max_length=20)


class Output(_Model):
    """What leaves: microdata, tables, or synthetic microdata."""

    kind: Literal["microdata", "tables", "synthetic"]
    format: Literal["parquet", "csv"] = "parquet"
    tables: list[TableSpec] = Field(default_factory=list, max_length=50)
    method: Literal["suppression", "cell_key"] | None = Field(
        default=None, description="Protection of tables (kind: tables only)."
    )
    synthetic: SyntheticOutput | None = Field(
        default=None, description="Model and utility analyses (kind: synthetic only)."
    )


class Dominance(_Model):
    """(n, k)-dominance: a cell is sensitive when its n largest contributors exceed k %."""

    n: int = Field(ge=1, le=10)
    k: int | float = Field(gt=0, le=100)


class Disclosure(_Model):
    """Disclosure parameters the researcher proposes. The privacy officer may tighten them,
    never loosen them below the service minimums. A parameter left out takes the minimum."""

    k: int | None = Field(default=None, ge=1, le=1000, description="k-anonymity.")
    l: int | None = Field(default=None, ge=1, le=100, description="distinct l-diversity.")  # noqa: E741
    max_suppression: int | float | None = Field(
        default=None, ge=0, le=1, description="Largest share of records or cells suppressed."
    )
    min_count: int | None = Field(default=None, ge=1, le=1000, description="Table threshold.")
    dominance: Dominance | None = None
    p_percent: int | float | None = Field(default=None, gt=0, le=100, description="p% rule.")
    priorities: dict[VariableName, Literal["keep", "high", "normal", "low"]] = Field(
        default_factory=dict, max_length=50,
        description="Microdata: how much each quasi-identifier matters to the research "
        "(keep: never generalised to its total while another generalisation reaches k).")


class RequestSpec(_Model):
    """A research request."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        title="primex research request",
        json_schema_extra={"$id": "https://primex.example/request.schema.json"},
    )

    version: Literal[1] = Field(
        default=SPEC_VERSION,
        description=(
            "Version of the request format. 1 (the default) is the only version; additions "
            "since (hierarchy levels as variables, population.groups, linkage.censored) are "
            "optional fields that leave every earlier file's meaning unchanged. A change of "
            "meaning gets a new version and the old one stays readable."),
    )
    id: str | None = Field(
        default=None,
        pattern=REQUEST_ID_PATTERN,
        description=(
            "Assigned at submission (e.g. REQ-2026-0001). Leave it out for a new request; keep it "
            "when submitting a returned request again."
        ),
    )
    title: str = Field(min_length=10, max_length=200)
    requester: Requester
    purpose: str = Field(
        min_length=100,
        max_length=20_000,
        description="Why the data are needed and what will be done with them (a few sentences).",
    )
    legal_basis: str = Field(
        min_length=5,
        max_length=300,
        description=(
            "Deliberation of the Information Security Committee, e.g. CSI deliberation 24/123."
        ),
    )
    retention_until: Annotated[dt.date, Field(strict=False)] = Field(
        description="Date after which the released data must be destroyed (YYYY-MM-DD)."
    )
    population: Population
    variables: list[VariableName] = Field(
        min_length=1, max_length=60, description="PRIMA catalogue variables (one row per spell)."
    )
    linkage: list[Linkage] = Field(default_factory=list, max_length=10)
    output: Output
    disclosure: Disclosure = Field(default_factory=Disclosure)

    def policy_overrides(self) -> dict[str, Any]:
        """The proposed disclosure parameters in policy.yaml's nesting, for
        `primex.catalogue.load_policy().tighten(spec.policy_overrides())`."""
        d = self.disclosure
        micro = {"k": d.k, "l": d.l, "max_suppression": d.max_suppression}
        tables: dict[str, Any] = {"min_count": d.min_count, "p_percent": d.p_percent}
        if d.dominance is not None:
            tables["dominance"] = {"n": d.dominance.n, "k": d.dominance.k}
        out = {
            "microdata": {k: v for k, v in micro.items() if v is not None},
            "tables": {k: v for k, v in tables.items() if v is not None},
        }
        return {k: v for k, v in out.items() if v}

    def linked_columns(self) -> list[str]:
        """Names of the linked warehouse columns, e.g. position_group_exit_p4q."""
        return [
            linked_column(variable, at)
            for link in self.linkage
            for variable in link.variables
            for at in link.at
        ]


def linked_column(variable: str, at: str) -> str:
    """`position_group` at `exit+4q` → `position_group_exit_p4q` (data-model naming)."""
    match = re.fullmatch(r"(entry|exit)([+-])(\d{1,2})q", at)
    if match is None:
        raise ValueError(f"not a linkage point: {at}")
    event, sign, offset = match.groups()
    return f"{variable}_{event}_{'p' if sign == '+' else 'm'}{int(offset)}q"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a request (draft 2020-12), as published in request.schema.json."""
    schema = RequestSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
