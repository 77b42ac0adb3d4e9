//! updraft's server: the console's backend-for-frontend and every component,
//! assembled into one process by [`startup::Application`].

pub mod config;
pub mod console;
pub mod flytekit_config;
pub mod grpc;
pub mod live;
pub mod login;
mod login_setup;
pub mod propeller;
pub mod startup;
pub mod telemetry;
