//! The write path through the real console against the simulator, in process: the real `App`,
//! `update`, `view` and runtime, a `Session` built as `relcon` builds one (Azure client over
//! the simulator's settings, an identity, a private state dir), keys injected as a user types
//! them, and the runtime's messages applied as they arrive. Waiting is for a condition with a
//! deadline, never a fixed sleep. Key frames are snapshots, with volatile text (ports, times,
//! ages, ids, countdowns) scrubbed.
//!
//! (a) dave approves a Production approval that is 1 of 2 already: 2 of 2, the stage deploys.
//! (b) bob bulk-approves every Registry approval: review table, one comment, all done.
//! (c) bob rolls the incident circuit back to last known good, typed confirmation, progress,
//!     verified, and the fleet shows the target in Prod.
//!
//! Each journey runs twice, on the classic Release API and on the same world served as Azure
//! Pipelines YAML (`DevOpsFlavor::Yaml`): the same keys, the same assertions, snapshots of
//! their own (`write_journey_yaml_*`), which show the same screens. What differs is only
//! what DevOps itself does differently: in YAML a redeploy is the Prod stage re-run, whose
//! Approval check asks both Prod approvers again, so in (c) two other people approve it while
//! bob watches the progress screen say so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use relcon::azure::{AzureBackend, ClientOptions};
use relcon::domain::clock::pinned_start;
use relcon::domain::platform::{ApprovalStatus, IdentityRef};
use relcon::domain::{CircuitRef, ModelVersion, Stage};
use relcon::service::backend::{ApprovalQuery, Backend};
use relcon::service::clock::PinnedClock;
use relcon::service::decide::DecisionOutcome;
use relcon::service::journal::OpState;
use relcon::service::session::{CacheChoice, OpenOptions, Session};
use relcon::sim::{DevOpsFlavor, SimHandle, SimOptions, start};
use relcon::tui::app::{Origin, Route};
use relcon::tui::flows::{BulkPhase, BulkResult, RollbackStep};
use relcon::tui::runtime::{Executor, Runtime};
use relcon::tui::view::render_text;
use relcon::tui::{App, AppConfig, Effect, Msg, fixture, update};
use tokio::sync::mpsc;

const W: u16 = 160;
const H: u16 = 48;

/// The console on a simulator, as one operator.
struct Console {
    app: App,
    runtime: Runtime,
    rx: mpsc::UnboundedReceiver<Msg>,
    sim: SimHandle,
    flavour: DevOpsFlavor,
    _state: tempfile::TempDir,
}

impl Console {
    /// The console as `who` on a simulator serving `flavour` (whatever `opts.devops` says).
    async fn start(who: &str, flavour: DevOpsFlavor, opts: SimOptions) -> Console {
        let opts = SimOptions {
            devops: flavour,
            ..opts
        };
        let sim = start(opts).await.expect("the simulator starts");
        let settings = sim.settings();
        let backend = AzureBackend::new(
            &settings,
            ClientOptions {
                identity_override: Some(who.into()),
                ..ClientOptions::default()
            },
        )
        .expect("a client for the simulator");
        let state = tempfile::tempdir().expect("a state dir");
        // The console's clock starts at the simulator's pinned start and moves with real time
        // (the simulator runs 600 times faster): stamps and dates read the same on any day,
        // while the data's age and the SLA countdown move as a user would see them, so a
        // slow first refresh on a loaded machine is not shown as stale.
        let describe = backend.describe();
        let session = Session::open(
            &settings,
            Arc::new(backend),
            OpenOptions {
                cache: CacheChoice::Disabled,
                ..OpenOptions::under(state.path(), Arc::new(PinnedClock::new(pinned_start())))
            },
        )
        .expect("a session");
        let ctx = session.context();
        let mut cfg = AppConfig::new(ctx.policy.clone(), ctx.thresholds.clone(), describe);
        cfg.rollback_method = ctx.default_rollback_method;
        // Refreshes only when asked for (or after a change): the journey decides when.
        cfg.refresh_every = None;
        let (tx, rx) = mpsc::unbounded_channel();
        let mut runtime = Runtime::new(session, tx);
        let (app, effects) = App::new(cfg, None, runtime.now(), (W, H));
        for e in effects {
            runtime.execute(e);
        }
        let mut c = Console {
            app,
            runtime,
            rx,
            sim,
            flavour,
            _state: state,
        };
        c.until("the first refresh", |a| a.data.origin == Origin::Live)
            .await;
        c
    }

    fn run(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.runtime.execute(e);
        }
    }

    fn press(&mut self, keys: &[&str]) -> Vec<Effect> {
        let effects = fixture::press(&mut self.app, keys);
        self.run(effects.clone());
        effects
    }

    fn type_text(&mut self, text: &str) {
        let effects = fixture::type_text(&mut self.app, text);
        self.run(effects);
    }

    /// Apply the runtime's messages until `done` holds; fail with the screen after a deadline.
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !done(&self.app) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(Some(msg)) => {
                    let effects = update(&mut self.app, msg);
                    self.run(effects);
                    // The clock moves with real time: ages and the SLA countdown.
                    let effects = update(&mut self.app, Msg::Tick(self.runtime.now()));
                    self.run(effects);
                }
                _ => panic!("{what}: never happened; the screen:\n{}", self.frame()),
            }
        }
    }

    /// Wait until no background read is running (what loads has loaded), for a stable frame.
    async fn settle(&mut self) {
        self.until("the background reads", |a| a.busy().is_empty())
            .await;
    }

    fn frame(&self) -> String {
        render_text(&self.app, W, H)
    }

    /// The snapshot name of a key frame: classic's as it always was, YAML's its own.
    fn shot(&self, name: &str) -> String {
        match self.flavour {
            DevOpsFlavor::Classic => format!("write_journey_{name}"),
            DevOpsFlavor::Yaml => format!("write_journey_yaml_{name}"),
        }
    }

    fn note(&self) -> String {
        self.app
            .note
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default()
    }
}

/// Volatile text out: ports, times, ages, durations, ids, countdown bars.
fn scrub(text: &str) -> String {
    // Dates stay: the simulator and the console run on a pinned clock, so a date from the
    // machine's calendar would show here (and fail the run under a moved clock).
    let rules: [(&str, &str); 9] = [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\d{8}T\d{9}Z-[0-9a-f]{4}", "[op-id]"),
        (r"\d{2}:\d{2}:\d{2}( UTC)?", "[time]"),
        (r"\d{2}:\d{2} left", "[mm:ss] left"),
        (r"\+?\d+m\d{2}s|\+\d+s", "[duration]"),
        (r"in \d+s\b", "in [duration]"),
        (r"\b\d+[smhd]\b", "[age]"),
        (r"[█░]{30}", "[budget bar]"),
        (
            r"req-[0-9a-f-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[request-id]",
        ),
    ];
    let rules: Vec<(regex::Regex, &str)> = rules
        .into_iter()
        .map(|(p, with)| (regex::Regex::new(p).expect("a valid pattern"), with))
        .collect();
    let padding = regex::Regex::new(r"\] {2,}").expect("a valid pattern");
    let closing = regex::Regex::new(r" {2,}([┃│])$").expect("a valid pattern");
    text.lines()
        .map(|line| {
            let mut out = line.to_owned();
            for (re, with) in &rules {
                out = re.replace_all(&out, *with).into_owned();
            }
            if out == line {
                return out.trim_end().to_owned();
            }
            // A scrubbed value had its own width (a duration on the simulated clock can be
            // `3s` or `11m05s`), so the padding after it, and before the line's closing
            // border, is not part of what is compared.
            let out = out.replace("][", "] [");
            let out = padding.replace_all(out.trim_end(), "] ");
            closing.replace_all(&out, " $1").into_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn fast_sim() -> SimOptions {
    SimOptions {
        speed: 600.0,
        start: Some(pinned_start()),
        ..SimOptions::default()
    }
}

/// Move the approvals cursor to the first item matching `pick`.
fn select_approval(c: &mut Console, pick: impl Fn(u32, Stage) -> bool) {
    c.press(&["<Home>"]);
    for _ in 0..c.app.approvals.lines.len() {
        if c.app
            .approvals
            .selected()
            .is_some_and(|r| pick(r.key.release_id, r.key.stage))
        {
            return;
        }
        c.press(&["j"]);
    }
    panic!("no such approval; the screen:\n{}", c.frame());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dave_approves_a_production_approval_as_the_second_approver() {
    dave_approves_as_the_second_approver(DevOpsFlavor::Classic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yaml_a_dave_approves_a_production_approval_as_the_second_approver() {
    dave_approves_as_the_second_approver(DevOpsFlavor::Yaml).await;
}

/// The release the scenario half approved in Production, as this flavour numbers it (YAML: the
/// training run's id, classic: the release's): the one Prod approval already approved once.
fn half_approved(c: &Console) -> u32 {
    let snapshot = c.app.snapshot().expect("a snapshot");
    let half: Vec<u32> = snapshot
        .approvals
        .iter()
        .filter(|a| a.stage == Stage::Prod && a.approved.len() == 1)
        .map(|a| a.release_id)
        .collect();
    assert_eq!(half.len(), 1, "one half-approved Prod release: {half:?}");
    if c.flavour == DevOpsFlavor::Classic {
        assert_eq!(half[0], c.sim.scenario().half_approved_release_id);
    }
    half[0]
}

async fn dave_approves_as_the_second_approver(flavour: DevOpsFlavor) {
    // A slow deploy (an hour of simulated time) so the refresh finds the stage deploying.
    let mut c = Console::start(
        "dave",
        flavour,
        SimOptions {
            deploy_minutes: 600.0,
            ..fast_sim()
        },
    )
    .await;
    let release = half_approved(&c);
    c.press(&["A"]);
    select_approval(&mut c, |r, s| r == release && s == Stage::Prod);
    c.settle().await;
    let f = c.frame();
    assert!(f.contains("1/2"), "{f}");
    insta::assert_snapshot!(c.shot("a1_approvals"), scrub(&f));

    c.press(&["a"]);
    let f = c.frame();
    assert!(f.contains("as Dave Lindqvist"), "{f}");
    assert!(
        f.contains("approval 2 of 2: completes it, deploys 3 circuits to Prod"),
        "{f}"
    );
    assert!(f.contains("✓ you can approve"), "{f}");
    // Enter without a comment sends nothing and says why.
    assert!(c.press(&["<Enter>"]).is_empty());
    assert!(c.frame().contains("a comment is required"));
    c.type_text("Second approval: validation green, diffs reviewed");
    let f = c.frame();
    insta::assert_snapshot!(c.shot("a2_comment_box"), scrub(&f));

    let sent = c.press(&["<Enter>"]);
    assert!(
        matches!(&sent[..], [Effect::Decide { items, .. }] if items.len() == 1),
        "{sent:?}"
    );
    c.until("the decision", |a| a.decide_form().is_none()).await;
    let note = c.note();
    assert!(
        note.contains("2 of 2 approvals, the stage deploys now"),
        "{note}\n{}",
        c.frame()
    );
    let f = c.frame();
    insta::assert_snapshot!(c.shot("a3_approved"), scrub(&f));

    // The refresh after the decision: the release deploys to Prod, nothing waits on it.
    c.until("the refresh showing the deploy", |a| {
        a.snapshot()
            .and_then(|s| s.release(release))
            .and_then(|r| r.stage(Stage::Prod))
            .is_some_and(|p| p.deploying)
    })
    .await;
    assert!(
        !c.app
            .approvals
            .rows
            .iter()
            .any(|r| r.key.release_id == release),
        "still listed as pending"
    );
    let circuit = c
        .app
        .snapshot()
        .and_then(|s| s.release(release))
        .and_then(|r| r.models.first())
        .map(|m| m.circuit.to_string())
        .expect("the release has circuits");
    c.press(&[":"]);
    c.type_text(&format!("circuit {circuit}"));
    c.press(&["<Enter>"]);
    c.settle().await;
    let f = c.frame();
    let name = c
        .app
        .snapshot()
        .and_then(|s| s.release(release))
        .map(|r| r.name.clone())
        .expect("the release");
    assert!(f.contains(&format!("⇡ deploying {name}")), "{f}");
    insta::assert_snapshot!(c.shot("a4_deploying"), scrub(&f));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_bob_bulk_approves_every_registry_approval() {
    bob_bulk_approves_every_registry_approval(DevOpsFlavor::Classic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yaml_b_bob_bulk_approves_every_registry_approval() {
    bob_bulk_approves_every_registry_approval(DevOpsFlavor::Yaml).await;
}

async fn bob_bulk_approves_every_registry_approval(flavour: DevOpsFlavor) {
    let mut c = Console::start("bob", flavour, fast_sim()).await;
    let registry: Vec<u32> = c
        .app
        .approvals
        .rows
        .iter()
        .filter(|r| r.key.stage == Stage::Registry)
        .map(|r| r.key.release_id)
        .collect();
    assert!(registry.len() >= 2, "the scenario has Registry approvals");
    c.press(&["A"]);
    select_approval(&mut c, |_, s| s == Stage::Registry);
    c.settle().await;
    c.press(&["*"]);
    assert_eq!(c.app.approvals.marks.len(), registry.len());
    assert!(
        c.app
            .approvals
            .marks
            .iter()
            .all(|k| k.stage == Stage::Registry)
    );
    c.press(&["a"]);
    assert!(matches!(c.app.route(), Route::Bulk(_)));
    // One comment for all; every row is allowed for bob.
    c.type_text("Registry promotion reviewed in the release meeting");
    let f = c.frame();
    assert!(
        f.contains(&format!("{} will be sent · 0 skipped", registry.len())),
        "{f}"
    );
    insta::assert_snapshot!(c.shot("b1_review"), scrub(&f));

    let sent = c.press(&["<Enter>"]);
    assert!(
        matches!(&sent[..], [Effect::Decide { items, .. }] if items.len() == registry.len()),
        "{sent:?}"
    );
    c.until("every result", |a| {
        a.bulk().is_some_and(|b| b.phase == BulkPhase::Results)
    })
    .await;
    let bulk = c.app.bulk().expect("the bulk table");
    for row in &bulk.rows {
        assert!(
            matches!(
                row.result,
                Some(BulkResult::Outcome(DecisionOutcome::Done { .. }))
            ),
            "{}: {:?}",
            row.release_name,
            row.result
        );
    }
    let f = c.frame();
    assert!(
        f.contains(&format!("{} done · 0 not done · 0 skipped", registry.len())),
        "{f}"
    );
    insta::assert_snapshot!(c.shot("b2_results"), scrub(&f));

    // The refresh after: no Registry approval is left.
    c.until("the refresh", |a| {
        !a.approvals
            .rows
            .iter()
            .any(|r| r.key.stage == Stage::Registry)
    })
    .await;
    c.press(&["<Esc>"]);
    assert!(matches!(c.app.route(), Route::Approvals));
    assert!(c.app.approvals.marks.is_empty(), "done rows are unmarked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_bob_rolls_the_incident_circuit_back_to_last_known_good() {
    bob_rolls_the_incident_circuit_back(DevOpsFlavor::Classic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yaml_c_bob_rolls_the_incident_circuit_back_to_last_known_good() {
    bob_rolls_the_incident_circuit_back(DevOpsFlavor::Yaml).await;
}

/// Production approvals a YAML stage re-run asks for again, given by two people DevOps lets
/// approve it (neither bob, who re-ran it, nor the run's requester: the check bars both),
/// each from a client of their own, as they would from their own terminal.
async fn others_approve_the_rerun(c: &Console, release: u32) {
    let settings = c.sim.settings();
    let as_who = |who: &str| {
        AzureBackend::new(
            &settings,
            ClientOptions {
                identity_override: Some(who.into()),
                ..ClientOptions::default()
            },
        )
        .expect("a client for the simulator")
    };
    let carol = as_who("carol");
    let deadline = Instant::now() + Duration::from_secs(90);
    let pending = loop {
        let query = ApprovalQuery {
            status: Some(ApprovalStatus::Pending),
            release_ids: vec![release],
        };
        let found: Vec<_> = carol
            .approvals(&query)
            .await
            .expect("the approvals")
            .into_iter()
            .filter(|a| a.stage() == Some(Stage::Prod))
            .collect();
        if !found.is_empty() {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "the re-run's Production approval never showed"
        );
        tokio::task::yield_now().await;
    };
    let requester: IdentityRef = carol
        .release(release)
        .await
        .expect("the release")
        .requester(&pending[0].stage_ref, pending[0].attempt)
        .0;
    let approvers: Vec<&str> = ["carol", "dave", "alice", "erin"]
        .into_iter()
        .filter(|who| !requester.name().to_lowercase().starts_with(who))
        .take(2)
        .collect();
    for who in approvers {
        let receipt = as_who(who)
            .decide_approval(
                &pending[0].id,
                ApprovalStatus::Approved,
                "rollback approved",
            )
            .await;
        assert!(receipt.is_ok(), "{who}: {receipt:?}");
    }
}

async fn bob_rolls_the_incident_circuit_back(flavour: DevOpsFlavor) {
    let mut c = Console::start("bob", flavour, fast_sim()).await;
    let scenario = c.sim.scenario();
    let circuit: CircuitRef = scenario.incident_circuit.parse().expect("a circuit id");
    let target = ModelVersion(scenario.rollback_version);
    c.press(&[":"]);
    c.type_text(&format!("rollback {circuit}"));
    c.press(&["<Enter>"]);
    c.settle().await;
    assert!(matches!(c.app.route(), Route::Rollback(_)), "{}", c.frame());
    let flow = c.app.rollback().expect("the rollback flow");
    assert_eq!(
        flow.scope.chosen().map(|e| e.version),
        Some(target),
        "last known good is chosen"
    );
    assert_eq!(flow.scope.last_good, Some(target));
    let f = c.frame();
    assert!(f.contains("★ last known good"), "{f}");
    insta::assert_snapshot!(c.shot("c1_targets"), scrub(&f));

    let planned = c.press(&["<Enter>"]);
    assert!(matches!(planned[..], [Effect::PlanRollback { .. }]));
    c.until("the plan", |a| {
        a.rollback()
            .is_some_and(|f| f.plan.value.is_some() || f.plan.error.is_some())
    })
    .await;
    let plan = c
        .app
        .rollback()
        .and_then(|f| f.plan.value.clone())
        .unwrap_or_else(|| panic!("no plan:\n{}", c.frame()));
    assert_eq!(plan.to, target);
    let f = c.frame();
    assert!(f.contains(&format!("v{target}")), "{f}");
    // Every other circuit the redeploy touches is listed.
    for other in plan.others() {
        assert!(
            f.contains(&other.circuit.to_string()),
            "{other:?} missing:\n{f}"
        );
    }
    insta::assert_snapshot!(c.shot("c2_plan"), scrub(&f));

    c.press(&["<Enter>"]);
    assert_eq!(
        c.app.rollback().map(|f| f.step),
        Some(RollbackStep::Confirm)
    );
    // Typed wrong (lower case): nothing is sent.
    c.type_text(&circuit.to_string().to_lowercase());
    assert!(c.press(&["<Enter>"]).is_empty());
    assert!(c.frame().contains("type it exactly"), "{}", c.frame());
    c.press(&["<C-u>"]);
    c.type_text(&circuit.to_string());
    c.press(&["<Tab>"]);
    c.type_text("MAE alert since the incident release");
    let f = c.frame();
    insta::assert_snapshot!(c.shot("c3_confirm"), scrub(&f));

    let sent = c.press(&["<Enter>"]);
    assert!(
        matches!(sent[..], [Effect::ExecuteRollback { .. }]),
        "{sent:?}"
    );
    c.until("the progress screen", |a| {
        matches!(a.route(), Route::Progress(_))
    })
    .await;
    let op_id = match c.app.route() {
        Route::Progress(p) => p.op_id.clone(),
        _ => unreachable!(),
    };
    let state = |a: &App| a.ops.get(&op_id).map(|o| o.state);
    c.until("in progress", |a| {
        state(a).is_some_and(|s| s >= OpState::InProgress)
    })
    .await;
    assert!(c.frame().contains("SLA"), "{}", c.frame());
    if flavour == DevOpsFlavor::Yaml {
        // The re-run stage waits for both Prod approvals again, and the screen says so.
        c.until("waiting for the approvals", |a| {
            a.ops.get(&op_id).is_some_and(|o| o.waiting.is_some())
        })
        .await;
        let f = c.frame();
        assert!(
            f.contains("Production approval") && f.contains("0 of 2"),
            "{f}"
        );
        insta::assert_snapshot!(c.shot("c4_waiting"), scrub(&f));
        let release = plan.redeploy.as_ref().map(|r| r.release_id);
        others_approve_the_rerun(&c, release.expect("a redeploy plan")).await;
    }
    c.until("verified", |a| state(a).is_some_and(|s| s.is_final()))
        .await;
    assert_eq!(state(&c.app), Some(OpState::Verified), "{}", c.frame());
    // The refresh after the restore: the fleet runs the target in Prod.
    c.until("the fleet showing the target", |a| {
        a.data.circuit(&circuit).and_then(|x| x.versions.prod) == Some(target)
            && a.busy().is_empty()
    })
    .await;
    let f = c.frame();
    assert!(f.contains("✓ Verified restore in"), "{f}");
    assert!(
        f.contains(&format!("✓ the fleet shows v{target} in Prod")),
        "{f}"
    );
    assert!(
        f.contains("✓ Prod deployment provisioning succeeded"),
        "{f}"
    );
    insta::assert_snapshot!(c.shot("c4_verified"), scrub(&f));

    // Leaving: the ops view has it, verified; the audit log has the rollback on record.
    c.press(&["O"]);
    let f = c.frame();
    assert!(
        f.contains(&circuit.to_string()) && f.contains("verified"),
        "{f}"
    );
    c.press(&["L"]);
    c.until("the audit log", |a| a.audit.data.value.is_some())
        .await;
    let f = c.frame();
    assert!(f.contains("✓ chain intact"), "{f}");
    assert!(
        f.contains("rollback") && f.contains(&circuit.to_string()),
        "{f}"
    );
    c.runtime.shutdown();
}
