"""The tiers a decision can come from; one package each, and tiers never import each other."""
