//! A read's deadline (`[client] read_deadline_seconds`) holds across retries and waits for
//! throttling: against the simulator's faults, a read that keeps timing out or is throttled
//! for longer than its deadline gives up with the last error and stops sending.

use std::time::{Duration, Instant};

use relcon::azure::{AzureBackend, ClientOptions};
use relcon::domain::Stage;
use relcon::service::backend::{Backend, ErrorKind};
use relcon::sim::{SimHandle, SimOptions, start};

async fn sim(opts: SimOptions) -> SimHandle {
    start(SimOptions {
        seed: 11,
        speed: 0.001,
        start: Some(relcon::domain::clock::pinned_start()),
        ..opts
    })
    .await
    .unwrap()
}

/// A client that retries reads many times, quickly, and gives each read `deadline` in all.
fn client(sim: &SimHandle, timeout: Duration, deadline: Duration) -> AzureBackend {
    let mut o = ClientOptions {
        identity_override: Some("bob".into()),
        timeout,
        ..ClientOptions::default()
    };
    o.retry.max_retries = 20;
    o.retry.base_delay = Duration::from_millis(5);
    o.retry.max_delay = Duration::from_millis(10);
    o.retry.deadline = deadline;
    AzureBackend::new(&sim.settings(), o).unwrap()
}

#[tokio::test]
async fn a_read_that_keeps_timing_out_gives_up_at_its_deadline() {
    // Every answer takes 1.5 s; each attempt may take 0.4 s; the read 1.5 s in all.
    let sim = sim(SimOptions {
        latency: Some((Duration::from_millis(1500), Duration::from_millis(1500))),
        ..SimOptions::default()
    })
    .await;
    let b = client(
        &sim,
        Duration::from_millis(400),
        Duration::from_millis(1500),
    );
    let started = Instant::now();
    let e = b.endpoints(Stage::Test).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(e.message.contains("deadline is 1.5s"), "{e}");
    // Twenty retries would send 21 requests over 8 s and more; the deadline leaves room for
    // about four attempts (the last cut to what is left).
    let sent = b.stats().arm;
    assert!((2..=5).contains(&sent), "{sent} requests");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}

#[tokio::test]
async fn a_read_throttled_past_its_deadline_fails_without_waiting() {
    // One read every 5 s: the second read's Retry-After (5 s) passes its 2 s deadline, well
    // inside the 120 s it would otherwise wait out throttling.
    let sim = sim(SimOptions {
        throttle: Some(0.2),
        throttle_burst: Some(1.0),
        ..SimOptions::default()
    })
    .await;
    let b = client(&sim, Duration::from_secs(10), Duration::from_secs(2));
    b.endpoints(Stage::Test).await.unwrap();
    let started = Instant::now();
    let e = b.endpoints(Stage::Prod).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!((e.kind, e.status), (ErrorKind::Throttled, Some(429)), "{e}");
    assert!(e.message.contains("deadline is 2s"), "{e}");
    // It did not wait the Retry-After out, and sent nothing more after the 429.
    assert_eq!(b.stats().arm, 2);
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
}

#[tokio::test]
async fn a_read_within_its_deadline_still_rides_out_faults() {
    // Half the requests fail, answers are slow: a read with a generous deadline still gets
    // its answer (the deadline bounds a read, it does not shorten a healthy one).
    let sim = sim(SimOptions {
        fail_rate: 0.5,
        latency: Some((Duration::from_millis(20), Duration::from_millis(60))),
        ..SimOptions::default()
    })
    .await;
    let b = client(&sim, Duration::from_secs(10), Duration::from_secs(30));
    for stage in [Stage::Test, Stage::Prod] {
        assert!(!b.endpoints(stage).await.unwrap().is_empty());
    }
    assert!(b.stats().retries > 0, "{:?}", b.stats());
}
