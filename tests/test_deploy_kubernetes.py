"""deploy/kubernetes: the embedded configs load, the shard comes from the ordinal, the pod runs
non-root on a read-only root with a writable data dir, and the manifests agree with each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitor.alerting.rules import parse_alert_rules
from monitor.config import parse_config
from monitor.fleet.sharding import resolve

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"


def _docs(name: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((DEPLOY / name).read_text()))


def _statefulset() -> dict[str, Any]:
    (sts,) = _docs("statefulset.yaml")
    return sts


def test_configmap_files_are_valid() -> None:
    (cm,) = _docs("configmap.yaml")
    config = parse_config(cm["data"]["monitor.yaml"], "monitor.yaml")
    rules = parse_alert_rules(
        cm["data"]["alerts.yaml"],
        "alerts.yaml",
        services=[s.name for s in config.services],
        env={"ALERTMANAGER_URL": "http://alertmanager:9093"},
    )
    assert [r.type for r in rules.receivers.values()] == ["alertmanager"]


def test_shard_count_matches_replicas_and_ordinals_resolve() -> None:
    sts = _statefulset()
    container = sts["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    shards, count = int(env["MONITOR_SHARDS"]), sts["spec"]["replicas"]
    assert shards == count
    name = sts["metadata"]["name"]
    specs = [
        resolve(shard=None, shards=shards, replicas=int(env["MONITOR_REPLICAS"]),
                hostname=f"{name}-{i}")
        for i in range(count)
    ]  # fmt: skip
    assert [s.index for s in specs if s is not None] == list(range(count))


def test_pod_is_locked_down_with_writable_data() -> None:
    pod = _statefulset()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    data_dir = next(a.split("=", 1)[1] for a in container["args"] if a.startswith("--data-dir"))
    claims = {c["metadata"]["name"] for c in _statefulset()["spec"]["volumeClaimTemplates"]}
    assert mounts[data_dir] in claims
    assert "/tmp" in mounts
    assert container["resources"]["requests"]["cpu"]
    assert container["resources"]["requests"]["memory"]


def test_services_and_kustomization_agree() -> None:
    headless, _ = _docs("service.yaml")
    assert headless["spec"]["clusterIP"] == "None"
    assert _statefulset()["spec"]["serviceName"] == headless["metadata"]["name"]
    (kustomization,) = _docs("kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (DEPLOY / resource).is_file()
