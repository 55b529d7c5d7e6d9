//! Azure DevOps with a personal access token: basic auth for DevOps, Entra tokens elsewhere.
//! Its own test binary because it sets an environment variable, which must not race other
//! threads reading the environment.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{Fake, FakeCredential, entra_backend, json};
use relcon::domain::Stage;
use relcon::service::backend::{Backend, ErrorKind};
use serde_json::json as j;

#[test]
fn devops_uses_the_pat_when_its_variable_is_set() {
    let var = format!("RELCON_TEST_PAT_{}", std::process::id());
    const PAT: &str = "pat-s3cr3t-value-0123456789";
    // SAFETY: set before any runtime or other thread exists in this test binary.
    unsafe { std::env::set_var(&var, PAT) };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let fake = Fake::start(|h| {
            if h.path.starts_with("/vsrm") && h.path.contains("/approvals/") {
                // Echo the credential back, as a careless proxy might.
                let echoed = h.authorization.clone().unwrap_or_default();
                json(401, j!({"message": format!("denied for {echoed}"), "typeKey": "UnauthorizedRequestException"}))
            } else if h.path.starts_with("/vsrm") {
                json(200, j!({"count": 0, "value": []}))
            } else {
                json(200, j!({"value": []}))
            }
        })
        .await;
        let cred = FakeCredential::new("entra-token", Duration::from_secs(3600));
        let b = entra_backend(&fake, cred.clone(), &var);
        b.release_history().await.unwrap();
        b.endpoints(Stage::Test).await.unwrap();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(":{PAT}"));
        let hits = fake.hits();
        assert_eq!(hits[0].authorization.as_deref(), Some(format!("Basic {basic}").as_str()));
        assert_eq!(hits[1].authorization.as_deref(), Some("Bearer entra-token"));
        // Only ARM needed a token.
        assert_eq!(cred.calls(), 1);

        let e = b
            .decide_approval(&3.into(), relcon::domain::platform::ApprovalStatus::Approved, "")
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth);
        for shown in [e.to_string(), format!("{e:?}"), format!("{b:?}")] {
            assert!(!shown.contains("s3cr3t") && !shown.contains(&basic), "{shown}");
        }
    });
}
