/// What `GetVersion` reports about this build.
#[derive(Debug, Clone, Copy)]
pub struct BuildInfo {
    /// updraft's semantic version.
    pub version: &'static str,
    /// The git commit the binary was built from, or `unknown`.
    pub commit: &'static str,
    /// When the binary was built (RFC 3339), or `unknown`.
    pub build_time: &'static str,
}

/// The build information baked in at compile time.
pub fn build_info() -> BuildInfo {
    BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        commit: option_env!("UPDRAFT_BUILD_COMMIT").unwrap_or("unknown"),
        build_time: option_env!("UPDRAFT_BUILD_TIME").unwrap_or("unknown"),
    }
}
