"""servicekit: the one way each Journey service does its cross-cutting work."""
