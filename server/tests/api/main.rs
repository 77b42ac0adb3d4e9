//! Integration tests of the `updraft` server: the real application on port 0.

mod catalog;
mod config;
mod console;
mod console_pages;
mod exposure;
mod grpc;
mod helpers;
mod live;
mod metrics;
mod node_drawer;
mod placement;
mod propeller_cache;
mod scheduler;
mod task_cache;
mod task_logs;
