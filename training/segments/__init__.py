"""Micro-segments discovered from behaviour: point-in-time features, RFM scores, k-means, names, report."""
