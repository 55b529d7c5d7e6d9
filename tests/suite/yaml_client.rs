//! The YAML-pipelines release side (`[devops] flavor = "yaml"`) against a fake that answers in
//! Microsoft's shapes (`common::yaml_world`): the history from deployment records, runs and
//! approvals; approvals placed by their `pipeline` field and by the run's timeline; the
//! Approval check as the stage's rule; decide, stage re-run and the rollback pipeline, each
//! request as the documents say.

use crate::common;

use common::yaml_world::{
    PROD_APPROVAL, REGISTRY_APPROVAL, UNKNOWN_APPROVAL, answer, yaml_settings_toml,
};
use common::{Fake, quick_options};
use relcon::azure::{AzureBackend, ClientOptions};
use relcon::domain::platform::{ApprovalStatus, DeploymentStatus, EnvironmentStatus, StageRef};
use relcon::domain::{CircuitRef, ModelVersion, Stage};
use relcon::service::backend::{ApprovalQuery, Backend, ErrorKind, RollbackRunRequest};
use relcon::settings::Settings;
use serde_json::json;

async fn world() -> (Fake, AzureBackend) {
    let fake = Fake::start(answer).await;
    let settings = Settings::parse(&yaml_settings_toml(&fake.base), "yaml.toml").unwrap();
    let options = ClientOptions {
        identity_override: Some("bob".into()),
        ..quick_options()
    };
    let b = AzureBackend::new(&settings, options).unwrap();
    (fake, b)
}

#[tokio::test]
async fn the_history_is_one_release_per_training_run_with_each_stage_its_newest_run() {
    let (fake, b) = world().await;
    let history = b.release_history().await.unwrap();
    let ids: Vec<u32> = history.iter().map(|r| r.id).collect();
    assert_eq!(ids, [102, 101, 100], "newest training run first");

    // Release 100 went all the way: its Prod stage is run 400's DeployToProduction.
    let done = &history[2];
    assert_eq!(done.name, "20261120.1");
    assert_eq!(done.build_id.as_deref(), Some("100"));
    let prod = done.environment(Stage::Prod).unwrap();
    assert_eq!(prod.id, StageRef::new("400:DeployToProduction"));
    assert_eq!(prod.status, EnvironmentStatus::Succeeded);
    assert_eq!(
        prod.deploy_steps.len(),
        1,
        "the other pipeline's record is not this stage's"
    );
    assert_eq!(prod.deploy_steps[0].status, DeploymentStatus::Succeeded);
    // Run 400 does not say who requested it: Builds - Get does.
    assert_eq!(prod.requested_for.as_ref().unwrap().display_name, "erin");
    assert_eq!(done.requester(&prod.id, 1).0.display_name, "erin");

    // Release 101 waits at Prod: the approval's steps, the check's rule, the run's requester.
    let waiting = history[1].environment(Stage::Prod).unwrap();
    assert_eq!(waiting.id, StageRef::new("401:DeployToProduction"));
    assert_eq!(waiting.status, EnvironmentStatus::InProgress);
    assert!(
        !waiting.is_deploying(),
        "waiting for approval is not deploying"
    );
    assert_eq!(waiting.required_approvers, 2);
    assert_eq!(waiting.requester_blocked, Some(true));
    assert_eq!(history[1].requester(&waiting.id, 1).0.display_name, "dave");
    let steps: Vec<(&str, ApprovalStatus)> = waiting
        .pre_deploy_approvals
        .iter()
        .map(|a| (a.approver.display_name.as_str(), a.status.clone()))
        .collect();
    assert_eq!(
        steps,
        [
            ("alice", ApprovalStatus::Approved),
            ("bob", ApprovalStatus::Pending),
            ("carol", ApprovalStatus::Pending)
        ]
    );
    assert!(
        waiting
            .pre_deploy_approvals
            .iter()
            .all(|a| a.id.as_str() == PROD_APPROVAL && a.stage() == Some(Stage::Prod))
    );

    // Release 102 waits at the registry, placed only by run 202's timeline.
    let registry = history[0].environment(Stage::Registry).unwrap();
    assert_eq!(registry.id, StageRef::new("202:ApprovePromotion"));
    assert_eq!(
        registry.pre_deploy_approvals[0].id.as_str(),
        REGISTRY_APPROVAL
    );
    assert!(history[0].environment(Stage::Prod).is_none());

    // Paths and versions as documented; the Prod records were paged.
    let records = fake.hits_to("GET", "/environments/12/environmentdeploymentrecords");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].q("top"), Some("100"));
    assert_eq!(records[1].q("continuationToken"), Some("page-2"));
    for h in fake.hits_to("GET", "/_apis/pipelines/checks/configurations") {
        assert_eq!(h.q("api-version"), Some("7.1-preview.1"));
        assert_eq!(h.q("$expand"), Some("settings"));
        assert_eq!(h.q("resourceType"), Some("environment"));
    }
    let pending = fake.hits_to("GET", "/_apis/pipelines/approvals");
    assert_eq!(pending[0].q("$expand"), Some("steps,permissions"));
    // Training run names become ids once: the second read asks nothing of finished runs.
    let before = fake.hits_to("GET", "/_apis/build/builds?").len();
    let again = b.release_history().await.unwrap();
    assert_eq!(again, history);
    assert_eq!(fake.hits_to("GET", "/_apis/build/builds?").len(), before);
}

#[tokio::test]
async fn pending_approvals_are_placed_on_their_release_and_stage() {
    let (_fake, b) = world().await;
    let pending = b
        .approvals(&ApprovalQuery {
            status: Some(ApprovalStatus::Pending),
            release_ids: Vec::new(),
        })
        .await
        .unwrap();
    let placed: Vec<(u32, &str, Option<Stage>, &str)> = pending
        .iter()
        .map(|a| (a.release_id, a.id.as_str(), a.stage(), a.approver.name()))
        .collect();
    assert_eq!(
        placed,
        [
            (102, REGISTRY_APPROVAL, Some(Stage::Registry), "bob"),
            (101, PROD_APPROVAL, Some(Stage::Prod), "bob"),
            (101, PROD_APPROVAL, Some(Stage::Prod), "carol"),
        ]
    );
}

#[tokio::test]
async fn a_decision_is_one_array_item_and_a_refusal_is_definite() {
    let (fake, b) = world().await;
    let done = b
        .decide_approval(&PROD_APPROVAL.into(), ApprovalStatus::Approved, "lgtm")
        .await
        .unwrap();
    assert_eq!(done.value.status, ApprovalStatus::Approved);
    let sent = fake.hits_to("PATCH", "/_apis/pipelines/approvals");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].q("api-version"), Some("7.1"));
    assert_eq!(
        sent[0].json(),
        json!([{"approvalId": PROD_APPROVAL, "status": "approved", "comment": "lgtm"}])
    );
    let e = b
        .decide_approval(&UNKNOWN_APPROVAL.into(), ApprovalStatus::Rejected, "no")
        .await
        .unwrap_err();
    assert!(e.is_refusal(), "{e}");
    assert!(!e.is_ambiguous());
    assert_eq!(
        fake.hits_to("PATCH", "/_apis/pipelines/approvals").len(),
        2,
        "sent once each"
    );
}

#[tokio::test]
async fn a_stage_rerun_is_a_retry_of_the_runs_stage() {
    let (fake, b) = world().await;
    let stage = StageRef::new("400:DeployToProduction");
    let r = b.rerun_stage(100, &stage, "MAE alert").await.unwrap();
    assert_eq!(r.value.id, stage);
    let sent = fake.hits_to("PATCH", "/_apis/build/builds/400/stages/DeployToProduction");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].q("api-version"), Some("7.1"));
    assert_eq!(
        sent[0].json(),
        json!({"state": "retry", "forceRetryAllJobs": true})
    );
    // A classic reference is refused before anything is sent.
    let e = b
        .rerun_stage(100, &StageRef::from(403), "x")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert_eq!(fake.hits_to("PATCH", "/stages/").len(), 1);
}

#[tokio::test]
async fn the_rollback_pipeline_is_queued_with_the_seeds_parameters() {
    let (fake, b) = world().await;
    let c: CircuitRef = "PLANT001/CIRCUIT01".parse().unwrap();
    let d: CircuitRef = "PLANT002/CIRCUIT03".parse().unwrap();
    let run = b
        .queue_rollback_run(&RollbackRunRequest {
            circuits: vec![c.clone(), d],
            specific: None,
            comment: "MAE alert".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        (run.value.id, run.value.state.as_str()),
        (500, "inProgress")
    );
    let sent = fake.hits_to("POST", "/_apis/pipelines/5/runs");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].json()["templateParameters"],
        json!({"circuitIds": "PLANT001_CIRCUIT01,PLANT002_CIRCUIT03",
               "environment": "Production", "rollbackType": "previous"})
    );
    b.queue_rollback_run(&RollbackRunRequest {
        circuits: vec![c],
        specific: Some(ModelVersion(4)),
        comment: String::new(),
    })
    .await
    .unwrap();
    let sent = fake.hits_to("POST", "/_apis/pipelines/5/runs");
    assert_eq!(
        sent[1].json()["templateParameters"],
        json!({"circuitIds": "PLANT001_CIRCUIT01", "environment": "Production",
               "rollbackType": "specific", "specificDeployment": "4"})
    );
}

/// Microsoft's own examples, read with relcon's wire types and mapping (`tests/data/specs/
/// devops-yaml/`): the approval's steps become one record each, the Approval check's
/// settings become the stage's rule.
#[test]
fn the_official_examples_read_as_records_and_rules() {
    use relcon::azure::wire::DevOpsList;
    use relcon::azure::wire::pipelines as pw;
    use relcon::azure::yaml::assemble::{StageRule, approval_records, stage_ref};
    let example = |name: &str| -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/specs/devops-yaml")
            .join(name);
        let text = std::fs::read_to_string(path).unwrap();
        serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap()
    };
    let updated: DevOpsList<pw::Approval> = serde_json::from_value(
        example("approvals_update.json")["responses"]["200"]["body"].clone(),
    )
    .unwrap();
    let a = &updated.value[0];
    let stage = stage_ref(41, "DeployToProduction");
    let records = approval_records(a, 7, "20261124.1", &stage, "Production", 1);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.id.as_str(), "aab27959-a5be-4ee3-97ca-f19b3602cd2f");
    assert_eq!(r.status, ApprovalStatus::Approved);
    assert_eq!(r.approved_by.as_ref().unwrap().display_name, "User Name");
    assert_eq!(r.comments, "Approving");
    assert_eq!((r.release_id, r.stage()), (7, Some(Stage::Prod)));

    // The query example lists approvals without steps: one pending record each.
    let queried: DevOpsList<pw::Approval> =
        serde_json::from_value(example("approvals_query.json")["responses"]["200"]["body"].clone())
            .unwrap();
    assert_eq!(queried.count, Some(2));
    let pending = approval_records(&queried.value[0], 7, "", &stage, "Production", 1);
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status, ApprovalStatus::Pending);
    assert_eq!(queried.value[0].min_required_approvers, Some(1));

    // The only example with an Approval check's settings.
    let added: pw::CheckConfiguration = serde_json::from_value(
        example("check_configuration_add_approval.json")["responses"]["200"]["body"].clone(),
    )
    .unwrap();
    let rule = StageRule::from_checks(&[added]).unwrap();
    assert_eq!(rule.required, 0, "minRequiredApprovers 0: every approver");
    assert_eq!(rule.requester_blocked, None, "the example does not say");
    assert_eq!(rule.approvers.len(), 1);
    assert_eq!(rule.approvers[0].id, "3b3db741-9d03-4e32-a7c0-6c3dfc2013c1");

    // Listed without `$expand=settings`, the configurations carry no settings; an Approval
    // check is still found, with the defaults.
    let listed: DevOpsList<pw::CheckConfiguration> = serde_json::from_value(
        example("check_configurations_list_on_resource.json")["responses"]["200"]["body"].clone(),
    )
    .unwrap();
    assert_eq!(listed.value.len(), 4);
    let rule = StageRule::from_checks(&listed.value).unwrap();
    assert_eq!(
        (rule.required, rule.requester_blocked, rule.approvers.len()),
        (0, None, 0)
    );
    let tasks: Vec<pw::CheckConfiguration> = listed
        .value
        .into_iter()
        .filter(|c| c.check_type.as_ref().and_then(|t| t.name.as_deref()) == Some("Task Check"))
        .collect();
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        StageRule::from_checks(&tasks),
        None,
        "no Approval check, no rule"
    );
}
