//! Integration tests of the `updraft` server: the real application on port 0.

mod config;
mod console;
mod console_pages;
mod grpc;
mod helpers;
mod live;
mod node_drawer;
mod task_logs;
