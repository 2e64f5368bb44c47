"""Off-policy evaluation: what another policy would have earned, estimated from logged decisions."""
