"""The experiments tier: experiment files, sticky assignment, allocation, the tier itself."""
