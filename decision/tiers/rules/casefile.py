"""Run the `tests:` blocks of rule files: the same runner for `rules test`, the store and pytest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from decision.domain import Cart, Context, Request
from decision.tiers.rules.active import ActiveRuleset
from decision.tiers.rules.compiled import Case
from decision.tiers.rules.outcome import RuleOutcome
from decision.tiers.rules.schema import CaseModel

DEFAULT_NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    passed: bool
    why: str

    def line(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return f"{mark} {self.case.case_id}" + ("" if self.passed else f": {self.why}")


def as_utc(moment: datetime) -> datetime:
    """Naive times in rule-file tests and the CLI mean UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def case_now(spec: CaseModel) -> datetime:
    """The server time a case runs at (naive times are UTC; default 2026-01-15T12:00Z)."""
    return _utc(spec.now) or DEFAULT_NOW


def to_request(spec: CaseModel) -> Request:
    """The domain Request a case describes; `cart.idle_minutes` sets `updated_at` from now."""
    raw, now = spec.request, case_now(spec)
    updated = _utc(raw.cart.updated_at)
    if raw.cart.idle_minutes is not None:
        updated = now - timedelta(minutes=raw.cart.idle_minutes)
    ctx = raw.context
    return Request(
        user_id=raw.user_id,
        placement=raw.placement,
        request_id=f"case:{spec.name}",
        context=Context(ctx.region, ctx.device, ctx.channel, ctx.locale, _utc(ctx.client_time)),
        cart=Cart(raw.cart.item_count, raw.cart.value, raw.cart.currency, updated),
        attributes=dict(raw.attributes),
        consent=raw.consent,
    )


def check(spec: CaseModel, outcome: RuleOutcome) -> str:
    """Empty when `outcome` meets the expectation, else why not."""
    expect, problems = spec.expect, []
    if "rule" in expect.model_fields_set and expect.rule != outcome.rule_id:
        problems.append(f"expected rule {expect.rule or 'none'}, got {outcome.rule_id or 'none'}")
    if expect.content is not None and list(outcome.content_ids) != expect.content:
        problems.append(f"expected content {expect.content}, got {list(outcome.content_ids)}")
    if expect.parameters is not None and dict(outcome.parameters) != expect.parameters:
        problems.append(f"expected parameters {expect.parameters}, got {dict(outcome.parameters)}")
    return "; ".join(problems)


def run_case(active: ActiveRuleset, case: Case) -> CaseResult:
    outcome = active.evaluate(to_request(case.spec), case_now(case.spec))
    why = check(case.spec, outcome)
    return CaseResult(case, not why, why)


def run_all(active: ActiveRuleset) -> list[CaseResult]:
    return [run_case(active, case) for case in active.compiled.cases]


def summary(results: list[CaseResult]) -> str:
    passed = sum(r.passed for r in results)
    return f"{'PASS' if passed == len(results) else 'FAIL'} {passed}/{len(results)}"
