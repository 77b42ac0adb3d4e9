//! Admin, the control plane's front door: Flyte's `AdminService` and companions.
