//! The Azure client against small fakes: the calls docs/AZURE.md lists (paths, parameters,
//! bodies), paging, long-running operations, writes sent once, and token handling.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{Fake, FakeCredential, entra_backend, json, reply, sim_backend, ws};
use relcon::azure::{AzureBackend, ClientOptions};
use relcon::domain::platform::{
    ApprovalStatus, AssetLocation, EnvironmentAsset, EnvironmentStatus, ModelAsset,
};
use relcon::domain::{ModelVersion, Stage};
use relcon::service::backend::{
    ApprovalQuery, Backend, ErrorKind, MonitorQuery, OperationKind, OperationStatus,
};
use serde_json::json as j;

#[tokio::test]
async fn next_link_paging_over_several_pages() {
    let fake = Fake::start(|h| {
        let page = h.q("page").unwrap_or("1").to_owned();
        let next = match page.as_str() {
            "1" => Some("2"),
            "2" => Some("3"),
            _ => None,
        };
        // An absolute nextLink on the same host, carrying its own query.
        let link = next.map(|n| {
            format!(
                "http://{}{}?api-version=2025-06-01&$skipToken=t{n}&page={n}",
                h.host,
                h.path.split('?').next().unwrap()
            )
        });
        let names: Vec<_> = (0..2)
            .map(|i| j!({"name": format!("ep-{page}-{i}"), "properties": {}}))
            .collect();
        json(200, j!({"value": names, "nextLink": link}))
    })
    .await;
    let b = sim_backend(&fake);
    let eps = b.endpoints(Stage::Test).await.unwrap();
    let names: Vec<&str> = eps.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["ep-1-0", "ep-1-1", "ep-2-0", "ep-2-1", "ep-3-0", "ep-3-1"]
    );
    let hits = fake.hits();
    assert_eq!(hits.len(), 3);
    assert!(
        hits[0]
            .path
            .starts_with(&format!("{}/batchEndpoints?", ws("ws-test", "rg-test")))
    );
    assert_eq!(hits[0].q("api-version"), Some("2025-06-01"));
    assert_eq!(hits[2].q("$skipToken"), Some("t3"));
    assert_eq!(b.stats().arm, 3);
}

#[tokio::test]
async fn next_link_to_another_host_is_not_followed() {
    let fake = Fake::start(|_| {
        json(
            200,
            j!({"value": [{"name": "a"}], "nextLink": "https://attacker.example/steal?x=1"}),
        )
    })
    .await;
    let b = sim_backend(&fake);
    let e = b.endpoints(Stage::Prod).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert!(e.message.contains("attacker.example"), "{e}");
    assert_eq!(fake.hits().len(), 1);
}

fn release(id: u32) -> serde_json::Value {
    j!({
        "id": id, "name": format!("Release-{id}"), "status": "active",
        "createdBy": {"id": "u1", "displayName": "Rita Requester", "uniqueName": "rita@contoso.com"},
        "artifacts": [
            {"alias": "other", "isPrimary": false, "definitionReference": {"version": {"id": "1", "name": "1"}}},
            {"alias": "train", "isPrimary": true, "definitionReference": {"version": {"id": format!("{}", 900 + id), "name": "b"}}}
        ],
        "variables": {"ENVIRONMENT_VERSION": {"value": "1.6.0"}, "SECRET": {"value": null, "isSecret": true}},
        "environments": [{
            "id": id * 10, "name": "Production", "status": "InProgress", "definitionEnvironmentId": 3,
            "preApprovalsSnapshot": {"approvalOptions": {"requiredApproverCount": 2}},
            "preDeployApprovals": [{"id": id * 100, "status": "Pending", "approvalType": "preDeploy",
                "approver": {"id": "g1", "displayName": "[forecasting]\\Release Approvers"}}],
            "deploySteps": [{"attempt": 1, "status": "inProgress",
                "requestedBy": {"displayName": "Rita Requester"}, "queuedOn": "2025-12-09T10:00:00Z"}]
        }]
    })
}

#[tokio::test]
async fn continuation_token_paging_and_release_mapping() {
    let fake = Fake::start(|h| {
        let (ids, next): (&[u32], Option<&str>) = match h.q("continuationToken") {
            None => (&[9, 8], Some("tok-a")),
            Some("tok-a") => (&[7, 6], Some("tok-b")),
            Some("tok-b") => (&[5], None),
            Some(other) => panic!("unexpected token {other}"),
        };
        let value: Vec<_> = ids.iter().map(|i| release(*i)).collect();
        let r = json(200, j!({"count": value.len(), "value": value}));
        match next {
            Some(t) => r.header("x-ms-continuationtoken", t),
            None => r,
        }
    })
    .await;
    let b = sim_backend(&fake);
    let releases = b.release_history().await.unwrap();
    let ids: Vec<u32> = releases.iter().map(|r| r.id).collect();
    assert_eq!(ids, [9, 8, 7, 6, 5]);
    let hits = fake.hits();
    assert_eq!(hits.len(), 3);
    for h in &hits {
        assert!(
            h.path
                .starts_with("/vsrm/contoso/forecasting/_apis/release/releases?")
        );
        assert_eq!(h.q("definitionId"), Some("12"));
        assert_eq!(
            h.q("$expand"),
            Some("environments,approvals,artifacts,variables")
        );
        assert_eq!(h.q("queryOrder"), Some("descending"));
        assert_eq!(h.q("$top"), Some("100"));
        assert_eq!(h.q("api-version"), Some("7.1"));
    }
    assert_eq!(hits[1].q("continuationToken"), Some("tok-a"));
    assert_eq!(hits[2].q("continuationToken"), Some("tok-b"));
    assert_eq!(b.stats().release, 3);

    let r = &releases[0];
    assert_eq!(
        r.build_id.as_deref(),
        Some("909"),
        "primary artifact's build"
    );
    assert_eq!(r.environment_only(), Some("1.6.0"));
    assert_eq!(r.created_by.unique_name, "rita@contoso.com");
    let prod = r.environment(Stage::Prod).unwrap();
    assert_eq!(
        (prod.id.as_number(), prod.required_approvers),
        (Some(90), 2)
    );
    assert_eq!(prod.status, EnvironmentStatus::InProgress);
    let a = &prod.pre_deploy_approvals[0];
    assert_eq!(
        (a.id.as_number(), a.release_id, a.stage_ref.as_number()),
        (Some(900), 9, Some(90))
    );
    assert_eq!(a.stage_name, "Production");
    assert_eq!(a.status, ApprovalStatus::Pending);
    let step = prod.last_attempt().unwrap();
    assert_eq!(
        step.requested_by.as_ref().unwrap().display_name,
        "Rita Requester"
    );
    assert!(step.queued_on.is_some());
}

#[tokio::test]
async fn a_repeated_continuation_token_stops_instead_of_looping() {
    let fake = Fake::start(|_| {
        json(200, j!({"count": 1, "value": [release(1)]})).header("x-ms-continuationtoken", "same")
    })
    .await;
    let e = sim_backend(&fake).release_history().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert_eq!(fake.hits().len(), 2);
}

#[tokio::test]
async fn approvals_query_parameters() {
    let fake = Fake::start(|h| {
        let status = h.q("statusFilter").unwrap_or("none").to_owned();
        json(
            200,
            j!({"count": 1, "value": [{"id": 1, "status": status, "approvalType": "preDeploy",
                "release": {"id": 1, "name": "Release-1"},
                "releaseEnvironment": {"id": 11, "name": "Registry"}}]}),
        )
    })
    .await;
    let b = sim_backend(&fake);
    let q = ApprovalQuery {
        status: Some(ApprovalStatus::Pending),
        release_ids: vec![1, 2],
    };
    let got = b.approvals(&q).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].stage(), Some(Stage::Registry));
    let h = &fake.hits()[0];
    assert!(
        h.path
            .starts_with("/vsrm/contoso/forecasting/_apis/release/approvals?")
    );
    assert_eq!(h.q("statusFilter"), Some("pending"));
    assert_eq!(h.q("typeFilter"), Some("preDeploy"));
    assert_eq!(h.q("releaseIdsFilter"), Some("1,2"));
    assert_eq!(h.q("top"), Some("100"));
    assert_eq!(h.q("api-version"), Some("7.1"));

    // Every status: the service reads a missing filter as "pending", so each is asked for.
    let all = b.approvals(&ApprovalQuery::default()).await.unwrap();
    let statuses: Vec<&str> = all.iter().map(|a| a.status.as_str()).collect();
    assert_eq!(
        statuses,
        [
            "pending",
            "approved",
            "rejected",
            "reassigned",
            "canceled",
            "skipped"
        ]
    );
    assert!(
        fake.hits()[1..]
            .iter()
            .all(|h| h.q("releaseIdsFilter").is_none())
    );
}

fn deployment_body(asset: &str) -> serde_json::Value {
    j!({
        "id": "/subscriptions/x/deployments/deployment-circuit01",
        "name": "deployment-circuit01",
        "location": "westeurope",
        "tags": {"owner": "ml"},
        "properties": {
            "description": "Circuit 1",
            "compute": "cpu-cluster",
            "model": {"referenceType": "Id", "assetId": asset},
            "environmentId": "azureml://registries/mlr/environments/forecast-env/versions/1.5.0",
            "provisioningState": "Succeeded",
            "miniBatchSize": 10
        },
        "systemData": {"lastModifiedAt": "2025-12-01T08:00:00Z"}
    })
}

#[tokio::test]
async fn set_model_is_get_change_put_then_azure_async_operation() {
    let fake = Fake::start(|h| match (h.method.as_str(), h.path.as_str()) {
        ("GET", p) if p.contains("/deployments/deployment-circuit01") => json(
            200,
            deployment_body("azureml://registries/mlr/models/plant001-circuit01/versions/6"),
        ),
        ("PUT", _) => json(201, h.json())
            .header("Azure-AsyncOperation", "/arm/operations/op-1?api-version=2025-06-01")
            .header("Retry-After", "3"),
        ("GET", p) if p.starts_with("/arm/operations/op-1") => match h.nth {
            0 => json(200, j!({"status": "InProgress"})).header("Retry-After", "2"),
            1 => json(200, j!({"status": "Succeeded"})),
            _ => json(
                200,
                j!({"status": "Failed", "error": {"code": "DeploymentFailed", "message": "image pull failed"}}),
            ),
        },
        _ => reply(404, ""),
    })
    .await;
    let b = sim_backend(&fake);
    let target = ModelAsset {
        registry: Some("mlr".into()),
        name: "plant001-circuit01".into(),
        version: ModelVersion(7),
    };
    let op = b
        .begin_set_deployment_model(
            Stage::Prod,
            "batch-endpoint-plant001",
            "deployment-circuit01",
            &target,
        )
        .await
        .unwrap()
        .value;
    assert_eq!(op.kind, OperationKind::AsyncOperation);
    assert_eq!(op.retry_after_secs, Some(3));
    assert_eq!(
        op.url,
        format!("{}/arm/operations/op-1?api-version=2025-06-01", fake.base)
    );

    let puts = fake.hits_to("PUT", "/deployments/deployment-circuit01");
    assert_eq!(puts.len(), 1);
    assert!(puts[0].path.starts_with(&format!(
        "{}/batchEndpoints/batch-endpoint-plant001/deployments/deployment-circuit01?api-version=2025-06-01",
        ws("ws-prod", "rg-prod")
    )));
    // The whole resource went back, with only the model changed.
    let expected = deployment_body("azureml://registries/mlr/models/plant001-circuit01/versions/7");
    assert_eq!(puts[0].json(), expected);

    assert_eq!(
        b.operation_status(&op).await.unwrap(),
        OperationStatus::InProgress {
            retry_after: Some(Duration::from_secs(2))
        }
    );
    assert_eq!(
        b.operation_status(&op).await.unwrap(),
        OperationStatus::Succeeded
    );
    match b.operation_status(&op).await.unwrap() {
        OperationStatus::Failed(m) => assert!(m.contains("image pull failed"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn set_environment_then_follow_location() {
    let fake = Fake::start(|h| match (h.method.as_str(), h.path.as_str()) {
        ("GET", p) if p.contains("/deployments/") => json(
            200,
            deployment_body("azureml://registries/mlr/models/plant001-circuit01/versions/6"),
        ),
        ("PUT", _) => reply(202, "")
            .header("Location", "/arm/locations/op-2")
            .header("Retry-After", "1"),
        ("GET", p) if p.starts_with("/arm/locations/op-2") => match h.nth {
            0 => reply(202, "").header("Retry-After", "1"),
            1 => json(200, j!({"properties": {"provisioningState": "Updating"}})),
            _ => json(200, j!({"properties": {"provisioningState": "Succeeded"}})),
        },
        _ => reply(404, ""),
    })
    .await;
    let b = sim_backend(&fake);
    let env = EnvironmentAsset::parse(
        "azureml://registries/mlr/environments/forecast-env/versions/1.4.2",
    )
    .unwrap();
    let op = b
        .begin_set_deployment_environment(
            Stage::Test,
            "batch-endpoint-plant001",
            "deployment-circuit02",
            &env,
        )
        .await
        .unwrap()
        .value;
    assert_eq!(op.kind, OperationKind::Location);
    assert_eq!(op.retry_after_secs, Some(1));
    let put = &fake.hits_to("PUT", "/deployments/deployment-circuit02")[0];
    let sent = put.json();
    assert_eq!(
        sent["properties"]["environmentId"],
        "azureml://registries/mlr/environments/forecast-env/versions/1.4.2"
    );
    assert_eq!(
        sent["properties"]["model"]["assetId"],
        "azureml://registries/mlr/models/plant001-circuit01/versions/6"
    );
    assert_eq!(
        b.operation_status(&op).await.unwrap(),
        OperationStatus::InProgress {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    assert!(matches!(
        b.operation_status(&op).await.unwrap(),
        OperationStatus::InProgress { .. }
    ));
    assert_eq!(
        b.operation_status(&op).await.unwrap(),
        OperationStatus::Succeeded
    );
}

#[tokio::test]
async fn an_operation_url_off_the_arm_endpoint_is_refused() {
    let fake = Fake::start(|_| reply(200, "{}")).await;
    let b = sim_backend(&fake);
    let op = relcon::service::backend::OperationHandle {
        url: "https://elsewhere.example/op".into(),
        kind: OperationKind::AsyncOperation,
        retry_after_secs: None,
    };
    let e = b.operation_status(&op).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(fake.hits().is_empty());
}

#[tokio::test]
async fn approve_and_redeploy_send_the_documented_requests_once() {
    let fake = Fake::start(|h| match h.method.as_str() {
        "PATCH" if h.path.contains("/approvals/") => json(
            200,
            j!({"id": 31, "status": "approved", "comments": "ok", "approvalType": "preDeploy",
                "approvedBy": {"id": "a1", "displayName": "Alice"},
                "release": {"id": 4, "name": "Release-4"},
                "releaseEnvironment": {"id": 41, "name": "Production"}}),
        ),
        "PATCH" => json(
            200,
            j!({"id": 41, "releaseId": 4, "name": "Production", "status": "queued"}),
        ),
        _ => reply(404, ""),
    })
    .await;
    let b = sim_backend(&fake);
    let a = b
        .decide_approval(&31.into(), ApprovalStatus::Approved, "ok")
        .await
        .unwrap()
        .value;
    assert_eq!(a.approved_by.unwrap().display_name, "Alice");
    let h = &fake.hits()[0];
    assert!(
        h.path
            .starts_with("/vsrm/contoso/forecasting/_apis/release/approvals/31?")
    );
    assert_eq!(h.q("api-version"), Some("7.1"));
    assert_eq!(h.json(), j!({"status": "approved", "comments": "ok"}));

    let env = b
        .rerun_stage(4, &41.into(), "rollback to 4")
        .await
        .unwrap()
        .value;
    assert_eq!(
        (env.id.as_number(), env.status),
        (Some(41), EnvironmentStatus::Queued)
    );
    let h = &fake.hits()[1];
    assert_eq!(h.method, "PATCH");
    assert!(
        h.path
            .starts_with("/vsrm/contoso/forecasting/_apis/Release/releases/4/environments/41?"),
        "{}",
        h.path
    );
    assert_eq!(h.q("api-version"), Some("7.1"));
    assert_eq!(
        h.json(),
        j!({"status": "inProgress", "scheduledDeploymentTime": null, "comment": "rollback to 4", "variables": {}})
    );
    assert_eq!(fake.hits().len(), 2);
}

#[tokio::test]
async fn identity_config_models_and_query() {
    let fake = Fake::start(|h| {
        let p = h.path.split('?').next().unwrap();
        match p {
            "/devops/contoso/_apis/connectionData" => json(
                200,
                j!({"authenticatedUser": {"id": "u-9", "providerDisplayName": "Alice Approver",
                    "properties": {"Account": {"$type": "System.String", "$value": "alice@contoso.com"}}}}),
            ),
            "/devops/contoso/forecasting/_apis/git/repositories/forecast-config/items" => {
                if h.q("versionDescriptor.version") == Some("abc123") {
                    json(200, j!({"objectId": "o", "commitId": "abc123", "path": "/x.yaml", "content": "plant_id: PLANT001\n"}))
                } else {
                    json(200, j!({"objectId": "o", "commitId": "def", "path": "/x.yaml"}))
                }
            }
            p if p.ends_with("/registries/mlr/models") => json(
                200,
                j!({"value": [{"name": "plant001-circuit01", "properties": {"latestVersion": "7"}},
                              {"name": "odd", "properties": {"latestVersion": "latest"}}]}),
            ),
            p if p.ends_with("/models/plant001-circuit01/versions") => json(
                200,
                j!({"value": [
                    {"name": "7", "properties": {"tags": {"training_hash": "0123456789ab", "build_id": "909", "plant_id": "PLANT001", "circuit_id": "CIRCUIT01"}},
                     "systemData": {"createdAt": "2025-12-01T00:00:00Z"}},
                    {"name": "6", "properties": {"tags": null}}
                ]}),
            ),
            p if p.ends_with("/environments/forecast-env/versions") => {
                json(200, j!({"value": [{"name": "1.5.0", "properties": {"description": "tf 2.15"}}]}))
            }
            "/la/v1/workspaces/0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b/query" => json(
                200,
                j!({"tables": [{"name": "PrimaryResult",
                    "columns": [{"name": "plant_id", "type": "string"}, {"name": "values", "type": "dynamic"},
                                {"name": "value", "type": "real"}, {"name": "n", "type": "long"}],
                    "rows": [["PLANT001", "[0.1,0.2]", "NaN", 3], ["PLANT002", null, 0.5, "4"]]}]}),
            ),
            _ => reply(404, ""),
        }
    })
    .await;
    let b = sim_backend(&fake);
    let me = b.identity().await.unwrap();
    assert_eq!(
        (
            me.id.as_str(),
            me.display_name.as_str(),
            me.unique_name.as_str()
        ),
        ("u-9", "Alice Approver", "alice@contoso.com")
    );
    let text = b
        .config_at("/config/circuits/PLANT001_CIRCUIT01.yaml", "abc123")
        .await
        .unwrap();
    assert_eq!(text, "plant_id: PLANT001\n");
    let h = fake.hits_to("GET", "/items").remove(0);
    assert_eq!(
        h.q("path"),
        Some("/config/circuits/PLANT001_CIRCUIT01.yaml")
    );
    assert_eq!(h.q("versionDescriptor.versionType"), Some("commit"));
    assert_eq!(h.q("includeContent"), Some("true"));
    assert_eq!(h.q("api-version"), Some("7.1"));
    let e = b.config_at("/x.yaml", "def").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);

    let containers = b.model_containers(AssetLocation::Registry).await.unwrap();
    assert_eq!(containers[0].latest_version, Some(ModelVersion(7)));
    assert_eq!(containers[1].latest_version, None);
    let versions = b
        .model_versions(AssetLocation::Registry, "plant001-circuit01")
        .await
        .unwrap();
    let v: Vec<u32> = versions.iter().map(|v| v.version.0).collect();
    assert_eq!(v, [6, 7]);
    assert_eq!(versions[1].build_id(), Some("909"));
    assert!(versions[1].training_hash().is_some());
    assert!(versions[1].circuit().is_some());
    let envs = b
        .environment_versions(AssetLocation::Registry, "forecast-env")
        .await
        .unwrap();
    assert_eq!(envs[0].version, "1.5.0");

    let t = b.monitor(MonitorQuery::Accuracy).await.unwrap();
    let q = fake.hits_to("POST", "/query").remove(0);
    let (text, span) = relcon::azure::kql::query(
        MonitorQuery::Accuracy,
        relcon::azure::kql::Schema::Workspace,
    );
    assert_eq!(q.json(), j!({"query": text, "timespan": span}));
    assert!(text.starts_with("AppMetrics") && span == "P30D", "{text}");
    use relcon::domain::platform::Cell;
    assert_eq!(t.rows[0][1], Cell::Dynamic(j!([0.1, 0.2]).into()));
    assert!(t.rows[0][2].as_f64().unwrap().is_nan());
    assert_eq!(t.rows[1][1], Cell::Null);
    assert_eq!(t.rows[1][3], Cell::Long(4));
}

#[tokio::test]
async fn simulator_bearer_header_and_description() {
    let fake = Fake::start(|_| json(200, j!({"value": []}))).await;
    let b = sim_backend(&fake);
    b.endpoints(Stage::Test).await.unwrap();
    assert_eq!(
        fake.hits()[0].authorization.as_deref(),
        Some("Bearer relcon-sim.alice")
    );
    assert_eq!(
        b.describe(),
        format!("simulator at {} (as alice)", fake.base)
    );
    assert!(
        b.endpoints(Stage::Registry)
            .await
            .is_err_and(|e| e.kind == ErrorKind::Config)
    );
}

#[tokio::test]
async fn tokens_are_cached_per_scope_and_refreshed_once_for_concurrent_callers() {
    let fake = Fake::start(|_| json(200, j!({"value": []}))).await;
    let cred = FakeCredential::new("tok-long", Duration::from_secs(3600));
    let b = Arc::new(entra_backend(&fake, cred.clone(), "RELCON_UNSET_PAT"));
    let calls = (0..20).map(|_| {
        let b = b.clone();
        async move { b.endpoints(Stage::Test).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(
        cred.calls(),
        1,
        "one refresh shared by 20 concurrent callers"
    );
    assert!(
        fake.hits()
            .iter()
            .all(|h| h.authorization.as_deref() == Some("Bearer tok-long"))
    );
    // Another audience is another token.
    b.release_history().await.unwrap();
    let scopes = cred.scopes.lock().unwrap().clone();
    assert_eq!(scopes[0], format!("{}/arm/.default", fake.base));
    assert_eq!(scopes[1], "499b84ac-1321-427f-aa17-267ca6975798/.default");
    assert_eq!(cred.calls(), 2);
}

#[tokio::test]
async fn a_token_within_five_minutes_of_expiry_is_refreshed() {
    let fake = Fake::start(|_| json(200, j!({"value": []}))).await;
    let cred = FakeCredential::new("tok-short", Duration::from_secs(4 * 60));
    let b = entra_backend(&fake, cred.clone(), "RELCON_UNSET_PAT");
    b.endpoints(Stage::Test).await.unwrap();
    b.endpoints(Stage::Test).await.unwrap();
    assert_eq!(cred.calls(), 2);
}

#[tokio::test]
async fn describe_names_the_subscription_for_azure() {
    let fake = Fake::start(|_| reply(200, "{}")).await;
    let cred = FakeCredential::new("t", Duration::from_secs(3600));
    let b: AzureBackend = AzureBackend::new(
        &common::settings(&fake.base, "azure-cli", "X"),
        ClientOptions {
            credential: Some(cred),
            ..ClientOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        b.describe(),
        "Azure subscription 6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60 · ws ws-dev/ws-test/ws-prod · DevOps contoso/forecasting"
    );
}
