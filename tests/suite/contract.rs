//! Contract tests from Microsoft's documents, not from the simulator (`tests/data/specs/`,
//! `tests/data/azure-examples/`; sources in each `SOURCES.tsv`).
//!
//! relcon's Azure client is run against the simulator through a recording proxy, and every
//! exchange is held against the swagger operation it belongs to: the request's method, path
//! template, `api-version`, required and known query parameters and body (a); the response's
//! status and body, which the simulator wrote (c). The official examples are validated against
//! the same converted schemas, which keeps the conversion honest; reading them with relcon's
//! wire types is `tests/suite/azure_examples.rs` (b). The monitoring tables the simulator accepts are
//! held equal to the documented columns.

pub(crate) mod recorder;
pub(crate) mod swagger;
use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use recorder::{Exchange, Recorder};
use relcon::azure::{AzureBackend, ClientOptions};
use relcon::domain::Stage;
use relcon::domain::platform::{ApprovalStatus, AssetLocation, EnvironmentStatus};
use relcon::service::Context;
use relcon::service::backend::{ApprovalQuery, Backend, MonitorQuery, OperationStatus};
use relcon::service::snapshot::{Known, read};
use relcon::settings::Settings;
use relcon::sim::{SimHandle, SimOptions, start};
use serde_json::Value;
use swagger::{Spec, errors, load_json, path_matches};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Every vendored spec, by the simulator prefix its service is served on.
fn specs() -> Vec<(&'static str, Spec)> {
    let d = data();
    let mut ml = Spec::new(
        "Azure ML 2025-06-01",
        load_json(&d.join("specs/ml/mfe-2025-06-01.excerpt.json")),
    );
    let common = load_json(&d.join("specs/ml/common-types-v3.excerpt.json"));
    for (k, v) in common["definitions"].as_object().into_iter().flatten() {
        ml.extra_definitions.insert(k.clone(), v.clone());
    }
    for (k, v) in common["parameters"].as_object().into_iter().flatten() {
        ml.extra_definitions
            .insert(format!("parameter:{k}"), v.clone());
    }
    // Alerts Management addresses alerts under any `{scope}`; relcon's scope is the
    // subscription, so the templates are read with `subscriptions/{scope}` in its place.
    let mut alerts_doc = load_json(&d.join("specs/alerts/AlertsManagement.2019-03-01.json"));
    if let Some(paths) = alerts_doc["paths"].as_object().cloned() {
        alerts_doc["paths"] = Value::Object(
            paths
                .into_iter()
                .map(|(k, v)| (k.replace("/{scope}/", "/subscriptions/{scope}/"), v))
                .collect(),
        );
    }
    let alerts = Spec::new("Alerts Management 2019-03-01", alerts_doc);
    // The batch job data plane is served on the workspace's regional host under
    // `/mferp/managementfrontend`; its paging parameter is `$skip` (as the SDK sends it).
    let mut batch = Spec::new(
        "Azure ML batch jobs 2020-09-01-dataplanepreview",
        load_json(&d.join("specs/ml/batch-dataplane.mfe.2020-09-01-dataplanepreview.json")),
    );
    batch.base_path = "/mferp/managementfrontend".into();
    for (k, v) in common["definitions"].as_object().into_iter().flatten() {
        batch.extra_definitions.insert(k.clone(), v.clone());
    }
    for (k, v) in common["parameters"].as_object().into_iter().flatten() {
        batch
            .extra_definitions
            .insert(format!("parameter:{k}"), v.clone());
    }
    batch.extra_definitions.insert(
        "parameter:PaginationParameter".into(),
        serde_json::json!({"name": "$skip", "in": "query", "required": false, "type": "string"}),
    );
    let runs = Spec::new(
        "Azure ML run history v1.0",
        load_json(&d.join("specs/runhistory/run-history.v1.0.assembled.json")),
    );
    vec![
        ("arm", ml),
        ("arm", alerts),
        ("mlapi", batch),
        ("mlapi", runs),
        (
            "vsrm",
            Spec::new(
                "DevOps Release 7.1",
                load_json(&d.join("azure-examples/devops/spec/release-7.1.json")),
            ),
        ),
        (
            "devops",
            Spec::new(
                "DevOps Git 7.1",
                load_json(&d.join("specs/devops/git-7.1.json")),
            ),
        ),
        (
            "la",
            Spec::new(
                "Log Analytics v1",
                load_json(&d.join("specs/monitor/loganalytics-v1.excerpt.json")),
            ),
        ),
        (
            "ai",
            Spec::new(
                "Application Insights v1",
                load_json(&d.join("specs/monitor/appinsights-v1.excerpt.json")),
            ),
        ),
    ]
}

/// Where relcon departs from the letter of a vendored document, and why (docs/AZURE.md): the
/// operation, the start of the problem as `problems_of` words it, and the reason.
const DEVIATIONS: &[(&str, &str, &str)] = &[
    (
        "Runs_Get",
        "required query parameter `api-version` not sent",
        "run history's version is its path (`/history/v1.0/`); Microsoft's SDK sends no api-version and the document names no value; relcon sends `v1.0` only if the service asks (400)",
    ),
    (
        "Check Configurations_List",
        "api-version=7.1-preview.1, but",
        "the spec's info.version names the family (`7.1-preview`); Azure DevOps takes a preview resource only as `7.1-preview.N` and refuses a plain `7.1` with VssInvalidPreviewVersionException (devops-yaml README)",
    ),
    (
        "Runs_Run Pipeline",
        "response (HTTP 200) at /templateParameters/",
        "the spec types Run.templateParameters' values as objects (the .NET `object` of its generator); a YAML pipeline's parameters are the strings it was queued with (RunPipelineParameters.templateParameters), which the service echoes",
    ),
    (
        "BatchJobEndpoint_Create",
        "required query parameter `api-version` not sent",
        "a batch job is started by POSTing the endpoint's scoringUri verbatim, as Microsoft's SDK and CLI do (`az ml batch-endpoint invoke`; Learn's REST tab posts to the endpoint URI with no api-version); the URI is the service's, relcon adds nothing to it (docs/AZURE.md)",
    ),
    (
        "Alerts_GetAll",
        "query parameter `ctoken` is not documented",
        "the service's own nextLink carries its continuation token `ctoken` (Microsoft's Alerts_List example); relcon follows nextLink as given",
    ),
];

/// Whether a problem of an exchange is a documented deviation.
fn deviation(problem: &str) -> bool {
    DEVIATIONS
        .iter()
        .any(|(op, p, _)| problem.contains(&format!(" {op} ")) && problem.contains(p))
}

/// Calls relcon makes that no vendored swagger describes, and why each is still right (the
/// path ends with the given text; `*` matches one segment).
const UNDOCUMENTED_ENDINGS: &[(&str, &str, &str)] = &[
    (
        "devops",
        "/_apis/build/builds/*/timeline",
        "Timeline - Get documents `{timelineId}` as required, yet the run's main timeline is read without it, as Microsoft's client and the Build's `_links.timeline` do (devops-yaml README); the response is the documented Timeline",
    ),
    (
        "arm",
        "/providers/Microsoft.MachineLearningServices/workspaces/*",
        "Workspaces_Get (2025-06-01) is not vendored; relcon reads properties.discoveryUrl only, a documented field (docs/AZURE.md)",
    ),
    (
        "mlapi",
        "/discovery",
        "the workspace discovery document (properties.discoveryUrl) is undocumented; relcon reads `api` as Microsoft's SDK does, sends it no token, and sends its ML token only to *.api.azureml.ms",
    ),
];

/// Why an exchange is undocumented-but-right, if it is.
fn undocumented(x: &Exchange) -> Option<&'static str> {
    if let Some((_, _, why)) = UNDOCUMENTED
        .iter()
        .find(|(f, p, _)| *f == x.family && x.path.contains(p))
    {
        return Some(why);
    }
    UNDOCUMENTED_ENDINGS
        .iter()
        .find(|(f, ending, _)| {
            if *f != x.family {
                return false;
            }
            let want: Vec<&str> = ending.trim_start_matches('/').split('/').collect();
            let got: Vec<&str> = x.path.trim_end_matches('/').split('/').collect();
            got.len() >= want.len()
                && got[got.len() - want.len()..]
                    .iter()
                    .zip(&want)
                    .all(|(g, w)| *w == "*" || g.eq_ignore_ascii_case(w))
        })
        .map(|(_, _, why)| *why)
}

/// Calls relcon makes that no vendored swagger describes, and why each is still right.
const UNDOCUMENTED: &[(&str, &str, &str)] = &[
    (
        "devops",
        "/_apis/connectionData",
        "Azure DevOps' connectionData has no REST reference; relcon reads authenticatedUser only (docs/AZURE.md)",
    ),
    (
        "arm",
        "/mfeOperationsStatus/",
        "ARM's Azure-AsyncOperation status resource is the ARM async protocol, not an operation of the service swagger; its URL comes from the PUT's header",
    ),
];

fn options() -> ClientOptions {
    let mut o = ClientOptions {
        identity_override: Some("bob".into()),
        ..ClientOptions::default()
    };
    o.retry.base_delay = Duration::from_millis(5);
    o
}

/// `settings` with every service reached through the proxy.
fn through(settings: &Settings, sim: &SimHandle, proxy: &Recorder) -> Settings {
    let text = serde_json::to_string(settings)
        .unwrap()
        .replace(&sim.base_url(), &proxy.base);
    serde_json::from_str(&text).unwrap()
}

/// Every call relcon's client makes, recorded: a full refresh, an incremental one, the
/// release and approval reads, each write, and the monitoring reads through both APIs.
async fn record_everything() -> Vec<Exchange> {
    let sim = start(SimOptions {
        seed: 5,
        start: Some(relcon::domain::clock::pinned_start()),
        // Small pages, so that continuation tokens and next links are followed too.
        page_size: Some(40),
        speed: 0.001,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let proxy = Recorder::start(&sim.base_url()).await;
    let settings = through(&sim.settings(), &sim, &proxy);
    let b = AzureBackend::new(&settings, options()).unwrap();
    let ctx = Context::new(&settings, false, b.describe());
    let first = read(&b, &ctx, &Known::nothing(sim.now())).await;
    let releases = first.releases.clone().unwrap().unwrap();
    let deployment = first
        .deployments
        .iter()
        .filter(|(s, _, _)| *s == Stage::Prod)
        .find_map(|(_, _, r)| r.as_ref().ok()?.iter().find(|d| d.model.is_some()).cloned())
        .unwrap();
    let pending = first.approvals.clone().unwrap().unwrap();
    // A later refresh: only what can have changed (releases, model versions) is read again.
    let known = Known::nothing(sim.now()).after(first);
    let _later = read(&b, &ctx, &known).await;
    let newest = releases.first().unwrap();
    b.release(newest.id).await.unwrap();
    b.recent_attempts(50).await.unwrap();
    b.approvals(&ApprovalQuery {
        status: None,
        release_ids: vec![newest.id],
    })
    .await
    .unwrap();

    // Writes.
    let approval = pending
        .into_iter()
        .find(|a| a.status == ApprovalStatus::Pending)
        .unwrap();
    b.decide_approval(&approval.id, ApprovalStatus::Approved, "contract test")
        .await
        .unwrap();
    let old = releases.last().unwrap();
    let prod = old
        .environments
        .iter()
        .find(|e| e.name == "Production" && e.status == EnvironmentStatus::Succeeded)
        .unwrap();
    b.rerun_stage(old.id, &prod.id, "contract test")
        .await
        .unwrap();
    let model = deployment.model.clone().unwrap();
    let op = b
        .begin_set_deployment_model(Stage::Prod, &deployment.endpoint, &deployment.name, &model)
        .await
        .unwrap()
        .value;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while let OperationStatus::InProgress { .. } = b.operation_status(&op).await.unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "the update never finished"
        );
        sim.advance(120.0).unwrap();
    }
    if let Some(env) = deployment.environment.clone() {
        b.environment_versions(AssetLocation::Registry, &env.name)
            .await
            .unwrap();
        b.begin_set_deployment_environment(
            Stage::Prod,
            &deployment.endpoint,
            &deployment.name,
            &env,
        )
        .await
        .unwrap();
    }
    b.deployment(Stage::Prod, &deployment.endpoint, &deployment.name)
        .await
        .unwrap();

    // Incidents: an alert re-read and acknowledged; a circuit's jobs with their run history
    // (the refreshes above read the alert list and every Prod job list).
    let alerts = b.fired_alerts().await.unwrap();
    let alert = alerts.first().unwrap();
    b.alert(&alert.id).await.unwrap();
    b.change_alert_state(
        &alert.id,
        relcon::domain::incidents::AlertState::Acknowledged,
        "contract test",
    )
    .await
    .unwrap();
    let incident: relcon::domain::CircuitRef = sim.scenario().incident_circuit.parse().unwrap();
    let jobs = relcon::service::incidents::circuit_jobs(&b, &ctx, &incident, sim.now(), 2).await;
    assert!(jobs.is_complete(), "{:?}", jobs.errors);
    // A retry's calls: the failed nightly job read with its inputs (Jobs - Get on the
    // deployment), the endpoint's scoring URI (the endpoint list), the POST there, the new job.
    let failing: relcon::domain::CircuitRef = sim.scenario().failing_job_circuit.parse().unwrap();
    let (e, d) = (
        ctx.naming.endpoint(&failing),
        ctx.naming.deployment(&failing),
    );
    let listed = b
        .scoring_jobs(Stage::Prod, &e, &d, sim.now() - chrono::Duration::days(2))
        .await
        .unwrap();
    let failed = b
        .scoring_job(Stage::Prod, &e, &d, &listed[0].name)
        .await
        .unwrap();
    assert!(!failed.inputs.is_empty());
    let started = b
        .invoke_scoring(&relcon::domain::job_retry::ScoringInvocation {
            stage: Stage::Prod,
            endpoint: e.clone(),
            deployment: d.clone(),
            job_name: "relcon-retry-contract".into(),
            inputs: failed.inputs.clone(),
            request_id: "relcon-contract".into(),
            description: "contract test".into(),
        })
        .await
        .unwrap();
    assert_eq!(started.value.name, "relcon-retry-contract");
    b.scoring_job(Stage::Prod, &e, &d, &started.value.name)
        .await
        .unwrap();

    // Monitoring, through the workspace and through the Application Insights API.
    b.monitor(MonitorQuery::Coverage).await.unwrap();
    let app = AzureBackend::new(
        &through(&sim.settings_app_insights(), &sim, &proxy),
        options(),
    )
    .unwrap();
    for q in [
        MonitorQuery::Drift,
        MonitorQuery::Accuracy,
        MonitorQuery::Validation,
        MonitorQuery::Coverage,
    ] {
        app.monitor(q).await.unwrap();
    }
    proxy.exchanges()
}

/// What is wrong with one exchange against its operation, if anything.
fn check(specs: &[(&'static str, Spec)], x: &Exchange) -> Result<String, Vec<String>> {
    let label = format!("{} /{}{}", x.method, x.family, x.path);
    if let Some(why) = undocumented(x) {
        return Ok(format!("(undocumented) {why}"));
    }
    let family: Vec<&Spec> = specs
        .iter()
        .filter(|(f, _)| *f == x.family)
        .map(|(_, s)| s)
        .collect();
    if family.is_empty() {
        return Err(vec![format!("{label}: no vendored spec for /{}", x.family)]);
    }
    let mut candidates: Vec<_> = family
        .iter()
        .flat_map(|spec| spec.operations())
        .filter(|o| o.method == x.method)
        .filter_map(|o| path_matches(&o.template, &x.path).map(|vars| (o, vars)))
        .collect();
    // The most specific template (fewest variables) first; among operations on one template
    // (`x-ms-paths` variants told apart by their query), the one the request fits.
    candidates.sort_by_key(|(_, vars)| vars.len());
    let fewest = candidates.first().map(|(_, v)| v.len());
    let mut best: Option<Vec<String>> = None;
    for (op, vars) in candidates.iter().filter(|(_, v)| Some(v.len()) == fewest) {
        match problems_of(op.spec, op, vars, x) {
            Ok(id) => return Ok(id),
            Err(p) => {
                if best.as_ref().is_none_or(|b| p.len() < b.len()) {
                    best = Some(p);
                }
            }
        }
    }
    match best {
        Some(p) => Err(p),
        None => Err(vec![format!(
            "{label}: no operation of {} matches",
            family
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(" or ")
        )]),
    }
}

/// The problems of one exchange against one operation (the operation's id when none).
fn problems_of(
    spec: &Spec,
    op: &swagger::Operation<'_>,
    vars: &BTreeMap<String, String>,
    x: &Exchange,
) -> Result<String, Vec<String>> {
    let id = op.id();
    let mut problems = Vec::new();
    let params = spec.parameters(op);
    let sent: BTreeMap<String, &str> = x
        .query
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
        .collect();
    for p in &params {
        let name = p["name"].as_str().unwrap_or("");
        match p["in"].as_str() {
            Some("query") => {
                let value = sent.get(&name.to_ascii_lowercase());
                if p["required"].as_bool() == Some(true) && value.is_none() {
                    problems.push(format!("{id}: required query parameter `{name}` not sent"));
                }
                if name == "api-version"
                    && let Some(v) = value
                    && *v != spec.version()
                {
                    problems.push(format!(
                        "{id}: api-version={v}, but {} documents {}",
                        spec.name,
                        spec.version()
                    ));
                }
            }
            Some("path") => {
                let v = vars.get(name).map(String::as_str).unwrap_or("");
                if p["type"] == "integer" && v.parse::<i64>().is_err() {
                    problems.push(format!(
                        "{id}: path parameter `{name}`={v} is not an integer"
                    ));
                }
            }
            _ => {}
        }
    }
    for key in sent.keys() {
        let known = params.iter().any(|p| {
            p["in"] == "query"
                && p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(key))
        });
        if !known {
            problems.push(format!("{id}: query parameter `{key}` is not documented"));
        }
    }
    match params.iter().find(|p| p["in"] == "body") {
        Some(body) => match &x.request {
            Some(req) => {
                for e in errors(&spec.validator(&body["schema"]), req) {
                    problems.push(format!("{id}: request body {e}"));
                }
            }
            None if body["required"].as_bool() == Some(true) => {
                problems.push(format!("{id}: required body not sent"));
            }
            None => {}
        },
        None if x.request.is_some() => problems.push(format!(
            "{id}: a body was sent to an operation that takes none"
        )),
        None => {}
    }
    let responses = &op.op["responses"];
    let status = x.status.to_string();
    let documented = responses.get(&status).or_else(|| {
        (x.status >= 400)
            .then(|| responses.get("default"))
            .flatten()
    });
    match documented {
        None => problems.push(format!("{id}: HTTP {status} is not a documented response")),
        Some(r) => {
            if let (Some(schema), Some(body)) = (r.get("schema"), &x.response) {
                for e in errors(&spec.validator(schema), list_body(schema, body, &x.family)) {
                    problems.push(format!("{id}: response (HTTP {status}) {e}"));
                }
            }
        }
    }
    problems.retain(|p| !deviation(p));
    if problems.is_empty() {
        Ok(id)
    } else {
        let at = format!("{} /{}{}", x.method, x.family, op.template);
        Err(problems
            .into_iter()
            .map(|p| format!("{at}\n    {p}"))
            .collect())
    }
}

/// Azure DevOps documents a list as the array it holds; every official example shows it in the
/// `{count, value}` envelope, which is what the service sends: the array schema is `value`'s.
fn list_body<'a>(schema: &Value, body: &'a Value, family: &str) -> &'a Value {
    match (
        schema.get("type").and_then(Value::as_str),
        body.get("value"),
    ) {
        (Some("array"), Some(value)) if family == "vsrm" || family == "devops" => value,
        _ => body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_and_simulator_response_follows_the_documents() {
    let specs = specs();
    let exchanges = record_everything().await;
    assert!(exchanges.len() > 50, "{} exchanges", exchanges.len());
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let mut failures: Vec<String> = Vec::new();
    for x in &exchanges {
        match check(&specs, x) {
            Ok(id) => {
                covered.insert(id);
            }
            Err(p) => failures.extend(p),
        }
    }
    failures.sort();
    failures.dedup();
    eprintln!(
        "{} exchanges checked against {} documented operations",
        exchanges.len(),
        covered
            .iter()
            .filter(|c| !c.starts_with("(undocumented)"))
            .count()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements with Microsoft's documents:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every operation relcon calls was exercised and matched.
    for expected in [
        "BatchEndpoints_List",
        "BatchDeployments_List",
        "BatchDeployments_Get",
        "BatchDeployments_CreateOrUpdate",
        "ModelContainers_List",
        "ModelVersions_List",
        "RegistryModelContainers_List",
        "RegistryModelVersions_List",
        "RegistryEnvironmentVersions_List",
        "Releases_List",
        "Releases_Get Release",
        "Releases_Update Release Environment",
        "Approvals_List",
        "Approvals_Update",
        "Deployments_List",
        "Items_Get",
        "Query_Post",
        "Query_Execute",
        "Alerts_GetAll",
        "Alerts_GetById",
        "Alerts_ChangeState",
        "BatchJobDeployment_List",
        "BatchJobDeployment_Get",
        "BatchJobEndpoint_Create",
        "Runs_Get",
    ] {
        assert!(
            covered.iter().any(|c| c.contains(&format!(" {expected} "))),
            "{expected} was not exercised: {covered:#?}"
        );
    }
}

/// The official examples validate against the converted schemas of their operation: the
/// conversion reads the documents as their authors meant them.
#[test]
fn the_official_examples_validate_against_their_operations() {
    let specs = specs();
    // The spec of a family that has the operation.
    let spec = |f: &str, operation: &str| {
        &specs
            .iter()
            .find(|(k, s)| {
                *k == f
                    && s.operations()
                        .iter()
                        .any(|o| o.op["operationId"] == *operation)
            })
            .unwrap_or_else(|| panic!("no {f} spec has {operation}"))
            .1
    };
    // (service, operationId, example): every response relcon reads, and its write requests.
    let cases: &[(&str, &str, &str)] = &[
        (
            "vsrm",
            "Approvals_List",
            "devops/release_approvals_list_pending.json",
        ),
        (
            "vsrm",
            "Approvals_Update",
            "devops/release_approval_update_approved.json",
        ),
        (
            "vsrm",
            "Releases_List",
            "devops/release_list_for_definition.json",
        ),
        ("vsrm", "Releases_Get Release", "devops/release_get.json"),
        (
            "vsrm",
            "Releases_Update Release Environment",
            "devops/release_environment_update.json",
        ),
        (
            "vsrm",
            "Deployments_List",
            "devops/release_deployments_list_for_definition.json",
        ),
        ("la", "Query_Post", "monitor/loganalytics_query_post.json"),
        ("ai", "Query_Execute", "monitor/appinsights_query_post.json"),
        ("arm", "BatchEndpoints_List", "ml/batchEndpoint_list.json"),
        (
            "arm",
            "BatchDeployments_List",
            "ml/batchDeployment_list.json",
        ),
        ("arm", "BatchDeployments_Get", "ml/batchDeployment_get.json"),
        (
            "arm",
            "BatchDeployments_CreateOrUpdate",
            "ml/batchDeployment_createOrUpdate.json",
        ),
        ("arm", "ModelContainers_List", "ml/modelContainer_list.json"),
        ("arm", "ModelVersions_List", "ml/modelVersion_list.json"),
        (
            "arm",
            "RegistryModelVersions_List",
            "ml/registryModelVersion_list.json",
        ),
        ("arm", "Alerts_GetAll", "alerts/Alerts_List.2019-03-01.json"),
        (
            "arm",
            "Alerts_GetById",
            "alerts/Alerts_GetById.2019-03-01.json",
        ),
        (
            "arm",
            "Alerts_ChangeState",
            "alerts/Alerts_ChangeState.2019-03-01.json",
        ),
        (
            "arm",
            "Alerts_GetHistory",
            "alerts/Alerts_History.2019-03-01.json",
        ),
        // The workspace's list: the registry's operation has the same response schema.
        (
            "arm",
            "RegistryEnvironmentVersions_List",
            "ml/environmentVersion_list.json",
        ),
    ];
    let mut failures = Vec::new();
    for (family, operation, example) in cases {
        let s = spec(family, operation);
        let ex = load_json(&data().join("azure-examples").join(example));
        failures.extend(example_problems(s, operation, example, &ex, family));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What of an official example (its request body, its responses) the converted schemas of
/// its operation refuse.
fn example_problems(
    s: &Spec,
    operation: &str,
    example: &str,
    ex: &Value,
    family: &str,
) -> Vec<String> {
    let mut failures = Vec::new();
    let op = s
        .operations()
        .into_iter()
        .find(|o| o.op["operationId"] == *operation)
        .unwrap_or_else(|| panic!("{operation} is not in {}", s.name));
    let params = s.parameters(&op);
    if let Some(body) = params.iter().find(|p| p["in"] == "body") {
        let name = body["name"].as_str().unwrap_or("body");
        if let Some(b) = ex["parameters"].get(name) {
            for e in errors(&s.validator(&body["schema"]), b) {
                failures.push(format!("{example} request: {e}"));
            }
        }
    }
    for (status, r) in ex["responses"].as_object().into_iter().flatten() {
        let Some(b) = r.get("body") else { continue };
        let documented = op.op["responses"]
            .get(status)
            .or_else(|| op.op["responses"].get("default"));
        let Some(schema) = documented.and_then(|d| d.get("schema")) else {
            continue;
        };
        for e in errors(&s.validator(schema), list_body(schema, b, family)) {
            failures.push(format!("{example} ({status}): {e}"));
        }
    }
    failures
}

/// What the vendored excerpts leave out is named, so nothing becomes "anything" silently.
#[test]
fn only_these_nested_types_are_not_vendored() {
    let specs = specs();
    let ml = &specs.iter().find(|(f, _)| *f == "arm").unwrap().1;
    assert_eq!(
        ml.placeholders(),
        [
            "AutoRebuildSetting",
            "CodeConfiguration",
            "FlavorData",
            "ImageDetails",
            "InferenceContainerProperties",
            "ManagedServiceIdentity",
            "OperatingSystemType",
        ]
    );
    // The batch job swagger's `systemData` is common-types v2's (lower case), not vendored;
    // relcon reads `createdAt` of it. Run history is an excerpt: the Run's nested types past
    // what relcon reads (status, times, error) are accepted as anything.
    let expected: &[(&str, &[&str])] = &[
        (
            "Azure ML batch jobs 2020-09-01-dataplanepreview",
            &["systemData"],
        ),
        (
            "Azure ML run history v1.0",
            &[
                "Azure.Core.Foundations.ErrorResponse",
                "Compute",
                "ComputeRequest",
                "CreatedFrom",
                "DatasetLineage",
                "EndpointSetting",
                "ErrorResponse",
                "JobCost",
                "OutputDatasetLineage",
                "QueueingInfo",
                "RunOptions",
                "RunTypeV2",
                "TypedAssetReference",
                "User",
            ],
        ),
    ];
    for (_, spec) in specs.iter().skip(1) {
        let want: &[&str] = expected
            .iter()
            .find(|(n, _)| *n == spec.name)
            .map(|(_, p)| *p)
            .unwrap_or(&[]);
        assert_eq!(spec.placeholders(), want, "{}", spec.name);
    }
}

/// The simulator's KQL recogniser accepts exactly the documented columns of each table.
#[test]
fn the_simulator_knows_the_documented_monitoring_columns() {
    use relcon::sim::kql::{Scope, TableSchema};
    let doc = load_json(&data().join("specs/monitor/tables.json"));
    for (scope, key) in [
        (Scope::Workspace, "workspace"),
        (Scope::AppInsights, "app_insights"),
    ] {
        let documented = doc["scopes"][key].as_object().unwrap();
        let tables: Vec<TableSchema> = scope.tables().to_vec();
        assert_eq!(
            tables.iter().map(|t| t.name).collect::<BTreeSet<_>>(),
            documented
                .keys()
                .map(String::as_str)
                .collect::<BTreeSet<_>>(),
            "{key}"
        );
        for t in tables {
            let cols: BTreeSet<&str> = documented[t.name]["columns"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(
                t.columns.iter().copied().collect::<BTreeSet<_>>(),
                cols,
                "{}",
                t.name
            );
        }
    }
}

/// The YAML flavour's specs (`tests/data/specs/devops-yaml/spec/`), all on the DevOps host.
fn yaml_specs() -> Vec<(&'static str, Spec)> {
    let d = data().join("specs/devops-yaml/spec");
    vec![
        (
            "devops",
            Spec::new(
                "Approvals 7.1",
                load_json(&d.join("pipelinesapproval-7.1.json")),
            ),
        ),
        (
            "devops",
            Spec::new(
                "Checks 7.1-preview",
                load_json(&d.join("pipelinesChecks-7.1.json")),
            ),
        ),
        (
            "devops",
            Spec::new("Pipelines 7.1", load_json(&d.join("pipelines-7.1.json"))),
        ),
        (
            "devops",
            Spec::new("Build 7.1", load_json(&d.join("build-7.1.json"))),
        ),
        (
            "devops",
            Spec::new("Task agent 7.1", load_json(&d.join("taskAgent-7.1.json"))),
        ),
    ]
}

/// Every call of the YAML release side, against a fake answering in Microsoft's shapes
/// (`common::yaml_world`; the YAML simulator is another branch's) through the recording
/// proxy: each request is held against its spec operation, and each answer of the fake too,
/// which keeps the fake to the documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_yaml_request_follows_the_documents() {
    use common::yaml_world::{PROD_APPROVAL, answer, yaml_settings_toml};
    let fake = common::Fake::start(answer).await;
    let proxy = Recorder::start(&fake.base).await;
    let settings = Settings::parse(&yaml_settings_toml(&proxy.base), "yaml.toml").unwrap();
    let b = AzureBackend::new(&settings, options()).unwrap();
    let history = b.release_history().await.unwrap();
    assert_eq!(history.len(), 3);
    b.approvals(&ApprovalQuery {
        status: Some(ApprovalStatus::Pending),
        release_ids: Vec::new(),
    })
    .await
    .unwrap();
    b.decide_approval(
        &PROD_APPROVAL.into(),
        ApprovalStatus::Approved,
        "contract test",
    )
    .await
    .unwrap();
    let steps = b.approval_steps(&PROD_APPROVAL.into()).await.unwrap();
    assert_eq!(steps.len(), 3, "one record per step: {steps:?}");
    b.rerun_stage(100, &"400:DeployToProduction".into(), "contract test")
        .await
        .unwrap();
    b.queue_rollback_run(&relcon::service::backend::RollbackRunRequest {
        circuits: vec!["PLANT001/CIRCUIT01".parse().unwrap()],
        specific: None,
        comment: "contract test".into(),
    })
    .await
    .unwrap();

    let specs = yaml_specs();
    let exchanges = proxy.exchanges();
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let mut failures: Vec<String> = Vec::new();
    for x in &exchanges {
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
    for expected in [
        "Pipelines_List",
        "Environments_List",
        "Check Configurations_List",
        "Environmentdeployment Records_List",
        "Approvals_Query",
        "Approvals_Get",
        "Approvals_Update",
        "Runs_Get",
        "Runs_List",
        "Runs_Run Pipeline",
        "Builds_List",
        "Builds_Get",
        "Stages_Update",
    ] {
        assert!(
            covered.iter().any(|c| c.contains(&format!(" {expected} "))),
            "{expected} was not exercised: {covered:#?}"
        );
    }
    assert!(
        covered.iter().any(|c| c.contains("timeline")),
        "the timeline fallback was not exercised: {covered:#?}"
    );
}

/// The official YAML examples validate against their operations' converted schemas.
#[test]
fn the_official_yaml_examples_validate_against_their_operations() {
    let specs = yaml_specs();
    let cases: &[(&str, &str)] = &[
        ("Approvals_Query", "approvals_query.json"),
        ("Approvals_Get", "approval_get.json"),
        ("Approvals_Update", "approvals_update.json"),
        (
            "Check Configurations_List",
            "check_configurations_list_on_resource.json",
        ),
        ("Check Configurations_Get", "check_configuration_get.json"),
        (
            "Check Configurations_Add",
            "check_configuration_add_approval.json",
        ),
    ];
    let mut failures = Vec::new();
    for (operation, example) in cases {
        let s = specs
            .iter()
            .map(|(_, s)| s)
            .find(|s| {
                s.operations()
                    .iter()
                    .any(|o| o.op["operationId"] == *operation)
            })
            .unwrap_or_else(|| panic!("no spec has {operation}"));
        let ex = load_json(&data().join("specs/devops-yaml").join(example));
        failures.extend(example_problems(s, operation, example, &ex, "devops"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
