"""Regenerate decision/v1 from protos/ (what `make proto` runs; the staleness test runs it too)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
INIT_TEXT = '"""Generated from protos/decision/v1 by `make proto`: never edit by hand."""\n'


def generate(out_dir: Path) -> None:
    """Write *_pb2.py, *_pb2_grpc.py and their .pyi stubs for every proto under protos/."""
    protos = sorted(str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos").rglob("*.proto"))
    # protoc finds protoc-gen-mypy{,_grpc} on PATH: put this interpreter's scripts first.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    include = Path(protoc.__file__).parent / "_proto"
    args = ["protoc", f"-I{ROOT / 'protos'}", f"-I{include}"]
    args += [f"--{kind}_out={out_dir}" for kind in ("python", "grpc_python", "mypy", "mypy_grpc")]
    out_dir.mkdir(parents=True, exist_ok=True)
    if protoc.main([*args, *protos]) != 0:
        raise SystemExit("protoc failed (see above)")
    for proto in protos:
        (out_dir / Path(proto).parent / "__init__.py").write_text(INIT_TEXT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT, help="output root (default: the repository)")
    generate(parser.parse_args().out)


if __name__ == "__main__":
    main()
