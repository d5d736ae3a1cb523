# The nightly audit's container: `python -m audit` (the registry-guard CLI) and its locked dependencies.
# Build and push it as a versioned image to the project's own registry: see docs/nightly-audit.md.
#
# Base: the official python:3.11-slim image (Debian, CPython 3.11 as pyproject.toml requires), pinned by its
# multi-arch index digest so every build starts from the same bytes. Refresh the digest deliberately
# (docker buildx imagetools inspect python:3.11-slim) and review the change like any dependency bump.
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

# --- build: exactly uv.lock (no dev group), the project installed non-editable into /opt/venv ---------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
RUN python -m pip install "uv==0.13.8"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY audit ./audit
COPY model_registry ./model_registry
COPY localdev ./localdev
COPY policy-pack/registry_guard ./policy-pack/registry_guard
RUN uv sync --frozen --no-dev --no-editable

# --- runtime: the virtualenv only, run as an unprivileged user ---------------------------------------------
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 auditor \
    && useradd --system --uid 10001 --gid auditor --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin auditor
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /tmp
USER 10001:10001
ENTRYPOINT ["python", "-m", "audit"]
CMD ["--help"]
