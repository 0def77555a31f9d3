"""Missions: a catalogue, explained recommendations, file submissions and rubric-based AI review."""

SCHEMA = "missions"
