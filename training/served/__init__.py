"""Served traffic, offline: the decision and outcome logs joined, turned into training events and KPIs."""
