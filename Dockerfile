# Airbyte's python-connector layout. Override BASE_IMAGE to build from a local stand-in of the base image.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code

COPY pyproject.toml poetry.lock README.md ./
COPY source_amplitude ./source_amplitude
# The dependencies exactly as poetry.lock pins them, with their hashes (exported by a throwaway Poetry), installed by
# uv (pip's job on the same file, ~10x faster; trusting the system's CAs, as pip does here), then the connector
# itself; the tools' versions are those scripts/lib/tools.sh pins.
RUN python -m venv /tmp/tools \
    && /tmp/tools/bin/pip install --no-cache-dir "poetry==2.2.1" "poetry-plugin-export==1.9.0" "uv==0.13.8" \
    && /tmp/tools/bin/poetry export --only main --format requirements.txt --output /tmp/requirements.txt \
    && export UV_SYSTEM_CERTS=1 \
    && /tmp/tools/bin/uv pip install --system --break-system-packages --no-cache --compile-bytecode --require-hashes \
        -r /tmp/requirements.txt \
    && /tmp/tools/bin/uv pip install --system --break-system-packages --no-cache --compile-bytecode --no-deps . \
    && rm -rf /tmp/tools /tmp/requirements.txt \
    && chown -R airbyte:airbyte /airbyte

# Airbyte reads these labels; the version is pyproject.toml's (unit_tests/test_packaging.py keeps them equal).
LABEL io.airbyte.name="source-amplitude" \
      io.airbyte.version="0.5.0"

ENV AIRBYTE_ENTRYPOINT="source-amplitude"
ENTRYPOINT ["source-amplitude"]

USER airbyte
