# framewatch inference server. CPU by default; pass --build-arg BASE_IMAGE=<a CUDA Python image> and
# TORCH_SPEC for a GPU build. The checkpoint is mounted at /models/default (see README).
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# Empty TORCH_SPEC: the pin in requirements/torch.txt; set it for a GPU build (e.g. a CUDA wheel spec).
ARG TORCH_SPEC=
WORKDIR /src
RUN python3 -m venv /opt/framewatch
ENV PATH=/opt/framewatch/bin:$PATH
# Optional local wheels (scripts/container.sh puts the CPU build of torch here) are preferred over the index.
COPY docker/wheels/ /wheels/
COPY requirements/torch.txt requirements/torch.txt
# TORCH_SPEC, when set, pins the version (hadolint cannot see through the build argument).
# hadolint ignore=DL3013
RUN if [ -n "${TORCH_SPEC}" ]; then pip install --find-links /wheels "${TORCH_SPEC}"; \
    else pip install --find-links /wheels -r requirements/torch.txt; fi
COPY pyproject.toml README.md ./
COPY framewatch/ framewatch/
COPY training/ training/
COPY serving/ serving/
COPY evaluation/ evaluation/
# The project itself: its dependency pins live in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install --find-links /wheels .

FROM ${BASE_IMAGE} AS runtime
ENV PATH=/opt/framewatch/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    FRAMEWATCH_CHECKPOINT=/models/default \
    FRAMEWATCH_HOST=0.0.0.0 \
    FRAMEWATCH_PORT=8000
RUN groupadd --system --gid 10001 framewatch \
    && useradd --system --uid 10001 --gid framewatch --home-dir /app --create-home framewatch
COPY --from=build /opt/framewatch /opt/framewatch
WORKDIR /app
COPY configs/ configs/
USER 10001:10001
EXPOSE 8000
VOLUME ["/models"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, sys, urllib.request; port = os.environ.get('FRAMEWATCH_PORT', '8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status != 200)"]
CMD ["framewatch", "serve"]
