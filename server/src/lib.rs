//! updraft's server: the console's backend-for-frontend and every component,
//! assembled into one process by [`startup::Application`].

pub mod config;
pub mod console;
pub mod exposure;
pub mod flytekit_config;
pub mod grpc;
pub mod grpc_metrics;
pub mod health;
pub mod live;
pub mod login;
mod login_setup;
pub mod metrics;
pub mod propeller;
pub mod scheduler;
pub mod startup;
pub mod task_cache;
pub mod telemetry;
