//! The scheduler, in `updraft start` or alone (`updraft scheduler`): its
//! `[scheduler]` settings, and the database and admin it works with.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use updraft_scheduler::{ScheduleRules, ScheduleStore, Scheduler, SchedulerSettings};

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
    /// Default: UTC, whatever the machine's zone (flytescheduler takes the
    /// machine's unless told `useUTCTz`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Milliseconds between two reads of the schedule change counter (one
    /// row), which is how soon a scheduler of its own on SQLite sees a
    /// schedule turned on or off; on PostgreSQL admin notifies it at once,
    /// and one in the same process as admin is told at once. Default: 500.
    pub poll_interval_ms: u64,
    /// After a restart, scheduled times missed longer ago than this many
    /// seconds are skipped instead of launched (flytescheduler launches
    /// every one). At least 60. Default: 3600.
    pub catch_up_window_secs: u64,
    /// Apply a cron schedule's `offset` to its times, and pass fixed-rate
    /// launches their kickoff time input, as the schedule says; stock Flyte
    /// does neither. Default: false.
    pub honour_offsets: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            admin_endpoint: None,
            time_zone: None,
            poll_interval_ms: 500,
            catch_up_window_secs: 3_600,
            honour_offsets: false,
        }
    }
}

impl SchedulerConfig {
    /// The scheduler's settings, refusing a zone or interval that cannot work.
    pub fn settings(&self) -> Result<SchedulerSettings, ConfigError> {
        if self.poll_interval_ms < 50 {
            return Err(ConfigError::Invalid(
                "key `scheduler.poll_interval_ms`: must be at least 50".to_string(),
            ));
        }
        // Below a minute a time due now, launched a little late under load,
        // could be taken for one missed.
        if self.catch_up_window_secs < 60 {
            return Err(ConfigError::Invalid(
                "key `scheduler.catch_up_window_secs`: must be at least 60".to_string(),
            ));
        }
        let time_zone = match self.time_zone.as_deref().map(str::trim) {
            None | Some("") => jiff::tz::TimeZone::UTC,
            Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| {
                ConfigError::Invalid(format!(
                    "key `scheduler.time_zone`: unknown time zone {name:?}; use an IANA name \
                     such as UTC or Europe/Paris"
                ))
            })?,
        };
        Ok(SchedulerSettings {
            poll_interval: Duration::from_millis(self.poll_interval_ms),
            rules: ScheduleRules {
                time_zone,
                honour_offsets: self.honour_offsets,
            },
            catch_up_window: Duration::from_secs(self.catch_up_window_secs),
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
    fn the_defaults_are_utc_an_hour_of_catch_up_and_stock_offsets() {
        let settings = SchedulerConfig::default().settings().unwrap();
        assert_eq!(settings.rules.time_zone.iana_name(), Some("UTC"));
        assert_eq!(settings.catch_up_window, Duration::from_secs(3_600));
        assert!(!settings.rules.honour_offsets);
        assert_eq!(settings.poll_interval, Duration::from_millis(500));
        let honouring = SchedulerConfig {
            honour_offsets: true,
            ..SchedulerConfig::default()
        };
        assert!(honouring.settings().unwrap().rules.honour_offsets);
    }

    #[test]
    fn settings_refuse_what_cannot_work() {
        let unknown_zone = SchedulerConfig {
            time_zone: Some("Mars/Olympus".to_string()),
            ..SchedulerConfig::default()
        };
        let refused = unknown_zone.settings().unwrap_err().to_string();
        assert!(refused.contains("scheduler.time_zone"), "{refused}");
        let never_polls = SchedulerConfig {
            poll_interval_ms: 0,
            ..SchedulerConfig::default()
        };
        assert!(
            never_polls
                .settings()
                .unwrap_err()
                .to_string()
                .contains("scheduler.poll_interval_ms")
        );
        let no_window = SchedulerConfig {
            catch_up_window_secs: 0,
            ..SchedulerConfig::default()
        };
        assert!(
            no_window
                .settings()
                .unwrap_err()
                .to_string()
                .contains("scheduler.catch_up_window_secs")
        );
        let settings = SchedulerConfig {
            time_zone: Some("Europe/Paris".to_string()),
            catch_up_window_secs: 7_200,
            ..SchedulerConfig::default()
        }
        .settings()
        .unwrap();
        assert_eq!(settings.rules.time_zone.iana_name(), Some("Europe/Paris"));
        assert_eq!(settings.catch_up_window, Duration::from_secs(7_200));
    }
}
