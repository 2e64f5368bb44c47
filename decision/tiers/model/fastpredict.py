"""LightGBM's batch predict called straight through its C API: the scorer until the model is compiled.

One request scores its candidate rows in one `LGBM_BoosterPredictForMat` call on one
thread: Booster.predict adds tens of microseconds of Python around the same call (input
conversion, shape checks), and its default threads would fight the server for the cores.
The booster's own lock makes concurrent calls safe.

The call goes through a `ctypes.PyDLL` binding, which keeps the GIL for its few
microseconds. The default binding releases it and must win it back afterwards: on a server
process pinned to one core that is a thread switch per call, for no parallelism.
"""

from __future__ import annotations

import ctypes
import weakref
from typing import Any

import numpy as np
from lightgbm.basic import _safe_call
from lightgbm.libpath import _LIB

from decision.tiers.model.errors import PredictionError
from decision.tiers.model.rowbuffer import RowBuffer, row_count

_PREDICT_NORMAL = 0
_DTYPE_FLOAT64 = 1
_ROW_MAJOR = 1
_ALL_ITERATIONS = -1
_PARAMETERS = ctypes.c_char_p(b"num_threads=1")
_PREDICT = ctypes.PyDLL(_LIB._name).LGBM_BoosterPredictForMat
_PREDICT.argtypes = [
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.c_int32,
    ctypes.c_int32,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_char_p,
    ctypes.POINTER(ctypes.c_int64),
    ctypes.c_void_p,
]
_PREDICT.restype = ctypes.c_int


class FastPredictor:
    """Thread-safe scores of a batch of rows for one booster, equal to Booster.predict."""

    kind = "lightgbm"

    def __init__(self, booster: Any, num_features: int) -> None:
        self._booster = booster  # keeps the handle alive as long as this predictor
        self._handle = booster._handle
        self._num_features = num_features
        self._closed = weakref.finalize(self, lambda: None)

    def predict_rows(self, rows: RowBuffer) -> np.ndarray:
        """One score per row of `rows` (decision/tiers/model/rowbuffer.py)."""
        if not self._closed.alive:
            raise PredictionError("predictor is closed")
        n = row_count(rows, self._num_features)
        if n == 0:
            return np.zeros(0)
        matrix = rows if isinstance(rows, np.ndarray) else np.frombuffer(rows).reshape(n, self._num_features)
        out = np.empty(n, dtype=np.float64)
        out_len = ctypes.c_int64(0)
        _safe_call(
            _PREDICT(
                self._handle,
                matrix.ctypes.data,
                _DTYPE_FLOAT64,
                n,
                self._num_features,
                _ROW_MAJOR,
                _PREDICT_NORMAL,
                0,
                _ALL_ITERATIONS,
                _PARAMETERS,
                ctypes.byref(out_len),
                out.ctypes.data,
            )
        )
        if out_len.value != n:
            raise PredictionError(f"predict returned {out_len.value} values for {n} rows")
        return out

    def predict_buffer(self, rows: RowBuffer) -> list[float]:
        """`predict_rows` as a list."""
        scores: list[float] = self.predict_rows(rows).tolist()
        return scores

    def close(self) -> None:
        """Refuse further predictions (the booster goes with the last reference)."""
        self._closed()
