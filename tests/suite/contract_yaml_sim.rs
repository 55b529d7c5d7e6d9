//! The simulator's Azure Pipelines (YAML) face against Microsoft's documents
//! (`tests/data/specs/devops-yaml/`, vendored verbatim from `shared/azure-examples/devops-yaml`):
//! every route, called over HTTP through the recording proxy of `tests/suite/contract.rs`, answers in
//! the documented shape (the swagger operation's response schema, `{count, value}` for lists),
//! and refusals in Azure DevOps' error shape. The requests here are the test's own; the checks
//! of relcon's YAML adapter's requests belong with that adapter. Throttling applies to these
//! routes as to the rest.

#[allow(dead_code)]
use crate::contract::{recorder, swagger};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use recorder::{Exchange, Recorder};
use relcon::sim::{DevOpsFlavor, SimOptions, start};
use serde_json::{Value, json};
use swagger::{Spec, errors, load_json, path_matches};

fn specs() -> Vec<Spec> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/specs/devops-yaml/spec");
    let spec = |name: &'static str, file: &str| Spec::new(name, load_json(&d.join(file)));
    vec![
        spec("Approvals 7.1", "pipelinesapproval-7.1.json"),
        spec("Checks 7.1-preview", "pipelinesChecks-7.1.json"),
        spec("Pipelines 7.1", "pipelines-7.1.json"),
        spec("Build 7.1", "build-7.1.json"),
        spec("Task Agent 7.1", "taskAgent-7.1.json"),
    ]
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/specs/devops-yaml")
}

/// Where a response departs from the letter of a vendored document, and why (docs/AZURE.md):
/// the operation, the start of the problem, and the reason.
const DEVIATIONS: &[(&str, &str, &str)] = &[(
    "Runs_",
    "/templateParameters/additionalProperties/type",
    "the swagger renders .NET's IDictionary<string, object> as values of `type: object`; the \
     values are any JSON value, and template parameters are strings (Runs - Run Pipeline's own \
     body, the seed's rollback parameters)",
)];

fn deviation(problem: &str) -> bool {
    DEVIATIONS
        .iter()
        .any(|(op, p, _)| problem.contains(&format!(" {op}")) && problem.contains(p))
}

/// The operation a simulator response answers, and what is wrong with the response.
fn check(specs: &[Spec], x: &Exchange) -> Result<String, Vec<String>> {
    let label = format!("{} {}", x.method, x.path);
    // The main timeline without `{timelineId}` is what Microsoft's client sends (README).
    let path = if x.path.to_ascii_lowercase().ends_with("/timeline") {
        format!("{}/main", x.path)
    } else {
        x.path.clone()
    };
    let mut ops: Vec<_> = specs
        .iter()
        .flat_map(|s| s.operations())
        .filter(|o| o.method == x.method)
        .filter_map(|o| path_matches(&o.template, &path).map(|v| (o, v.len())))
        .collect();
    ops.sort_by_key(|(_, vars)| *vars);
    let Some((op, _)) = ops.into_iter().next() else {
        return Err(vec![format!("{label}: no documented operation")]);
    };
    let id = op.id();
    if x.status != 200 {
        // Refusals: Azure DevOps' error body.
        let body = x.response.clone().unwrap_or(Value::Null);
        let ok = [
            "$id",
            "message",
            "typeName",
            "typeKey",
            "errorCode",
            "eventId",
        ]
        .iter()
        .all(|k| body.get(k).is_some());
        return if ok {
            Ok(format!("{id} (HTTP {})", x.status))
        } else {
            Err(vec![format!(
                "{label}: HTTP {} without a DevOps error body: {body}",
                x.status
            )])
        };
    }
    let Some(documented) = op.op["responses"].get("200") else {
        return Err(vec![format!("{id}: HTTP 200 is not documented")]);
    };
    let mut problems = Vec::new();
    match (documented.get("schema"), &x.response) {
        (Some(schema), Some(body)) => {
            let body = match (
                schema.get("type").and_then(Value::as_str),
                body.get("value"),
            ) {
                (Some("array"), Some(v)) => {
                    if body.get("count").and_then(Value::as_u64)
                        != v.as_array().map(|a| a.len() as u64)
                    {
                        problems.push(format!("{id}: count is not the number of values"));
                    }
                    v
                }
                (Some("array"), None) => {
                    problems.push(format!(
                        "{id}: a list without the {{count, value}} envelope"
                    ));
                    body
                }
                _ => body,
            };
            for e in errors(&op.spec.validator(schema), body) {
                let p = format!("{id}: response {e}");
                if !deviation(&p) {
                    problems.push(p);
                }
            }
        }
        (Some(s), None) if !s.as_object().is_some_and(|o| o.is_empty()) => {
            problems.push(format!("{id}: no response body"))
        }
        _ => {}
    }
    if problems.is_empty() {
        Ok(id)
    } else {
        Err(problems)
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(
        &self,
        who: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value, Option<String>) {
        let url = format!("{}/devops/contoso/forecasting/_apis/{path}", self.base);
        let mut rb = self
            .http
            .request(method, &url)
            .bearer_auth(format!("relcon-sim.{who}"));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let token = resp
            .headers()
            .get("x-ms-continuationtoken")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            token,
        )
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body, _) = self.call("erin", reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_yaml_route_answers_in_microsofts_documented_shape() {
    let sim = start(SimOptions {
        seed: 5,
        start: Some(relcon::domain::clock::pinned_start()),
        speed: 0.001,
        devops: DevOpsFlavor::Yaml,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let proxy = Recorder::start(&sim.base_url()).await;
    let c = Client {
        http: reqwest::Client::new(),
        base: proxy.base.clone(),
    };
    use reqwest::Method as M;

    // Pipelines, paged two at a time.
    let mut pipelines = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let q = token
            .as_ref()
            .map_or(String::new(), |t| format!("&continuationToken={t}"));
        let (s, b, next) = c
            .call(
                "erin",
                M::GET,
                &format!("pipelines?$top=2&api-version=7.1{q}"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        pipelines.extend(b["value"].as_array().unwrap().iter().cloned());
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(pipelines.len(), 5);
    let id_of = |name: &str| {
        pipelines.iter().find(|p| p["name"] == name).unwrap()["id"]
            .as_u64()
            .unwrap()
    };
    let (training, prod, rollback) = (
        id_of("training-pipeline"),
        id_of("prod-deployment-pipeline"),
        id_of("rollback-pipeline"),
    );
    c.get(&format!("pipelines/{prod}?api-version=7.1")).await;
    let runs = c
        .get(&format!("pipelines/{prod}/runs?api-version=7.1"))
        .await;
    let run = runs["value"][0]["id"].as_u64().unwrap();
    let r = c
        .get(&format!("pipelines/{prod}/runs/{run}?api-version=7.1"))
        .await;
    let version = r["resources"]["pipelines"]["training"]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    let builds = c
        .get(&format!(
            "build/builds?definitions={training}&buildNumber={version}&api-version=7.1"
        ))
        .await;
    assert_eq!(builds["count"], 1);
    c.get("build/builds?$top=3&api-version=7.1-preview.7").await;
    c.get(&format!("build/builds/{run}?api-version=7.1")).await;
    let timeline = c
        .get(&format!("build/builds/{run}/timeline?api-version=7.1"))
        .await;
    c.get(&format!(
        "build/builds/{run}/timeline/{}?api-version=7.1-preview.2",
        timeline["id"].as_str().unwrap()
    ))
    .await;

    // Approvals and the rule behind them.
    let pending = c
        .get("pipelines/approvals?state=pending&$expand=steps,permissions&api-version=7.1")
        .await;
    let first = &pending["value"][0];
    let id = first["id"].as_str().unwrap().to_owned();
    c.get(&format!(
        "pipelines/approvals/{id}?$expand=steps&api-version=7.1"
    ))
    .await;
    let envs = c
        .get("distributedtask/environments?name=production-deployment&api-version=7.1")
        .await;
    let env = envs["value"][0]["id"].as_u64().unwrap();
    c.get(&format!(
        "distributedtask/environments/{env}?api-version=7.1"
    ))
    .await;
    c.get("distributedtask/environments?api-version=7.1").await;
    let checks = c.get(&format!("pipelines/checks/configurations?resourceType=environment&resourceId={env}&$expand=settings&api-version=7.1-preview.1")).await;
    let check_id = checks["value"][0]["id"].as_u64().unwrap();
    c.get(&format!(
        "pipelines/checks/configurations/{check_id}?$expand=settings&api-version=7.1-preview.1"
    ))
    .await;
    let (s, refused, _) = c.call("erin", M::GET, &format!("pipelines/checks/configurations?resourceType=environment&resourceId={env}&api-version=7.1"), None).await;
    assert_eq!(
        (s, refused["typeKey"].as_str()),
        (400, Some("VssInvalidPreviewVersionException"))
    );

    // Deployment records, every page.
    let mut token: Option<String> = None;
    let mut records = 0;
    let mut pages = 0;
    loop {
        let q = token
            .as_ref()
            .map_or(String::new(), |t| format!("&continuationToken={t}"));
        let (s, b, next) = c.call("erin", M::GET, &format!("distributedtask/environments/{env}/environmentdeploymentrecords?top=10&api-version=7.1{q}"), None).await;
        assert_eq!(s, 200);
        records += b["value"].as_array().unwrap().len();
        pages += 1;
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert!(
        pages > 1 && records > 10,
        "{records} records in {pages} pages"
    );

    // Writes: a decision, a stage re-run, a rollback run.
    let approver = first["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "pending")
        .filter_map(|s| s["assignedApprover"]["uniqueName"].as_str())
        .find(|u| {
            !first["blockedApprovers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["uniqueName"] == *u)
        })
        .unwrap()
        .trim_end_matches("@contoso.com")
        .to_owned();
    let (s, b, _) = c
        .call(
            &approver,
            M::PATCH,
            "pipelines/approvals?api-version=7.1",
            Some(json!([{"approvalId": id, "status": "approved", "comment": "contract"}])),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b, _) = c
        .call(
            &approver,
            M::PATCH,
            "pipelines/approvals?api-version=7.1",
            Some(json!([{"approvalId": id, "status": "approved", "comment": "twice"}])),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let scenario = sim.scenario();
    let good = runs["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["result"] == "succeeded"
                && r["name"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!(".{}", scenario.rollback_release_id))
        })
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let (s, b, _) = c
        .call(
            "dave",
            M::PATCH,
            &format!("build/builds/{good}/stages/DeployToProduction?api-version=7.1"),
            Some(json!({"state": "retry", "forceRetryAllJobs": true})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let circuit = scenario.incident_circuit.replace('/', "_");
    let (s, b, _) = c.call("dave", M::POST, &format!("pipelines/{rollback}/runs?api-version=7.1"), Some(json!({"templateParameters": {"circuitIds": circuit, "environment": "Production", "rollbackType": "previous"}, "resources": {"repositories": {"self": {"refName": "refs/heads/main"}}}}))).await;
    assert_eq!(s, 200, "{b}");
    let rb = b["id"].as_u64().unwrap();
    c.get(&format!("pipelines/{rollback}/runs/{rb}?api-version=7.1"))
        .await;
    c.get(&format!("build/builds/{rb}/timeline?api-version=7.1"))
        .await;
    c.get(&format!("pipelines/{rollback}/runs?api-version=7.1"))
        .await;

    let specs = specs();
    let exchanges = proxy.exchanges();
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for x in &exchanges {
        assert_eq!(x.family, "devops", "{} {}", x.method, x.path);
        match check(&specs, x) {
            Ok(id) => {
                covered.insert(id);
            }
            Err(p) => failures.extend(p),
        }
    }
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} disagreements with Microsoft's documents:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for op in [
        "Approvals_Query",
        "Approvals_Get",
        "Approvals_Update",
        "Check Configurations_List",
        "Check Configurations_Get",
        "Pipelines_List",
        "Pipelines_Get",
        "Runs_List",
        "Runs_Get",
        "Runs_Run Pipeline",
        "Builds_List",
        "Builds_Get",
        "Timeline_Get",
        "Stages_Update",
        "Environments_List",
        "Environments_Get",
        "Environmentdeployment Records_List",
    ] {
        assert!(
            covered
                .iter()
                .any(|c: &String| c.contains(&format!(" {op} "))),
            "{op} not exercised: {covered:#?}"
        );
    }
}

/// Microsoft's own examples of the calls the simulator answers validate against the same
/// converted schemas (which keeps the checks above honest).
#[test]
fn the_official_yaml_examples_validate_against_their_operations() {
    let specs = specs();
    for (file, op_id) in [
        ("approvals_query.json", "Approvals_Query"),
        ("approval_get.json", "Approvals_Get"),
        ("approvals_update.json", "Approvals_Update"),
        ("check_configuration_get.json", "Check Configurations_Get"),
        (
            "check_configurations_list_on_resource.json",
            "Check Configurations_List",
        ),
    ] {
        let ex = load_json(&data_dir().join(file));
        let body = &ex["responses"]["200"]["body"];
        let op = specs
            .iter()
            .flat_map(|s| s.operations())
            .find(|o| o.op["operationId"] == op_id)
            .unwrap_or_else(|| panic!("{op_id}"));
        let schema = &op.op["responses"]["200"]["schema"];
        let inner = if schema["type"] == "array" {
            &body["value"]
        } else {
            body
        };
        let e = errors(&op.spec.validator(schema), inner);
        assert!(e.is_empty(), "{file}: {e:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_applies_to_the_yaml_routes() {
    let sim = start(SimOptions {
        start: Some(relcon::domain::clock::pinned_start()),
        devops: DevOpsFlavor::Yaml,
        throttle: Some(0.001),
        throttle_burst: Some(2.0),
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let c = Client {
        http: reqwest::Client::new(),
        base: sim.base_url(),
    };
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (s, b, _) = c
            .call(
                "erin",
                reqwest::Method::GET,
                "pipelines/approvals?api-version=7.1",
                None,
            )
            .await;
        if s == 429 {
            assert_eq!(b["typeKey"], "RequestBlockedException");
        }
        statuses.push(s);
    }
    assert_eq!(statuses, [200, 200, 429, 429]);
    let stats = sim.stats();
    assert_eq!(
        stats.by_route.get("GET devops/yaml.approvals"),
        Some(&4),
        "{:?}",
        stats.by_route
    );
}
