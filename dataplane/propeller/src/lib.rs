//! Propeller, the data plane: runs the tasks of workflow executions.
//!
//! [`runtime::TaskRuntime`] is the seam between the engine and where a task
//! actually runs: [`local::LocalProcessRuntime`] runs the task's container
//! command as a local process (the embedded default); a Kubernetes runtime
//! implements the same trait.

pub mod api;
pub mod arrays;
pub mod bindings;
pub mod changes;
pub mod conditions;
pub mod engine;
pub mod events;
pub mod execution;
pub mod gates;
pub mod history;
pub mod launch_plans;
pub mod local;
pub mod logs;
pub mod metrics;
pub mod node_ids;
pub mod outcome;
pub mod paths;
pub mod runtime;
pub mod template;
