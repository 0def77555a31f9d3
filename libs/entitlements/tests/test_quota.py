from __future__ import annotations

from datetime import UTC, datetime

import pytest

from entitlements import check_quota, enforce_quota, has_feature, limit_for, lowest_tier_with
from entitlements.matrix import FEATURES, LIMITS, TIERS
from entitlements.quota import PaymentRequired

NOW = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)


def test_every_limit_and_feature_names_every_tier_and_grows_with_it() -> None:
    for limit in LIMITS.values():
        assert set(limit.per_tier) == set(TIERS)
        allowances = [limit.per_tier[t] for t in TIERS]
        as_numbers = [float("inf") if a is None else a for a in allowances]
        assert as_numbers == sorted(as_numbers), f"{limit.name} shrinks on a higher tier"
    for feature, tiers in FEATURES.items():
        ranks = sorted(TIERS.index(t) for t in tiers)
        assert ranks == list(range(ranks[0], len(TIERS))), f"{feature} is lost on a higher tier"


def test_the_free_tier_matches_the_product_promise() -> None:
    assert limit_for("habits", "free") == 3
    assert limit_for("missions_per_month", "free") == 3
    assert limit_for("active_missions", "free") == 1
    assert limit_for("habits", "plus") == 10
    assert limit_for("habits", "pro") is None
    assert not has_feature("free", "model_ai")
    assert has_feature("plus", "ai_review")
    assert lowest_tier_with(feature="priority_review") == "pro"


def test_within_the_limit_is_allowed() -> None:
    check = check_quota("habits", "free", 2, NOW)
    assert (check.allowed, check.limit, check.used, check.lifted_by, check.resets_at) == (True, 3, 2, None, None)


def test_over_a_monthly_limit_names_the_reset_and_the_tier_that_lifts_it() -> None:
    check = check_quota("missions_per_month", "free", 3, NOW)
    assert not check.allowed
    assert check.lifted_by == "plus"
    assert check.resets_at == datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(PaymentRequired) as caught:
        enforce_quota(check)
    assert caught.value.status == 402
    assert caught.value.extra["limit_name"] == "missions_per_month"
    assert caught.value.extra["lifted_by"] == "plus"
    assert caught.value.extra["resets_at"] == "2026-12-01T00:00:00+00:00"
    assert "missions_per_month" in caught.value.detail


def test_december_resets_in_january_and_a_plus_user_is_lifted_by_pro() -> None:
    december = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    check = check_quota("missions_per_month", "plus", 15, december)
    assert check.resets_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert check.lifted_by == "pro"


def test_unlimited_is_always_allowed() -> None:
    assert check_quota("habits", "pro", 10_000, NOW).allowed
