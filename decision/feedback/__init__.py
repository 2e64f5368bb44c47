"""What the service records about its decisions, for analysis and learning."""
