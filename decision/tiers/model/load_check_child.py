"""Child-process half of the load check: load a model file, predict, report as JSON on stdout.

Run by path with `python -I`, so it imports nothing from this project: a corrupt
model can kill this process (LightGBM aborts or segfaults on truncated files)
and the parent only sees an exit status. Input on stdin: {"model_file",
"num_features", "rows"}. Output: {"ok": true, "sha256": ...} or
{"ok": false, "reason": ...}; exit status 0 or 2.
"""

import hashlib
import json
import sys
from typing import Any

# lightgbm imports these optional packages when present (~2 s with sklearn and pandas);
# the load check needs none of them, and lightgbm treats a failed import as "not installed".
_OPTIONAL = ("sklearn", "pandas", "pyarrow", "polars", "dask", "matplotlib", "graphviz", "cffi")


def check(spec: dict[str, Any]) -> dict[str, Any]:
    import lightgbm
    import numpy

    with open(spec["model_file"], "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
        booster = lightgbm.Booster(model_str=text)
    except (UnicodeDecodeError, lightgbm.basic.LightGBMError, ValueError) as exc:
        return {"ok": False, "reason": f"load failed: {type(exc).__name__}: {str(exc)[:200]}"}
    if booster.num_model_per_iteration() != 1:
        return {"ok": False, "reason": f"booster has {booster.num_model_per_iteration()} outputs, a ranker one"}
    if booster.num_feature() != spec["num_features"]:
        return {
            "ok": False,
            "reason": f"booster expects {booster.num_feature()} features, metadata lists {spec['num_features']}",
        }
    rows = numpy.asarray(spec["rows"], dtype=numpy.float64)
    scores = numpy.asarray(booster.predict(rows))
    if scores.shape != (rows.shape[0],):
        return {"ok": False, "reason": f"prediction shape {scores.shape}, expected ({rows.shape[0]},)"}
    if not numpy.isfinite(scores).all():
        return {"ok": False, "reason": "prediction has non-finite values"}
    return {"ok": True, "sha256": hashlib.sha256(data).hexdigest()}


def main() -> int:
    for name in _OPTIONAL:  # in the child only: a test calling check() in process keeps its modules
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    result = check(json.load(sys.stdin))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0 if result["ok"] else 2


if __name__ == "__main__":
    sys.exit(main())
