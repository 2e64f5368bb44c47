"""The rules tier: versioned YAML rule files, validated, compiled to durable-rules, hot-reloaded."""
