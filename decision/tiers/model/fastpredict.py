"""LightGBM's single-row fast path (C API via ctypes): about half the time of Booster.predict.

`LGBM_BoosterPredictForMatSingleRowFastInit` races when two threads call it on one
booster (LightGBM#6142), and one FastConfig must not be used by two threads at once.
So configs are created under a lock and lent out from a free list: each call takes
one, predicts, and gives it back. The list grows to the peak number of concurrent
callers, and every config is freed before the booster that backs it.

The predict call goes through a `ctypes.PyDLL` binding, which keeps the GIL for its
few microseconds. The default binding releases it and must win it back afterwards: on a server
process pinned to one core that is a thread switch per call, for no parallelism.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from typing import Any

from lightgbm.basic import _safe_call
from lightgbm.libpath import _LIB

from decision.sources.features import RowWriter
from decision.tiers.model.errors import PredictionError

_PREDICT_NORMAL = 0
_DTYPE_FLOAT64 = 1
_ALL_ITERATIONS = -1
# Single-row scoring gains nothing from OpenMP threads and would fight the server for cores.
_PARAMETERS = b"num_threads=1"
# Same loaded library, bound with argument types, called holding the GIL (see above).
_PREDICT_ROW = ctypes.PyDLL(_LIB._name).LGBM_BoosterPredictForMatSingleRowFast
_PREDICT_ROW.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64), ctypes.c_void_p]
_PREDICT_ROW.restype = ctypes.c_int


class _Config:
    """One FastConfig handle plus its reusable input and output buffers (pointers resolved once)."""

    __slots__ = ("handle", "out", "out_len", "out_len_ref", "out_ptr", "row", "row_ptr")

    def __init__(self, handle: ctypes.c_void_p, num_features: int, num_classes: int) -> None:
        self.handle = handle
        self.row = (ctypes.c_double * num_features)()
        self.row_ptr = ctypes.c_void_p(ctypes.addressof(self.row))
        self.out = (ctypes.c_double * num_classes)()
        self.out_ptr = ctypes.c_void_p(ctypes.addressof(self.out))
        self.out_len = ctypes.c_int64(0)
        self.out_len_ref = ctypes.byref(self.out_len)


class FastPredictor:
    """Thread-safe single-row predictions for one booster, equal to Booster.predict."""

    kind = "lightgbm"

    def __init__(self, booster: Any, num_features: int, num_classes: int) -> None:
        self._booster_handle = booster._handle
        self._num_features = num_features
        self._num_classes = num_classes
        self._init_lock = threading.Lock()
        self._free: list[_Config] = []
        self._all: list[_Config] = []
        # Frees the configs when this object goes away; holding `booster` keeps it alive until then.
        self._finalizer = weakref.finalize(self, _free_configs, self._all, booster)

    def predict_written(self, write: RowWriter) -> list[float]:
        """Class probabilities for the row `write` puts into this scorer's input buffer."""
        if not self._finalizer.alive:
            raise PredictionError("predictor is closed")
        try:
            config = self._free.pop()  # list.pop/append are atomic under the GIL
        except IndexError:
            config = self._new_config()
        try:
            write(config.row)
            _safe_call(_PREDICT_ROW(config.handle, config.row_ptr, config.out_len_ref, config.out_ptr))
            if config.out_len.value != self._num_classes:
                raise PredictionError(
                    f"fast predict returned {config.out_len.value} values, expected {self._num_classes}"
                )
            return config.out[:]
        finally:
            self._free.append(config)

    def close(self) -> None:
        """Free the native configs now; only for owners sure no call is in flight."""
        self._finalizer()

    def _new_config(self) -> _Config:
        handle = ctypes.c_void_p()
        with self._init_lock:
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                    self._booster_handle,
                    ctypes.c_int(_PREDICT_NORMAL),
                    ctypes.c_int(0),
                    ctypes.c_int(_ALL_ITERATIONS),
                    ctypes.c_int(_DTYPE_FLOAT64),
                    ctypes.c_int32(self._num_features),
                    ctypes.c_char_p(_PARAMETERS),
                    ctypes.byref(handle),
                )
            )
            config = _Config(handle, self._num_features, self._num_classes)
            self._all.append(config)
        return config


def _free_configs(configs: list[_Config], booster: Any) -> None:
    """Free every config; `booster` is only passed so that it outlives them."""
    for config in configs:
        _safe_call(_LIB.LGBM_FastConfigFree(config.handle))
    configs.clear()
