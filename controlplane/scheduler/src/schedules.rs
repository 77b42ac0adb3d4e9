//! A launch plan's schedule (`LaunchPlanSpec.entity_metadata.schedule`) as
//! the scheduler runs it: when it fires and what the launch carries.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};
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
    /// schedules only, as in flytescheduler, unless offsets are honoured);
    /// empty for none.
    pub kickoff_time_input_arg: String,
    /// A cron schedule's `offset`, added to each of its times only when the
    /// scheduler honours offsets (flytescheduler never does).
    pub offset: Option<CronOffset>,
}

/// A cron schedule's `offset`: an ISO-8601 duration (`PT5M`, `-PT1H`, `P1D`),
/// kept as written so it reads back the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronOffset {
    text: String,
    duration: SignedDuration,
}

impl CronOffset {
    /// Parses `text`; days and weeks count as 24 hours and 7 days, and
    /// months or years, whose length varies, are refused.
    pub fn parse(text: &str) -> Result<Self, InvalidSchedule> {
        let invalid = |reason: String| InvalidSchedule::Offset {
            offset: text.to_string(),
            reason,
        };
        let span: Span = text.trim().parse().map_err(|error: jiff::Error| {
            invalid(format!(
                "expected an ISO-8601 duration such as PT5M ({error})"
            ))
        })?;
        let duration = span
            .to_duration(SpanRelativeTo::days_are_24_hours())
            .map_err(|_| {
                invalid("months and years have no fixed length; use days or hours".to_string())
            })?;
        Ok(Self {
            text: text.trim().to_string(),
            duration,
        })
    }

    /// The offset as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// How far each time moves (back when negative).
    pub fn duration(&self) -> SignedDuration {
        self.duration
    }
}

/// How the scheduler reads schedules: the zone cron fields are in, and
/// whether it does what the schedule says where stock Flyte does not.
#[derive(Debug, Clone)]
pub struct ScheduleRules {
    /// The zone cron fields are read in, unless an expression names its own.
    pub time_zone: TimeZone,
    /// Apply `CronSchedule.offset` and pass fixed-rate launches their
    /// kickoff time; flytescheduler ignores both.
    pub honour_offsets: bool,
}

impl Default for ScheduleRules {
    /// UTC, and offsets ignored as flytescheduler ignores them.
    fn default() -> Self {
        Self {
            time_zone: TimeZone::UTC,
            honour_offsets: false,
        }
    }
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
    /// A cron schedule's offset that is no duration.
    #[error("invalid cron schedule offset {offset:?}: {reason}")]
    Offset {
        /// The offset as sent.
        offset: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Schedule {
    /// The schedule `schedule` describes, `None` when it names no time. A
    /// cron schedule's `offset` is checked and kept, but applied only by a
    /// scheduler that honours offsets.
    pub fn from_proto(schedule: &admin::Schedule) -> Result<Option<Self>, InvalidSchedule> {
        let (timing, offset) = match &schedule.schedule_expression {
            None => return Ok(None),
            #[allow(deprecated)] // Named only to be refused.
            Some(ScheduleExpression::CronExpression(_)) => {
                return Err(InvalidSchedule::DeprecatedCronExpression);
            }
            Some(ScheduleExpression::CronSchedule(cron)) => {
                let offset = match cron.offset.trim() {
                    "" => None,
                    text => Some(CronOffset::parse(text)?),
                };
                (Timing::Cron(CronExpression::parse(&cron.schedule)?), offset)
            }
            Some(ScheduleExpression::Rate(rate)) => {
                (Timing::fixed_rate(rate.value, rate.unit)?, None)
            }
        };
        Ok(Some(Self {
            timing,
            kickoff_time_input_arg: schedule.kickoff_time_input_arg.clone(),
            offset,
        }))
    }

    /// The first time after `after` this schedule fires; `None` when it
    /// never fires again. Cron fields are read in the rules' zone unless the
    /// expression names its own.
    pub fn next_after(&self, after: Timestamp, rules: &ScheduleRules) -> Option<Timestamp> {
        match &self.timing {
            Timing::Cron(expression) => match self.offset.as_ref() {
                Some(offset) if rules.honour_offsets => {
                    // The offset moves every time of the expression, so the
                    // next one after `after` is the expression's next after
                    // `after` moved back by it.
                    let offset = offset.duration();
                    let time =
                        expression.next_after(after.checked_sub(offset).ok()?, &rules.time_zone)?;
                    time.checked_add(offset).ok()
                }
                _ => expression.next_after(after, &rules.time_zone),
            },
            Timing::FixedRate { .. } => {
                // A constant delay from the last time, in whole seconds.
                Timestamp::from_second(after.as_second().checked_add(self.period_seconds()?)?).ok()
            }
        }
    }

    /// The inputs a launch at `scheduled_at` passes: the kickoff time, for
    /// schedules that name an input for it. Fixed-rate launches pass none
    /// unless offsets are honoured, as in flytescheduler, so there their
    /// kickoff input needs a default.
    pub fn launch_inputs(
        &self,
        scheduled_at: Timestamp,
        rules: &ScheduleRules,
    ) -> core::LiteralMap {
        let mut inputs = core::LiteralMap::default();
        let carries_kickoff = rules.honour_offsets || matches!(self.timing, Timing::Cron(_));
        if carries_kickoff && !self.kickoff_time_input_arg.is_empty() {
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
        cron_with_offset(expression, kickoff, "")
    }

    fn cron_with_offset(expression: &str, kickoff: &str, offset: &str) -> admin::Schedule {
        admin::Schedule {
            kickoff_time_input_arg: kickoff.to_string(),
            schedule_expression: Some(ScheduleExpression::CronSchedule(admin::CronSchedule {
                schedule: expression.to_string(),
                offset: offset.to_string(),
            })),
        }
    }

    fn honouring_offsets() -> ScheduleRules {
        ScheduleRules {
            honour_offsets: true,
            ..ScheduleRules::default()
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
        let rules = ScheduleRules::default();
        let first = schedule.next_after(activated, &rules).unwrap();
        assert_eq!(first.to_string(), "2024-01-01T12:17:42Z");
        assert_eq!(
            schedule.next_after(first, &rules).unwrap().to_string(),
            "2024-01-01T14:17:42Z"
        );
    }

    #[test]
    fn the_default_rules_are_stock_flytes_in_utc() {
        let rules = ScheduleRules::default();
        assert_eq!(rules.time_zone.iana_name(), Some("UTC"));
        assert!(!rules.honour_offsets);
    }

    #[test]
    fn offsets_move_cron_times_only_when_honoured() {
        let schedule = Schedule::from_proto(&cron_with_offset("0 2 * * *", "kickoff", "PT5M"))
            .unwrap()
            .unwrap();
        assert_eq!(schedule.offset.as_ref().unwrap().as_str(), "PT5M");
        let before: Timestamp = "2024-01-01T02:03:00Z".parse().unwrap();
        assert_eq!(
            schedule
                .next_after(before, &ScheduleRules::default())
                .unwrap()
                .to_string(),
            "2024-01-02T02:00:00Z",
            "ignored, as flytescheduler ignores it"
        );
        // 02:05 today is still ahead of 02:03.
        let first = schedule.next_after(before, &honouring_offsets()).unwrap();
        assert_eq!(first.to_string(), "2024-01-01T02:05:00Z");
        assert_eq!(
            schedule
                .next_after(first, &honouring_offsets())
                .unwrap()
                .to_string(),
            "2024-01-02T02:05:00Z"
        );
        let earlier = Schedule::from_proto(&cron_with_offset("0 0 1 * *", "", "-P1DT1H"))
            .unwrap()
            .unwrap();
        assert_eq!(
            earlier
                .next_after(
                    "2024-02-01T00:00:00Z".parse().unwrap(),
                    &honouring_offsets()
                )
                .unwrap()
                .to_string(),
            "2024-02-28T23:00:00Z",
            "a negative offset runs ahead of the month's first day"
        );
    }

    #[test]
    fn offsets_that_are_no_duration_are_refused() {
        for (offset, fragment) in [
            ("5 minutes later", "ISO-8601 duration"),
            ("P1M", "months and years"),
        ] {
            let refused = Schedule::from_proto(&cron_with_offset("0 * * * *", "", offset))
                .unwrap_err()
                .to_string();
            assert!(refused.contains(&format!("{offset:?}")), "{refused}");
            assert!(refused.contains(fragment), "{refused}");
        }
        let weekly = Schedule::from_proto(&cron_with_offset("0 0 * * 1", "", "P1W"))
            .unwrap()
            .unwrap();
        assert_eq!(
            weekly.offset.unwrap().duration(),
            SignedDuration::from_hours(7 * 24)
        );
    }

    #[test]
    fn only_cron_launches_carry_the_kickoff_time_unless_offsets_are_honoured() {
        let at: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let stock = ScheduleRules::default();
        let every_minute = Schedule::from_proto(&cron("* * * * *", "kickoff"))
            .unwrap()
            .unwrap();
        assert_eq!(
            every_minute.launch_inputs(at, &stock).literals["kickoff"],
            datetime_literal(at)
        );
        let fixed = Schedule::from_proto(&rate(1, FixedRateUnit::Day))
            .unwrap()
            .unwrap();
        assert!(fixed.launch_inputs(at, &stock).literals.is_empty());
        assert_eq!(
            fixed.launch_inputs(at, &honouring_offsets()).literals["kickoff"],
            datetime_literal(at)
        );
        let no_kickoff = Schedule::from_proto(&cron("* * * * *", ""))
            .unwrap()
            .unwrap();
        assert!(
            no_kickoff
                .launch_inputs(at, &honouring_offsets())
                .literals
                .is_empty()
        );
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
