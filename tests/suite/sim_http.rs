//! The simulator over real HTTP: paging, auth, the three monitoring queries decoded by
//! relcon's own decoders, config lineage through Git items, pending approvals, mutations on
//! the simulated clock (no sleeps: the clock is advanced through `/_sim/clock/advance`), and
//! fault injection at roughly the configured rates.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use relcon::azure::kql::{self, Schema};
use relcon::domain::drift::DriftMetric;
use relcon::domain::platform::{Cell, ColumnType, ModelAsset, Table};
use relcon::domain::{Status, Thresholds};
use relcon::service::backend::MonitorQuery;
use relcon::service::queries;
use relcon::settings::Settings;
use relcon::sim::{self, SimHandle, SimOptions};
use serde_json::{Value, json};

const API: &str = "api-version=2025-06-01";

fn start_time() -> DateTime<Utc> {
    relcon::domain::clock::pinned_start()
}

async fn sim_with(f: impl FnOnce(&mut SimOptions)) -> SimHandle {
    let mut o = SimOptions {
        seed: 42,
        start: Some(start_time()),
        ..SimOptions::default()
    };
    f(&mut o);
    sim::start(o).await.expect("simulator starts")
}

struct Api {
    http: reqwest::Client,
    base: String,
    settings: Settings,
    token: String,
}

impl Api {
    fn new(h: &SimHandle, who: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: h.base_url(),
            settings: h.settings(),
            token: format!("Bearer relcon-sim.{who}"),
        }
    }

    fn ws(&self, stage: &str) -> String {
        let s = &self.settings;
        let w = match stage {
            "dev" => &s.workspaces.dev,
            "test" => &s.workspaces.test,
            _ => &s.workspaces.prod,
        };
        format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
            s.azure.arm_endpoint, s.azure.subscription_id, w.resource_group, w.name
        )
    }

    fn reg(&self) -> String {
        let s = &self.settings;
        format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/registries/{}",
            s.azure.arm_endpoint,
            s.azure.subscription_id,
            s.registry.resource_group,
            s.registry.name
        )
    }

    fn rel(&self) -> String {
        let d = &self.settings.devops;
        format!(
            "{}/{}/{}/_apis/release",
            d.release_endpoint, d.organization, d.project
        )
    }

    fn la(&self) -> String {
        let m = &self.settings.monitor;
        format!(
            "{}/v1/workspaces/{}/query",
            m.endpoint,
            m.log_analytics_workspace_id.as_ref().expect("workspace")
        )
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut r = self
            .http
            .request(method, url)
            .header("authorization", &self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    async fn get(&self, url: &str) -> Value {
        let r = self.send(reqwest::Method::GET, url, None).await;
        assert_eq!(r.status(), 200, "GET {url}");
        r.json().await.expect("json")
    }

    /// Every item of an ARM list, following `nextLink`.
    async fn arm_all(&self, url: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut next = Some(url.to_owned());
        while let Some(u) = next {
            let page = self.get(&u).await;
            out.extend(page["value"].as_array().cloned().unwrap_or_default());
            next = page["nextLink"].as_str().map(str::to_owned);
            if let Some(n) = &next {
                assert!(
                    n.starts_with(&self.base) && n.contains(API) && n.contains("$skipToken="),
                    "{n}"
                );
            }
        }
        out
    }

    /// Every item of a DevOps list, following `x-ms-continuationtoken`.
    async fn devops_all(&self, url: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let u = match &token {
                Some(t) => format!("{url}&continuationToken={t}"),
                None => url.to_owned(),
            };
            let r = self.send(reqwest::Method::GET, &u, None).await;
            assert_eq!(r.status(), 200, "GET {u}");
            token = r
                .headers()
                .get("x-ms-continuationtoken")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let page: Value = r.json().await.expect("json");
            let items = page["value"].as_array().cloned().unwrap_or_default();
            assert_eq!(page["count"].as_u64(), Some(items.len() as u64));
            out.extend(items);
            if token.is_none() {
                return out;
            }
        }
    }

    /// relcon's own query for `q`, exactly as its client sends it to the workspace.
    async fn read(&self, q: MonitorQuery) -> Table {
        let (text, span) = kql::query(q, Schema::Workspace);
        self.query(&text, &span).await
    }

    async fn query(&self, kql: &str, timespan: &str) -> Table {
        let r = self
            .send(
                reqwest::Method::POST,
                &self.la(),
                Some(json!({"query": kql, "timespan": timespan})),
            )
            .await;
        assert_eq!(r.status(), 200);
        assert!(r.headers().contains_key("request-id"));
        let v: Value = r.json().await.expect("json");
        assert!(v.get("error").is_none(), "{}", v["error"]);
        table(&v["tables"][0])
    }

    async fn advance(&self, seconds: f64) {
        let r = self
            .http
            .post(format!("{}/_sim/clock/advance", self.base))
            .json(&json!({ "seconds": seconds }))
            .send()
            .await
            .expect("advance");
        assert_eq!(r.status(), 200);
    }
}

/// A Log Analytics table decoded by column type, as relcon's client does.
fn table(t: &Value) -> Table {
    let columns: Vec<(String, ColumnType)> = t["columns"]
        .as_array()
        .map(|cols| {
            cols.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or_default().to_owned(),
                        ColumnType::parse(c["type"].as_str().unwrap_or_default()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let rows = t["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    columns
                        .iter()
                        .enumerate()
                        .map(|(i, (_, ty))| match (ty, &row[i]) {
                            (_, Value::Null) => Cell::Null,
                            (ColumnType::Real, Value::Number(n)) => {
                                Cell::Real(n.as_f64().unwrap_or(f64::NAN))
                            }
                            (ColumnType::Real, Value::String(s)) => {
                                Cell::Real(s.parse().unwrap_or(f64::NAN))
                            }
                            (ColumnType::Datetime, Value::String(s)) => {
                                DateTime::parse_from_rfc3339(s)
                                    .map(|t| Cell::Time(t.with_timezone(&Utc)))
                                    .unwrap_or(Cell::Null)
                            }
                            (_, Value::String(s)) => Cell::Text(s.clone()),
                            (_, other) => Cell::Dynamic(other.clone().into()),
                        })
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default();
    Table {
        columns,
        rows,
        ..Table::default()
    }
}

#[tokio::test]
async fn paging_with_page_size_one_returns_the_same_items() {
    let plain = sim_with(|_| {}).await;
    let paged = sim_with(|o| o.page_size = Some(1)).await;
    let (a, b) = (Api::new(&plain, "alice"), Api::new(&paged, "alice"));
    let ids = |items: Vec<Value>, key: &str| -> Vec<String> {
        items.iter().map(|i| i[key].to_string()).collect()
    };
    for path in [
        format!("{}/batchEndpoints?{API}", a.ws("prod")),
        format!(
            "{}/batchEndpoints/batch-endpoint-plant007/deployments?{API}",
            a.ws("test")
        ),
        format!("{}/models?{API}", a.ws("dev")),
        format!("{}/models/plant007-circuit03/versions?{API}", a.reg()),
        format!("{}/environments/forecast-tf/versions?{API}", a.reg()),
    ] {
        let whole = ids(a.arm_all(&path).await, "id");
        let in_ones = ids(b.arm_all(&path.replace(&a.base, &b.base)).await, "id");
        assert!(whole.len() > 1, "{path}");
        assert_eq!(whole, in_ones, "{path}");
    }
    let first = b
        .send(
            reqwest::Method::GET,
            &format!("{}/batchEndpoints?{API}", b.ws("prod")),
            None,
        )
        .await;
    let page: Value = first.json().await.expect("json");
    assert_eq!(page["value"].as_array().map(Vec::len), Some(1));
    for path in [
        "releases?definitionId=1&$expand=environments,approvals,artifacts,variables&queryOrder=descending&$top=100".to_owned(),
        "approvals?statusFilter=pending&typeFilter=preDeploy&top=100".to_owned(),
        "deployments?definitionId=1&$top=100&latestAttemptsOnly=true".to_owned(),
    ] {
        let whole = ids(a.devops_all(&format!("{}/{path}", a.rel())).await, "id");
        let in_ones = ids(b.devops_all(&format!("{}/{path}", b.rel())).await, "id");
        assert!(whole.len() > 1, "{path}");
        assert_eq!(whole, in_ones, "{path}");
    }
    // Without --page-size, $top pages DevOps lists: 334 releases take several pages of 100.
    let all = a
        .devops_all(&format!("{}/releases?definitionId=1&$top=100", a.rel()))
        .await;
    assert_eq!(all.len(), plain.scenario().releases);
}

#[tokio::test]
async fn every_service_wants_a_bearer_token() {
    let h = sim_with(|_| {}).await;
    let a = Api::new(&h, "alice");
    let http = reqwest::Client::new();
    let urls = [
        format!("{}/batchEndpoints?{API}", a.ws("prod")),
        format!(
            "{}/contoso/_apis/connectionData",
            a.settings.devops.endpoint
        ),
        format!("{}/approvals", a.rel()),
        a.la(),
    ];
    for (i, url) in urls.iter().enumerate() {
        for auth in [None, Some("Bearer nonsense"), Some("Basic OmFiYw==")] {
            let mut r = if i == 3 {
                http.post(url).json(&json!({"query": "x"}))
            } else {
                http.get(url)
            };
            if let Some(v) = auth {
                r = r.header("authorization", v);
            }
            let resp = r.send().await.expect("send");
            assert_eq!(resp.status(), 401, "{url} {auth:?}");
            let www = resp
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(www.starts_with("Bearer"), "{www}");
            let body: Value = resp.json().await.expect("json");
            assert!(
                body.get("error").is_some() || body.get("typeKey").is_some(),
                "{body}"
            );
        }
    }
    // Hooks need no token.
    let r = http
        .get(format!("{}/_sim/clock", h.base_url()))
        .send()
        .await
        .expect("hook");
    assert_eq!(r.status(), 200);
    // A name seen for the first time becomes an identity.
    let frank = Api::new(&h, "frank");
    let me = frank
        .get(&format!(
            "{}/contoso/_apis/connectionData",
            frank.settings.devops.endpoint
        ))
        .await;
    assert_eq!(
        me["authenticatedUser"]["properties"]["Account"]["$value"],
        "frank@contoso.com"
    );
    assert!(
        me["authenticatedUser"]["providerDisplayName"]
            .as_str()
            .is_some_and(|n| n.starts_with("Frank "))
    );
    // Every service request is counted (the 401s too), hooks are not.
    let stats: Value = http
        .get(format!("{}/_sim/stats", h.base_url()))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["total"], 13, "{stats}");
    assert_eq!(
        (
            &stats["arm"],
            &stats["devops"],
            &stats["vsrm"],
            &stats["la"]
        ),
        (&json!(3), &json!(4), &json!(3), &json!(3)),
        "{stats}"
    );
    assert_eq!(stats["by_route"]["GET devops/connectionData"], 4, "{stats}");
    assert_eq!(stats["by_route"]["POST la/query"], 3, "{stats}");
}

#[tokio::test]
async fn latency_delays_every_response() {
    let h = sim_with(|o| {
        o.latency = Some((
            std::time::Duration::from_millis(150),
            std::time::Duration::from_millis(200),
        ))
    })
    .await;
    let a = Api::new(&h, "alice");
    let url = format!("{}/approvals", a.rel());
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let r = a.send(reqwest::Method::GET, &url, None).await;
        assert_eq!(r.status(), 200);
        assert!(t.elapsed() >= std::time::Duration::from_millis(150));
    }
    let t = std::time::Instant::now();
    let r = reqwest::get(format!("{}/_sim/clock", h.base_url()))
        .await
        .expect("hook");
    assert_eq!(r.status(), 200);
    assert!(
        t.elapsed() < std::time::Duration::from_millis(120),
        "hooks are never delayed"
    );
}

#[tokio::test]
async fn the_three_queries_decode_with_relcons_decoders() {
    let h = sim_with(|_| {}).await;
    let a = Api::new(&h, "alice");
    let s = h.scenario();
    let t = Thresholds::default();
    let drift = queries::decode_drift(&a.read(MonitorQuery::Drift).await).expect("drift columns");
    assert_eq!(drift.len(), s.circuits);
    let mut alerts = BTreeSet::new();
    for (c, series) in &drift {
        for d in series {
            assert_eq!(d.series.values.len(), 30, "{c} {}", d.feature);
            let (status, _) = d.metric.evaluate(d.series.latest().unwrap_or(f64::NAN), &t);
            if status == Status::Alert {
                alerts.insert(c.to_string());
            }
        }
    }
    assert!(alerts.contains(&s.incident_circuit), "{alerts:?}");
    let planted: BTreeSet<String> = s.drift_alert_circuits.iter().cloned().collect();
    assert_eq!(alerts, planted, "the planted alerts, and only them");
    assert!(
        drift
            .values()
            .flatten()
            .any(|d| d.metric == DriftMetric::KsPvalue)
    );

    let accuracy =
        queries::decode_accuracy(&a.read(MonitorQuery::Accuracy).await).expect("accuracy columns");
    let incident = accuracy
        .get(&s.incident_circuit.parse().expect("ref"))
        .expect("incident series");
    let last = incident.values.len();
    assert!(
        incident.latest().is_some_and(|m| m > 0.25),
        "{:?}",
        incident.values
    );
    assert!(
        incident.values[..last - 3].iter().all(|m| *m < 0.25),
        "degraded only lately: {:?}",
        incident.values
    );
    let healthy = accuracy
        .iter()
        .filter(|(c, _)| c.to_string() != s.incident_circuit);
    assert!(
        healthy
            .clone()
            .all(|(_, sr)| sr.latest().is_some_and(|m| (0.03..0.25).contains(&m)))
    );

    let validation = queries::decode_validation(&a.read(MonitorQuery::Validation).await)
        .expect("validation columns");
    assert!(validation.len() > s.circuits / 2);
    let env_runs: Vec<_> = validation
        .values()
        .flatten()
        .filter(|r| r.release_id == Some(s.environment_release_id))
        .collect();
    assert_eq!(
        env_runs.len(),
        s.circuits,
        "every circuit tested against 1.5.1"
    );
    assert!(
        env_runs
            .iter()
            .all(|r| r.environment_version.as_deref() == Some("1.5.1") && r.metrics.len() == 3)
    );
    let failing = env_runs
        .iter()
        .filter(|r| {
            r.metrics
                .values()
                .next()
                .is_some_and(|mae| *mae > t.validation_mae_max)
        })
        .count();
    assert_eq!(failing, s.environment_failing_circuits.len());
    let nan = validation
        .values()
        .flatten()
        .filter(|r| r.metrics.values().any(|v| v.is_nan()))
        .collect::<Vec<_>>();
    assert_eq!(nan.len(), 1, "one historic MAPE is NaN, sent as \"NaN\"");
    assert_ne!(nan[0].release_id, Some(s.rollback_release_id));

    // Anything else is refused as the service refuses a query it cannot run.
    let r = a
        .send(
            reqwest::Method::POST,
            &a.la(),
            Some(json!({"query": "Usage | take 10", "timespan": "PT12H"})),
        )
        .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "BadArgumentError");
}

#[tokio::test]
async fn configs_at_each_prod_models_commit_hash_to_its_tag() {
    let h = sim_with(|_| {}).await;
    let a = Api::new(&h, "carol");
    let s = h.scenario();
    let devops = &a.settings.devops;
    let items = format!(
        "{}/{}/{}/_apis/git/repositories/{}/items",
        devops.endpoint, devops.organization, devops.project, devops.config_repository
    );
    let mut checked = 0;
    let mut broken = Vec::new();
    for ep in a
        .arm_all(&format!("{}/batchEndpoints?{API}", a.ws("prod")))
        .await
    {
        let name = ep["name"].as_str().unwrap_or_default();
        assert!(
            ep["tags"]["plant_name"]
                .as_str()
                .is_some_and(|n| !n.is_empty())
        );
        for d in a
            .arm_all(&format!(
                "{}/batchEndpoints/{name}/deployments?{API}",
                a.ws("prod")
            ))
            .await
        {
            let asset = ModelAsset::parse(
                d["properties"]["model"]["assetId"]
                    .as_str()
                    .unwrap_or_default(),
            )
            .expect("asset id");
            let v = a
                .get(&format!(
                    "{}/models/{}/versions/{}?{API}",
                    a.reg(),
                    asset.name,
                    asset.version
                ))
                .await;
            let tags = &v["properties"]["tags"];
            for k in [
                "training_hash",
                "plant_id",
                "circuit_id",
                "cutoff_date",
                "delta_version",
                "pipeline_component_version",
                "git_commit",
                "build_id",
            ] {
                assert!(tags.get(k).is_some(), "{k} missing on {}", asset.name);
            }
            let path = format!(
                "/config/circuits/{}_{}.yaml",
                tags["plant_id"].as_str().unwrap_or_default(),
                tags["circuit_id"].as_str().unwrap_or_default()
            );
            let commit = tags["git_commit"].as_str().unwrap_or_default();
            let url = format!(
                "{items}?path={path}&versionDescriptor.version={commit}&versionDescriptor.versionType=commit&includeContent=true&api-version=7.1"
            );
            let item = a.get(&url).await;
            assert_eq!(item["commitId"], commit);
            let text = item["content"].as_str().unwrap_or_default();
            let hash = relcon::service::snapshot::hash_of_config(text).map(|h| h.to_string());
            if hash.as_deref() != tags["training_hash"].as_str() {
                broken.push(format!(
                    "{}/{}",
                    tags["plant_id"].as_str().unwrap_or_default(),
                    tags["circuit_id"].as_str().unwrap_or_default()
                ));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, s.circuits);
    assert_eq!(broken, vec![s.lineage_break_circuit.clone()]);
    // A path that is not there, and a commit that does not exist, fail as DevOps fails.
    let r = a
        .send(
            reqwest::Method::GET,
            &format!("{items}?path=/config/circuits/PLANT999_CIRCUIT01.yaml&api-version=7.1"),
            None,
        )
        .await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("TF401174:")),
        "{v}"
    );
    assert_eq!(v["typeKey"], "GitItemNotFoundException");
    let r = a
        .send(
            reqwest::Method::GET,
            &format!(
                "{items}?path=/x&versionDescriptor.version={}&versionDescriptor.versionType=commit",
                "0".repeat(40)
            ),
            None,
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_pending_approvals_of_the_scenario_are_all_there() {
    let h = sim_with(|_| {}).await;
    let a = Api::new(&h, "erin");
    let s = h.scenario();
    let pending = a
        .devops_all(&format!(
            "{}/approvals?statusFilter=pending&typeFilter=preDeploy&top=100",
            a.rel()
        ))
        .await;
    let mut by_stage: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for p in &pending {
        assert_eq!(p["status"], "pending");
        assert_eq!(
            p["approver"]["displayName"],
            "[forecasting]\\ML Release Approvers"
        );
        let stage = p["releaseEnvironment"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        by_stage
            .entry(stage)
            .or_default()
            .insert(p["release"]["id"].as_u64().unwrap_or_default());
    }
    let ids = |v: &[u32]| v.iter().map(|&i| u64::from(i)).collect::<BTreeSet<_>>();
    assert_eq!(
        by_stage.get("Registry"),
        Some(&ids(&s.pending_registry_releases))
    );
    assert_eq!(
        by_stage.get("Production"),
        Some(&ids(&s.pending_production_releases))
    );
    assert_eq!(
        pending.len(),
        s.pending_registry_approvals + s.pending_production_approvals
    );

    // The big release's models: the Dev versions whose build_id is its primary artifact's build.
    let big = a
        .get(&format!(
            "{}/releases/{}",
            a.rel(),
            s.identical_change_release_id
        ))
        .await;
    assert_eq!(
        big["environments"][0]["preApprovalsSnapshot"]["approvalOptions"]["requiredApproverCount"],
        1
    );
    let build = big["artifacts"][0]["definitionReference"]["version"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut members = 0;
    for m in a.arm_all(&format!("{}/models?{API}", a.ws("dev"))).await {
        let name = m["name"].as_str().unwrap_or_default();
        let hits = a
            .arm_all(&format!(
                "{}/models/{name}/versions?{API}&tags=build_id={build}",
                a.ws("dev")
            ))
            .await;
        if let Some(v) = hits.first() {
            members += 1;
            assert_eq!(
                m["properties"]["latestVersion"], v["name"],
                "the newest Dev version"
            );
            let in_registry = a
                .send(
                    reqwest::Method::GET,
                    &format!(
                        "{}/models/{name}/versions/{}?{API}",
                        a.reg(),
                        v["name"].as_str().unwrap_or_default()
                    ),
                    None,
                )
                .await;
            assert_eq!(in_registry.status(), 404, "not promoted yet");
        }
    }
    assert_eq!(members, s.identical_change_circuits);

    let alice = a
        .get(&format!("{}/releases/{}", a.rel(), s.alice_release_id))
        .await;
    assert_eq!(alice["createdBy"]["uniqueName"], "alice@contoso.com");
    let prod = &alice["environments"][2];
    assert_eq!(prod["name"], "Production");
    assert_eq!(
        prod["preApprovalsSnapshot"]["approvalOptions"]["requiredApproverCount"],
        2
    );
    let others = [
        &s.pending_production_releases[..],
        &s.pending_registry_releases[..],
    ]
    .concat();
    for id in others.iter().filter(|&&id| id != s.alice_release_id) {
        let r = a.get(&format!("{}/releases/{id}", a.rel())).await;
        assert_ne!(
            r["createdBy"]["uniqueName"], "alice@contoso.com",
            "release {id}"
        );
    }

    let by_alice = a
        .devops_all(&format!(
            "{}/releases?createdBy=alice@contoso.com&$top=100",
            a.rel()
        ))
        .await;
    assert!(by_alice.iter().any(|r| r["id"] == s.alice_release_id));
    assert!(
        by_alice
            .iter()
            .all(|r| r["createdBy"]["uniqueName"] == "alice@contoso.com")
    );

    let half = a
        .get(&format!(
            "{}/releases/{}",
            a.rel(),
            s.half_approved_release_id
        ))
        .await;
    let approvals = half["environments"][2]["preDeployApprovals"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let approved: Vec<&Value> = approvals
        .iter()
        .filter(|x| x["status"] == "approved")
        .collect();
    assert_eq!(approvals.len(), 2);
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["approvedBy"]["uniqueName"], "carol@contoso.com");

    let env = a
        .get(&format!(
            "{}/releases/{}",
            a.rel(),
            s.environment_release_id
        ))
        .await;
    assert_eq!(env["variables"]["ENVIRONMENT_VERSION"]["value"], "1.5.1");
    assert_eq!(
        env["variables"]["PREVIOUS_ENVIRONMENT_VERSION"]["value"],
        "1.5.0"
    );
}

#[tokio::test]
async fn the_release_list_shows_a_decision_made_after_it_was_read() {
    let h = sim_with(|_| {}).await;
    let bob = Api::new(&h, "bob");
    let release = h.scenario().alice_release_id;
    let list = format!(
        "{}/releases?definitionId=1&$expand=environments,approvals&queryOrder=descending&api-version=7.1",
        bob.rel()
    );
    let approval_in_list = |v: &Value| -> Option<String> {
        v["value"].as_array()?.iter().find(|r| r["id"] == release)?["environments"]
            .as_array()?
            .iter()
            .flat_map(|e| {
                e["preDeployApprovals"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|a| a["approvedBy"]["uniqueName"] == "bob@contoso.com")
            .and_then(|a| a["status"].as_str().map(str::to_owned))
    };
    let before = bob.get(&list).await;
    assert_eq!(approval_in_list(&before), None);
    let pending = bob
        .devops_all(&format!(
            "{}/approvals?statusFilter=pending&releaseIdsFilter={release}",
            bob.rel()
        ))
        .await;
    let id = pending[0]["id"].as_u64().unwrap_or_default();
    let r = bob
        .send(
            reqwest::Method::PATCH,
            &format!("{}/approvals/{id}?api-version=7.1", bob.rel()),
            Some(json!({"status": "approved", "comments": "ok"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    // The list (whose release JSON the simulator caches) must not serve the old state.
    let after = bob.get(&list).await;
    assert_eq!(approval_in_list(&after).as_deref(), Some("approved"));
}

#[tokio::test]
async fn deciding_an_approval_twice_is_refused_with_who_decided() {
    let h = sim_with(|_| {}).await;
    let (bob, dave) = (Api::new(&h, "bob"), Api::new(&h, "dave"));
    let s = h.scenario();
    let pending = bob
        .devops_all(&format!(
            "{}/approvals?statusFilter=pending&releaseIdsFilter={}",
            bob.rel(),
            s.alice_release_id
        ))
        .await;
    assert_eq!(pending.len(), 2);
    let id = pending[0]["id"].as_u64().unwrap_or_default();
    let url = format!("{}/approvals/{id}?api-version=7.1", bob.rel());
    let r = bob
        .send(
            reqwest::Method::PATCH,
            &url,
            Some(json!({"status": "approved", "comments": "validation passed"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("activityid"));
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["status"], "approved");
    assert_eq!(v["approvedBy"]["uniqueName"], "bob@contoso.com");
    assert_eq!(v["comments"], "validation passed");
    let again = dave
        .send(
            reqwest::Method::PATCH,
            &url,
            Some(json!({"status": "rejected", "comments": "no"})),
        )
        .await;
    assert_eq!(again.status(), 400);
    let e: Value = again.json().await.expect("json");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("VS402860:") && m.contains("approved")),
        "{e}"
    );
    assert_eq!(e["typeKey"], "InvalidRequestException");
    // Malformed decisions are 400s, not crashes.
    for body in [
        json!({"status": "maybe"}),
        json!([1, 2]),
        json!({"comments": 3, "status": "approved"}),
    ] {
        let id2 = pending[1]["id"].as_u64().unwrap_or_default();
        let r = bob
            .send(
                reqwest::Method::PATCH,
                &format!("{}/approvals/{id2}", bob.rel()),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status(), 400, "{body}");
    }
}

#[tokio::test]
async fn redeploying_the_rollback_release_restores_the_incident_circuit() {
    let h = sim_with(|_| {}).await;
    let a = Api::new(&h, "dave");
    let s = h.scenario();
    let release = a
        .get(&format!("{}/releases/{}", a.rel(), s.rollback_release_id))
        .await;
    let env_id = release["environments"][2]["id"]
        .as_u64()
        .unwrap_or_default();
    assert_ne!(
        env_id,
        release["environments"][2]["definitionEnvironmentId"]
            .as_u64()
            .unwrap_or_default()
    );
    let url = format!(
        "{}/releases/{}/environments/{env_id}?api-version=7.1",
        a.rel().replace("/release", "/Release"),
        s.rollback_release_id
    );
    let body = json!({"status": "inProgress", "scheduledDeploymentTime": null, "comment": "rollback", "variables": {}});
    let r = a.send(reqwest::Method::PATCH, &url, Some(body)).await;
    assert_eq!(r.status(), 200);
    let env: Value = r.json().await.expect("json");
    assert_eq!(env["status"], "queued");
    let circuit = s.incident_circuit.replace('/', "_");
    let prod_version = |d: &Value| {
        ModelAsset::parse(
            d["properties"]["model"]["assetId"]
                .as_str()
                .unwrap_or_default(),
        )
        .map(|m| m.version.0)
    };
    let (plant, c) = s.incident_circuit.split_once('/').unwrap_or_default();
    let dep_url = format!(
        "{}/batchEndpoints/batch-endpoint-{}/deployments/deployment-{}?{API}",
        a.ws("prod"),
        plant.to_lowercase(),
        c.to_lowercase()
    );
    assert_eq!(
        prod_version(&a.get(&dep_url).await),
        Some(s.incident_version),
        "{circuit}"
    );
    a.advance(600.0).await;
    let release = a
        .get(&format!("{}/releases/{}", a.rel(), s.rollback_release_id))
        .await;
    assert_eq!(release["environments"][2]["status"], "succeeded");
    assert_eq!(
        release["environments"][2]["deploySteps"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        prod_version(&a.get(&dep_url).await),
        Some(s.rollback_version)
    );
    // The restore shows in monitoring: today's MAE is healthy again.
    let accuracy =
        queries::decode_accuracy(&a.read(MonitorQuery::Accuracy).await).expect("accuracy");
    let series = accuracy
        .get(&s.incident_circuit.parse().expect("ref"))
        .expect("series");
    assert!(
        series.latest().is_some_and(|m| m < 0.25),
        "{:?}",
        series.values
    );
}

#[tokio::test]
async fn a_deployment_put_is_followed_to_success() {
    let h = sim_with(|o| o.update_minutes = 4.0).await;
    let a = Api::new(&h, "erin");
    let s = h.scenario();
    let (plant, c) = s.incident_circuit.split_once('/').unwrap_or_default();
    let url = format!(
        "{}/batchEndpoints/batch-endpoint-{}/deployments/deployment-{}?{API}",
        a.ws("prod"),
        plant.to_lowercase(),
        c.to_lowercase()
    );
    let mut dep = a.get(&url).await;
    let target = format!(
        "azureml://registries/mlr-forecast/models/{}-{}/versions/{}",
        plant.to_lowercase(),
        c.to_lowercase(),
        s.rollback_version
    );
    dep["properties"]["model"]["assetId"] = json!(target);
    let r = a.send(reqwest::Method::PUT, &url, Some(dep.clone())).await;
    assert_eq!(r.status(), 201);
    let op = r
        .headers()
        .get("azure-asyncoperation")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(
        op.starts_with(&a.settings.azure.arm_endpoint.0) && op.contains("mfeOperationsStatus"),
        "{op}"
    );
    assert!(retry >= 1);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["properties"]["provisioningState"], "Updating");
    assert_eq!(a.get(&op).await["status"], "InProgress");
    let busy = a.send(reqwest::Method::PUT, &url, Some(dep)).await;
    assert_eq!(busy.status(), 409, "one update at a time");
    a.advance(240.0).await;
    let done = a.get(&op).await;
    assert_eq!(done["status"], "Succeeded");
    let now = a.get(&url).await;
    assert_eq!(now["properties"]["provisioningState"], "Succeeded");
    let served = now["properties"]["model"]["assetId"]
        .as_str()
        .unwrap_or_default();
    assert!(
        served.starts_with("/subscriptions/"),
        "answered as an ARM id: {served}"
    );
    assert_eq!(ModelAsset::parse(served), ModelAsset::parse(&target));
    // The GET body, sent back as is, is a valid PUT.
    let r = a.send(reqwest::Method::PUT, &url, Some(now.clone())).await;
    assert_eq!(r.status(), 201);
    a.advance(240.0).await;

    // Nonsense is a 400 in ARM's shape.
    for bad in [
        json!("x"),
        json!({"properties": {"model": {"assetId": "azureml://registries/mlr-forecast/models/nope/versions/1"}, "environmentId": "azureml://registries/mlr-forecast/environments/forecast-tf/versions/1.5.0"}}),
        json!({"name": "other", "properties": {}}),
    ] {
        let r = a.send(reqwest::Method::PUT, &url, Some(bad.clone())).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.headers().contains_key("x-ms-request-id"));
        let e: Value = r.json().await.expect("json");
        assert!(
            e["error"]["code"].is_string() && e["error"]["message"].is_string(),
            "{e}"
        );
    }
    // PATCH changes tags only, and is followed through Location.
    let r = a
        .send(
            reqwest::Method::PATCH,
            &url,
            Some(json!({"tags": {"owner": "on-call"}})),
        )
        .await;
    assert_eq!(r.status(), 202);
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(a.send(reqwest::Method::GET, &loc, None).await.status(), 202);
    a.advance(60.0).await;
    let res = a.get(&loc).await;
    assert_eq!(res["tags"]["owner"], "on-call");
    let r = a
        .send(
            reqwest::Method::PATCH,
            &url,
            Some(json!({"properties": {"model": {"assetId": target}}})),
        )
        .await;
    assert_eq!(r.status(), 400, "a model changes only by PUT");
}

#[tokio::test]
async fn unknown_routes_answer_in_each_services_shape() {
    let h = sim_with(|_| {}).await;
    let a = Api::new(&h, "alice");
    let cases = [
        (format!("{}/nothingHere?{API}", a.ws("prod")), "error"),
        (
            format!(
                "{}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x?{API}",
                a.settings.azure.arm_endpoint
            ),
            "error",
        ),
        (format!("{}/releases/999999", a.rel()), "typeKey"),
        (
            format!(
                "{}/contoso/forecasting/_apis/nothing",
                a.settings.devops.endpoint
            ),
            "typeKey",
        ),
        (
            format!(
                "{}/v1/workspaces/{}/other",
                a.settings.monitor.endpoint,
                a.settings
                    .monitor
                    .log_analytics_workspace_id
                    .as_ref()
                    .expect("ws")
            ),
            "error",
        ),
    ];
    for (url, key) in cases {
        let r = a.send(reqwest::Method::GET, &url, None).await;
        assert_eq!(r.status(), 404, "{url}");
        let v: Value = r.json().await.expect("json");
        assert!(v.get(key).is_some(), "{url}: {v}");
    }
    let r = a
        .send(
            reqwest::Method::GET,
            &format!("{}/batchEndpoints", a.ws("prod")),
            None,
        )
        .await;
    assert_eq!(r.status(), 400, "api-version is required");
}

#[tokio::test]
async fn settings_point_at_the_simulator_and_round_trip_as_toml() {
    let h = sim_with(|_| {}).await;
    let s = h.settings();
    assert!(s.is_simulator());
    assert_eq!(s.azure.arm_endpoint.0, format!("{}/arm", h.base_url()));
    let parsed = Settings::parse(&h.settings_toml(), "sim.toml").expect("settings_toml parses");
    assert_eq!(parsed, s);
    let app = Settings::parse(
        &h.settings_toml_for(sim::MonitorRoute::AppInsights),
        "sim.toml",
    )
    .expect("app insights settings parse");
    assert_eq!(app, h.settings_app_insights());
    assert!(app.monitor.log_analytics_workspace_id.is_none());
    let refused = sim::start(SimOptions {
        addr: "0.0.0.0:0".parse().expect("addr"),
        ..SimOptions::default()
    })
    .await;
    assert!(refused.is_err_and(|e| e.to_string().contains("loopback")));
}

async fn hammer(h: &SimHandle, n: usize) -> (usize, usize, usize, Vec<String>) {
    let a = Api::new(h, "alice");
    let url = format!("{}/batchEndpoints?{API}", a.ws("prod"));
    let (mut ok, mut errors, mut resets) = (0, 0, 0);
    let mut retry_after = Vec::new();
    for _ in 0..n {
        match a
            .http
            .get(&url)
            .header("authorization", &a.token)
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status().as_u16();
                if let Some(v) = r.headers().get("retry-after").and_then(|v| v.to_str().ok()) {
                    retry_after.push(format!("{status}:{v}"));
                }
                match (status, r.bytes().await) {
                    (200, Ok(_)) => ok += 1,
                    (_, Ok(_)) => errors += 1,
                    (_, Err(_)) => resets += 1,
                }
            }
            Err(_) => resets += 1,
        }
    }
    (ok, errors, resets, retry_after)
}

#[tokio::test]
async fn faults_come_at_roughly_the_configured_rates() {
    let failing = sim_with(|o| o.fail_rate = 0.2).await;
    let (ok, errors, resets, retry) = hammer(&failing, 300).await;
    assert_eq!(resets, 0);
    assert!((30..=95).contains(&errors), "{errors} of 300 failed");
    assert_eq!(ok + errors, 300);
    assert!(retry.iter().all(|r| r == "503:1"), "{retry:?}");
    assert_eq!(
        failing.stats().faults.values().sum::<u64>() as usize,
        errors
    );

    let resetting = sim_with(|o| o.reset_rate = 0.2).await;
    let (ok, errors, resets, _) = hammer(&resetting, 300).await;
    assert_eq!(errors, 0);
    assert!((30..=95).contains(&resets), "{resets} of 300 dropped");
    assert_eq!(ok + resets, 300);

    let throttled = sim_with(|o| o.throttle = Some(5.0)).await;
    let started = std::time::Instant::now();
    let (ok, errors, _, retry) = hammer(&throttled, 40).await;
    // A burst of 5, then 5 a second for as long as the requests took.
    let most = 5 + (5.0 * started.elapsed().as_secs_f64()).ceil() as usize + 1;
    assert!(
        ok >= 5 && ok <= most.min(39),
        "{ok} got through a 5/s bucket (at most {most})"
    );
    assert_eq!(errors, 40 - ok);
    assert!(
        !retry.is_empty()
            && retry
                .iter()
                .all(|r| r.starts_with("429:") && r[4..].parse::<u64>().is_ok_and(|s| s >= 1)),
        "{retry:?}"
    );
}
