"""The rows a predictor scores, and the one check both predictors make before scoring them.

Float64 rows of the model's width in C order, in a writable buffer: a bytearray, as the request
path builds them for a few candidates, or a numpy array (decision/sources/features.py
`row_buffer`, load checks, tests). A wrong width is refused, never padded or cut.
"""

from __future__ import annotations

import numpy as np

from decision.tiers.model.errors import PredictionError

RowBuffer = bytearray | np.ndarray


def row_count(rows: RowBuffer, num_features: int) -> int:
    """How many rows `rows` holds; PredictionError unless they are float64 rows of `num_features`."""
    if isinstance(rows, np.ndarray):
        if rows.ndim != 2 or rows.shape[1] != num_features or not rows.flags.c_contiguous or rows.dtype != np.float64:
            raise PredictionError(f"expected C-contiguous (n, {num_features}) rows, got {rows.shape} of {rows.dtype}")
        return int(rows.shape[0])
    n, rest = divmod(len(rows), 8 * num_features)
    if rest:
        raise PredictionError(f"expected rows of {num_features} float64 values, got {len(rows)} bytes")
    return n
