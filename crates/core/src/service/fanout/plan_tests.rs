//! The planner alone, without HTTP: which reads each arrival makes possible, and which are
//! taken from what earlier refreshes know.

use std::sync::Arc;

use super::*;
use crate::domain::clock::pinned_start;
use crate::service::models::{ModelBook, ModelRead};
use crate::service::snapshot::fixtures::*;

/// A job in a few words, to compare plans.
fn label(job: &Job) -> String {
    match job {
        Job::Identity => "identity".into(),
        Job::Endpoints(s) => format!("endpoints {s}"),
        Job::Containers(l) => format!("containers {l:?}"),
        Job::Releases(None) => "releases, all".into(),
        Job::Releases(Some(_)) => "releases, what changed".into(),
        Job::Approvals => "approvals".into(),
        Job::Query(q) => format!("query {}", q.as_str()),
        Job::Deployments(s, e) => format!("deployments {s} {e}"),
        Job::Versions(l, m) => format!("versions {l:?} {m}"),
        Job::Config(p, c) => format!("config {p} at {c}"),
        Job::Alerts => "alerts".into(),
        Job::ScoringJobs(e, d) => format!("jobs {e} {d}"),
    }
}

fn labels(jobs: &[Job]) -> Vec<String> {
    jobs.iter().map(label).collect()
}

fn prod_deployments(models: &[(&str, u32)]) -> Done {
    let deployments = models
        .iter()
        .map(|(circuit, v)| deployment(Stage::Prod, "plant001", circuit, *v))
        .collect();
    Done::Deployments(
        Stage::Prod,
        "batch-endpoint-plant001".into(),
        Ok(deployments),
    )
}

fn registry_versions(model: &str, versions: &[(u32, &str)]) -> Done {
    let records = versions
        .iter()
        .map(|(v, commit)| version(model, *v, "h", commit, "b"))
        .collect();
    Done::Versions(AssetLocation::Registry, model.into(), Ok(records))
}

/// What earlier refreshes know: M1's registry versions, read at `pinned_start`, when its
/// latest was v5.
fn known_m1() -> Known {
    let now = pinned_start();
    let read = ModelRead {
        location: AssetLocation::Registry,
        name: M1.into(),
        latest: Some(ModelVersion(5)),
        versions: vec![version(M1, 5, "h", "c0ffee5", "b")],
        reused: false,
    };
    Known {
        models: Some(Arc::new(
            ModelBook::default().after_refresh(vec![read], now),
        )),
        ..Known::nothing(now)
    }
}

#[test]
fn the_first_reads_depend_on_nothing_and_the_slowest_go_first() {
    let ctx = ctx();
    let known = Known::nothing(pinned_start());
    let mut planner = Planner::new(&ctx, &known);
    assert_eq!(
        labels(&planner.first()),
        [
            "alerts",
            "endpoints Prod",
            "releases, all",
            "endpoints Test",
            "containers Registry",
            "containers Dev",
            "approvals",
            "identity",
        ]
    );
    assert!(planner.finish().identity.is_none());

    // The operator and the releases known: the identity is not read, the releases only where
    // they changed.
    let known = Known {
        identity: Some(who("bob")),
        releases: Some(Arc::new(crate::service::releases::ReleaseBook {
            releases: Vec::new(),
            full_read_at: pinned_start(),
        })),
        ..Known::nothing(pinned_start())
    };
    let mut planner = Planner::new(&ctx, &known);
    let first = labels(&planner.first());
    assert!(!first.contains(&"identity".to_owned()), "{first:?}");
    assert!(
        first.contains(&"releases, what changed".to_owned()),
        "{first:?}"
    );
    let r = planner.finish();
    assert_eq!(
        r.identity.and_then(Result::ok).map(|i| i.display_name),
        Some("bob".into())
    );
}

#[test]
fn an_endpoint_list_leads_to_its_deployments_and_a_failed_one_to_nothing() {
    let ctx = ctx();
    let known = Known::nothing(pinned_start());
    let mut planner = Planner::new(&ctx, &known);
    let listed = Ok(vec![
        endpoint(Stage::Prod, "plant001"),
        endpoint(Stage::Prod, "plant002"),
    ]);
    assert_eq!(
        labels(&planner.arrived(Done::Endpoints(Stage::Prod, listed))),
        [
            // The queries wait for the Prod endpoints: the adapter sizes their parts by the
            // plants (`kql::PLANTS_PER_PART`).
            "query drift",
            "query validation",
            "query accuracy",
            "deployments Prod batch-endpoint-plant001",
            "deployments Prod batch-endpoint-plant002"
        ]
    );
    let failed = Err(server_error("test-endpoints"));
    assert!(
        planner
            .arrived(Done::Endpoints(Stage::Test, failed))
            .is_empty()
    );
    let r = planner.finish();
    assert_eq!(
        r.endpoints
            .iter()
            .map(|(s, e)| (*s, e.is_ok()))
            .collect::<Vec<_>>(),
        [(Stage::Test, false), (Stage::Prod, true)],
        "both kept, in stage order"
    );
    // A failed Prod list still lets the queries go (they do not need it to be read).
    let mut failed_prod = Planner::new(&ctx, &known);
    assert_eq!(
        labels(&failed_prod.arrived(Done::Endpoints(
            Stage::Prod,
            Err(server_error("prod-endpoints"))
        ))),
        ["query drift", "query validation", "query accuracy"]
    );
}

#[test]
fn versions_are_read_unless_the_book_still_holds_them() {
    let ctx = ctx();
    let known = known_m1();
    let mut planner = Planner::new(&ctx, &known);
    let listed = Done::Containers(
        AssetLocation::Registry,
        Ok(vec![container(M1, 5), container(M2, 2)]),
    );
    assert_eq!(
        labels(&planner.arrived(listed)),
        ["versions Registry plant001-circuit02"]
    );
    let r = planner.finish();
    assert!(
        r.reused_versions
            .contains(&(AssetLocation::Registry, M1.to_owned()))
    );
    assert!(matches!(&r.registry_versions[M1], Ok(v) if v.len() == 1));

    // A version registered since: read again.
    let mut planner = Planner::new(&ctx, &known);
    let moved = Done::Containers(AssetLocation::Registry, Ok(vec![container(M1, 6)]));
    assert_eq!(
        labels(&planner.arrived(moved)),
        ["versions Registry plant001-circuit01"]
    );
    assert!(planner.finish().reused_versions.is_empty());
}

#[test]
fn the_prod_config_is_read_once_its_deployment_and_its_tags_are_both_in() {
    let ctx = ctx();
    let known = Known::nothing(pinned_start());
    let config = format!("config {PATH1} at c0ffee4");
    // Deployment first, then the tags.
    let mut planner = Planner::new(&ctx, &known);
    assert!(
        planner
            .arrived(prod_deployments(&[("circuit01", 4)]))
            .is_empty()
    );
    let tags = registry_versions(M1, &[(4, "c0ffee4"), (5, "c0ffee5")]);
    assert_eq!(labels(&planner.arrived(tags)), [config.as_str()]);
    // Seen again (another endpoint listing the same model): not read twice.
    assert!(
        planner
            .arrived(prod_deployments(&[("circuit01", 4)]))
            .is_empty()
    );

    // Tags first, then the deployment.
    let mut planner = Planner::new(&ctx, &known);
    assert!(
        planner
            .arrived(registry_versions(M1, &[(4, "c0ffee4")]))
            .is_empty()
    );
    assert_eq!(
        labels(&planner.arrived(prod_deployments(&[("circuit01", 4)]))),
        [config]
    );

    // A Prod version the registry does not list, or one without a commit: nothing to read.
    let mut planner = Planner::new(&ctx, &known);
    planner.arrived(registry_versions(M1, &[(5, "c0ffee5")]));
    assert!(
        planner
            .arrived(prod_deployments(&[("circuit01", 4)]))
            .is_empty()
    );
}

#[test]
fn a_config_known_from_an_earlier_refresh_is_taken_not_read() {
    let ctx = ctx();
    let mut known = Known::nothing(pinned_start());
    let key = (PATH1.to_owned(), "c0ffee4".to_owned());
    known.configs.insert(key.clone(), CONFIG.to_owned());
    let mut planner = Planner::new(&ctx, &known);
    planner.arrived(prod_deployments(&[("circuit01", 4)]));
    assert!(
        planner
            .arrived(registry_versions(M1, &[(4, "c0ffee4")]))
            .is_empty()
    );
    let r = planner.finish();
    assert_eq!(r.configs[&key].as_deref().ok(), Some(CONFIG));
}

#[test]
fn dev_versions_are_read_only_where_dev_is_ahead_of_the_registry() {
    let ctx = ctx();
    let known = Known::nothing(pinned_start());
    let mut planner = Planner::new(&ctx, &known);
    let dev = Done::Containers(
        AssetLocation::Dev,
        Ok(vec![
            container(M1, 6),
            container(M2, 2),
            container("plant001-circuit03", 1),
        ]),
    );
    assert!(
        planner.arrived(dev).is_empty(),
        "waits for the registry's list"
    );
    let registry = Done::Containers(
        AssetLocation::Registry,
        Ok(vec![container(M1, 5), container(M2, 2)]),
    );
    assert_eq!(
        labels(&planner.arrived(registry)),
        [
            "versions Registry plant001-circuit01",
            "versions Registry plant001-circuit02",
            "versions Dev plant001-circuit01",
            "versions Dev plant001-circuit03",
        ]
    );
    // Planned once.
    assert!(planner.arrived(Done::Approvals(Ok(Vec::new()))).is_empty());
}

#[test]
fn with_the_registry_unreadable_every_dev_model_counts_as_ahead() {
    let ctx = ctx();
    let known = Known::nothing(pinned_start());
    let mut planner = Planner::new(&ctx, &known);
    planner.arrived(Done::Containers(
        AssetLocation::Registry,
        Err(server_error("registry")),
    ));
    let dev = Done::Containers(AssetLocation::Dev, Ok(vec![container(M1, 6)]));
    assert_eq!(
        labels(&planner.arrived(dev)),
        ["versions Dev plant001-circuit01"]
    );
    let r = planner.finish();
    assert!(matches!(r.registry_containers, Some(Err(_))));
}

#[test]
fn every_arrival_lands_in_its_reading() {
    let ctx = ctx();
    let known = Known::nothing(pinned_start());
    let mut planner = Planner::new(&ctx, &known);
    for q in [
        MonitorQuery::Drift,
        MonitorQuery::Accuracy,
        MonitorQuery::Validation,
    ] {
        assert!(
            planner
                .arrived(Done::Query(q, Ok(MonitorRead::empty(q).unwrap())))
                .is_empty()
        );
    }
    planner.arrived(Done::Releases(Ok(Vec::new()), false));
    planner.arrived(Done::Approvals(Err(server_error("approvals"))));
    planner.arrived(Done::Identity(Ok(who("alice"))));
    let r = planner.finish();
    assert!(matches!(r.drift, Some(Ok(_))));
    assert!(matches!(r.accuracy, Some(Ok(_))));
    assert!(matches!(r.validation, Some(Ok(_))));
    assert!(matches!(r.releases, Some(Ok(_))) && !r.releases_full);
    assert!(matches!(r.approvals, Some(Err(_))));
    assert!(matches!(r.identity, Some(Ok(_))));
}

#[test]
fn prod_job_lists_wait_for_the_alerts_then_each_deployment_with_a_model_is_read() {
    let ctx = ctx();
    let known = Known::nothing(pinned_start());
    let mut planner = Planner::new(&ctx, &known);
    planner.first();
    let after_deployments = labels(&planner.arrived(prod_deployments(&[("circuit01", 5)])));
    assert!(
        !after_deployments.iter().any(|l| l.starts_with("jobs")),
        "not before the alerts: {after_deployments:?}"
    );
    let after_alerts = labels(&planner.arrived(Done::Alerts(Ok(Vec::new()))));
    assert_eq!(
        after_alerts,
        ["jobs batch-endpoint-plant001 deployment-circuit01"]
    );
    // Once planned, a later arrival does not plan it again.
    assert!(labels(&planner.arrived(Done::Alerts(Ok(Vec::new())))).is_empty());
}

/// The inventory reads no deployment's tags: a refresh does not hold them (a circuit's
/// evidence reads its deployments afresh, tags and all).
#[test]
fn a_refresh_holds_no_deployment_tags() {
    let ctx = ctx();
    let known = Known::nothing(pinned_start());
    let mut planner = Planner::new(&ctx, &known);
    let mut tagged = deployment(Stage::Prod, "plant001", "circuit01", 4);
    tagged.tags.insert("owner".into(), "ops".into());
    planner.arrived(Done::Deployments(
        Stage::Prod,
        "batch-endpoint-plant001".into(),
        Ok(vec![tagged]),
    ));
    let r = planner.finish();
    let held: Vec<_> = r
        .deployments
        .iter()
        .flat_map(|(_, _, d)| d.as_ref().unwrap())
        .collect();
    assert_eq!(held.len(), 1);
    assert!(held[0].tags.is_empty());
    assert!(held[0].model.is_some(), "the rest is kept");
}

/// For a snapshot that keeps only what `relcon fleet` prints, the settled releases are not
/// held once read: those deploying, awaiting a decision or environment-only are.
#[test]
fn a_printed_only_refresh_holds_no_settled_release() {
    use crate::domain::platform::{ApprovalStatus, EnvironmentStatus};
    let mut ctx = ctx();
    let known = Known::nothing(pinned_start());
    let waiting = approval(1, 12, 123, "Production", ApprovalStatus::Pending, None);
    let mut env_only = release(13, "env", EnvironmentStatus::Succeeded, vec![]);
    env_only
        .variables
        .insert("ENVIRONMENT_VERSION".into(), "1.6.0".into());
    let history = || {
        vec![
            release(10, "700", EnvironmentStatus::Succeeded, vec![]),
            release(11, "800", EnvironmentStatus::Rejected, vec![]),
            release(
                12,
                "900",
                EnvironmentStatus::Succeeded,
                vec![waiting.clone()],
            ),
            env_only.clone(),
            release(14, "950", EnvironmentStatus::InProgress, vec![]),
            release(15, "960", EnvironmentStatus::NotStarted, vec![]),
        ]
    };
    let held = |ctx: &Context| -> Vec<u32> {
        let mut planner = Planner::new(ctx, &known);
        planner.arrived(Done::Releases(Ok(history()), true));
        match planner.finish().releases {
            Some(Ok(list)) => list.iter().map(|r| r.id).collect(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        held(&ctx),
        [10, 11, 12, 13, 14, 15],
        "the console keeps them all"
    );
    ctx.keep = crate::service::queries::Keep::Printed;
    assert_eq!(held(&ctx), [12, 13, 14, 15]);
}
