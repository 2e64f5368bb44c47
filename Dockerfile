# Serving image: the service, its rule files, nothing for training or tests.
# Stage 1 builds the wheel; stage 2 installs it into a slim runtime as a non-root user.
# The base is pinned to an exact Python and Debian release; add its @sha256 digest
# where your registry can be reached (`docker buildx imagetools inspect`).
FROM python:3.11.7-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY decision ./decision
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11.7-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MALLOC_MMAP_THRESHOLD_=16777216 \
    MALLOC_TRIM_THRESHOLD_=67108864 \
    DECISION_LISTEN=0.0.0.0:50051 \
    DECISION_METRICS_PORT=9464 \
    DECISION_LOG_FORMAT=json \
    DECISION_RULES_PATH=/app/rules \
    DECISION_TLS_CERT_PATH=/etc/decision/tls/tls.crt \
    DECISION_TLS_KEY_PATH=/etc/decision/tls/tls.key \
    DECISION_TOKENS_PATH=/etc/decision/tokens.yaml \
    DECISION_HEALTH_LISTEN=0.0.0.0:50052
# TLS (gRPC and metrics ports) and client tokens are on: mount the certificate and key at
# /etc/decision/tls/ (a Kubernetes TLS secret's tls.crt/tls.key; rotations are picked up) and
# the tokens file (`decision tokens add`) at /etc/decision/tokens.yaml. Mutual TLS: also set
# DECISION_TLS_CLIENT_CA_PATH=/etc/decision/tls/ca.crt. Nothing of it is baked into the image;
# README.md, "Transport security". Health probes use the plaintext health-only port 50052.
# durable-rules builds from source: a compiler is needed only while installing.
COPY --from=build /wheels /wheels
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc g++ \
    && pip install --no-cache-dir /wheels/*.whl \
    && apt-get purge -y gcc g++ && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* /wheels \
    && useradd --uid 1000 --create-home --shell /usr/sbin/nologin decision
WORKDIR /app
COPY --chown=1000:1000 rules ./rules
USER 1000
EXPOSE 50051 50052 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["decision", "health", "--target", "127.0.0.1:50052"]
ENTRYPOINT ["decision", "serve"]
