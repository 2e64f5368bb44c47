"""Simulated traffic: synthetic users with a known click model drive a real decision server."""
