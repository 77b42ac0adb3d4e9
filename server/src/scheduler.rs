//! The scheduler, in `updraft start` or alone (`updraft scheduler`): its
//! `[scheduler]` settings, and the database and admin it works with.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use updraft_scheduler::{ScheduleStore, Scheduler, SchedulerSettings};

use crate::config::ConfigError;

/// `[scheduler]`: launching the launch plans whose schedule is active.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulerConfig {
    /// Run the scheduler in `updraft start`. Default: true.
    pub enabled: bool,
    /// The admin a scheduler of its own (`updraft scheduler`) launches
    /// executions through (`http://host:port` or `https://…`). `updraft
    /// start` uses its own admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_endpoint: Option<String>,
    /// The zone cron fields are read in, an IANA name (`UTC`,
    /// `Europe/Paris`), unless an expression names its own with `CRON_TZ=`.
    /// Default: the machine's local zone, as flytescheduler does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Seconds between two reads of the active schedules, which is how soon
    /// a scheduler of its own sees a schedule turned on or off (one in the
    /// same process as admin is told at once). Default: 10.
    pub poll_interval_secs: u64,
    /// After a restart, scheduled times missed longer ago than this many
    /// seconds are skipped instead of launched. Default: none, every missed
    /// time is launched, as flytescheduler does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catch_up_window_secs: Option<u64>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            admin_endpoint: None,
            time_zone: None,
            poll_interval_secs: 10,
            catch_up_window_secs: None,
        }
    }
}

impl SchedulerConfig {
    /// The scheduler's settings, refusing a zone or interval that cannot work.
    pub fn settings(&self) -> Result<SchedulerSettings, ConfigError> {
        if self.poll_interval_secs == 0 {
            return Err(ConfigError::Invalid(
                "key `scheduler.poll_interval_secs`: must be at least 1".to_string(),
            ));
        }
        let time_zone = match self.time_zone.as_deref().map(str::trim) {
            None | Some("") => jiff::tz::TimeZone::system(),
            Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| {
                ConfigError::Invalid(format!(
                    "key `scheduler.time_zone`: unknown time zone {name:?}; use an IANA name \
                     such as UTC or Europe/Paris"
                ))
            })?,
        };
        Ok(SchedulerSettings {
            poll_interval: Duration::from_secs(self.poll_interval_secs),
            time_zone,
            catch_up_window: self.catch_up_window_secs.map(Duration::from_secs),
            ..SchedulerSettings::default()
        })
    }
}

/// The scheduler over `store`, launching through `admin_channel`, and woken
/// by `admin` when it runs in this process.
pub fn scheduler(
    config: &SchedulerConfig,
    store: ScheduleStore,
    admin_channel: tonic::transport::Channel,
    admin: Option<&updraft_admin::AdminApi>,
) -> Result<Scheduler, ConfigError> {
    let scheduler = Scheduler::new(store, admin_channel, config.settings()?);
    Ok(match admin {
        Some(admin) => scheduler.wake_on_schedule_changes(admin.schedule_changes()),
        None => scheduler,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_refuse_what_cannot_work() {
        let unknown_zone = SchedulerConfig {
            time_zone: Some("Mars/Olympus".to_string()),
            ..SchedulerConfig::default()
        };
        let refused = unknown_zone.settings().unwrap_err().to_string();
        assert!(refused.contains("scheduler.time_zone"), "{refused}");
        let never_polls = SchedulerConfig {
            poll_interval_secs: 0,
            ..SchedulerConfig::default()
        };
        assert!(
            never_polls
                .settings()
                .unwrap_err()
                .to_string()
                .contains("scheduler.poll_interval_secs")
        );
        let settings = SchedulerConfig {
            time_zone: Some("Europe/Paris".to_string()),
            catch_up_window_secs: Some(3_600),
            ..SchedulerConfig::default()
        }
        .settings()
        .unwrap();
        assert_eq!(settings.time_zone.iana_name(), Some("Europe/Paris"));
        assert_eq!(settings.catch_up_window, Some(Duration::from_secs(3_600)));
    }
}
