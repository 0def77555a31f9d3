"""Profiler: a questionnaire session, then an AI-written Future-You persona."""

SCHEMA = "profiler"
