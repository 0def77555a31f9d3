"""Tiers, features and limits: one matrix in code, FastAPI dependencies that enforce it,
and a per-service cache of each user's tier kept from `journey.billing.tier.changed`."""

from entitlements.matrix import FEATURES, LIMITS, TIERS, Tier, has_feature, limit_for, lowest_tier_with
from entitlements.quota import QuotaCheck, check_quota, enforce_quota

__all__ = [
    "FEATURES",
    "LIMITS",
    "TIERS",
    "QuotaCheck",
    "Tier",
    "check_quota",
    "enforce_quota",
    "has_feature",
    "limit_for",
    "lowest_tier_with",
]
