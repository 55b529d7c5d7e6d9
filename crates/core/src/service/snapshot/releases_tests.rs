//! The releases stage alone: the models each release carries, approvals grouped per release
//! stage, what is deploying where, and what a failed release or approval read leaves out.

use super::*;
use crate::domain::Stage;
use crate::domain::fleet::CircuitSnapshot;
use crate::domain::platform::{ApprovalStatus, EnvironmentStatus, ReleaseRecord};
use crate::service::snapshot::fixtures::*;

const C1: &str = "PLANT001/CIRCUIT01";
const C2: &str = "PLANT001/CIRCUIT02";
const C3: &str = "PLANT001/CIRCUIT03";

/// CIRCUIT01 (v4 in Prod), CIRCUIT02 (v2 in Prod), CIRCUIT03 (not in Prod).
fn circuits() -> Circuits {
    let mut out = Circuits::new();
    for (circuit, prod) in [(C1, Some(4)), (C2, Some(2)), (C3, None)] {
        let mut cs = CircuitSnapshot::new(circuit_ref(circuit), String::new());
        cs.versions.prod = prod.map(ModelVersion);
        out.insert(circuit_ref(circuit), cs);
    }
    out
}

/// Build 800 made CIRCUIT01's v4 and CIRCUIT02's v2; build 900 CIRCUIT01's v5.
fn builds() -> Builds {
    let mut b = Builds::default();
    b.add(
        &version("plant001-circuit02", 2, "h", "c", "800"),
        &circuit_ref(C2),
    );
    b.add(
        &version("plant001-circuit01", 4, "h", "c", "800"),
        &circuit_ref(C1),
    );
    b.add(
        &version("plant001-circuit01", 5, "h", "c", "900"),
        &circuit_ref(C1),
    );
    b
}

/// An environment-only release of environment 1.6.0 (from 1.5.0), through Production.
fn environment_release(id: u32) -> ReleaseRecord {
    let mut rel = release(id, "env", EnvironmentStatus::Succeeded, vec![]);
    rel.build_id = None;
    for (k, v) in [
        ("ENVIRONMENT_VERSION", "1.6.0"),
        ("PREVIOUS_ENVIRONMENT_VERSION", "1.5.0"),
    ] {
        rel.variables.insert(k.into(), v.into());
    }
    rel
}

/// Release 12 (build 900) waiting for its second Production approval (carol approved), and
/// release 11 (build 800) through Production.
fn readings() -> Readings {
    let (releases, pending) = releases_awaiting_approval();
    Readings {
        releases: Some(Ok(releases)),
        approvals: Some(Ok(pending)),
        ..Readings::default()
    }
}

fn run(r: &Readings) -> (Circuits, ReleasesFound) {
    let mut circuits = circuits();
    let found = assemble(&mut circuits, r, &builds(), true);
    (circuits, found)
}

fn models(models: &[ReleaseModel]) -> Vec<(String, u32)> {
    models
        .iter()
        .map(|m| (m.circuit.to_string(), m.version.0))
        .collect()
}

#[test]
fn each_release_carries_the_models_of_its_build() {
    let (_, found) = run(&readings());
    assert!(found.errors.is_empty());
    assert_eq!(
        found.releases.iter().map(|r| r.id).collect::<Vec<_>>(),
        [12, 11],
        "as read"
    );
    assert_eq!(models(&found.releases[0].models), [(C1.into(), 5)]);
    assert_eq!(
        models(&found.releases[1].models),
        [(C1.into(), 4), (C2.into(), 2)]
    );
    let prod = found.releases[1].stage(Stage::Prod).unwrap();
    assert_eq!(
        (prod.environment_id.as_number(), prod.attempts),
        (Some(113), 1)
    );
    assert!(!prod.deploying);
}

#[test]
fn pending_approvals_are_grouped_per_release_stage_with_who_approved_so_far() {
    let (circuits, found) = run(&readings());
    assert_eq!(found.approvals.len(), 1);
    let a = &found.approvals[0];
    assert_eq!(
        (a.release_id, a.stage, a.environment_id.as_number()),
        (12, Stage::Prod, Some(123))
    );
    assert_eq!(a.pending_ids, [502]);
    assert_eq!((a.required, a.approved.len()), (2, 1));
    assert_eq!(a.approved[0].by.display_name, "carol");
    assert_eq!(a.requested_by.display_name, "alice");
    assert_eq!(models(&a.models), [(C1.into(), 5)]);
    assert_eq!(circuits[&circuit_ref(C1)].pending_approvals, 1);
    assert_eq!(circuits[&circuit_ref(C2)].pending_approvals, 0);
}

#[test]
fn an_environment_only_release_carries_every_model_in_prod() {
    let mut r = readings();
    let mut env = environment_release(13);
    env.environments[2].status = EnvironmentStatus::InProgress;
    let waiting = approval(601, 13, 132, "Test", ApprovalStatus::Pending, None);
    if let Some(Ok(list)) = &mut r.releases {
        list.insert(0, env);
    }
    r.approvals = Some(Ok(vec![waiting]));
    let (circuits, found) = run(&r);
    let summary = &found.releases[0];
    assert!(summary.models.is_empty(), "none of its own");
    assert_eq!(summary.environment_only.as_deref(), Some("1.6.0"));
    assert_eq!(summary.previous_environment.as_deref(), Some("1.5.0"));
    assert_eq!(environment_only(&r), [13].into());
    // Its approval and its deployment cover every circuit with a model in Prod.
    assert_eq!(
        models(&found.approvals[0].models),
        [(C1.into(), 4), (C2.into(), 2)]
    );
    for (circuit, covered) in [(C1, true), (C2, true), (C3, false)] {
        let cs = &circuits[&circuit_ref(circuit)];
        assert_eq!(cs.pending_approvals, u32::from(covered), "{circuit}");
        assert_eq!(
            cs.active_release.as_ref().map(|a| (a.release_id, a.stage)),
            covered.then_some((13, Stage::Prod)),
            "{circuit}"
        );
    }
}

#[test]
fn a_release_deploying_now_marks_its_circuits() {
    let mut r = readings();
    if let Some(Ok(list)) = &mut r.releases {
        list[1].environments[2].status = EnvironmentStatus::InProgress;
    }
    let (circuits, found) = run(&r);
    assert!(found.releases[1].stage(Stage::Prod).unwrap().deploying);
    for circuit in [C1, C2] {
        let active = circuits[&circuit_ref(circuit)]
            .active_release
            .as_ref()
            .unwrap();
        assert_eq!(
            (
                active.release_id,
                active.release_name.as_str(),
                active.stage
            ),
            (11, "Release-11", Stage::Prod)
        );
    }
    assert!(circuits[&circuit_ref(C3)].active_release.is_none());
    // Release 12's Production stage has not started.
    assert!(!found.releases[0].stage(Stage::Prod).unwrap().deploying);
}

#[test]
fn releases_not_read_leave_approvals_without_their_release() {
    let mut r = readings();
    r.releases = Some(Err(server_error("releases")));
    let (circuits, found) = run(&r);
    assert_eq!(found.errors.len(), 1);
    assert_eq!(found.errors[0].scope, "releases");
    assert!(found.releases.is_empty());
    assert!(environment_only(&r).is_empty());
    // The approval still shows, with what its record alone says.
    let a = &found.approvals[0];
    assert_eq!((a.release_id, a.required), (12, 1));
    assert!(a.models.is_empty() && a.approved.is_empty());
    assert_eq!(
        circuits[&circuit_ref(C1)].pending_approvals,
        0,
        "no models known to cover"
    );
}

#[test]
fn approvals_not_read_are_an_error_and_none_are_counted() {
    let mut r = readings();
    r.approvals = Some(Err(server_error("approvals")));
    let (circuits, found) = run(&r);
    assert_eq!(scopes(&found.errors), ["pending approvals"]);
    assert!(found.approvals.is_empty());
    assert_eq!(found.releases.len(), 2, "the history still shows");
    assert!(circuits.values().all(|c| c.pending_approvals == 0));
}

/// A YAML pipeline's approval, as its adapter lists it: one GUID with a record per approver's
/// step, on a stage referenced by run and name, with the Approval check's rule and the run's
/// own requester. The service groups it as it groups a classic one: one item, the GUID once.
#[test]
fn a_yaml_approval_with_steps_groups_as_one_item_with_its_rule_and_requester() {
    const GUID: &str = "8f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
    let stage = crate::domain::platform::StageRef::new("401:DeployToProduction");
    let dave = crate::domain::platform::IdentityRef {
        id: "id-dave".into(),
        display_name: "dave".into(),
        unique_name: "dave@contoso.com".into(),
    };
    let mut r = readings();
    let Some(Ok(releases)) = r.releases.as_mut() else {
        unreachable!()
    };
    let release = releases.iter_mut().find(|x| x.id == 12).unwrap();
    let prod = release
        .environments
        .iter_mut()
        .find(|e| e.stage() == Some(Stage::Prod))
        .unwrap();
    prod.id = stage.clone();
    prod.requester_blocked = Some(true);
    prod.requested_for = Some(dave.clone());
    for a in &mut prod.pre_deploy_approvals {
        a.id = GUID.into();
        a.stage_ref = stage.clone();
    }
    let Some(Ok(pending)) = r.approvals.as_mut() else {
        unreachable!()
    };
    for a in pending.iter_mut() {
        a.id = GUID.into();
        a.stage_ref = stage.clone();
    }
    let mut second_step = pending[0].clone();
    second_step.approver.display_name = "erin".into();
    pending.push(second_step);

    let (_, found) = run(&r);
    assert_eq!(found.approvals.len(), 1);
    let a = &found.approvals[0];
    assert_eq!(a.environment_id, stage);
    assert_eq!(
        a.pending_ids.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
        [GUID]
    );
    assert_eq!((a.required, a.approved.len()), (2, 1));
    assert_eq!(a.approved[0].by.display_name, "carol");
    assert_eq!(
        a.requested_by, dave,
        "the run's requester, not the release's author"
    );
    assert!(a.requester_blocked);
    let prod = found.releases[0].stage(Stage::Prod).unwrap();
    assert_eq!(prod.environment_id, stage);
}

/// A printed-only snapshot keeps of the history only the releases it reads: environment-only
/// ones, those deploying, those a pending approval names. What the stage writes on the
/// circuits and the approval items are those of the whole history.
#[test]
fn a_printed_only_snapshot_keeps_the_releases_it_reads() {
    let mut whole = readings();
    if let Some(Ok(list)) = &mut whole.releases {
        list.push(environment_release(13));
        list.push(release(14, "900", EnvironmentStatus::InProgress, vec![]));
        list.push(release(10, "700", EnvironmentStatus::Succeeded, vec![]));
    }
    let (circuits_whole, found_whole) = run(&whole);
    let mut kept = whole;
    keep_printed(&mut kept);
    let ids: Vec<u32> = match &kept.releases {
        Some(Ok(list)) => list.iter().map(|r| r.id).collect(),
        other => panic!("{other:?}"),
    };
    // 12 is named by a pending approval, 13 is environment-only, 14 is deploying; 11 and 10
    // are done.
    assert_eq!(ids, [12, 13, 14]);
    let (circuits_kept, found_kept) = assemble_listing(&kept, false);
    assert_eq!(circuits_kept, circuits_whole);
    assert_eq!(found_kept.approvals, found_whole.approvals);
    assert!(found_kept.releases.is_empty(), "not listed");
    assert!(
        circuits_whole.values().any(|c| c.active_release.is_some())
            && !found_whole.approvals.is_empty()
    );
}

fn assemble_listing(r: &Readings, listed: bool) -> (Circuits, ReleasesFound) {
    let mut circuits = circuits();
    let found = assemble(&mut circuits, r, &builds(), listed);
    (circuits, found)
}
