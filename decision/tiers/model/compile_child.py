"""Child-process half of model compilation: LightGBM model file -> native object file (lleaves).

Run by path with `python -I`, like the load check, so it imports nothing from this project:
LLVM is a large C++ library, and a model that LightGBM accepts has not necessarily been
seen by lleaves' own parser. If either crashes, only this process dies. Input on stdin:
{"model_file", "object_file", "rows", "tolerance"}. It compiles the model, then checks the
native scores against LightGBM's on the given rows and on perturbed copies of them (NaN
included, as LightGBM reads missing values). Output: {"ok": true, "sha256": <object
file>, "max_diff": ...} or {"ok": false, "reason": ...}; exit status 0 or 2.
"""

import hashlib
import json
import os
import sys
from typing import Any

ROOT_FUNCTION = "forest_root"  # the compiled entry point; the server looks it up by this name
_OPTIONAL = ("sklearn", "pandas", "pyarrow", "polars", "dask", "matplotlib", "graphviz", "cffi")


def check_rows(rows: Any, seed: int = 7) -> Any:
    """The given rows plus perturbed copies: shuffled columns, 10 % NaN, sign flips."""
    import numpy

    rng = numpy.random.default_rng(seed)
    base = numpy.repeat(rows, max(1, 200 // len(rows)), axis=0)
    shuffled = numpy.take_along_axis(base, rng.permuted(numpy.indices(base.shape)[0], axis=0), axis=0)
    missing = numpy.where(rng.random(base.shape) < 0.1, numpy.nan, shuffled)
    flipped = base * numpy.where(rng.random(base.shape) < 0.1, -1.0, 1.0)
    return numpy.vstack([rows, shuffled, missing, flipped])


def compile_model(spec: dict[str, Any]) -> dict[str, Any]:
    import lightgbm
    import numpy

    try:
        import lleaves
    except ImportError as exc:
        return {"ok": False, "reason": f"lleaves is not installed ({exc.name})"}
    if os.path.exists(spec["object_file"]):
        os.remove(spec["object_file"])  # lleaves would load a stale file instead of compiling
    try:
        model = lleaves.Model(model_file=spec["model_file"])
        model.compile(cache=spec["object_file"], froot_func_name=ROOT_FUNCTION)
    except Exception as exc:
        return {"ok": False, "reason": f"compile failed: {type(exc).__name__}: {str(exc)[:200]}"}
    rows = check_rows(numpy.asarray(spec["rows"], dtype=numpy.float64))
    native = numpy.asarray(model.predict(rows, n_jobs=1)).reshape(len(rows), -1)
    reference = numpy.asarray(lightgbm.Booster(model_file=spec["model_file"]).predict(rows)).reshape(len(rows), -1)
    if native.shape != reference.shape:
        return {"ok": False, "reason": f"native output shape {native.shape}, LightGBM {reference.shape}"}
    max_diff = float(numpy.nanmax(numpy.abs(native - reference)))
    if not numpy.isfinite(native).all() or max_diff > spec["tolerance"]:
        return {"ok": False, "reason": f"native scores differ from LightGBM's by up to {max_diff:.3g}"}
    with open(spec["object_file"], "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {"ok": True, "sha256": digest, "max_diff": max_diff, "rows": len(rows)}


def main() -> int:
    # The child inherits the serving process's CPU (it is pinned with --processes N): let
    # the requests on that core go first.
    os.nice(10)
    for name in _OPTIONAL:  # in the child only: a test calling compile_model() in process keeps its modules
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    result = compile_model(json.load(sys.stdin))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0 if result["ok"] else 2


if __name__ == "__main__":
    sys.exit(main())
