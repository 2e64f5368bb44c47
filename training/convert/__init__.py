"""Converters from public logs to the event schema (training/schema.py) and a catalog."""
