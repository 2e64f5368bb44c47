"""Running the service: parts and their lifecycle, the gRPC server, the process supervisor, logging."""
