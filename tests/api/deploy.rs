//! The Kubernetes manifests in `deploy/kubernetes/`: parsed, and held to what operating
//! the service needs (probes on the right paths and ports, secrets never inline,
//! resources set, a locked-down container, the Service reaching the container's port).

use std::path::{Path, PathBuf};

use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

fn load(file: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{file} is not YAML: {e}"))
}

/// Every resource the kustomization lists, by kind.
fn resources() -> Vec<Value> {
    let kustomization = load("kustomization.yaml");
    assert_eq!(kustomization["kind"], "Kustomization");
    kustomization["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|file| load(file.as_str().unwrap()))
        .collect()
}

fn of_kind(resources: &[Value], kind: &str) -> Value {
    let found: Vec<&Value> = resources.iter().filter(|r| r["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found[0].clone()
}

/// A probe's or a Service's port, resolved through the container's named ports.
fn resolve(port: &Value, container: &Value) -> u64 {
    match port {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(name) => container["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name.as_str())
            .unwrap_or_else(|| panic!("no container port named {name}"))["containerPort"]
            .as_u64()
            .unwrap(),
        other => panic!("not a port: {other}"),
    }
}

#[test]
fn the_manifests_are_the_expected_kinds() {
    let resources = resources();
    let mut kinds: Vec<(String, String)> = resources
        .iter()
        .map(|r| {
            (
                r["apiVersion"].as_str().unwrap().to_owned(),
                r["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    let expected = [
        ("apps/v1", "Deployment"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("policy/v1", "PodDisruptionBudget"),
        ("v1", "Service"),
    ];
    assert_eq!(
        kinds,
        expected.map(|(a, k)| (a.to_owned(), k.to_owned())).to_vec()
    );
    let hpa = of_kind(&resources, "HorizontalPodAutoscaler");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"],
        of_kind(&resources, "Deployment")["metadata"]["name"]
    );
}

#[test]
fn the_deployment_probes_health_and_readiness_on_the_served_port() {
    let resources = resources();
    let deployment = of_kind(&resources, "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    let listen = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "LISTEN_ADDR")
        .expect("LISTEN_ADDR is set")["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let served: u64 = listen.rsplit(':').next().unwrap().parse().unwrap();
    for (probe, path) in [
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/healthz"),
    ] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        assert_eq!(resolve(&get["port"], container), served, "{probe}");
    }
    // The Service reaches the container's port, on the same number.
    let service = of_kind(&resources, "Service");
    let ports = service["spec"]["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(resolve(&ports[0]["targetPort"], container), served);
    assert_eq!(ports[0]["port"].as_u64(), Some(served));
    // Selectors all match the pods.
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for selector in [
        &service["spec"]["selector"],
        &deployment["spec"]["selector"]["matchLabels"],
        &of_kind(&resources, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
    ] {
        for (key, value) in selector.as_object().unwrap() {
            assert_eq!(&labels[key], value, "{key}");
        }
    }
}

#[test]
fn secrets_come_from_a_secret_and_never_inline() {
    let resources = resources();
    let deployment = of_kind(&resources, "Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let env = container["env"].as_array().unwrap();
    let sensitive = |name: &str| ["KEY", "SECRET", "TOKEN"].iter().any(|w| name.contains(w));
    let mut checked = Vec::new();
    for var in env {
        let name = var["name"].as_str().unwrap();
        if sensitive(name) {
            assert!(var.get("value").is_none(), "{name} is inline");
            let reference = &var["valueFrom"]["secretKeyRef"];
            assert!(
                reference["name"].is_string() && reference["key"].is_string(),
                "{name} comes from a secretKeyRef"
            );
            checked.push(name);
        }
    }
    for expected in [
        "COMPLYCUBE_API_KEY",
        "FACADE_JWT_SECRET",
        "FACADE_ACCESS_TOKENS",
    ] {
        assert!(checked.contains(&expected), "{expected} in {checked:?}");
    }
    assert!(
        container.get("envFrom").is_none(),
        "no bulk env that could hide a secret"
    );
}

#[test]
fn the_container_is_locked_down_and_sized() {
    let resources = resources();
    let deployment = of_kind(&resources, "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert!(
        security["runAsNonRoot"] == true || pod["securityContext"]["runAsNonRoot"] == true,
        "runs as non-root"
    );
    assert_ne!(security["privileged"], true);
    for kind in ["requests", "limits"] {
        let resources = &container["resources"][kind];
        assert!(resources["memory"].is_string(), "{kind}.memory");
        assert!(!resources["cpu"].is_null(), "{kind}.cpu");
    }
    // Long enough for the shutdown delay and the longest request.
    assert!(pod["terminationGracePeriodSeconds"].as_u64().unwrap() >= 20);
}
