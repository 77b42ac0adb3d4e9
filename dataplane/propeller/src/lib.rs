//! Propeller, the data plane: runs the tasks of workflow executions.
//!
//! [`runtime::TaskRuntime`] is the seam between the engine and where a task
//! actually runs: [`local::LocalProcessRuntime`] runs the task's container
//! command as a local process (the embedded default); a Kubernetes runtime
//! implements the same trait. [`control_plane::ControlPlane`] is the seam
//! between the engine and admin.

pub mod api;
pub mod attribute_paths;
pub mod bindings;
pub mod built_in_tasks;
pub mod catalog_keys;
pub mod changes;
pub mod conditions;
pub mod control_plane;
pub mod engine;
pub mod events;
pub mod execution;
pub mod history;
pub mod local;
pub mod logs;
pub mod metrics;
pub mod node_ids;
pub mod outcome;
pub mod paths;
pub mod runtime;
pub mod task_cache;
pub mod template;
#[doc(hidden)]
pub mod testing;
