"""The profiler's copy of each user's tier, from journey.billing.tier.changed.

Revision ID: 0003
Revises: 0002
"""

from entitlements.tier_cache import create_tier_cache_table

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    create_tier_cache_table("profiler")
