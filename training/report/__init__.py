"""How analyses are shown: a plain-text table for the terminal and an HTML page with plots."""
