"""Benchmark harness: the decision service against the bare gRPC ceiling and its peers."""
