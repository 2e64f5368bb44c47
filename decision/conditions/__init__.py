"""The language of ops-edited files (rules, experiments): safe YAML, typed fields, conditions, windows."""
