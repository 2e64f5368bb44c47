"""Offline statistics of experiments: intervals, tests, sequential monitoring, power and the per-segment analysis."""
