//! The write path at 80x24 and 160x48 with a fixed clock: the comment box (allowed, refused,
//! break-glass), the bulk review table and its results, the rollback target list, plan and
//! typed confirmation, progress (in flight with the SLA warning; verified with the checklist),
//! the operations view and the audit log (intact and tampered). Review them as a user would.

use super::*;
use crate::action::Msg;
use crate::view::render_text;

/// The circuit the rollback scenes roll back: drift alert, Prod v8, a healthy v7 before it.
pub const ROLLBACK_CIRCUIT: &str = "PLANT002/CIRCUIT08";

/// The fixture journal loaded, as the runtime would after reading it.
pub fn with_ops(app: &mut App) {
    let effects = crate::update::ops::load(app);
    if let Some(Effect::LoadOps { generation }) = effects.first() {
        update(
            app,
            Msg::Ops {
                generation: *generation,
                result: Ok(Box::new(fixture::ops(fixture::now()))),
            },
        );
    }
    // Resumed at start: what is unfinished reports its state and is tracked.
    let unfinished: Vec<_> = app.ops.in_flight().cloned().collect();
    for op in unfinished {
        update(app, Msg::OpProgress(Box::new(op)));
    }
}

fn rollback_flow(size: (u16, u16)) -> App {
    let mut a = app_at(size);
    drive(&mut a, &[":"]);
    type_text(&mut a, &format!("rollback {ROLLBACK_CIRCUIT}"));
    drive(&mut a, &["<Enter>"]);
    a
}

/// A rollback of the scenes' circuit sent, tracked to verified, and the fleet refreshed.
pub fn verified(size: (u16, u16)) -> App {
    let mut a = rollback_flow(size);
    // One key at a time: the plan arrives before the next key, as it would for a user.
    drive(&mut a, &["<Enter>"]);
    drive(&mut a, &["<Enter>"]);
    type_text(&mut a, ROLLBACK_CIRCUIT);
    drive(&mut a, &["<Enter>"]);
    let Some(op) = a.ops.list.first().cloned() else {
        return a;
    };
    let mut last = op.clone();
    for mut p in fixture::progress_of(&op, fixture::now()) {
        // Fixed times: 71 s to the verified restore.
        p.updated_at = fixture::now();
        if p.verified_at.is_some() {
            p.completed_at = Some(p.requested_at + chrono::Duration::seconds(58));
            p.verified_at = Some(p.requested_at + chrono::Duration::seconds(71));
        }
        last = p.clone();
        let effects = update(&mut a, Msg::OpProgress(Box::new(p)));
        // The refresh after the restore: the fleet now runs the target in Prod.
        if let Some(Effect::Refresh { generation }) = effects.first() {
            let mut snap = fixture::fleet(fixture::DEMO_CIRCUITS);
            let target = match &last.kind {
                crate::service::journal::OpKind::Rollback { to, .. } => Some(*to),
                _ => None,
            };
            for plant in &mut snap.plants {
                for c in &mut plant.circuits {
                    if c.circuit.to_string() == ROLLBACK_CIRCUIT {
                        c.versions.prod = target;
                    }
                }
            }
            snap.generated_at =
                last.verified_at.unwrap_or(last.updated_at) + chrono::Duration::seconds(2);
            update(
                &mut a,
                Msg::Snapshot {
                    generation: *generation,
                    result: Ok(Box::new(snap)),
                },
            );
        }
    }
    a.now = last.requested_at + chrono::Duration::seconds(90);
    a
}

/// The fixture after the environment release reached Prod: nothing waits, it can be undone.
pub fn env_shipped() -> crate::domain::fleet::FleetSnapshot {
    use crate::domain::platform::EnvironmentStatus;
    let mut s = fixture::fleet(fixture::DEMO_CIRCUITS);
    s.approvals.retain(|a| a.release_id != fixture::R_ENV);
    if let Some(r) = s.releases.iter_mut().find(|r| r.id == fixture::R_ENV) {
        for st in &mut r.stages {
            st.status = EnvironmentStatus::Succeeded;
            st.attempts = 1;
        }
    }
    for p in &mut s.plants {
        for c in &mut p.circuits {
            if c.environment.prod.is_some() {
                c.environment.prod = Some("1.5.1".into());
            }
        }
    }
    s
}

pub fn scenes(size: (u16, u16)) -> Vec<(&'static str, App)> {
    let mut out = Vec::new();
    let base = || app_at(size);

    // The comment box: allowed (the clean Prod release), refused (self-requested), and the
    // break-glass override of a failing test gate with its reason.
    let mut a = base();
    drive(&mut a, &["A", "a"]);
    type_text(&mut a, "Validation green on all 3; diffs reviewed");
    out.push(("decide_allowed", a));
    let mut a = base();
    drive(&mut a, &["A", "j", "a"]);
    out.push(("decide_refused", a));
    let mut a = base();
    drive(&mut a, &["A", "G", "a"]);
    type_text(&mut a, "Quarterly retrain");
    drive(&mut a, &["<Enter>"]);
    out.push(("decide_gate_refused", a));
    let mut a = base();
    drive(&mut a, &["A", "G", "a"]);
    type_text(&mut a, "Quarterly retrain");
    drive(&mut a, &["<C-o>"]);
    type_text(&mut a, "PLANT005 gap is known data loss INC-4411");
    out.push(("decide_override", a));

    // Bulk: the Prod approvals marked in the list; every approval marked, the review table,
    // then the results.
    let mut a = base();
    drive(&mut a, &["A", "*"]);
    out.push(("approvals_marked", a));
    let mut a = base();
    drive(&mut a, &["A", "<C-a>", "a"]);
    type_text(&mut a, "Reviewed in the release meeting");
    out.push(("bulk_review", a));
    let mut a = base();
    drive(&mut a, &["A", "<C-a>", "a"]);
    type_text(&mut a, "Reviewed in the release meeting");
    drive(&mut a, &["<Enter>"]);
    out.push(("bulk_results", a));

    // Rollback: targets, plan (a redeploy with a wide blast radius), typed confirmation.
    out.push(("rollback_targets", rollback_flow(size)));
    let mut a = rollback_flow(size);
    drive(&mut a, &["<Enter>"]);
    out.push(("rollback_plan", a));
    let mut a = rollback_flow(size);
    drive(&mut a, &["m", "<Enter>"]);
    out.push(("rollback_plan_direct", a));
    let mut a = rollback_flow(size);
    drive(&mut a, &["<Enter>"]);
    drive(&mut a, &["<Enter>"]);
    type_text(&mut a, "PLANT002/CIRCUIT8");
    out.push(("rollback_confirm", a));

    // The environment rollback: the plan and the typed confirmation over it.
    let shipped = env_shipped();
    let mut a = app_with(shipped.clone(), size);
    let effects = press(&mut a, &["E", "R"]);
    answer(&mut a, effects, &shipped);
    out.push(("env_rollback_plan", a));
    let mut a = app_with(shipped.clone(), size);
    let effects = press(&mut a, &["E", "R"]);
    answer(&mut a, effects, &shipped);
    press(&mut a, &["<Enter>"]);
    type_text(&mut a, "1.5.0");
    out.push(("env_rollback_confirm", a));

    // Progress: the incident's rollback in flight with under half its budget left.
    let mut a = base();
    with_ops(&mut a);
    drive(&mut a, &["O"]);
    drive(&mut a, &["<Enter>"]);
    out.push(("progress_sla_warn", a));
    // The same rollback, its redeploy waiting for the Production approvals again.
    let mut a = base();
    with_ops(&mut a);
    let waiting: Vec<_> = a.ops.in_flight().cloned().collect();
    for mut op in waiting {
        op.waiting = Some(
            "waiting for Production approval of the redeploy: 0 of 2 (may approve: Carol \
             Nguyen, Dave Lindqvist)"
                .into(),
        );
        update(&mut a, Msg::OpProgress(Box::new(op)));
    }
    drive(&mut a, &["O"]);
    drive(&mut a, &["<Enter>"]);
    out.push(("progress_waiting_for_approval", a));
    out.push(("progress_verified", verified(size)));

    let mut a = base();
    with_ops(&mut a);
    drive(&mut a, &["O"]);
    out.push(("ops", a));
    let mut a = base();
    drive(&mut a, &["L"]);
    drive(&mut a, &["j", "j"]);
    out.push(("audit_intact", a));
    let mut a = base();
    drive(&mut a, &["L"]);
    update(
        &mut a,
        Msg::Audit {
            generation: 0,
            result: Ok(Box::new(fixture::audit(fixture::now(), true))),
        },
    );
    // Delivered as the answer to a reload.
    let effects = press(&mut a, &["r"]);
    if let Some(Effect::LoadAudit { generation }) = effects.first() {
        update(
            &mut a,
            Msg::Audit {
                generation: *generation,
                result: Ok(Box::new(fixture::audit(fixture::now(), true))),
            },
        );
    }
    out.push(("audit_tampered", a));
    out
}

#[test]
fn write_path_views_at_80x24_and_160x48() {
    for size in [(80, 24), (160, 48)] {
        for (name, app) in scenes(size) {
            let text = render_text(&app, size.0, size.1);
            insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), text);
        }
    }
}

/// Write every scene to `$RELCON_LOOK_DIR` to read them as a user would.
#[test]
fn look() {
    let Some(dir) = std::env::var_os("RELCON_LOOK_DIR") else {
        return;
    };
    for size in [(80, 24), (160, 48)] {
        for (name, app) in scenes(size) {
            let text = render_text(&app, size.0, size.1);
            let path = std::path::Path::new(&dir).join(format!("{name}_{}x{}.txt", size.0, size.1));
            std::fs::write(path, text).unwrap();
        }
    }
}
