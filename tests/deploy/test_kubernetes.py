"""``deploy/kubernetes/``: valid against the Kubernetes schemas (offline), and consistent with the server it runs.

kubernetes-validate ships the API schemas of each Kubernetes release, so the
check needs no cluster and no network. Strict mode refuses fields the API does
not know, which is how a misspelt key would otherwise be dropped silently.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from framewatch.config import load_config

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((REPO / "deploy" / "kubernetes").glob("*.yaml"))
OLDEST_KUBERNETES = "1.31.0"
"""The oldest Kubernetes release the manifests are checked against (besides the newest the validator knows)."""
DRAIN_MARGIN_S = 5
"""What the grace period must leave after the preStop sleep and the drain, for the process to exit."""


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _deployment() -> dict:
    return _documents(REPO / "deploy" / "kubernetes" / "deployment.yaml")[0]


def _container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, kubernetes_validate.utils.latest_version()])
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_valid(path, version):
    for document in _documents(path):
        kubernetes_validate.validate(document, version, strict=True)


def _misspelt(d: dict) -> None:
    _container(d)["readinessProbe"]["httpGet"]["paht"] = "/readyz"


def _wrong_type(d: dict) -> None:
    d["spec"]["replicas"] = "two"


def _missing_name(d: dict) -> None:
    del _container(d)["name"]


@pytest.mark.parametrize("breakage", [_misspelt, _wrong_type, _missing_name])
def test_the_validator_rejects_a_broken_manifest(breakage):
    broken = copy.deepcopy(_deployment())
    breakage(broken)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, OLDEST_KUBERNETES, strict=True)


def _overrides(container: dict) -> list[str]:
    args = container["args"]
    return [args[i + 1] for i, arg in enumerate(args) if arg == "--set"]


def test_termination_waits_for_the_drain_and_the_drain_for_every_admitted_request():
    deployment = _deployment()
    container = _container(deployment)
    serving = load_config(REPO / "configs" / "default.yaml", _overrides(container)).serving
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert serving.drain_timeout_s >= serving.request_timeout_s
    assert grace >= pre_stop + serving.drain_timeout_s + DRAIN_MARGIN_S


def test_probes_use_the_server_health_routes():
    from framewatch.serving.routes_info import router

    paths = {route.path for route in router.routes}
    container = _container(_deployment())
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" in paths
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" in paths
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env["FRAMEWATCH_PORT"]) == port


def test_runs_as_the_image_user_with_a_read_only_root_and_checkpoint():
    spec = _deployment()["spec"]["template"]["spec"]
    container = _container(_deployment())
    image_user = re.search(r"^USER (\d+):(\d+)$", (REPO / "Dockerfile").read_text(), re.M)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert str(spec["securityContext"]["runAsUser"]) == image_user.group(1)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert mounts["checkpoints"]["readOnly"] is True
    assert env["FRAMEWATCH_CHECKPOINT"].startswith(mounts["checkpoints"]["mountPath"] + "/")
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["checkpoints"]["persistentVolumeClaim"]["readOnly"] is True
    assert env["FRAMEWATCH_TORCH_THREADS"] == container["resources"]["requests"]["cpu"]


def test_api_keys_come_from_the_secret_files_the_server_reads():
    container = _container(_deployment())
    serving = load_config(REPO / "configs" / "default.yaml", _overrides(container)).serving
    secret_mount = {m["name"]: m for m in container["volumeMounts"]}["api-keys"]
    volumes = {v["name"]: v for v in _deployment()["spec"]["template"]["spec"]["volumes"]}
    items = {item["path"] for item in volumes["api-keys"]["secret"]["items"]}
    assert "optional" not in volumes["api-keys"]["secret"]  # no Secret, no pod: the API is never open by accident
    for path in (serving.api_keys_file, serving.admin_keys_file):
        assert path.parent == Path(secret_mount["mountPath"]) and path.name in items


def test_the_service_and_autoscaler_point_at_the_deployment():
    deployment = _deployment()
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = _documents(REPO / "deploy" / "kubernetes" / "service.yaml")[0]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    hpa = _documents(REPO / "deploy" / "kubernetes" / "hpa.yaml")[0]
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert "cpu" in _container(deployment)["resources"]["requests"]  # utilisation is a share of the request
