//! One file per node kind, each running a node of its kind to its end and
//! reporting its phases.

pub(crate) mod array;
pub(crate) mod branch;
pub(crate) mod dynamic;
pub(crate) mod gate;
pub(crate) mod launch_plan;
pub(crate) mod subworkflow;
pub(crate) mod task;
