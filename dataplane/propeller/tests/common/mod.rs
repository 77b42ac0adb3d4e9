//! Helpers the propeller integration tests share.

use std::path::{Path, PathBuf};

pub fn python_bin_dir() -> PathBuf {
    std::env::var_os("UPDRAFT_TEST_PYTHON_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin"))
}

pub use updraft_propeller::testing::{as_integer, integer};
