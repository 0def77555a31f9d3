"""Tiers, features and limits (filled in with the Billing issue)."""

TIERS = ("free", "plus", "pro")
