"""Runs inside MLServer's own virtual environment (it imports MLServer's generated stubs).

    body  --model NAME --row JSON --out FILE   write one gRPC-framed ModelInferRequest
    check --model NAME --row JSON --port PORT  one real gRPC ModelInfer call; print the output shape

The main harness cannot import MLServer (it pins its own protobuf), hence this helper.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import grpc
from mlserver.grpc import dataplane_pb2 as pb  # type: ignore[import-not-found]
from mlserver.grpc import dataplane_pb2_grpc as pb_grpc


def infer_request(model: str, row: list[float]) -> pb.ModelInferRequest:
    """A single-row FP32 V2 inference request."""
    tensor = pb.ModelInferRequest.InferInputTensor(
        name="input-0",
        datatype="FP32",
        shape=[1, len(row)],
        contents=pb.InferTensorContents(fp32_contents=row),
    )
    return pb.ModelInferRequest(model_name=model, inputs=[tensor])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["body", "check"])
    parser.add_argument("--model", required=True)
    parser.add_argument("--row", required=True, help="JSON list of feature values")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    request = infer_request(args.model, json.loads(args.row))
    if args.action == "body":
        message = request.SerializeToString()
        args.out.write_bytes(b"\x00" + len(message).to_bytes(4, "big") + message)
        return
    with grpc.insecure_channel(f"127.0.0.1:{args.port}") as channel:
        reply = pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request, timeout=10)
    sys.stdout.write(json.dumps({"shape": list(reply.outputs[0].shape), "bytes": reply.ByteSize()}))


if __name__ == "__main__":
    main()
