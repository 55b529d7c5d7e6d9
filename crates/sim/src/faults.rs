//! Injected trouble: latency, 500/503 failures, dropped connections and token buckets on
//! reads answering 429, one per service limit as Azure keeps them (ARM per subscription;
//! Azure DevOps per user across dev.azure.com and vsrm; Log Analytics per user). Every decision
//! comes from one seeded generator, so a run with a fixed seed and a fixed request order fails
//! the same way each time.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The fault knobs of a run.
#[derive(Debug, Clone, Default)]
pub struct FaultKnobs {
    pub latency: Option<(Duration, Duration)>,
    pub fail_rate: f64,
    pub reset_rate: f64,
    /// Reads per second each service's token bucket refills.
    pub throttle: Option<f64>,
    /// The size of each bucket (default: one second of reads; ARM's real one holds 250).
    pub throttle_burst: Option<f64>,
}

/// Which of the simulated limits a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Arm,
    DevOps,
    Monitor,
}

impl Limit {
    fn index(self) -> usize {
        match self {
            Limit::Arm => 0,
            Limit::DevOps => 1,
            Limit::Monitor => 2,
        }
    }
}

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Answer 500 or 503. `after`: process the request first (its effect happens), so the
    /// client cannot know whether it did.
    Fail {
        status: u16,
        after: bool,
    },
    /// Drop the connection, before or after processing.
    Reset {
        after: bool,
    },
    /// 429 with `Retry-After` of this many seconds.
    Throttle {
        retry_after: u64,
    },
}

#[derive(Debug)]
pub struct Faults {
    knobs: FaultKnobs,
    rng: Mutex<fastrand::Rng>,
    buckets: Mutex<[Bucket; 3]>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Faults {
    pub fn new(knobs: FaultKnobs, seed: u64) -> Faults {
        let burst = Self::burst_of(&knobs);
        let now = Instant::now();
        Faults {
            knobs,
            rng: Mutex::new(fastrand::Rng::with_seed(seed ^ 0xfa17_fa17)),
            buckets: Mutex::new(std::array::from_fn(|_| Bucket {
                tokens: burst,
                at: now,
            })),
        }
    }

    fn burst_of(knobs: &FaultKnobs) -> f64 {
        match (knobs.throttle, knobs.throttle_burst) {
            (Some(_), Some(b)) => b.max(1.0),
            (Some(r), None) => r.max(1.0),
            _ => 0.0,
        }
    }

    /// Reads left in `limit`'s bucket, as ARM's `x-ms-ratelimit-remaining-subscription-reads`
    /// says (only while throttling is simulated).
    pub fn remaining(&self, limit: Limit) -> Option<u64> {
        self.knobs.throttle?;
        let b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        Some(b[limit.index()].tokens.max(0.0) as u64)
    }

    pub fn knobs(&self) -> &FaultKnobs {
        &self.knobs
    }

    /// A delay drawn uniformly from the latency range.
    pub fn latency(&self) -> Option<Duration> {
        let (lo, hi) = self.knobs.latency?;
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let span = (hi - lo).as_micros() as u64;
        let extra = if span == 0 {
            0
        } else {
            self.rng().u64(0..=span)
        };
        Some(lo + Duration::from_micros(extra))
    }

    /// Decide the fate of one request; `read` requests (GET, and queries) spend a token of
    /// their service's bucket.
    pub fn decide(&self, read: bool, limit: Limit) -> Fault {
        self.decide_at(read, limit, Instant::now())
    }

    fn decide_at(&self, read: bool, limit: Limit, now: Instant) -> Fault {
        let (reset, fail, after, status) = {
            let mut rng = self.rng();
            (
                rng.f64() < self.knobs.reset_rate,
                rng.f64() < self.knobs.fail_rate,
                rng.bool(),
                if rng.bool() { 500 } else { 503 },
            )
        };
        if reset {
            return Fault::Reset { after };
        }
        if fail {
            return Fault::Fail { status, after };
        }
        if read && let Some(rate) = self.knobs.throttle.filter(|r| *r > 0.0) {
            let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            let b = &mut buckets[limit.index()];
            let burst = Self::burst_of(&self.knobs);
            let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
            b.tokens = (b.tokens + elapsed * rate).min(burst);
            b.at = now;
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
            } else {
                let wait = ((1.0 - b.tokens) / rate).ceil().max(1.0) as u64;
                return Fault::Throttle { retry_after: wait };
            }
        }
        Fault::None
    }

    fn rng(&self) -> std::sync::MutexGuard<'_, fastrand::Rng> {
        self.rng.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A connection that can be killed from a handler: its next read or write fails and the
/// socket closes with a reset (zero linger), as a crashed front end would.
#[derive(Debug)]
pub struct Conn {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

/// The handler's end of a connection's kill switch (axum `ConnectInfo`).
#[derive(Debug, Clone)]
pub struct ConnHandle(pub Arc<AtomicBool>);

impl ConnHandle {
    pub fn kill(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Conn {
    fn check(&self) -> io::Result<()> {
        if self.kill.load(Ordering::SeqCst) {
            // Zero linger: closing sends RST instead of FIN.
            let _ = self.inner.set_zero_linger();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection dropped by fault injection",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A loopback listener whose connections can be killed.
pub struct SimListener(pub TcpListener);

impl axum::serve::Listener for SimListener {
    type Io = Conn;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Conn, std::net::SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((inner, addr)) => {
                    let _ = inner.set_nodelay(true);
                    return (
                        Conn {
                            inner,
                            kill: Arc::new(AtomicBool::new(false)),
                        },
                        addr,
                    );
                }
                // Out of descriptors or a connection aborted while queued: wait and go on.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.local_addr()
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, SimListener>>
    for ConnHandle
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, SimListener>) -> Self {
        ConnHandle(stream.io().kill.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(fail: f64, reset: f64, throttle: Option<f64>) -> Faults {
        Faults::new(
            FaultKnobs {
                latency: None,
                fail_rate: fail,
                reset_rate: reset,
                throttle,
                throttle_burst: None,
            },
            7,
        )
    }

    #[test]
    fn no_knobs_no_faults() {
        let f = faults(0.0, 0.0, None);
        assert!((0..1000).all(|_| f.decide(true, Limit::Arm) == Fault::None));
        assert_eq!(f.latency(), None);
    }

    #[test]
    fn rates_are_roughly_honoured_and_repeatable() {
        let count = |f: &Faults| {
            let (mut fail, mut reset, mut s500) = (0, 0, 0);
            for _ in 0..4000 {
                match f.decide(false, Limit::Arm) {
                    Fault::Fail { status, .. } => {
                        fail += 1;
                        s500 += usize::from(status == 500);
                    }
                    Fault::Reset { .. } => reset += 1,
                    _ => {}
                }
            }
            (fail, reset, s500)
        };
        let a = count(&faults(0.2, 0.05, None));
        assert_eq!(a, count(&faults(0.2, 0.05, None)), "same seed, same faults");
        let (fail, reset, s500) = a;
        // 4000 x 0.95 x 0.2 = 760 failures, 200 resets.
        assert!((600..920).contains(&fail), "{fail}");
        assert!((130..280).contains(&reset), "{reset}");
        assert!(s500 > fail / 4 && s500 < fail * 3 / 4, "{s500} of {fail}");
    }

    #[test]
    fn token_bucket_throttles_reads_only() {
        let f = faults(0.0, 0.0, Some(5.0));
        let t = Instant::now();
        let first: Vec<Fault> = (0..6).map(|_| f.decide_at(true, Limit::Arm, t)).collect();
        assert!(first[..5].iter().all(|x| *x == Fault::None), "{first:?}");
        assert_eq!(first[5], Fault::Throttle { retry_after: 1 });
        assert_eq!(
            f.decide_at(false, Limit::Arm, t),
            Fault::None,
            "writes are not throttled"
        );
        // A second later five more tokens are there.
        let later = t + Duration::from_secs(1);
        assert!((0..5).all(|_| f.decide_at(true, Limit::Arm, later) == Fault::None));
        assert!(matches!(
            f.decide_at(true, Limit::Arm, later),
            Fault::Throttle { .. }
        ));
        let slow = faults(0.0, 0.0, Some(0.25));
        assert_eq!(slow.decide_at(true, Limit::Arm, t), Fault::None);
        assert_eq!(
            slow.decide_at(true, Limit::Arm, t),
            Fault::Throttle { retry_after: 4 }
        );
    }

    #[test]
    fn each_service_has_its_own_bucket_of_the_burst_asked_for() {
        let f = Faults::new(
            FaultKnobs {
                throttle: Some(5.0),
                throttle_burst: Some(8.0),
                ..FaultKnobs::default()
            },
            7,
        );
        let t = Instant::now();
        assert_eq!(f.remaining(Limit::Arm), Some(8));
        assert!((0..8).all(|_| f.decide_at(true, Limit::Arm, t) == Fault::None));
        assert!(matches!(
            f.decide_at(true, Limit::Arm, t),
            Fault::Throttle { .. }
        ));
        assert_eq!(f.remaining(Limit::Arm), Some(0));
        // DevOps and Log Analytics are counted apart.
        assert_eq!(f.decide_at(true, Limit::DevOps, t), Fault::None);
        assert_eq!(f.decide_at(true, Limit::Monitor, t), Fault::None);
        assert_eq!(f.remaining(Limit::DevOps), Some(7));
        assert_eq!(faults(0.0, 0.0, None).remaining(Limit::Arm), None);
    }

    #[test]
    fn latency_stays_in_range() {
        let f = Faults::new(
            FaultKnobs {
                latency: Some((Duration::from_millis(20), Duration::from_millis(80))),
                ..FaultKnobs::default()
            },
            1,
        );
        for _ in 0..200 {
            let d = f.latency().unwrap_or_default();
            assert!(
                d >= Duration::from_millis(20) && d <= Duration::from_millis(80),
                "{d:?}"
            );
        }
    }
}
