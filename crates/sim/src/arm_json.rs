//! Azure ML resources as ARM returns them (`id`, `name`, `type`, `properties`, `systemData`,
//! `tags`, `location`...), modelled on the 2025-06-01 examples.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::clock::iso;
use super::world::{Deployment, Endpoint, Ids, ModelVer, World};
use crate::domain::Stage;

pub const ML: &str = "Microsoft.MachineLearningServices";

/// `/subscriptions/../workspaces/{name}` of a stage (Dev for the Registry too).
pub fn workspace_id(w: &World, stage: Stage) -> String {
    let i = Ids::ws_index(stage);
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/{ML}/workspaces/{}",
        w.ids.subscription, w.ids.rg[i], w.ids.workspace[i]
    )
}

pub fn registry_id(w: &World) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/{ML}/registries/{}",
        w.ids.subscription, w.ids.registry_rg, w.ids.registry
    )
}

/// Where model and environment assets are listed: a workspace or the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Workspace(Stage),
    Registry,
}

impl Scope {
    pub fn id(self, w: &World) -> String {
        match self {
            Scope::Workspace(s) => workspace_id(w, s),
            Scope::Registry => registry_id(w),
        }
    }

    fn type_prefix(self) -> String {
        match self {
            Scope::Workspace(_) => format!("{ML}/workspaces"),
            Scope::Registry => format!("{ML}/registries"),
        }
    }
}

pub fn system_data(
    created_at: DateTime<Utc>,
    created_by: &str,
    modified_at: DateTime<Utc>,
    modified_by: &str,
) -> Value {
    let kind = |who: &str| {
        if who.contains('@') {
            "User"
        } else {
            "Application"
        }
    };
    json!({
        "createdAt": iso(created_at),
        "createdBy": created_by,
        "createdByType": kind(created_by),
        "lastModifiedAt": iso(modified_at),
        "lastModifiedBy": modified_by,
        "lastModifiedByType": kind(modified_by),
    })
}

pub fn workspace_json(w: &World, stage: Stage) -> Value {
    let i = Ids::ws_index(stage);
    let name = w.ids.workspace[i];
    json!({
        "id": workspace_id(w, stage),
        "name": name,
        "type": format!("{ML}/workspaces"),
        "location": w.ids.location,
        "kind": "Default",
        "tags": {"stage": stage.as_str()},
        "identity": {"type": "SystemAssigned", "principalId": super::world::guid(&format!("ws-principal:{name}")), "tenantId": w.ids.tenant},
        "sku": {"name": "Basic", "tier": "Basic"},
        "properties": {
            "friendlyName": name,
            "description": format!("Forecasting models, {} stage", stage),
            "workspaceId": super::world::guid(&format!("ws:{name}")),
            "discoveryUrl": format!("https://{}.api.azureml.ms/discovery", w.ids.location),
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
        },
        "systemData": system_data(w.clock - chrono::Duration::days(400), "ml-platform-admins@contoso.com", w.clock - chrono::Duration::days(400), "ml-platform-admins@contoso.com"),
    })
}

pub fn endpoint_json(w: &World, stage: Stage, e: &Endpoint) -> Value {
    let id = format!("{}/batchEndpoints/{}", workspace_id(w, stage), e.name);
    json!({
        "id": id,
        "name": e.name,
        "type": format!("{ML}/workspaces/batchEndpoints"),
        "location": w.ids.location,
        "kind": "Batch",
        "tags": e.tags,
        "identity": {"type": "SystemAssigned", "principalId": super::world::guid(&id), "tenantId": w.ids.tenant},
        "properties": {
            "description": e.description,
            "properties": {"BatchEndpointCreationApiVersion": "2025-06-01", "azureml.onlineendpointid": id},
            // Where Microsoft's SDK invokes the endpoint (and from which it takes the data
            // plane's base): the workspace's `{api}/mferp/managementfrontend/.../jobs`.
            "scoringUri": if w.jobs.scoring_base.is_empty() {
                format!("https://{}.api.azureml.ms/mferp/managementfrontend{}/batchEndpoints/{}/jobs", w.ids.location, workspace_id(w, stage), e.name)
            } else {
                format!("{}/mferp/managementfrontend{}/batchEndpoints/{}/jobs", w.jobs.scoring_base, workspace_id(w, stage), e.name)
            },
            "swaggerUri": Value::Null,
            "authMode": "AADToken",
            "defaults": {"deploymentName": e.default_deployment},
            "provisioningState": e.provisioning,
        },
        "systemData": system_data(e.created_at, "ml-platform-admins", e.modified_at, &e.modified_by),
    })
}

pub fn deployment_json(w: &World, stage: Stage, e: &Endpoint, d: &Deployment) -> Value {
    let ws = workspace_id(w, stage);
    let mut props = json!({
        "description": d.description,
        "properties": {},
        "codeConfiguration": {
            "codeId": format!("azureml://registries/{}/codes/forecast-score/versions/3", w.ids.registry),
            "scoringScript": "score.py",
        },
        "environmentVariables": {"FORECAST_OUTPUT_FORMAT": "parquet"},
        "compute": format!("{ws}/computes/batch-cluster"),
        "errorThreshold": -1,
        "retrySettings": {"maxRetries": 3, "timeout": "PT5M"},
        "miniBatchSize": 10,
        "loggingLevel": "Info",
        "maxConcurrencyPerInstance": 1,
        "outputAction": "AppendRow",
        "outputFileName": "predictions.csv",
        "resources": {"instanceCount": 1, "instanceType": Value::Null, "properties": {}},
    });
    if let Value::Object(p) = &mut props {
        for (k, v) in &d.extra {
            p.insert(k.clone(), v.clone());
        }
        p.insert("description".into(), json!(d.description));
        p.insert("environmentId".into(), json!(d.environment_id));
        p.insert(
            "model".into(),
            json!({"referenceType": "Id", "assetId": d.model_asset}),
        );
        p.insert("provisioningState".into(), json!(d.provisioning));
    }
    json!({
        "id": format!("{ws}/batchEndpoints/{}/deployments/{}", e.name, d.name),
        "name": d.name,
        "type": format!("{ML}/workspaces/batchEndpoints/deployments"),
        "location": w.ids.location,
        "tags": d.tags,
        "properties": props,
        "systemData": system_data(d.created_at, &d.created_by, d.modified_at, &d.modified_by),
    })
}

/// Versions of a circuit visible at a scope: all in Dev, the promoted ones in the registry.
pub fn visible_versions(w: &World, scope: Scope, c: usize) -> Vec<&ModelVer> {
    w.circuits[c]
        .versions
        .iter()
        .filter(|v| match scope {
            Scope::Workspace(Stage::Dev) => v.created <= w.clock,
            Scope::Workspace(_) => false,
            Scope::Registry => v.registry_at.is_some_and(|t| t <= w.clock),
        })
        .collect()
}

pub fn model_container_json(w: &World, scope: Scope, c: usize) -> Option<Value> {
    let versions = visible_versions(w, scope, c);
    let first = versions.first()?;
    let last = versions.last()?;
    let name = w.model_name(c);
    let circuit = &w.fleet.circuits[c];
    let at = |v: &ModelVer| scope_time(scope, v);
    Some(json!({
        "id": format!("{}/models/{name}", scope.id(w)),
        "name": name,
        "type": format!("{}/models", scope.type_prefix()),
        "properties": {
            "description": format!("LSTM forecaster for {} ({})", circuit.r, circuit.description),
            "tags": {"plant_id": circuit.r.plant.as_str(), "circuit_id": circuit.r.circuit.as_str()},
            "properties": {},
            "isArchived": false,
            "latestVersion": last.version.to_string(),
            "nextVersion": (last.version + 1).to_string(),
            "provisioningState": "Succeeded",
        },
        "systemData": system_data(at(first), "forecast-training-pipeline", at(last), "forecast-training-pipeline"),
    }))
}

fn scope_time(scope: Scope, v: &ModelVer) -> DateTime<Utc> {
    match scope {
        Scope::Registry => v.registry_at.unwrap_or(v.created),
        Scope::Workspace(_) => v.created,
    }
}

pub fn model_version_json(w: &World, scope: Scope, c: usize, v: &ModelVer) -> Value {
    let name = w.model_name(c);
    let circuit = &w.fleet.circuits[c];
    let build = &w.builds[v.build];
    let tags = json!({
        "training_hash": v.tag_hash,
        "plant_id": circuit.r.plant.as_str(),
        "circuit_id": circuit.r.circuit.as_str(),
        "cutoff_date": v.cutoff,
        "delta_version": v.delta,
        "pipeline_component_version": v.pcv,
        "git_commit": build.commit,
        "build_id": build.id.to_string(),
    });
    let run = super::world::guid(&format!("run:{}:{}:{}", w.seed, c, v.version));
    json!({
        "id": format!("{}/models/{name}/versions/{}", scope.id(w), v.version),
        "name": v.version.to_string(),
        "type": format!("{}/models/versions", scope.type_prefix()),
        "properties": {
            "description": format!("{} trained by build {} from {}", circuit.r, build.number, &build.commit[..12]),
            "tags": tags,
            "properties": {"azureml.training_run_id": run, "model_format": "tensorflow_savedmodel"},
            "isAnonymous": false,
            "isArchived": false,
            "flavors": {"tensorflow": {"data": {"saved_model_dir": "model"}}},
            "modelType": "custom_model",
            "modelUri": format!("azureml://subscriptions/{}/resourcegroups/{}/workspaces/{}/datastores/workspaceartifactstore/paths/ExperimentRun/dcid.{run}/outputs/model", w.ids.subscription, w.ids.rg[0], w.ids.workspace[0]),
            "jobName": run,
            "stage": if scope == Scope::Registry { "Production" } else { "Development" },
            "provisioningState": "Succeeded",
        },
        "systemData": system_data(scope_time(scope, v), "forecast-training-pipeline", scope_time(scope, v), "forecast-training-pipeline"),
    })
}

pub fn environment_version_json(
    w: &World,
    scope: Scope,
    version: &str,
    at: DateTime<Utc>,
) -> Value {
    let name = w.ids.environment_name;
    json!({
        "id": format!("{}/environments/{name}/versions/{version}", scope.id(w)),
        "name": version,
        "type": format!("{}/environments/versions", scope.type_prefix()),
        "properties": {
            "description": format!("TensorFlow 2.15 forecasting runtime {version}"),
            "tags": {"tensorflow": "2.15", "python": "3.11"},
            "properties": {"azureml.labels": "latest"},
            "isAnonymous": false,
            "isArchived": false,
            "environmentType": "UserCreated",
            "image": format!("{}.azurecr.io/forecast-tf:{version}", w.ids.registry.replace('-', "")),
            "condaFile": Value::Null,
            "osType": "Linux",
            "autoRebuild": "Disabled",
            "provisioningState": "Succeeded",
        },
        "systemData": system_data(at, "ml-platform-admins", at, "ml-platform-admins"),
    })
}

pub fn environment_container_json(w: &World, scope: Scope) -> Value {
    let name = w.ids.environment_name;
    let first = w.env_versions.first().map(|e| e.1).unwrap_or(w.clock);
    let latest = w.env_versions.last();
    json!({
        "id": format!("{}/environments/{name}", scope.id(w)),
        "name": name,
        "type": format!("{}/environments", scope.type_prefix()),
        "properties": {
            "description": "TensorFlow forecasting runtime",
            "tags": {},
            "properties": {},
            "isArchived": false,
            "latestVersion": latest.map(|e| e.0.clone()),
            "provisioningState": "Succeeded",
        },
        "systemData": system_data(first, "ml-platform-admins", latest.map_or(first, |e| e.1), "ml-platform-admins"),
    })
}

pub const DATA_ASSET: &str = "sensor-readings";

pub fn data_version_json(w: &World, stage: Stage, version: &str, at: DateTime<Utc>) -> Value {
    json!({
        "id": format!("{}/data/{DATA_ASSET}/versions/{version}", workspace_id(w, stage)),
        "name": version,
        "type": format!("{ML}/workspaces/data/versions"),
        "properties": {
            "dataType": "mltable",
            "dataUri": format!("azureml://datastores/lakehouse/paths/sensor_readings/snapshots/{version}/"),
            "description": format!("Sensor readings snapshot of {version} (Delta Lake, merged every 3 hours)"),
            "tags": {"delta_table": "sensor_readings"},
            "properties": {},
            "isAnonymous": false,
            "isArchived": false,
            "referencedUris": [],
        },
        "systemData": system_data(at, "synapse-etl", at, "synapse-etl"),
    })
}

pub fn data_container_json(w: &World, stage: Stage) -> Value {
    let first = w.data_versions.first().map(|d| d.1).unwrap_or(w.clock);
    let latest = w.data_versions.last();
    json!({
        "id": format!("{}/data/{DATA_ASSET}", workspace_id(w, stage)),
        "name": DATA_ASSET,
        "type": format!("{ML}/workspaces/data"),
        "properties": {
            "dataType": "mltable",
            "description": "Daily sensor readings per plant and circuit",
            "tags": {},
            "properties": {},
            "isArchived": false,
            "latestVersion": latest.map(|d| d.0.clone()),
            "nextVersion": Value::Null,
        },
        "systemData": system_data(first, "synapse-etl", latest.map_or(first, |d| d.1), "synapse-etl"),
    })
}
