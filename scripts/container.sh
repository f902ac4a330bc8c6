#!/usr/bin/env bash
# Build and smoke-test the image without a Docker engine (podman, a debootstrapped local base image).
# Not run by CI. Needs root, network access to the Debian mirror and PyPI, and a trained checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKPOINT=${CHECKPOINT:-checkpoints/default}
IMAGE=${IMAGE:-localhost/framewatch:dev}
BASE=localhost/debian-local:bookworm
PORT=${PORT:-8089}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v podman >/dev/null || apt-get install -y podman buildah debootstrap runc
cat > "$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
netns = "host"
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$work/containers.conf"

if ! podman image exists "$BASE"; then
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip bookworm "$work/rootfs" \
    http://deb.debian.org/debian
  tar -C "$work/rootfs" -c . | podman import - "$BASE"
fi
# The CPU build of torch from this machine's pip, so the image does not pull a multi-GB CUDA build.
python3 -m pip download --no-deps -d docker/wheels -r requirements/torch.txt
podman build --format docker --isolation chroot --build-arg BASE_IMAGE="$BASE" \
  -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro -t "$IMAGE" .
podman run -d --rm --name framewatch-smoke --network host -e FRAMEWATCH_HOST=127.0.0.1 -e FRAMEWATCH_PORT="$PORT" \
  -v "$(realpath "$CHECKPOINT")":/models/default:ro "$IMAGE"
trap 'podman stop framewatch-smoke >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
for _ in $(seq 60); do curl -fs "http://127.0.0.1:$PORT/readyz" && break; sleep 2; done
curl -fs -X POST "http://127.0.0.1:$PORT/v1/classify" -H 'content-type: application/json' \
  -d '{"texts": ["They gave their lives for a holy cause."]}'
echo
podman exec framewatch-smoke id -un
podman image inspect --format "healthcheck: {{.HealthCheck.Test}}; user: {{.Config.User}}" "$IMAGE"
echo "container smoke test passed"
