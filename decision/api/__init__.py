"""The gRPC face: convert and validate requests, delegate to the pipeline, map errors to statuses."""
