"""Offline studies of the serving bandits: how much each allocation mode loses while it learns."""
