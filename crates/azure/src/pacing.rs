//! Pacing: relcon sends each service no more than its documented limits allow, so that a
//! refresh is throttled rarely and never storms. One [`Lane`] per limit (ARM; Azure DevOps,
//! whose `dev.azure.com` and `vsrm.dev.azure.com` count against one user; Log Analytics) is a
//! token bucket sized from `[client]`, kept in step with what the service says of its own
//! bucket (`x-ms-ratelimit-remaining-*`), and closed for as long as a `Retry-After` (or
//! DevOps's `X-RateLimit-Delay`) asks, after which it restarts empty.
//!
//! Admission happens after the request holds its concurrency permit, so at most
//! `concurrency` requests are admitted and unanswered at once: the most a service can see
//! before relcon hears what its bucket holds.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use reqwest::header::HeaderMap;

/// A token bucket's size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Tokens added per second; requests per second in the long run.
    pub per_second: f64,
    /// The bucket's size: how many requests may go at once after a quiet spell.
    pub burst: f64,
}

impl Rate {
    /// ARM's documented read bucket per subscription and principal: 250 reads, 25 a second.
    pub const ARM_READS: Rate = Rate {
        per_second: 25.0,
        burst: 250.0,
    };
    /// Azure DevOps limits by TSTUs in a sliding five-minute window and publishes no request
    /// rate; relcon keeps itself well below anything a person at a browser would cause and
    /// otherwise follows what the service says (`Retry-After`, `X-RateLimit-*`).
    pub const DEVOPS: Rate = Rate {
        per_second: 20.0,
        burst: 100.0,
    };
    /// Log Analytics documents 200 requests per 30 seconds per user.
    pub const MONITOR: Rate = Rate {
        per_second: 5.0,
        burst: 20.0,
    };

    fn sane(self) -> Rate {
        let per_second = if self.per_second.is_finite() && self.per_second > 0.0 {
            self.per_second
        } else {
            1.0
        };
        let burst = if self.burst.is_finite() && self.burst >= 1.0 {
            self.burst
        } else {
            1.0
        };
        Rate { per_second, burst }
    }
}

#[derive(Debug)]
struct Bucket {
    /// Below zero: that many requests hold a reservation and are waiting for their turn.
    tokens: f64,
    /// When `tokens` was last brought up to date (in the future while the lane is closed).
    at: Instant,
    closed_until: Option<Instant>,
    /// Bumped when the bucket is emptied or cut: reservations made before are void.
    epoch: u64,
    /// Requests admitted and not yet answered.
    unanswered: u32,
}

/// One service limit's bucket.
#[derive(Debug)]
pub struct Lane {
    rate: Rate,
    bucket: Mutex<Bucket>,
}

/// Why and how long [`Lane::admit`] waited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Admission {
    /// Waiting for a token (pacing).
    pub paced: Duration,
    /// Waiting for the lane to reopen after the service asked relcon to wait.
    pub held: Duration,
}

impl Lane {
    pub fn new(rate: Rate) -> Lane {
        let rate = rate.sane();
        Lane {
            rate,
            bucket: Mutex::new(Bucket {
                tokens: rate.burst,
                at: Instant::now(),
                closed_until: None,
                epoch: 0,
                unanswered: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        if now > b.at {
            let gained = now.duration_since(b.at).as_secs_f64() * self.rate.per_second;
            b.tokens = (b.tokens + gained).min(self.rate.burst);
            b.at = now;
        }
    }

    /// Wait until this lane may send one more request, then count it as sent. Reservations
    /// are made in arrival order; one voided by a `Retry-After` or a cut is made again. When
    /// the service asked for a pause ending more than `max_hold` from now, nothing is waited
    /// for or sent: `Err` says how long the pause still lasts.
    pub async fn admit(&self, max_hold: Duration) -> Result<Admission, Duration> {
        let mut waited = Admission::default();
        loop {
            let started = Instant::now();
            let (sleep, epoch, held) = {
                let mut b = self.lock();
                let now = Instant::now();
                match b.closed_until {
                    Some(t) if t > now + max_hold => return Err(t - now),
                    Some(t) if t > now => (t - now, b.epoch, true),
                    _ => {
                        b.closed_until = None;
                        self.refill(&mut b, now);
                        b.tokens -= 1.0;
                        if b.tokens >= 0.0 {
                            b.unanswered += 1;
                            return Ok(waited);
                        }
                        let wait = Duration::from_secs_f64(-b.tokens / self.rate.per_second);
                        (wait, b.epoch, false)
                    }
                }
            };
            tokio::time::sleep(sleep).await;
            let slept = started.elapsed();
            if held {
                waited.held += slept;
                continue;
            }
            waited.paced += slept;
            let mut b = self.lock();
            if b.epoch == epoch && b.closed_until.is_none_or(|t| t <= Instant::now()) {
                b.unanswered += 1;
                return Ok(waited);
            }
            // The bucket was emptied while this request waited: its reservation is void.
        }
    }

    /// Wait out a pause the service asked for, without taking a token (a mutation: ARM counts
    /// writes apart from reads; relcon sends a handful and never repeats one). `Err` as for
    /// [`Lane::admit`].
    pub async fn wait_open(&self, max_hold: Duration) -> Result<Duration, Duration> {
        let until = {
            let b = self.lock();
            let now = Instant::now();
            match b.closed_until {
                Some(t) if t > now + max_hold => return Err(t - now),
                Some(t) if t > now => t,
                _ => return Ok(Duration::ZERO),
            }
        };
        let started = Instant::now();
        tokio::time::sleep_until(until).await;
        Ok(started.elapsed())
    }

    /// The answer to an admitted request arrived (or it failed without one).
    pub fn answered(&self) {
        let mut b = self.lock();
        b.unanswered = b.unanswered.saturating_sub(1);
    }

    /// The service says its bucket holds `remaining` requests (counted when it handled this
    /// request, before the ones still unanswered). relcon never assumes more than that.
    pub fn observe_remaining(&self, remaining: u64) {
        let mut b = self.lock();
        let now = Instant::now();
        self.refill(&mut b, now);
        let others = f64::from(b.unanswered.saturating_sub(1));
        let ceiling = remaining as f64 - others;
        if ceiling < b.tokens {
            b.tokens = ceiling;
            b.epoch += 1;
        }
    }

    /// Send nothing for `d`; then start again from an empty bucket, so that what waited does
    /// not all go at once.
    pub fn close_for(&self, d: Duration) {
        let mut b = self.lock();
        let until = Instant::now() + d;
        if b.closed_until.is_some_and(|t| t >= until) {
            return;
        }
        b.closed_until = Some(until);
        b.tokens = 0.0;
        b.at = until;
        b.epoch += 1;
    }
}

fn text(v: &reqwest::header::HeaderValue) -> Option<&str> {
    v.to_str().ok().map(str::trim)
}

/// What a response says about the service's limits, ARM's and DevOps's way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LimitSignal {
    /// The fewest requests any of the service's buckets has left for this kind of request.
    pub remaining: Option<u64>,
    /// How long the service asks for no requests at all.
    pub wait: Option<Duration>,
}

/// Read the rate-limit headers of a response to a request of `method`.
///
/// ARM sends `x-ms-ratelimit-remaining-{subscription,tenant}[-global]-{reads,writes,deletes}`
/// on every response, and `x-ms-ratelimit-remaining-resource` as `{policy};{n}` from the
/// resource provider; the smallest that applies counts. Azure DevOps sends `X-RateLimit-*`
/// once a user nears its limit: `X-RateLimit-Delay` (seconds the service already held this
/// request) means slow down by as much; `X-RateLimit-Remaining: 0` means requests are being
/// delayed. `Retry-After` on any response, not only a 429, is a request to wait (Microsoft's
/// guidance for DevOps), and is read by the caller.
pub fn limit_signal(h: &HeaderMap, method: &reqwest::Method, devops: bool) -> LimitSignal {
    let kind = match *method {
        reqwest::Method::GET | reqwest::Method::HEAD => "reads",
        reqwest::Method::DELETE => "deletes",
        _ => "writes",
    };
    let mut signal = LimitSignal::default();
    for (name, value) in h {
        let name = name.as_str();
        let Some(rest) = name.strip_prefix("x-ms-ratelimit-remaining-") else {
            continue;
        };
        let n = if rest == "resource" {
            // `Microsoft.Compute/HighCostGet3Min;107`, possibly several, comma-separated.
            text(value).and_then(|v| {
                v.split(',')
                    .filter_map(|p| p.rsplit(';').next()?.trim().parse::<u64>().ok())
                    .min()
            })
        } else if rest.ends_with(kind) {
            text(value).and_then(|v| v.parse::<u64>().ok())
        } else {
            None
        };
        if let Some(n) = n {
            signal.remaining = Some(signal.remaining.map_or(n, |m| m.min(n)));
        }
    }
    if devops {
        let secs = |n: &str| {
            h.get(n)
                .and_then(text)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s > 0.0)
        };
        let delayed = secs("x-ratelimit-delay");
        let exhausted = h
            .get("x-ratelimit-remaining")
            .and_then(text)
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|r| r <= 0.0);
        let wait = match (delayed, exhausted) {
            (Some(d), _) => Some(d),
            // Being delayed with no figure: a second's pause, no more (the service delays
            // each request itself; relcon only stops adding to the queue).
            (None, true) => Some(1.0),
            (None, false) => None,
        };
        signal.wait = wait.map(|s| Duration::from_secs_f64(s.min(60.0)));
    }
    signal
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Method;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const HOLD: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn a_pause_longer_than_the_caller_holds_fails_at_once() {
        let lane = Lane::new(Rate::ARM_READS);
        lane.close_for(Duration::from_secs(3600));
        let left = lane.admit(HOLD).await.unwrap_err();
        assert!(left > Duration::from_secs(3590), "{left:?}");
        assert!(lane.wait_open(HOLD).await.is_err());
        let short = Lane::new(Rate::ARM_READS);
        short.close_for(Duration::from_secs(2));
        assert_eq!(short.wait_open(HOLD).await.unwrap(), Duration::from_secs(2));
    }

    #[test]
    fn arm_remaining_is_the_smallest_bucket_for_the_kind_of_request() {
        let h = headers(&[
            ("x-ms-ratelimit-remaining-subscription-reads", "249"),
            ("x-ms-ratelimit-remaining-subscription-global-reads", "3740"),
            ("x-ms-ratelimit-remaining-tenant-reads", "120"),
            ("x-ms-ratelimit-remaining-subscription-writes", "7"),
        ]);
        assert_eq!(limit_signal(&h, &Method::GET, false).remaining, Some(120));
        assert_eq!(limit_signal(&h, &Method::PUT, false).remaining, Some(7));
        assert_eq!(limit_signal(&h, &Method::DELETE, false).remaining, None);
        let rp = headers(&[
            ("x-ms-ratelimit-remaining-subscription-reads", "249"),
            (
                "x-ms-ratelimit-remaining-resource",
                "Microsoft.Compute/HighCostGet3Min;17,Microsoft.Compute/HighCostGet30Min;90",
            ),
        ]);
        assert_eq!(limit_signal(&rp, &Method::GET, false).remaining, Some(17));
        assert_eq!(
            limit_signal(&HeaderMap::new(), &Method::GET, false),
            LimitSignal::default()
        );
        let junk = headers(&[("x-ms-ratelimit-remaining-subscription-reads", "lots")]);
        assert_eq!(limit_signal(&junk, &Method::GET, false).remaining, None);
    }

    #[test]
    fn devops_delay_and_exhaustion_ask_for_a_pause() {
        let delayed = headers(&[
            ("x-ratelimit-resource", "ATCPU"),
            ("x-ratelimit-delay", "0.750"),
            ("x-ratelimit-remaining", "0"),
        ]);
        assert_eq!(
            limit_signal(&delayed, &Method::GET, true).wait,
            Some(Duration::from_millis(750))
        );
        let exhausted = headers(&[("x-ratelimit-remaining", "0")]);
        assert_eq!(
            limit_signal(&exhausted, &Method::GET, true).wait,
            Some(Duration::from_secs(1))
        );
        let fine = headers(&[
            ("x-ratelimit-remaining", "120"),
            ("x-ratelimit-limit", "200"),
        ]);
        assert_eq!(limit_signal(&fine, &Method::GET, true).wait, None);
        // Not DevOps: its headers mean nothing.
        assert_eq!(limit_signal(&delayed, &Method::GET, false).wait, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_the_refill_rate() {
        let lane = Lane::new(Rate {
            per_second: 10.0,
            burst: 5.0,
        });
        let t0 = tokio::time::Instant::now();
        for _ in 0..5 {
            assert_eq!(lane.admit(HOLD).await, Ok(Admission::default()));
        }
        // The sixth waits a tenth of a second, the fifteenth a whole second.
        lane.admit(HOLD).await.unwrap();
        let sixth = t0.elapsed();
        for _ in 0..9 {
            lane.admit(HOLD).await.unwrap();
        }
        let fifteenth = t0.elapsed();
        assert!(
            sixth >= Duration::from_millis(95) && sixth < Duration::from_millis(150),
            "{sixth:?}"
        );
        assert!(
            fifteenth >= Duration::from_millis(990) && fifteenth < Duration::from_millis(1100),
            "{fifteenth:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_holds_everyone_then_restarts_empty() {
        let lane = std::sync::Arc::new(Lane::new(Rate {
            per_second: 10.0,
            burst: 50.0,
        }));
        lane.close_for(Duration::from_secs(2));
        let t0 = tokio::time::Instant::now();
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let lane = lane.clone();
                tokio::spawn(async move {
                    let a = lane.admit(HOLD).await.unwrap();
                    (t0.elapsed(), a)
                })
            })
            .collect();
        let mut times = Vec::new();
        for w in waiters {
            let (t, a) = w.await.unwrap();
            assert!(a.held >= Duration::from_millis(1900), "{a:?}");
            times.push(t);
        }
        times.sort();
        // Not all at once when the lane reopens: one every tenth of a second.
        assert!(times[0] >= Duration::from_secs(2), "{times:?}");
        assert!(
            times[4] >= Duration::from_millis(2450) && times[4] < Duration::from_millis(2700),
            "{times:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_service_count_caps_the_bucket() {
        let lane = Lane::new(Rate {
            per_second: 10.0,
            burst: 250.0,
        });
        lane.admit(HOLD).await.unwrap();
        // The service has 2 left: the third request from now waits for a refill.
        lane.observe_remaining(2);
        lane.answered();
        let t0 = tokio::time::Instant::now();
        lane.admit(HOLD).await.unwrap();
        lane.admit(HOLD).await.unwrap();
        assert!(t0.elapsed() < Duration::from_millis(5));
        lane.admit(HOLD).await.unwrap();
        assert!(
            t0.elapsed() >= Duration::from_millis(95),
            "{:?}",
            t0.elapsed()
        );
        // A larger count never raises what relcon allows itself.
        lane.observe_remaining(10_000);
        let t1 = tokio::time::Instant::now();
        lane.admit(HOLD).await.unwrap();
        assert!(
            t1.elapsed() >= Duration::from_millis(95),
            "{:?}",
            t1.elapsed()
        );
    }

    #[test]
    fn nonsense_rates_are_made_safe() {
        let r = Rate {
            per_second: f64::NAN,
            burst: 0.0,
        }
        .sane();
        assert_eq!((r.per_second, r.burst), (1.0, 1.0));
    }
}
