"""Coaching: habits with schedules, streaks and strength; goals with progress and pace;
reflections with sentiment; suggestions taken from the student's persona."""

SCHEMA = "coaching"
