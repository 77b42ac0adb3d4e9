//! `/healthz` (readiness) and `/livez` (liveness) for every component.
//! Readiness reflects what a component depends on right now: its database,
//! its object store, the endpoints it calls and its own background tasks.
//! A load balancer stops sending requests to a process that is not ready;
//! an orchestrator restarts one that is not live.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

type ProbeFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Probe = Arc<dyn Fn() -> ProbeFuture + Send + Sync>;

/// How long one probe may take before it counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Probes are not run more often than this, however often `/healthz` is asked.
const PROBE_CACHE: Duration = Duration::from_secs(1);

/// The readiness of one process: started, its background tasks alive, and
/// each named dependency answering.
#[derive(Clone, Default)]
pub struct Health {
    inner: Arc<HealthInner>,
}

#[derive(Default)]
struct HealthInner {
    started: AtomicBool,
    /// Set when a background task this process cannot do without has stopped.
    failed: Mutex<Option<String>>,
    probes: Mutex<Vec<(&'static str, Probe)>>,
    last: Mutex<Option<(Instant, Result<(), String>)>>,
}

impl Health {
    /// Adds a dependency checked on every readiness question.
    pub fn add_probe<F, Fut>(&self, name: &'static str, probe: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let probe: Probe = Arc::new(move || Box::pin(probe()));
        self.inner
            .probes
            .lock()
            .expect("health probes")
            .push((name, probe));
    }

    /// Marks the process started; from now on readiness is its probes'.
    pub fn set_started(&self) {
        self.inner.started.store(true, Ordering::Release);
    }

    /// Marks the process unready for good: a background task it needs stopped.
    pub fn set_failed(&self, reason: String) {
        *self.inner.failed.lock().expect("health failure") = Some(reason);
    }

    /// Whether the process is ready, and if not, why.
    pub async fn readiness(&self) -> Result<(), String> {
        if !self.inner.started.load(Ordering::Acquire) {
            return Err("starting".to_string());
        }
        if let Some(reason) = self.inner.failed.lock().expect("health failure").clone() {
            return Err(reason);
        }
        if let Some((at, result)) = self.inner.last.lock().expect("health cache").clone()
            && at.elapsed() < PROBE_CACHE
        {
            return result;
        }
        let probes = self.inner.probes.lock().expect("health probes").clone();
        let mut result = Ok(());
        for (name, probe) in probes {
            let answer = match tokio::time::timeout(PROBE_TIMEOUT, probe()).await {
                Ok(answer) => answer,
                Err(_) => Err(format!("no answer within {PROBE_TIMEOUT:?}")),
            };
            if let Err(reason) = answer {
                tracing::warn!(dependency = name, reason, "not ready");
                result = Err(format!("{name}: not answering"));
                break;
            }
        }
        *self.inner.last.lock().expect("health cache") = Some((Instant::now(), result.clone()));
        result
    }
}

/// `GET /healthz` and `GET /livez`.
pub fn health_router(health: Health) -> Router {
    Router::new()
        .route("/healthz", get(readiness))
        .route("/livez", get(|| async { (StatusCode::OK, "ok") }))
        .with_state(health)
}

async fn readiness(State(health): State<Health>) -> impl IntoResponse {
    match health.readiness().await {
        Ok(()) => (StatusCode::OK, "ok".to_string()),
        // Names the dependency, never its error: that is logged.
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ready_only_once_started_and_while_every_probe_answers() {
        let health = Health::default();
        let database_up = Arc::new(AtomicBool::new(true));
        let probe_state = Arc::clone(&database_up);
        health.add_probe("database", move || {
            let up = probe_state.load(Ordering::Acquire);
            async move { if up { Ok(()) } else { Err("refused".into()) } }
        });
        assert_eq!(health.readiness().await, Err("starting".to_string()));
        health.set_started();
        assert_eq!(health.readiness().await, Ok(()));
        database_up.store(false, Ordering::Release);
        tokio::time::sleep(PROBE_CACHE + Duration::from_millis(50)).await;
        assert_eq!(
            health.readiness().await,
            Err("database: not answering".to_string())
        );
        database_up.store(true, Ordering::Release);
        tokio::time::sleep(PROBE_CACHE + Duration::from_millis(50)).await;
        assert_eq!(health.readiness().await, Ok(()));
        health.set_failed("propeller: its engine stopped".to_string());
        assert_eq!(
            health.readiness().await,
            Err("propeller: its engine stopped".to_string())
        );
    }
}
