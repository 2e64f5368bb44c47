"""What tiers read: feature definitions, the content catalog, user profiles."""
