//! A launch plan's schedule (`LaunchPlanSpec.entity_metadata.schedule`) as
//! the scheduler runs it: when it fires and what the launch carries.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use updraft_proto::flyteidl::admin::{self, FixedRateUnit, schedule::ScheduleExpression};
use updraft_proto::flyteidl::core;

use crate::cron::{CronExpression, InvalidCron};

/// One version of a launch plan: what a schedule belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LaunchPlanVersion {
    /// The launch plan's project.
    pub project: String,
    /// Its domain.
    pub domain: String,
    /// Its name.
    pub name: String,
    /// The version whose schedule it is.
    pub version: String,
}

impl std::fmt::Display for LaunchPlanVersion {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{}/{}/{}/{}",
            self.project, self.domain, self.name, self.version
        )
    }
}

/// When a schedule fires.
#[derive(Debug, Clone)]
pub enum Timing {
    /// At the times a cron expression names.
    Cron(CronExpression),
    /// Every `value` units, counted from activation (or the last launch), not
    /// aligned to the clock, as flytescheduler does.
    FixedRate {
        /// How many units apart the launches are (at least one).
        value: u32,
        /// Minutes, hours or days.
        unit: FixedRateUnit,
    },
}

/// A validated schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// When it fires.
    pub timing: Timing,
    /// The launch plan input that receives the scheduled time (cron
    /// schedules only, as in flytescheduler); empty for none.
    pub kickoff_time_input_arg: String,
}

/// Why a launch plan's schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSchedule {
    /// The deprecated AWS-syntax `cron_expression`.
    #[error(
        "schedule.cron_expression (AWS syntax) is not supported; use schedule.cron_schedule \
         with a five-field cron expression"
    )]
    DeprecatedCronExpression,
    /// A cron expression the parser refuses.
    #[error(transparent)]
    Cron(#[from] InvalidCron),
    /// A fixed rate of zero.
    #[error("a fixed rate schedule needs a value of at least 1")]
    ZeroRate,
    /// A fixed rate unit outside MINUTE, HOUR and DAY.
    #[error("unknown fixed rate unit {unit}; expected MINUTE, HOUR or DAY")]
    UnknownRateUnit {
        /// The unit's number as sent.
        unit: i32,
    },
}

impl Schedule {
    /// The schedule `schedule` describes, `None` when it names no time.
    /// A cron schedule's `offset` is ignored, as flyteadmin does.
    pub fn from_proto(schedule: &admin::Schedule) -> Result<Option<Self>, InvalidSchedule> {
        let timing = match &schedule.schedule_expression {
            None => return Ok(None),
            #[allow(deprecated)] // Named only to be refused.
            Some(ScheduleExpression::CronExpression(_)) => {
                return Err(InvalidSchedule::DeprecatedCronExpression);
            }
            Some(ScheduleExpression::CronSchedule(cron)) => {
                Timing::Cron(CronExpression::parse(&cron.schedule)?)
            }
            Some(ScheduleExpression::Rate(rate)) => Timing::fixed_rate(rate.value, rate.unit)?,
        };
        Ok(Some(Self {
            timing,
            kickoff_time_input_arg: schedule.kickoff_time_input_arg.clone(),
        }))
    }

    /// The first time after `after` this schedule fires; `None` when it
    /// never fires again. Cron fields are read in `time_zone` unless the
    /// expression names its own.
    pub fn next_after(&self, after: Timestamp, time_zone: &TimeZone) -> Option<Timestamp> {
        match &self.timing {
            Timing::Cron(expression) => expression.next_after(after, time_zone),
            Timing::FixedRate { .. } => {
                // A constant delay from the last time, in whole seconds.
                Timestamp::from_second(after.as_second().checked_add(self.period_seconds()?)?).ok()
            }
        }
    }

    /// The inputs a launch at `scheduled_at` passes: the kickoff time, for
    /// cron schedules that name an input for it. Fixed-rate launches pass
    /// none, as in flytescheduler, so their kickoff input needs a default.
    pub fn launch_inputs(&self, scheduled_at: Timestamp) -> core::LiteralMap {
        let mut inputs = core::LiteralMap::default();
        if matches!(self.timing, Timing::Cron(_)) && !self.kickoff_time_input_arg.is_empty() {
            inputs.literals.insert(
                self.kickoff_time_input_arg.clone(),
                datetime_literal(scheduled_at),
            );
        }
        inputs
    }

    fn period_seconds(&self) -> Option<i64> {
        match &self.timing {
            Timing::FixedRate { value, unit } => {
                let unit_seconds = match unit {
                    FixedRateUnit::Minute => 60,
                    FixedRateUnit::Hour => 3_600,
                    FixedRateUnit::Day => 86_400,
                };
                Some(i64::from(*value) * unit_seconds)
            }
            Timing::Cron(_) => None,
        }
    }
}

impl Timing {
    /// A fixed rate of `value` units, `unit` as the proto enum's number.
    pub fn fixed_rate(value: u32, unit: i32) -> Result<Self, InvalidSchedule> {
        if value == 0 {
            return Err(InvalidSchedule::ZeroRate);
        }
        let unit =
            FixedRateUnit::try_from(unit).map_err(|_| InvalidSchedule::UnknownRateUnit { unit })?;
        Ok(Self::FixedRate { value, unit })
    }
}

/// A scalar datetime literal.
pub fn datetime_literal(instant: Timestamp) -> core::Literal {
    core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Primitive(core::Primitive {
                value: Some(core::primitive::Value::Datetime(protobuf_timestamp(
                    instant,
                ))),
            })),
        }))),
        ..Default::default()
    }
}

/// `instant` as a protobuf timestamp.
pub fn protobuf_timestamp(instant: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: instant.as_second(),
        nanos: instant.subsec_nanosecond(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(expression: &str, kickoff: &str) -> admin::Schedule {
        admin::Schedule {
            kickoff_time_input_arg: kickoff.to_string(),
            schedule_expression: Some(ScheduleExpression::CronSchedule(admin::CronSchedule {
                schedule: expression.to_string(),
                offset: String::new(),
            })),
        }
    }

    fn rate(value: u32, unit: FixedRateUnit) -> admin::Schedule {
        admin::Schedule {
            kickoff_time_input_arg: "kickoff".to_string(),
            schedule_expression: Some(ScheduleExpression::Rate(admin::FixedRate {
                value,
                unit: unit as i32,
            })),
        }
    }

    #[test]
    fn fixed_rates_count_from_the_last_time_in_whole_seconds() {
        let schedule = Schedule::from_proto(&rate(2, FixedRateUnit::Hour))
            .unwrap()
            .unwrap();
        let activated: Timestamp = "2024-01-01T10:17:42.5Z".parse().unwrap();
        let first = schedule.next_after(activated, &TimeZone::UTC).unwrap();
        assert_eq!(first.to_string(), "2024-01-01T12:17:42Z");
        assert_eq!(
            schedule
                .next_after(first, &TimeZone::UTC)
                .unwrap()
                .to_string(),
            "2024-01-01T14:17:42Z"
        );
    }

    #[test]
    fn only_cron_launches_carry_the_kickoff_time() {
        let at: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let every_minute = Schedule::from_proto(&cron("* * * * *", "kickoff"))
            .unwrap()
            .unwrap();
        assert_eq!(
            every_minute.launch_inputs(at).literals["kickoff"],
            datetime_literal(at)
        );
        let fixed = Schedule::from_proto(&rate(1, FixedRateUnit::Day))
            .unwrap()
            .unwrap();
        assert!(fixed.launch_inputs(at).literals.is_empty());
        let no_kickoff = Schedule::from_proto(&cron("* * * * *", ""))
            .unwrap()
            .unwrap();
        assert!(no_kickoff.launch_inputs(at).literals.is_empty());
    }

    #[test]
    fn refusals_name_what_to_change() {
        #[allow(deprecated)]
        let aws = admin::Schedule {
            schedule_expression: Some(ScheduleExpression::CronExpression(
                "0/15 * * * ? *".to_string(),
            )),
            ..Default::default()
        };
        assert_eq!(
            Schedule::from_proto(&aws).unwrap_err(),
            InvalidSchedule::DeprecatedCronExpression
        );
        assert_eq!(
            Schedule::from_proto(&rate(0, FixedRateUnit::Minute)).unwrap_err(),
            InvalidSchedule::ZeroRate
        );
        let mut unknown_unit = rate(1, FixedRateUnit::Minute);
        if let Some(ScheduleExpression::Rate(rate)) = &mut unknown_unit.schedule_expression {
            rate.unit = 9;
        }
        assert!(
            Schedule::from_proto(&unknown_unit)
                .unwrap_err()
                .to_string()
                .contains("MINUTE, HOUR or DAY")
        );
        let bad_cron = Schedule::from_proto(&cron("hourly", "")).unwrap_err();
        assert!(bad_cron.to_string().contains("\"hourly\""), "{bad_cron}");
        assert!(
            Schedule::from_proto(&admin::Schedule::default())
                .unwrap()
                .is_none()
        );
    }
}
