"""Plans: what a company may spend, how fast it refills, and what it pays.

A plan names a leaky bucket (capacity in cost points, restored at ``restore_rate`` points
a second), the most one operation may cost, a monthly quota and a price. Companies pick a
plan by name and may override any of its numbers::

    catalog = PlanCatalog.default()
    plan = catalog.resolve("standard", {"monthly_quota": 10_000_000})
    plan.bucket_capacity  # 2000
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal
from typing import Any

__all__ = ["DEFAULT_PLANS", "Plan", "PlanCatalog", "UnknownPlan"]


class UnknownPlan(ValueError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"Unknown plan {name!r}; plans are: {', '.join(known)}.")


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    bucket_capacity: int  # cost points the bucket holds when full
    restore_rate: float  # cost points restored per second
    max_operation_cost: int  # one operation above this is refused before it runs
    monthly_quota: int  # cost points per calendar month (UTC)
    price_per_1000: Decimal  # amount billed per 1,000 cost points

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["price_per_1000"] = str(self.price_per_1000)
        return data


DEFAULT_PLANS: tuple[Plan, ...] = (
    Plan("free", 500, 25.0, 500, 100_000, Decimal("0")),
    Plan("standard", 2_000, 100.0, 1_000, 5_000_000, Decimal("0.50")),
    Plan("enterprise", 10_000, 500.0, 5_000, 100_000_000, Decimal("0.30")),
)

_OVERRIDABLE = frozenset(f.name for f in fields(Plan)) - {"name"}


class PlanCatalog:
    """The named plans, and each company's effective plan after its overrides."""

    def __init__(self, plans: tuple[Plan, ...] = DEFAULT_PLANS) -> None:
        self._plans = {plan.name: plan for plan in plans}
        self._resolved: dict[tuple[str, tuple[tuple[str, Any], ...]], Plan] = {}

    @classmethod
    def default(cls) -> PlanCatalog:
        return cls()

    def __iter__(self) -> Iterator[Plan]:
        return iter(self._plans.values())

    def names(self) -> list[str]:
        return list(self._plans)

    def get(self, name: str) -> Plan:
        try:
            return self._plans[name]
        except KeyError:
            raise UnknownPlan(name, self.names()) from None

    def resolve(self, name: str, overrides: Mapping[str, Any] | None = None) -> Plan:
        """The plan with a company's overrides applied; cached, it runs on every request."""
        key = (name, tuple(sorted(overrides.items())) if overrides else ())
        plan = self._resolved.get(key)
        if plan is None:
            plan = self.get(name)
            if overrides:
                unknown = set(overrides) - _OVERRIDABLE
                if unknown:
                    raise ValueError(f"Unknown plan fields: {', '.join(sorted(unknown))}.")
                converted: dict[str, Any] = {
                    k: Decimal(str(v)) if k == "price_per_1000" else v for k, v in overrides.items()
                }
                plan = replace(plan, **converted)
            self._resolved[key] = plan
        return plan
