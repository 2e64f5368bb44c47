"""Decision service: rules first, then a LightGBM model, then a default."""

__version__ = "0.1.0"
