"""The model tier's machinery: registry access, safe loading, fast ranking, hot swap."""
