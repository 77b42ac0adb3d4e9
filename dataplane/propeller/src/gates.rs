//! Gate nodes: sleep for a duration, or wait for a signal (an approval or a
//! value a person gives) from admin's `SignalService`, as flytepropeller's
//! gate handler does with `GetOrCreateSignal`.

use std::sync::Arc;
use std::time::Duration;

use tonic::transport::Channel;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, gate_node, literal, primitive, scalar};
use updraft_proto::flyteidl::service::signal_service_client::SignalServiceClient;

use crate::events::EventError;
use crate::execution::{AbortSignal, BoxFuture, NodeEnd, NodeReporter, system_error, user_error};

/// How often a waiting gate asks whether its signal has been set.
const SIGNAL_POLL: Duration = Duration::from_secs(1);

/// Why a signal could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error(
        "admin does not serve SignalService, so gate nodes that wait for approval or input cannot run"
    )]
    Unsupported,
    #[error("admin refused the signal: {0}")]
    Refused(String),
    #[error("admin is unreachable: {0}")]
    Unreachable(String),
}

/// Where gate nodes get their signals: admin's `SignalService`.
#[async_trait::async_trait]
pub trait SignalSource: Send + Sync + 'static {
    /// Creates the signal if it does not exist yet and returns it, with its
    /// value once someone has set it.
    async fn get_or_create_signal(
        &self,
        request: admin::SignalGetOrCreateRequest,
    ) -> Result<admin::Signal, SignalError>;
}

/// The `SignalService` of the admin this propeller reports to.
pub struct AdminSignals {
    client: SignalServiceClient<Channel>,
}

impl AdminSignals {
    /// Signals read over `channel`, the propeller's connection to admin.
    pub fn new(channel: Channel) -> Self {
        Self {
            client: SignalServiceClient::new(channel),
        }
    }
}

#[async_trait::async_trait]
impl SignalSource for AdminSignals {
    async fn get_or_create_signal(
        &self,
        request: admin::SignalGetOrCreateRequest,
    ) -> Result<admin::Signal, SignalError> {
        match self.client.clone().get_or_create_signal(request).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(match status.code() {
                tonic::Code::Unimplemented => SignalError::Unsupported,
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => {
                    SignalError::Unreachable(status.message().to_string())
                }
                _ => SignalError::Refused(status.message().to_string()),
            }),
        }
    }
}

/// Runs a gate node to its end.
pub(crate) fn run_gate_node(
    reporter: NodeReporter,
    gate: core::GateNode,
    node: core::Node,
    inputs: core::LiteralMap,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        reporter.running().await?;
        match &gate.condition {
            Some(gate_node::Condition::Sleep(sleep)) => {
                let duration = sleep
                    .duration
                    .and_then(|duration| Duration::try_from(duration).ok())
                    .unwrap_or_default();
                tokio::select! {
                    _ = tokio::time::sleep(duration) => reporter.succeed(core::LiteralMap::default()).await,
                    _ = crate::execution::wait_for_stop(&stop) => reporter.stopped(crate::execution::stop_reason(&stop)).await,
                }
            }
            Some(gate_node::Condition::Approve(approve)) => {
                let boolean = core::LiteralType {
                    r#type: Some(core::literal_type::Type::Simple(
                        core::SimpleType::Boolean as i32,
                    )),
                    ..Default::default()
                };
                let value = tokio::select! {
                    value = wait_for_signal(&reporter, &approve.signal_id, boolean, node_timeout(&node)) => value,
                    _ = crate::execution::wait_for_stop(&stop) => return reporter.stopped(crate::execution::stop_reason(&stop)).await,
                };
                match value {
                    // An approval passes its upstream value on (flytekit's
                    // `approve(x, …)` returns `x`).
                    Ok(value) if is_true(&value) => reporter.succeed(inputs).await,
                    Ok(_) => {
                        reporter
                            .fail(user_error(
                                "Rejected",
                                &format!("approval {} was rejected", approve.signal_id),
                            ))
                            .await
                    }
                    Err(error) => reporter.fail(error).await,
                }
            }
            Some(gate_node::Condition::Signal(signal)) => {
                let value = tokio::select! {
                    value = wait_for_signal(&reporter, &signal.signal_id, signal.r#type.clone().unwrap_or_default(), node_timeout(&node)) => value,
                    _ = crate::execution::wait_for_stop(&stop) => return reporter.stopped(crate::execution::stop_reason(&stop)).await,
                };
                match value {
                    Ok(value) => {
                        let outputs = core::LiteralMap {
                            literals: [(signal.output_variable_name.clone(), value)].into(),
                        };
                        reporter.succeed(outputs).await
                    }
                    Err(error) => reporter.fail(error).await,
                }
            }
            None => {
                reporter
                    .fail(user_error(
                        "EmptyGate",
                        &format!("gate node {} has no condition", node.id),
                    ))
                    .await
            }
        }
    })
}

fn node_timeout(node: &core::Node) -> Option<Duration> {
    node.metadata
        .as_ref()
        .and_then(|metadata| metadata.timeout)
        .and_then(|timeout| Duration::try_from(timeout).ok())
        .filter(|timeout| !timeout.is_zero())
}

/// Asks for the signal until it has a value, the node's timeout passes, or
/// admin cannot serve it.
async fn wait_for_signal(
    reporter: &NodeReporter,
    signal_id: &str,
    signal_type: core::LiteralType,
    timeout: Option<Duration>,
) -> Result<core::Literal, core::ExecutionError> {
    let signals: &Arc<dyn SignalSource> = &reporter.context.environment.signals;
    let request = admin::SignalGetOrCreateRequest {
        id: Some(core::SignalIdentifier {
            signal_id: signal_id.to_string(),
            execution_id: Some(reporter.context.execution_id.clone()),
        }),
        r#type: Some(signal_type),
    };
    let started = tokio::time::Instant::now();
    loop {
        match signals.get_or_create_signal(request.clone()).await {
            Ok(signal) => {
                if let Some(value) = signal.value {
                    return Ok(value);
                }
            }
            Err(SignalError::Unreachable(message)) => {
                tracing::warn!(
                    signal = signal_id,
                    message,
                    "cannot read a signal; retrying"
                );
            }
            Err(error @ (SignalError::Unsupported | SignalError::Refused(_))) => {
                return Err(system_error("SignalUnavailable", &error.to_string()));
            }
        }
        if let Some(limit) = timeout
            && started.elapsed() >= limit
        {
            return Err(user_error(
                "Timeout",
                &format!("signal {signal_id} was not given within {limit:?}"),
            ));
        }
        tokio::time::sleep(SIGNAL_POLL).await;
    }
}

fn is_true(value: &core::Literal) -> bool {
    matches!(
        &value.value,
        Some(literal::Value::Scalar(scalar)) if matches!(
            &scalar.value,
            Some(scalar::Value::Primitive(core::Primitive { value: Some(primitive::Value::Boolean(true)) }))
        )
    )
}
