//! Flyte's phase rules for events, as flyteadmin applies them: which phase
//! changes a workflow, node or task event may make, which are harmless
//! repeats (ALREADY_EXISTS, that propeller ignores), and which are refused
//! (FAILED_PRECONDITION, with `EventFailureReason` details naming the phase
//! admin holds).

use prost::Message;
use updraft_proto::flyteidl::admin::{self, event_failure_reason};
use updraft_proto::flyteidl::core::{node_execution, task_execution, workflow_execution};

/// What admin does with an event, given the phase it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventVerdict {
    /// Record the event and move to its phase.
    Apply,
    /// The same event again: answer ALREADY_EXISTS and change nothing.
    Duplicate,
    /// Refused: answer FAILED_PRECONDITION with this reason.
    Refuse(Refusal),
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The entity already finished in `current_phase`.
    AlreadyTerminal { current_phase: String },
    /// The change makes no sense from where it is.
    IllegalTransition { from: String, to: String },
}

impl Refusal {
    /// A message a person can act on.
    pub fn message(&self) -> String {
        match self {
            Refusal::AlreadyTerminal { current_phase } => {
                format!("the entity is already in terminal phase {current_phase}")
            }
            Refusal::IllegalTransition { from, to } => {
                format!("cannot move from phase {from} to {to}")
            }
        }
    }

    /// The `EventFailureReason` flyteadmin attaches, encoded as a
    /// `google.rpc.Status` for tonic's status details.
    pub fn status_details(&self, code: i32) -> Vec<u8> {
        let reason = match self {
            Refusal::AlreadyTerminal { current_phase } => admin::EventFailureReason {
                reason: Some(event_failure_reason::Reason::AlreadyInTerminalState(
                    admin::EventErrorAlreadyInTerminalState {
                        current_phase: current_phase.clone(),
                    },
                )),
            },
            Refusal::IllegalTransition { .. } => return Vec::new(),
        };
        RpcStatus {
            code,
            message: self.message(),
            details: vec![prost_types::Any {
                type_url: "type.googleapis.com/flyteidl.admin.EventFailureReason".into(),
                value: reason.encode_to_vec(),
            }],
        }
        .encode_to_vec()
    }
}

/// `google.rpc.Status`, the envelope gRPC status details travel in.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// Whether a workflow phase is final.
pub fn workflow_is_terminal(phase: workflow_execution::Phase) -> bool {
    use workflow_execution::Phase::*;
    matches!(phase, Succeeded | Failed | TimedOut | Aborted)
}

/// Whether a node phase is final.
pub fn node_is_terminal(phase: node_execution::Phase) -> bool {
    use node_execution::Phase::*;
    matches!(
        phase,
        Succeeded | Failed | TimedOut | Aborted | Skipped | Recovered
    )
}

/// Whether a task phase is final.
pub fn task_is_terminal(phase: task_execution::Phase) -> bool {
    use task_execution::Phase::*;
    matches!(phase, Succeeded | Failed | Aborted)
}

/// The verdict on a workflow event moving `current` to `next`.
pub fn judge_workflow_event(
    current: workflow_execution::Phase,
    next: workflow_execution::Phase,
) -> EventVerdict {
    use workflow_execution::Phase::*;
    if workflow_is_terminal(current) {
        if current == next {
            return EventVerdict::Duplicate;
        }
        return EventVerdict::Refuse(Refusal::AlreadyTerminal {
            current_phase: current.as_str_name().to_string(),
        });
    }
    if current == next && next != Queued {
        return EventVerdict::Duplicate;
    }
    let illegal = (current == Running && next == Queued)
        || (current == Aborting && !workflow_is_terminal(next));
    if illegal {
        return EventVerdict::Refuse(Refusal::IllegalTransition {
            from: current.as_str_name().to_string(),
            to: next.as_str_name().to_string(),
        });
    }
    EventVerdict::Apply
}

/// The verdict on a node event; `current` is `None` for the first event,
/// which creates the node execution.
pub fn judge_node_event(
    current: Option<node_execution::Phase>,
    next: node_execution::Phase,
) -> EventVerdict {
    let Some(current) = current else {
        return EventVerdict::Apply;
    };
    if current == next {
        return EventVerdict::Duplicate;
    }
    if node_is_terminal(current) {
        return EventVerdict::Refuse(Refusal::AlreadyTerminal {
            current_phase: current.as_str_name().to_string(),
        });
    }
    EventVerdict::Apply
}

/// The verdict on a task event. The same phase with a higher `phase_version`
/// is an update (new log links or custom info while running).
pub fn judge_task_event(
    current: Option<(task_execution::Phase, u32)>,
    next: task_execution::Phase,
    next_version: u32,
) -> EventVerdict {
    let Some((current, current_version)) = current else {
        return EventVerdict::Apply;
    };
    if current == next {
        return if next_version > current_version {
            EventVerdict::Apply
        } else {
            EventVerdict::Duplicate
        };
    }
    if task_is_terminal(current) {
        return EventVerdict::Refuse(Refusal::AlreadyTerminal {
            current_phase: current.as_str_name().to_string(),
        });
    }
    EventVerdict::Apply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_events_follow_flyteadmin() {
        use workflow_execution::Phase::*;
        assert_eq!(judge_workflow_event(Queued, Running), EventVerdict::Apply);
        assert_eq!(
            judge_workflow_event(Running, Running),
            EventVerdict::Duplicate
        );
        assert_eq!(
            judge_workflow_event(Queued, Queued),
            EventVerdict::Apply,
            "QUEUED may repeat"
        );
        assert_eq!(
            judge_workflow_event(Succeeded, Succeeded),
            EventVerdict::Duplicate
        );
        assert_eq!(
            judge_workflow_event(Aborted, Running),
            EventVerdict::Refuse(Refusal::AlreadyTerminal {
                current_phase: "ABORTED".into()
            })
        );
        assert!(matches!(
            judge_workflow_event(Running, Queued),
            EventVerdict::Refuse(Refusal::IllegalTransition { .. })
        ));
        assert!(matches!(
            judge_workflow_event(Aborting, Running),
            EventVerdict::Refuse(_)
        ));
        assert_eq!(judge_workflow_event(Aborting, Aborted), EventVerdict::Apply);
    }

    #[test]
    fn node_events_create_then_move_and_stop_at_terminal() {
        use node_execution::Phase::*;
        assert_eq!(judge_node_event(None, Running), EventVerdict::Apply);
        assert_eq!(
            judge_node_event(Some(Running), Running),
            EventVerdict::Duplicate
        );
        assert_eq!(
            judge_node_event(Some(Running), Succeeded),
            EventVerdict::Apply
        );
        assert!(matches!(
            judge_node_event(Some(Skipped), Running),
            EventVerdict::Refuse(Refusal::AlreadyTerminal { .. })
        ));
    }

    #[test]
    fn task_events_update_on_a_higher_phase_version() {
        use task_execution::Phase::*;
        assert_eq!(judge_task_event(None, Running, 0), EventVerdict::Apply);
        assert_eq!(
            judge_task_event(Some((Running, 0)), Running, 0),
            EventVerdict::Duplicate
        );
        assert_eq!(
            judge_task_event(Some((Running, 0)), Running, 1),
            EventVerdict::Apply
        );
        assert_eq!(
            judge_task_event(Some((Running, 2)), Running, 1),
            EventVerdict::Duplicate
        );
        assert!(matches!(
            judge_task_event(Some((Failed, 0)), Running, 0),
            EventVerdict::Refuse(_)
        ));
    }

    #[test]
    fn terminal_refusals_carry_flyteadmin_details() {
        let refusal = Refusal::AlreadyTerminal {
            current_phase: "SUCCEEDED".into(),
        };

        let details = RpcStatus::decode(refusal.status_details(9).as_slice()).unwrap();

        assert_eq!(
            details.details[0].type_url,
            "type.googleapis.com/flyteidl.admin.EventFailureReason"
        );
        let reason =
            admin::EventFailureReason::decode(details.details[0].value.as_slice()).unwrap();
        assert!(
            matches!(reason.reason, Some(event_failure_reason::Reason::AlreadyInTerminalState(ref state)) if state.current_phase == "SUCCEEDED")
        );
    }
}
