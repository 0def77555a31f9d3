"""Launch Journey locally (and under test) on embedded servers from PyPI wheels."""
