"""Transport security without gRPC: certificate files checked before use, client tokens hashed at rest."""
