"""Generated from protos/decision/v1 by `make proto`: never edit by hand."""
