"""Training for the decision service: event logs in, registered LightGBM models out."""
