//! The runtime over a real `Session` whose backend fails fast, waits, or panics on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::*;
use crate::domain::Stage;
use crate::domain::platform::{
    ApprovalRecord, ApprovalStatus, AssetLocation, Deployment, Endpoint, EnvironmentAsset,
    EnvironmentVersionRecord, Identity, ModelAsset, ModelContainer, ModelVersionRecord,
    ReleaseEnvironment, ReleaseRecord, Table,
};
use crate::service::Context;
use crate::service::backend::{
    ApprovalQuery, Backend, BackendError, BackendResult, ErrorKind, MonitorQuery, OperationHandle,
    OperationStatus, Receipt,
};
use crate::service::cache::Cache;
use crate::settings::Naming;

/// Every call fails at once, except `identity`, which waits `delay` and can panic.
#[derive(Default)]
struct Fake {
    delay_ms: AtomicU32,
    panic: AtomicBool,
}

fn down<T>() -> BackendResult<T> {
    Err(BackendError::new(
        ErrorKind::Network,
        "GET",
        "http://fake",
        "down",
    ))
}

#[async_trait]
impl Backend for Fake {
    fn describe(&self) -> String {
        "fake".into()
    }
    async fn identity(&self) -> BackendResult<Identity> {
        let ms = self.delay_ms.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(u64::from(ms))).await;
        assert!(!self.panic.load(Ordering::SeqCst), "the backend blew up");
        down()
    }
    async fn endpoints(&self, _: Stage) -> BackendResult<Vec<Endpoint>> {
        down()
    }
    async fn deployments(&self, _: Stage, _: &str) -> BackendResult<Vec<Deployment>> {
        down()
    }
    async fn deployment(&self, _: Stage, _: &str, _: &str) -> BackendResult<Deployment> {
        down()
    }
    async fn model_containers(&self, _: AssetLocation) -> BackendResult<Vec<ModelContainer>> {
        down()
    }
    async fn model_versions(
        &self,
        _: AssetLocation,
        _: &str,
    ) -> BackendResult<Vec<ModelVersionRecord>> {
        down()
    }
    async fn environment_versions(
        &self,
        _: AssetLocation,
        _: &str,
    ) -> BackendResult<Vec<EnvironmentVersionRecord>> {
        down()
    }
    async fn begin_set_deployment_model(
        &self,
        _: Stage,
        _: &str,
        _: &str,
        _: &ModelAsset,
    ) -> BackendResult<Receipt<OperationHandle>> {
        down()
    }
    async fn begin_set_deployment_environment(
        &self,
        _: Stage,
        _: &str,
        _: &str,
        _: &EnvironmentAsset,
    ) -> BackendResult<Receipt<OperationHandle>> {
        down()
    }
    async fn operation_status(&self, _: &OperationHandle) -> BackendResult<OperationStatus> {
        down()
    }
    async fn config_at(&self, _: &str, _: &str) -> BackendResult<String> {
        down()
    }
    async fn release_history(&self) -> BackendResult<Vec<ReleaseRecord>> {
        down()
    }
    async fn release_history_where(
        &self,
        _: &crate::service::backend::ReleaseQuery,
    ) -> BackendResult<Vec<ReleaseRecord>> {
        down()
    }
    async fn recent_attempts(
        &self,
        _: u32,
    ) -> BackendResult<Vec<crate::domain::platform::DeploymentRef>> {
        down()
    }
    async fn release(&self, _: u32) -> BackendResult<ReleaseRecord> {
        down()
    }
    async fn fired_alerts(&self) -> BackendResult<Vec<crate::domain::incidents::AlertRecord>> {
        down()
    }
    async fn alert(&self, _: &str) -> BackendResult<crate::domain::incidents::AlertRecord> {
        down()
    }
    async fn change_alert_state(
        &self,
        _: &str,
        _: crate::domain::incidents::AlertState,
        _: &str,
    ) -> BackendResult<Receipt<crate::domain::incidents::AlertRecord>> {
        down()
    }
    async fn scoring_jobs(
        &self,
        _: Stage,
        _: &str,
        _: &str,
        _: chrono::DateTime<chrono::Utc>,
    ) -> BackendResult<Vec<crate::domain::incidents::ScoringJob>> {
        down()
    }
    async fn job_run(&self, _: Stage, _: &str) -> BackendResult<crate::domain::incidents::JobRun> {
        down()
    }
    async fn approvals(&self, _: &ApprovalQuery) -> BackendResult<Vec<ApprovalRecord>> {
        down()
    }
    async fn decide_approval(
        &self,
        _: &crate::domain::platform::ApprovalId,
        _: ApprovalStatus,
        _: &str,
    ) -> BackendResult<Receipt<ApprovalRecord>> {
        down()
    }
    async fn rerun_stage(
        &self,
        _: u32,
        _: &crate::domain::platform::StageRef,
        _: &str,
    ) -> BackendResult<Receipt<ReleaseEnvironment>> {
        down()
    }
    async fn monitor(&self, _: MonitorQuery) -> BackendResult<Table> {
        down()
    }
}

fn runtime() -> (Runtime, mpsc::UnboundedReceiver<Msg>, Arc<Fake>) {
    runtime_in(&std::env::temp_dir().join("relcon-tui-runtime-test"))
}

fn runtime_in(state: &std::path::Path) -> (Runtime, mpsc::UnboundedReceiver<Msg>, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let ctx = Context {
        backend: "fake".into(),
        naming: Naming::default(),
        thresholds: Default::default(),
        policy: crate::fixture::policy(),
        rollback_sla_minutes: 15,
        default_rollback_method: crate::domain::rollback::RollbackMethod::Redeploy,
        rollback_run_offered: false,
        config_path_template: "config/circuits/{plant}_{circuit}.yaml".into(),
        concurrency: 4,
        cache_key: "fake".into(),
        registry: "mlr-forecast".into(),
        poll_interval: std::time::Duration::from_millis(100),
        incidents: Default::default(),
        keep: Default::default(),
    };
    let session = Session::with_context(
        fake.clone(),
        ctx,
        Cache::disabled(),
        crate::service::session::StateDirs::under(state),
    )
    .with_clock(Arc::new(crate::service::clock::PinnedClock::new(
        crate::fixture::now(),
    )));
    let (tx, rx) = mpsc::unbounded_channel();
    (Runtime::new(session, tx), rx, fake)
}

#[tokio::test]
async fn a_newer_refresh_aborts_the_older_one() {
    let (mut rt, mut rx, fake) = runtime();
    fake.delay_ms.store(300, Ordering::SeqCst);
    assert!(rt.execute(Effect::Refresh { generation: 1 }));
    fake.delay_ms.store(0, Ordering::SeqCst);
    assert!(rt.execute(Effect::Refresh { generation: 2 }));
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert!(
        matches!(
            first,
            Ok(Some(Msg::Snapshot {
                generation: 2,
                result: Ok(_)
            }))
        ),
        "{first:?}"
    );
    // The aborted one never reports, even after its delay.
    let late = tokio::time::timeout(Duration::from_millis(600), rx.recv()).await;
    assert!(late.is_err(), "{late:?}");
    assert!(!rt.execute(Effect::Quit));
}

#[tokio::test]
async fn a_panicking_task_comes_back_as_an_error() {
    let (mut rt, mut rx, fake) = runtime();
    fake.panic.store(true, Ordering::SeqCst);
    rt.execute(Effect::Refresh { generation: 7 });
    let msg = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    match msg {
        Ok(Some(Msg::Snapshot {
            generation: 7,
            result: Err(e),
        })) => assert!(e.contains("background task failed"), "{e}"),
        other => panic!("{other:?}"),
    }
    rt.shutdown();
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Msg>) -> Msg {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(m)) => m,
        other => panic!("no message: {other:?}"),
    }
}

#[tokio::test]
async fn every_item_of_a_decision_batch_answers_even_when_all_fail() {
    use crate::action::ApprovalKey;
    use crate::service::decide::{DecisionOutcome, DecisionRequest, Verdict};
    let dir = tempfile::tempdir().unwrap();
    let (mut rt, mut rx, _fake) = runtime_in(dir.path());
    let item = |id: u32| {
        (
            ApprovalKey {
                release_id: id,
                stage: Stage::Prod,
            },
            DecisionRequest {
                approval_id: (id * 100).into(),
                verdict: Verdict::Approve,
                comment: "ok".into(),
                override_reason: None,
            },
        )
    };
    let snapshot = Arc::new(crate::fixture::fleet(20));
    assert!(rt.execute(Effect::Decide {
        generation: 3,
        items: vec![item(1), item(2)],
        snapshot,
    }));
    let mut seen = Vec::new();
    for _ in 0..2 {
        match next(&mut rx).await {
            Msg::Decision {
                generation: 3,
                key,
                outcome,
            } => {
                // The backend cannot say who the operator is: nothing is sent, each says so.
                assert!(
                    matches!(&*outcome, DecisionOutcome::Failed { message, .. } if message.contains("cannot tell who you are")),
                    "{outcome:?}"
                );
                seen.push(key.release_id);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen, vec![1, 2], "in order, one per item");
    // Nothing was journaled: no operation was started.
    assert!(
        crate::service::journal::Journal::new(dir.path().join("ops"))
            .all()
            .is_empty()
    );
}

#[tokio::test]
async fn the_journal_and_the_audit_log_are_read_with_the_chain_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rt, mut rx, _fake) = runtime_in(dir.path());
    let log = crate::audit::AuditLog::new(dir.path().join("audit.jsonl"));
    for n in 0..3 {
        log.append(crate::audit::Record {
            actor: "bob@contoso.com".into(),
            action: "approve".into(),
            target: format!("approval {n}"),
            result: "succeeded".into(),
            ..Default::default()
        })
        .unwrap();
    }
    rt.execute(Effect::LoadAudit { generation: 9 });
    match next(&mut rx).await {
        Msg::Audit {
            generation: 9,
            result: Ok(data),
        } => {
            assert_eq!(data.entries.len(), 3);
            assert_eq!(data.entries[0].seq, 3, "newest first");
            let v = data.verification.clone().unwrap();
            assert!(v.first_bad.is_none(), "{v:?}");
        }
        other => panic!("{other:?}"),
    }
    // Edit an entry: the next read says where the chain breaks.
    let path = dir.path().join("audit.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("approval 1", "approval 7", 1)).unwrap();
    rt.execute(Effect::LoadAudit { generation: 10 });
    match next(&mut rx).await {
        Msg::Audit {
            generation: 10,
            result: Ok(data),
        } => {
            let bad = data
                .verification
                .unwrap()
                .first_bad
                .expect("tampering found");
            assert_eq!(bad.seq, Some(3), "{bad:?}");
        }
        other => panic!("{other:?}"),
    }
    rt.execute(Effect::LoadOps { generation: 11 });
    assert!(matches!(
        next(&mut rx).await,
        Msg::Ops { generation: 11, result: Ok(list) } if list.is_empty()
    ));
    rt.shutdown();
}
