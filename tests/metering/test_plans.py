from decimal import Decimal

import pytest

from metering.plans import PlanCatalog, UnknownPlan


def test_the_default_plans() -> None:
    catalog = PlanCatalog.default()
    assert catalog.names() == ["free", "standard", "enterprise"]
    standard = catalog.get("standard")
    assert (standard.bucket_capacity, standard.restore_rate) == (2000, 100.0)


def test_overrides_change_only_what_they_name_and_are_cached() -> None:
    catalog = PlanCatalog.default()
    plan = catalog.resolve("standard", {"monthly_quota": 42, "price_per_1000": "0.25"})
    assert plan.monthly_quota == 42
    assert plan.price_per_1000 == Decimal("0.25")
    assert plan.bucket_capacity == catalog.get("standard").bucket_capacity
    assert catalog.resolve("standard", {"price_per_1000": "0.25", "monthly_quota": 42}) is plan


def test_unknown_plans_and_fields_are_refused() -> None:
    catalog = PlanCatalog.default()
    with pytest.raises(UnknownPlan, match="free, standard, enterprise"):
        catalog.get("platinum")
    with pytest.raises(ValueError, match="colour"):
        catalog.resolve("free", {"colour": "gold"})
