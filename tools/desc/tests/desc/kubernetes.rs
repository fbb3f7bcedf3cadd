//! The rendered Helm chart against mall.toml (issue 18, point 4): `mall ci`'s `kubernetes`
//! step renders deploy/helm/mall with Helm's engine and runs these with MALL_K8S_RENDERED
//! naming the directory of the renders (`default.yaml`, `production.yaml`, `dev.yaml`).
//! Ignored in a plain `cargo test`: rendering needs the test virtualenv.

use std::path::PathBuf;

use serde_norway::Value;

fn renders() -> Vec<(String, Vec<Value>)> {
    let dir = std::env::var("MALL_K8S_RENDERED")
        .map(PathBuf::from)
        .expect("MALL_K8S_RENDERED names the rendered chart (mall ci --only kubernetes)");
    ["default", "production", "dev"]
        .iter()
        .map(|name| {
            let path = dir.join(format!("{name}.yaml"));
            let text = std::fs::read_to_string(&path).expect("the render is readable");
            let docs = serde_norway::Deserializer::from_str(&text)
                .map(|d| serde::Deserialize::deserialize(d).expect("a YAML document"))
                .filter(|v: &Value| !v.is_null())
                .collect();
            (name.to_string(), docs)
        })
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
}

fn get<'a>(docs: &'a [Value], kind: &str, name: &str, render: &str) -> &'a Value {
    find(docs, kind, name).unwrap_or_else(|| panic!("{render}: no {kind} {name}"))
}

#[test]
#[ignore = "needs the rendered chart: mall ci --only kubernetes"]
fn every_slot_part_runs_blue_and_green_on_its_port_with_its_probes() {
    let mall = mall_desc::load(&crate::root()).expect("mall.toml is valid");
    let port = u64::from(mall.compose.container_port);
    for (render, docs) in renders() {
        for part in mall.slot_parts() {
            for slot in ["blue", "green"] {
                let name = format!("{}-{slot}", part.name);
                let d = get(&docs, "Deployment", &name, &render);
                let c = &d["spec"]["template"]["spec"]["containers"][0];
                assert_eq!(
                    c["ports"][0]["containerPort"].as_u64(),
                    Some(port),
                    "{render} {name}"
                );
                assert_eq!(
                    c["readinessProbe"]["httpGet"]["path"].as_str(),
                    Some(part.ready.as_str())
                );
                assert_eq!(
                    c["livenessProbe"]["httpGet"]["path"].as_str(),
                    Some(part.health.as_str())
                );
                let image = c["image"].as_str().unwrap_or_default();
                assert!(
                    image.contains(&format!("/{}:", part.binary)),
                    "{render} {name}: {image}"
                );
                assert_eq!(
                    d["spec"]["template"]["metadata"]["labels"]["mall/slot"].as_str(),
                    Some(slot)
                );
                get(&docs, "PodDisruptionBudget", &name, &render);
                if render != "dev" {
                    get(&docs, "HorizontalPodAutoscaler", &name, &render);
                }
            }
            let s = get(&docs, "Service", &part.name, &render);
            assert_eq!(
                s["spec"]["ports"][0]["port"].as_u64(),
                Some(port),
                "{render}"
            );
            let live = s["spec"]["selector"]["mall/slot"].as_str();
            assert!(
                matches!(live, Some("blue" | "green")),
                "{render} {}",
                part.name
            );
            let np = get(&docs, "NetworkPolicy", &part.name, &render);
            let rule = &np["spec"]["ingress"][0];
            assert_eq!(rule["ports"][0]["port"].as_u64(), Some(port));
            assert_eq!(
                rule["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str(),
                Some("edge"),
                "{render}: only the edge reaches {}",
                part.name
            );
        }
    }
}

#[test]
#[ignore = "needs the rendered chart: mall ci --only kubernetes"]
fn the_edge_routes_every_location_to_its_services_service() {
    let mall = mall_desc::load(&crate::root()).expect("mall.toml is valid");
    let port = mall.compose.container_port;
    for (render, docs) in renders() {
        let cm = get(&docs, "ConfigMap", "edge-upstreams", &render);
        let select = cm["data"]["select.inc"].as_str().expect("select.inc");
        for part in mall.slot_parts() {
            let ident = part.ident();
            assert!(
                select.contains(&format!("set ${ident}_up {ident}_live;")),
                "{render}"
            );
            let conf = cm["data"][format!("{}.conf", part.name).as_str()]
                .as_str()
                .unwrap_or_else(|| panic!("{render}: no upstream file of {}", part.name));
            assert!(
                conf.contains(&format!("upstream {ident}_live {{")),
                "{render}"
            );
            assert!(
                conf.contains(&format!("server {}:{port};", part.name)),
                "{render}"
            );
        }
        // Every route and location of mall.toml lands on a part the chart serves.
        for service in mall
            .locations
            .iter()
            .filter_map(|l| l.service.as_deref())
            .chain(mall.routes.iter().map(|r| r.service.as_str()))
        {
            get(&docs, "Service", service, &render);
        }
        let edge = get(&docs, "Deployment", "edge", &render);
        let ports: Vec<u64> = edge["spec"]["template"]["spec"]["containers"][0]["ports"]
            .as_sequence()
            .expect("ports")
            .iter()
            .filter_map(|p| p["containerPort"].as_u64())
            .collect();
        assert_eq!(
            ports,
            [8080, 8081],
            "{render}: public and internal listeners"
        );
        let internal = get(&docs, "Service", "edge-internal", &render);
        assert_eq!(internal["spec"]["type"].as_str(), Some("ClusterIP"));
    }
}

#[test]
#[ignore = "needs the rendered chart: mall ci --only kubernetes"]
fn stand_ins_and_the_dev_database_only_in_dev() {
    let mall = mall_desc::load(&crate::root()).expect("mall.toml is valid");
    for (render, docs) in renders() {
        let dev = render == "dev";
        for part in mall.parts.iter().filter(|p| !p.slots) {
            assert_eq!(
                find(&docs, "Deployment", &part.name).is_some(),
                dev,
                "{render} {}",
                part.name
            );
        }
        assert_eq!(
            find(&docs, "StatefulSet", "mysql").is_some(),
            dev,
            "{render}"
        );
        let job = get(&docs, "Job", "db-setup", &render);
        let hook = job["metadata"]["annotations"]["helm.sh/hook"].as_str();
        assert_eq!(
            hook.is_some(),
            !dev,
            "{render}: db-setup is a hook unless the database is in the release"
        );
    }
}

#[test]
#[ignore = "needs the rendered chart: mall ci --only kubernetes"]
fn every_container_is_non_root_read_only_and_bounded() {
    for (render, docs) in renders() {
        for d in &docs {
            let spec = &d["spec"]["template"]["spec"];
            if spec.is_null() {
                continue;
            }
            let name = d["metadata"]["name"].as_str().unwrap_or_default();
            assert_eq!(
                spec["securityContext"]["runAsNonRoot"].as_bool(),
                Some(true),
                "{render} {name}"
            );
            let containers = spec["containers"].as_sequence().into_iter().flatten();
            let inits = spec["initContainers"].as_sequence().into_iter().flatten();
            for c in containers.chain(inits) {
                let sc = &c["securityContext"];
                assert_eq!(
                    sc["readOnlyRootFilesystem"].as_bool(),
                    Some(true),
                    "{render} {name}"
                );
                assert_eq!(
                    sc["allowPrivilegeEscalation"].as_bool(),
                    Some(false),
                    "{render} {name}"
                );
                assert!(
                    !c["resources"]["limits"]["memory"].is_null(),
                    "{render} {name}"
                );
                assert!(
                    !c["resources"]["requests"]["cpu"].is_null(),
                    "{render} {name}"
                );
                // Secrets are files from Secret objects, never values in the manifest.
                for e in c["env"].as_sequence().into_iter().flatten() {
                    let n = e["name"].as_str().unwrap_or_default();
                    assert!(
                        !n.contains("PASSWORD") || n.ends_with("_FILE"),
                        "{render} {name}: {n}"
                    );
                }
            }
        }
    }
}

/// A caller (mall.toml's `calls`) gets `<CALLEE>_URL` naming the callee's Service, in both
/// slots; the callee's network policy admits exactly the edge and its callers.
#[test]
#[ignore = "needs the rendered chart: mall ci --only kubernetes"]
fn callers_reach_their_callees_services_and_only_they_do() {
    let mall = mall_desc::load(&crate::root()).expect("mall.toml is valid");
    let port = mall.compose.container_port;
    for (render, docs) in renders() {
        for part in mall.slot_parts() {
            for slot in ["blue", "green"] {
                let name = format!("{}-{slot}", part.name);
                let d = get(&docs, "Deployment", &name, &render);
                let env = d["spec"]["template"]["spec"]["containers"][0]["env"]
                    .as_sequence()
                    .expect("env");
                let value = |k: &str| {
                    env.iter()
                        .filter(|e| e["name"].as_str() == Some(k))
                        .map(|e| e["value"].as_str().unwrap_or_default().to_owned())
                        .collect::<Vec<_>>()
                };
                for callee in &part.calls {
                    let var = format!("{}_URL", callee.to_uppercase().replace('-', "_"));
                    assert_eq!(
                        value(&var),
                        [format!("http://{callee}:{port}")],
                        "{render} {name} {var}"
                    );
                }
            }
            let policy = get(&docs, "NetworkPolicy", &part.name, &render);
            let mut admitted: Vec<String> = Vec::new();
            for rule in policy["spec"]["ingress"].as_sequence().expect("ingress") {
                for from in rule["from"].as_sequence().expect("from") {
                    let selector = &from["podSelector"];
                    if let Some(n) = selector["matchLabels"]["app.kubernetes.io/name"].as_str() {
                        admitted.push(n.to_owned());
                    }
                    for e in selector["matchExpressions"]
                        .as_sequence()
                        .into_iter()
                        .flatten()
                    {
                        assert_eq!(e["operator"].as_str(), Some("In"), "{render}");
                        let names = e["values"].as_sequence().expect("values");
                        admitted.extend(names.iter().filter_map(|v| v.as_str().map(str::to_owned)));
                    }
                }
            }
            let mut expected: Vec<String> = mall
                .parts
                .iter()
                .filter(|q| q.calls.contains(&part.name))
                .map(|q| q.name.clone())
                .chain(["edge".to_owned()])
                .collect();
            admitted.sort();
            expected.sort();
            assert_eq!(admitted, expected, "{render}: who may reach {}", part.name);
        }
    }
}
