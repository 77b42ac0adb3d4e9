//! Gate nodes: sleep for a duration, or wait for a signal (an approval or a
//! value a person gives) from admin's `SignalService`, as flytepropeller's
//! gate handler does with `GetOrCreateSignal`.

use std::sync::Arc;
use std::time::Duration;

use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, gate_node, literal, primitive, scalar};

use crate::control_plane::{SignalError, SignalSource};

use crate::events::EventError;
use crate::execution::{AbortSignal, BoxFuture, NodeEnd, NodeReporter, system_error, user_error};

/// How often a waiting gate asks whether its signal has been set.
const SIGNAL_POLL: Duration = Duration::from_secs(1);

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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;

    use super::{core, gate_node};
    use crate::execution::tests::wait_until;
    use crate::execution::{ExecutionEnd, StopReason};
    use crate::testing::*;

    fn gate(id: &str, condition: gate_node::Condition, inputs: Vec<core::Binding>) -> core::Node {
        core::Node {
            id: id.into(),
            inputs,
            target: Some(core::node::Target::GateNode(core::GateNode {
                condition: Some(condition),
            })),
            ..Default::default()
        }
    }

    fn boolean(value: bool) -> core::Literal {
        core::Literal {
            value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
                value: Some(core::scalar::Value::Primitive(core::Primitive {
                    value: Some(core::primitive::Value::Boolean(value)),
                })),
            }))),
            ..Default::default()
        }
    }

    fn approval(signal: &str) -> core::WorkflowTemplate {
        let node = gate(
            "g",
            gate_node::Condition::Approve(core::ApproveCondition {
                signal_id: signal.into(),
            }),
            vec![promise("x", INPUTS, "x")],
        );
        workflow("wf", &["x"], vec![node], vec![promise("o0", "g", "x")])
    }

    #[tokio::test(start_paused = true)]
    async fn a_sleep_gate_succeeds_once_its_time_has_passed() {
        let bed = TestBed::default();
        let node = gate(
            "g",
            gate_node::Condition::Sleep(core::SleepCondition {
                duration: Some(prost_types::Duration {
                    seconds: 60,
                    nanos: 0,
                }),
            }),
            vec![],
        );
        let started = tokio::time::Instant::now();
        let end = bed
            .run(claim(
                "e1",
                workflow("wf", &[], vec![node], vec![]),
                &[],
                &[],
                literals([]),
            ))
            .await;
        assert_eq!(end, ExecutionEnd::Succeeded);
        assert!(started.elapsed() >= Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn an_approval_passes_its_input_on_once_approved() {
        let bed = TestBed::default();
        let (run, _stop) = bed.start(claim(
            "e1",
            approval("ok"),
            &[],
            &[],
            literals([("x", integer(9))]),
        ));
        wait_until(|| {
            bed.admin
                .node_phases("e1", "g")
                .contains(&NodePhase::Running)
        })
        .await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        bed.signals.set("ok", boolean(true));
        assert_eq!(run.await.expect("run"), ExecutionEnd::Succeeded);
        assert_eq!(
            output(&bed.workflow_outputs("e1").await.expect("outputs"), "o0"),
            Some(9)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_rejected_approval_fails_the_node_naming_it() {
        let bed = TestBed::default();
        bed.signals.set("ok", boolean(false));
        let end = bed
            .run(claim(
                "e1",
                approval("ok"),
                &[],
                &[],
                literals([("x", integer(9))]),
            ))
            .await;
        let ExecutionEnd::Failed(error) = end else {
            panic!("expected a failure, got {end:?}");
        };
        assert_eq!(error.message, "approval ok was rejected");
    }

    #[tokio::test(start_paused = true)]
    async fn terminate_reaches_a_gate_that_waits() {
        let bed = TestBed::default();
        let (run, stop) = bed.start(claim(
            "e1",
            approval("never"),
            &[],
            &[],
            literals([("x", integer(9))]),
        ));
        wait_until(|| {
            bed.admin
                .node_phases("e1", "g")
                .contains(&NodePhase::Running)
        })
        .await;
        stop.send_replace(Some(StopReason::Terminate("by a test".into())));
        assert_eq!(run.await.expect("run"), ExecutionEnd::Aborted);
        assert_eq!(
            bed.admin.node_phases("e1", "g").last(),
            Some(&NodePhase::Aborted)
        );
    }
}
