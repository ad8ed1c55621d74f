#!/usr/bin/env python3
"""The Kubernetes manifests (deploy/kubernetes), checked as CI's deploy step checks them:
each resource against the Kubernetes API's schema (kubernetes-validate, strict), then what
this service needs of them: the expected kinds; probes on the served port; every secret
from a Secret, never inline; a locked-down, sized container.

    manifests.py DIR
"""

import subprocess
import sys

import yaml


def load(directory, name):
    with open(f"{directory}/{name}", encoding="utf-8") as f:
        return yaml.safe_load(f)


def check(condition, message):
    if not condition:
        sys.exit(f"deploy/kubernetes: {message}")


def port_of(port, container):
    if isinstance(port, int):
        return port
    for named in container.get("ports", []):
        if named.get("name") == port:
            return named["containerPort"]
    sys.exit(f"deploy/kubernetes: no container port named {port}")


def main(directory):
    kustomization = load(directory, "kustomization.yaml")
    check(kustomization.get("kind") == "Kustomization", "kustomization.yaml is a Kustomization")
    files = kustomization["resources"]
    subprocess.run(
        ["kubernetes-validate", "--strict", "--quiet", *[f"{directory}/{f}" for f in files]],
        check=True,
    )
    resources = [load(directory, f) for f in files]
    kinds = sorted((r["apiVersion"], r["kind"]) for r in resources)
    check(kinds == [("apps/v1", "Deployment"), ("autoscaling/v2", "HorizontalPodAutoscaler"),
                    ("policy/v1", "PodDisruptionBudget"), ("v1", "Service")], f"kinds {kinds}")
    of = {r["kind"]: r for r in resources}
    deployment, service = of["Deployment"], of["Service"]
    hpa, pdb = of["HorizontalPodAutoscaler"], of["PodDisruptionBudget"]
    check(hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"],
          "the HPA scales the Deployment")

    pod = deployment["spec"]["template"]["spec"]
    check(len(pod["containers"]) == 1, "one container")
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    served = int(env["LISTEN_ADDR"]["value"].rsplit(":", 1)[1])
    for probe, path in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                        ("startupProbe", "/healthz")]:
        get = container[probe]["httpGet"]
        check(get["path"] == path, f"{probe} on {path}")
        check(port_of(get["port"], container) == served, f"{probe} on the served port")
    (port,) = service["spec"]["ports"]
    check(port_of(port["targetPort"], container) == served, "the Service reaches the served port")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for selector in (service["spec"]["selector"], deployment["spec"]["selector"]["matchLabels"],
                     pdb["spec"]["selector"]["matchLabels"]):
        check(all(labels.get(k) == v for k, v in selector.items()), f"selector {selector}")

    sensitive = [n for n in env if any(w in n for w in ("KEY", "SECRET", "TOKEN"))]
    for name in sensitive:
        reference = env[name].get("valueFrom", {}).get("secretKeyRef", {})
        check("value" not in env[name] and reference.get("name") and reference.get("key"),
              f"{name} comes from a secretKeyRef, never inline")
    for expected in ("COMPLYCUBE_API_KEY", "FACADE_JWT_SECRET", "FACADE_ACCESS_TOKENS"):
        check(expected in sensitive, f"{expected} from the Secret")
    check("envFrom" not in container, "no bulk env that could hide a secret")

    security = container["securityContext"]
    check(security.get("allowPrivilegeEscalation") is False, "no privilege escalation")
    check(security.get("readOnlyRootFilesystem") is True, "a read-only root filesystem")
    check(security.get("capabilities", {}).get("drop") == ["ALL"], "every capability dropped")
    check(security.get("runAsNonRoot") or pod.get("securityContext", {}).get("runAsNonRoot"),
          "runs as non-root")
    check(security.get("privileged") is not True, "not privileged")
    for kind in ("requests", "limits"):
        check("memory" in container["resources"][kind] and "cpu" in container["resources"][kind],
              f"{kind} of cpu and memory")
    check(pod["terminationGracePeriodSeconds"] >= 20, "room for the shutdown delay")
    print(f"deploy/kubernetes: {len(resources)} resources valid and as this service needs them")


if __name__ == "__main__":
    main(sys.argv[1])
