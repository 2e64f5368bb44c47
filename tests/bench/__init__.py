"""Tests of the benchmark harness (that it works, not what it measures)."""
