"""The model as native code (lleaves/LLVM); the server process's only importer of lleaves.

Why: LightGBM walks its trees through per-tree heap arrays, and one prediction of a
model with hundreds of trees touches thousands of cache lines that every request must
fetch again (the gRPC work between requests evicts them). Compiled, the trees are
branches on constants: a prediction costs a fraction of LightGBM's fast path, and the
rest of the request runs faster too, because less of the cache is taken (bench/README.md,
"Design figures").

Compiling runs in a throwaway child (compile_child.py), which also checks the native
scores against LightGBM's. The server then reads the object file it wrote once, checks
its sha256, loads exactly those bytes (from a private copy, so nothing can swap the file
in between, and lleaves never finds it missing and compiles in process), and compares
scores once more on the model's input example. Any failure leaves LightGBM's fast path
scoring, which serves meanwhile anyway (decision/tiers/model/store.py).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import tempfile
from pathlib import Path

import numpy as np

from decision.tiers.model.artifact import LocalModel, file_sha256
from decision.tiers.model.compile_child import ROOT_FUNCTION
from decision.tiers.model.errors import ModelLoadError, PredictionError
from decision.tiers.model.load_check import run_child
from decision.tiers.model.rowbuffer import RowBuffer, row_count

logger = logging.getLogger(__name__)

OBJECT_FILE = "model.native.o"
#: Largest score difference from LightGBM accepted (the issue's bound; seen: ~1e-15).
TOLERANCE = 1e-6
_CHILD = Path(__file__).with_name("compile_child.py")
# (data, result, start row, end row); called holding the GIL: one short call gains nothing
# from releasing it, and winning it back is a thread switch on a one-core server process.
_ENTRY = ctypes.PYFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32)
_FIRST_ROW = ctypes.c_int32(0)


class CompiledPredictor:
    """Thread-safe scores of a batch of rows from a compiled model."""

    kind = "native"

    def __init__(self, model: LocalModel, object_file: Path) -> None:
        import lleaves  # optional at import time: a missing package means "not compiled"

        compiled = lleaves.Model(model_file=str(model.model_file))
        compiled.compile(cache=str(object_file), froot_func_name=ROOT_FUNCTION)  # loads, no compile
        self._compiled = compiled  # owns the code: the entry point lives as long as this does
        address = compiled._execution_engine.get_function_address(ROOT_FUNCTION)
        if not address:  # calling address 0 would kill the process
            raise ModelLoadError(f"the compiled code has no {ROOT_FUNCTION}")
        self._entry = _ENTRY(address)
        self._num_features = len(model.feature_names)
        self._closed = False

    def predict_rows(self, rows: RowBuffer) -> np.ndarray:
        """`predict_buffer` as an array."""
        return np.array(self.predict_buffer(rows))

    def predict_buffer(self, rows: RowBuffer) -> list[float]:
        """One score per row of `rows` (decision/tiers/model/rowbuffer.py)."""
        if self._closed:
            raise PredictionError("predictor is closed")
        n = row_count(rows, self._num_features)
        out = bytearray(8 * n)
        if n:
            # addressof(from_buffer) costs a fraction of ndarray.ctypes.data (bench/README.md, "Design figures")
            self._entry(_address(rows), _address(out), _FIRST_ROW, n)
        with memoryview(out).cast("d") as scores:
            values: list[float] = scores.tolist()  # type: ignore[assignment]  # typeshed: list[int]
        return values

    def close(self) -> None:
        """Refuse further predictions. The code itself is freed with the last reference,
        never here: a call in flight on another thread still runs it."""
        self._closed = True


def _address(array: RowBuffer) -> int:
    """The address of a writable, C-contiguous array's first byte."""
    return ctypes.addressof(ctypes.c_char.from_buffer(array))  # type: ignore[arg-type]


def compile_for(model: LocalModel, timeout_s: float, reference: np.ndarray) -> CompiledPredictor:
    """Compile `model` in a child process and load the result; raises ModelLoadError.

    `reference` holds LightGBM's scores for `model.example_rows()`, which the loaded code
    must reproduce.
    """
    where = f"model {model.name} v{model.version}"
    object_file = model.path / OBJECT_FILE
    spec = {
        "model_file": str(model.model_file),
        "object_file": str(object_file),
        "rows": model.example_rows().tolist(),
        "tolerance": TOLERANCE,
    }
    result = run_child(_CHILD, spec, timeout_s, f"{where}: compile")
    if not result.get("ok"):
        raise ModelLoadError(f"{where}: not compiled: {result.get('reason', 'unknown')}")
    code = object_file.read_bytes()
    if hashlib.sha256(code).hexdigest() != result.get("sha256"):
        raise ModelLoadError(f"{where}: {OBJECT_FILE} changed after it was compiled")
    if file_sha256(model.model_file) != model.sha256:
        raise ModelLoadError(f"{where}: {model.model_file.name} changed after download")
    with tempfile.TemporaryDirectory(prefix="decision-native-") as private:
        copy = Path(private) / OBJECT_FILE
        copy.write_bytes(code)
        try:
            predictor = CompiledPredictor(model, copy)
        except Exception as exc:  # ImportError, or lleaves/LLVM refusing the object file
            raise ModelLoadError(f"{where}: compiled code did not load ({type(exc).__name__})") from None
    native = predictor.predict_rows(np.array(model.example_rows(), dtype=np.float64, order="C"))
    max_diff = float(np.max(np.abs(native - reference)))
    if not max_diff <= TOLERANCE:  # also catches NaN
        raise ModelLoadError(f"{where}: compiled scores differ from LightGBM's by {max_diff:.3g}")
    logger.info("model %s v%s compiled (largest score difference %.1g)", model.name, model.version, max_diff)
    return predictor
