"""Billing: plans and tiers, Stripe Checkout and portal, verified webhooks, tier.changed."""

SCHEMA = "billing"
