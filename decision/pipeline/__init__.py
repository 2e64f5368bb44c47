"""The spine of Decide: a per-request context walked through an ordered list of tiers."""
