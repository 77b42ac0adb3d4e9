//! The names flytescheduler gives the executions it launches. Deterministic
//! in the launch plan version and the scheduled time, so a time launched
//! twice (a restart, two schedulers during a redeploy) is refused by admin
//! as `AlreadyExists` the second time instead of running twice.

use jiff::Timestamp;

use crate::schedules::LaunchPlanVersion;

/// The execution name for `launch_plan` at `scheduled_at`: `f` and the
/// first 19 hex digits of a UUID whose bytes are the little-endian FNV-1
/// (64-bit) hash of `project:domain:name:version:<unix seconds>` and eight
/// zero bytes, so the names always end in `000`.
pub fn scheduled_execution_name(
    launch_plan: &LaunchPlanVersion,
    scheduled_at: Timestamp,
) -> String {
    let key = format!(
        "{}:{}:{}:{}:{}",
        launch_plan.project,
        launch_plan.domain,
        launch_plan.name,
        launch_plan.version,
        scheduled_at.as_second()
    );
    let hash = fnv1_64(key.as_bytes());
    let mut name = String::with_capacity(20);
    name.push('f');
    for byte in hash.to_le_bytes() {
        name.push_str(&format!("{byte:02x}"));
    }
    // The UUID's next bytes are zeros; its 17th to 19th hex digits are theirs.
    name.push_str("000");
    name
}

/// FNV-1 (multiply, then xor), 64-bit: Go's `hash/fnv.New64`.
fn fnv1_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        hash.wrapping_mul(PRIME) ^ u64::from(*byte)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_flytescheduler() {
        let launch_plan = LaunchPlanVersion {
            project: "flytesnacks".to_string(),
            domain: "development".to_string(),
            name: "my_cron_scheduled_lp".to_string(),
            version: "v1".to_string(),
        };
        let name = scheduled_execution_name(&launch_plan, "2024-01-01T00:00:00Z".parse().unwrap());
        assert_eq!(name, "f11e1fb49d509849e000");
        let a_minute_later =
            scheduled_execution_name(&launch_plan, "2024-01-01T00:01:00Z".parse().unwrap());
        assert_ne!(a_minute_later, name);
        assert_eq!(a_minute_later.len(), 20);
        assert!(a_minute_later.ends_with("000"));
    }

    #[test]
    fn fnv1_is_not_fnv1a() {
        // Go's fnv.New64() of "a".
        assert_eq!(fnv1_64(b"a"), 0xaf63_bd4c_8601_b7be);
    }
}
