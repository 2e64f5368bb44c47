"""The `training` subcommands beyond train/evaluate/promote, one module per area; only option parsing lives here."""
