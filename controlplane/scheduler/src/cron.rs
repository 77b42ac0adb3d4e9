//! Cron expressions as flytescheduler reads them: robfig/cron v3's standard
//! parser (five fields; the `@yearly` … `@hourly` descriptors; `@every
//! <duration>`; an optional `CRON_TZ=<zone> ` or `TZ=<zone> ` prefix) and its
//! rule for the next time. flyteadmin refuses at registration what this
//! parser refuses, so both places use it.

use jiff::civil::{DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};

/// Why a cron expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron expression {expression:?}: {reason}")]
pub struct InvalidCron {
    /// The expression as given.
    pub expression: String,
    /// What is wrong with it, in the words a person fixes it with.
    pub reason: String,
}

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct CronExpression {
    text: String,
    /// The zone a `CRON_TZ=`/`TZ=` prefix names; otherwise the scheduler's.
    time_zone: Option<TimeZone>,
    timing: Timing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Timing {
    Calendar(CalendarFields),
    /// `@every`: a constant delay, in whole seconds, at least one.
    Every {
        seconds: i64,
    },
}

/// One bit per allowed value of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CalendarFields {
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    days_of_week: u64,
    /// Vixie cron's day rule, which robfig keeps: when either day field was
    /// written as `*` or `?`, a day must match both; otherwise either.
    either_day_field_is_any: bool,
}

struct FieldBounds {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
}

const MINUTE: FieldBounds = FieldBounds {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: FieldBounds = FieldBounds {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY_OF_MONTH: FieldBounds = FieldBounds {
    name: "day of month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: FieldBounds = FieldBounds {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DAY_OF_WEEK: FieldBounds = FieldBounds {
    name: "day of week",
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// How far ahead the next time is looked for: robfig gives up after five
/// years, so `0 0 30 2 *` never fires.
const SEARCH_YEARS: i16 = 5;

impl CronExpression {
    /// Parses `expression` as robfig/cron's `ParseStandard` does.
    pub fn parse(expression: &str) -> Result<Self, InvalidCron> {
        let refuse = |reason: String| InvalidCron {
            expression: expression.to_string(),
            reason,
        };
        let mut spec = expression.trim();
        if spec.is_empty() {
            return Err(refuse("it is empty".to_string()));
        }
        let mut time_zone = None;
        if spec.starts_with("CRON_TZ=") || spec.starts_with("TZ=") {
            let (prefix, rest) = spec
                .split_once(' ')
                .ok_or_else(|| refuse("a time zone prefix needs a schedule after it".into()))?;
            let (_, zone_name) = prefix.split_once('=').unwrap_or_default();
            let zone = TimeZone::get(zone_name)
                .map_err(|_| refuse(format!("unknown time zone {zone_name:?}")))?;
            time_zone = Some(zone);
            spec = rest.trim();
        }
        let timing = if spec.starts_with('@') {
            parse_descriptor(spec).map_err(refuse)?
        } else {
            parse_fields(spec).map_err(refuse)?
        };
        Ok(Self {
            text: expression.to_string(),
            time_zone,
            timing,
        })
    }

    /// The expression as it was written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first scheduled time strictly after `after`, reading the fields
    /// in the expression's own zone or else `default_zone`; `None` when
    /// nothing matches within five years.
    pub fn next_after(&self, after: Timestamp, default_zone: &TimeZone) -> Option<Timestamp> {
        match &self.timing {
            Timing::Every { seconds } => {
                // robfig drops the fraction of a second first.
                Timestamp::from_second(after.as_second().checked_add(*seconds)?).ok()
            }
            Timing::Calendar(fields) => {
                let zone = self.time_zone.as_ref().unwrap_or(default_zone);
                fields.next_after(after, zone)
            }
        }
    }
}

impl CalendarFields {
    fn next_after(&self, after: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        let start = zone.to_datetime(after);
        let last_year = start.year().checked_add(SEARCH_YEARS)?;
        let mut candidate = start
            .with()
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
            .checked_add(1.minute())
            .ok()?;
        loop {
            if candidate.year() > last_year {
                return None;
            }
            if !has_bit(self.months, candidate.month()) {
                candidate = candidate
                    .date()
                    .first_of_month()
                    .checked_add(1.month())
                    .ok()?
                    .to_datetime(Time::midnight());
                continue;
            }
            if !self.day_matches(candidate) {
                candidate = candidate
                    .date()
                    .tomorrow()
                    .ok()?
                    .to_datetime(Time::midnight());
                continue;
            }
            if !has_bit(self.hours, candidate.hour()) {
                candidate = candidate
                    .with()
                    .minute(0)
                    .build()
                    .ok()?
                    .checked_add(1.hour())
                    .ok()?;
                continue;
            }
            if has_bit(self.minutes, candidate.minute())
                && let Some(instant) = first_instant_after(zone, candidate, after)
            {
                return Some(instant);
            }
            candidate = candidate.checked_add(1.minute()).ok()?;
        }
    }

    fn day_matches(&self, candidate: DateTime) -> bool {
        let day_of_month = has_bit(self.days_of_month, candidate.day());
        let day_of_week = has_bit(
            self.days_of_week,
            candidate.weekday().to_sunday_zero_offset(),
        );
        if self.either_day_field_is_any {
            day_of_month && day_of_week
        } else {
            day_of_month || day_of_week
        }
    }
}

/// The instant a wall-clock time names that comes after `after`. A time the
/// clocks skip (spring forward) happens as late as the skip; one they repeat
/// (fall back) happens at its first occurrence, or its second when the first
/// is already past.
fn first_instant_after(
    zone: &TimeZone,
    wall_clock: DateTime,
    after: Timestamp,
) -> Option<Timestamp> {
    let ambiguous = zone.to_ambiguous_timestamp(wall_clock);
    let candidates = match ambiguous.offset() {
        AmbiguousOffset::Fold { before, after } => {
            vec![
                before.to_timestamp(wall_clock),
                after.to_timestamp(wall_clock),
            ]
        }
        _ => vec![ambiguous.compatible()],
    };
    candidates
        .into_iter()
        .filter_map(Result::ok)
        .find(|instant| *instant > after)
}

fn has_bit(bits: u64, value: impl Into<i64>) -> bool {
    let value = value.into();
    (0..64).contains(&value) && bits & (1 << value) != 0
}

fn parse_descriptor(spec: &str) -> Result<Timing, String> {
    let all = |bounds: &FieldBounds| bits_between(bounds.min, bounds.max, 1);
    let calendar = |minutes, hours, days_of_month, months, days_of_week| {
        Timing::Calendar(CalendarFields {
            minutes,
            hours,
            days_of_month,
            months,
            days_of_week,
            either_day_field_is_any: true,
        })
    };
    let timing = match spec {
        "@yearly" | "@annually" => calendar(1, 1, 1 << 1, 1 << 1, all(&DAY_OF_WEEK)),
        "@monthly" => calendar(1, 1, 1 << 1, all(&MONTH), all(&DAY_OF_WEEK)),
        "@weekly" => calendar(1, 1, all(&DAY_OF_MONTH), all(&MONTH), 1),
        "@daily" | "@midnight" => {
            calendar(1, 1, all(&DAY_OF_MONTH), all(&MONTH), all(&DAY_OF_WEEK))
        }
        "@hourly" => calendar(
            1,
            all(&HOUR),
            all(&DAY_OF_MONTH),
            all(&MONTH),
            all(&DAY_OF_WEEK),
        ),
        every if every.starts_with("@every ") => {
            let text = &every["@every ".len()..];
            let nanoseconds = parse_go_duration(text)
                .ok_or_else(|| format!("{text:?} is not a duration such as 90s, 15m or 1h30m"))?;
            // robfig rounds down to whole seconds, and up to at least one.
            let seconds = i64::try_from(nanoseconds / 1_000_000_000).unwrap_or(i64::MAX);
            Timing::Every {
                seconds: seconds.max(1),
            }
        }
        other => {
            return Err(format!(
                "{other:?} is not one of @yearly, @annually, @monthly, @weekly, @daily, \
                 @midnight, @hourly or @every <duration>"
            ));
        }
    };
    Ok(timing)
}

fn parse_fields(spec: &str) -> Result<Timing, String> {
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        ));
    }
    let (minutes, _) = parse_field(fields[0], &MINUTE)?;
    let (hours, _) = parse_field(fields[1], &HOUR)?;
    let (days_of_month, any_day_of_month) = parse_field(fields[2], &DAY_OF_MONTH)?;
    let (months, _) = parse_field(fields[3], &MONTH)?;
    let (days_of_week, any_day_of_week) = parse_field(fields[4], &DAY_OF_WEEK)?;
    Ok(Timing::Calendar(CalendarFields {
        minutes,
        hours,
        days_of_month,
        months,
        days_of_week,
        either_day_field_is_any: any_day_of_month || any_day_of_week,
    }))
}

/// A comma-separated field: its bits, and whether it allows any value in
/// the sense of the day rule (`*` or `?`, with no step above one).
fn parse_field(field: &str, bounds: &FieldBounds) -> Result<(u64, bool), String> {
    let mut bits = 0;
    let mut any = false;
    for range in field.split(',') {
        let (range_bits, range_any) = parse_range(range, bounds)?;
        bits |= range_bits;
        any |= range_any;
    }
    Ok((bits, any))
}

/// One of `*`, `?`, `N`, `N-M`, each optionally followed by `/STEP`; `N/STEP`
/// runs from N to the field's maximum.
fn parse_range(range: &str, bounds: &FieldBounds) -> Result<(u64, bool), String> {
    let field = bounds.name;
    let mut range_and_step = range.split('/');
    let span = range_and_step.next().unwrap_or_default();
    let step_text = range_and_step.next();
    if range_and_step.next().is_some() {
        return Err(format!("too many slashes in the {field} field {range:?}"));
    }
    let mut low_and_high = span.split('-');
    let low = low_and_high.next().unwrap_or_default();
    let high = low_and_high.next();
    if low_and_high.next().is_some() {
        return Err(format!("too many hyphens in the {field} field {range:?}"));
    }
    let (start, mut end, mut any) = if low == "*" || low == "?" {
        (bounds.min, bounds.max, true)
    } else {
        let start = value_of(low, bounds)?;
        let end = match high {
            Some(high) => value_of(high, bounds)?,
            None => start,
        };
        (start, end, false)
    };
    let step = match step_text {
        None => 1,
        Some(step) => {
            let step: u32 = step.parse().map_err(|_| {
                format!("the step {step:?} in the {field} field is not a whole number")
            })?;
            if high.is_none() && !any {
                end = bounds.max;
            }
            if step > 1 {
                any = false;
            }
            step
        }
    };
    if start < bounds.min {
        return Err(format!(
            "{start} is below the {field} field's minimum {}",
            bounds.min
        ));
    }
    if end > bounds.max {
        return Err(format!(
            "{end} is above the {field} field's maximum {}",
            bounds.max
        ));
    }
    if start > end {
        return Err(format!("the {field} range {range:?} starts after it ends"));
    }
    if step == 0 {
        return Err(format!("the step in the {field} field must be positive"));
    }
    Ok((bits_between(start, end, step), any))
}

fn value_of(text: &str, bounds: &FieldBounds) -> Result<u32, String> {
    let lowered = text.to_ascii_lowercase();
    if let Some((_, value)) = bounds.names.iter().find(|(name, _)| *name == lowered) {
        return Ok(*value);
    }
    text.parse().map_err(|_| {
        format!(
            "{text:?} is not a valid {field} (a number{names})",
            field = bounds.name,
            names = if bounds.names.is_empty() {
                ""
            } else {
                " or a three-letter name"
            }
        )
    })
}

fn bits_between(start: u32, end: u32, step: u32) -> u64 {
    (start..=end)
        .step_by(usize::try_from(step).unwrap_or(1))
        .fold(0, |bits, value| bits | (1 << value))
}

/// Go's `time.ParseDuration` (`1h30m`, `90s`, `1.5h`, `300ms`), in
/// nanoseconds.
fn parse_go_duration(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let number_length = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after_number) = rest.split_at(number_length);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_length = after_number
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after_number.len());
        let (unit, after_unit) = after_number.split_at(unit_length);
        let unit_nanoseconds: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut part = whole.checked_mul(unit_nanoseconds)?;
        let mut scale = unit_nanoseconds;
        for digit in fraction.chars() {
            scale /= 10;
            part += i128::from(digit.to_digit(10)?) * scale;
        }
        total = total.checked_add(part)?;
        rest = after_unit;
    }
    Some(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> TimeZone {
        TimeZone::UTC
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn next(expression: &str, after: &str) -> Option<String> {
        CronExpression::parse(expression)
            .unwrap()
            .next_after(at(after), &utc())
            .map(|instant| instant.to_string())
    }

    fn refusal(expression: &str) -> String {
        CronExpression::parse(expression).unwrap_err().reason
    }

    #[test]
    fn the_next_time_is_the_next_matching_minute() {
        assert_eq!(
            next("*/5 * * * *", "2024-01-01T00:00:00Z").as_deref(),
            Some("2024-01-01T00:05:00Z")
        );
        assert_eq!(
            next("*/5 * * * *", "2024-01-01T00:04:59.9Z").as_deref(),
            Some("2024-01-01T00:05:00Z")
        );
        assert_eq!(
            next("0 9 * * mon-fri", "2024-01-05T09:00:00Z").as_deref(),
            Some("2024-01-08T09:00:00Z"),
            "Friday's run is past; Monday is next"
        );
        assert_eq!(
            next("30 2 1 jan,JUL *", "2024-01-01T03:00:00Z").as_deref(),
            Some("2024-07-01T02:30:00Z")
        );
        assert_eq!(
            next("15 10-12/2 * * *", "2024-03-01T10:15:00Z").as_deref(),
            Some("2024-03-01T12:15:00Z")
        );
    }

    #[test]
    fn the_day_fields_combine_as_in_vixie_cron() {
        // Both restricted: either matches (the 13th, or any Friday).
        assert_eq!(
            next("0 0 13 * 5", "2024-09-01T00:00:00Z").as_deref(),
            Some("2024-09-06T00:00:00Z")
        );
        // One of them `*`: both must match, so only the 13th.
        assert_eq!(
            next("0 0 13 * *", "2024-09-01T00:00:00Z").as_deref(),
            Some("2024-09-13T00:00:00Z")
        );
        // A step above one is not `*` any more.
        assert_eq!(
            next("0 0 */10 * 1", "2024-09-01T00:00:00Z").as_deref(),
            Some("2024-09-02T00:00:00Z")
        );
    }

    #[test]
    fn descriptors_and_every() {
        assert_eq!(
            next("@hourly", "2024-01-01T10:59:00Z").as_deref(),
            Some("2024-01-01T11:00:00Z")
        );
        assert_eq!(
            next("@weekly", "2024-01-01T00:00:00Z").as_deref(),
            Some("2024-01-07T00:00:00Z")
        );
        assert_eq!(
            next("@yearly", "2024-01-01T00:00:00Z").as_deref(),
            Some("2025-01-01T00:00:00Z")
        );
        assert_eq!(
            next("@monthly", "2024-01-31T00:00:00Z").as_deref(),
            Some("2024-02-01T00:00:00Z")
        );
        assert_eq!(
            next("@every 1h30m", "2024-01-01T00:00:00.5Z").as_deref(),
            Some("2024-01-01T01:30:00Z")
        );
        assert_eq!(
            next("@every 10ms", "2024-01-01T00:00:00Z").as_deref(),
            Some("2024-01-01T00:00:01Z"),
            "at least a second"
        );
    }

    #[test]
    fn a_date_that_never_comes_never_fires() {
        assert_eq!(next("0 0 30 2 *", "2024-01-01T00:00:00Z"), None);
    }

    #[test]
    fn a_zone_prefix_reads_the_fields_in_that_zone() {
        assert_eq!(
            next("CRON_TZ=America/New_York 0 9 * * *", "2024-01-01T00:00:00Z").as_deref(),
            Some("2024-01-01T14:00:00Z")
        );
        let in_berlin = CronExpression::parse("0 9 * * *").unwrap().next_after(
            at("2024-07-01T00:00:00Z"),
            &TimeZone::get("Europe/Berlin").unwrap(),
        );
        assert_eq!(in_berlin.unwrap().to_string(), "2024-07-01T07:00:00Z");
    }

    #[test]
    fn clock_changes_neither_skip_nor_repeat_a_day() {
        let new_york = TimeZone::get("America/New_York").unwrap();
        let daily = CronExpression::parse("30 2 * * *").unwrap();
        // 2024-03-10 02:30 does not exist there: it runs when the clocks say 03:30.
        assert_eq!(
            daily
                .next_after(at("2024-03-10T06:00:00Z"), &new_york)
                .unwrap()
                .to_string(),
            "2024-03-10T07:30:00Z"
        );
        // 2024-11-03 01:30 happens twice: once.
        let fall_back = CronExpression::parse("30 1 * * *").unwrap();
        let first = fall_back
            .next_after(at("2024-11-03T04:00:00Z"), &new_york)
            .unwrap();
        assert_eq!(first.to_string(), "2024-11-03T05:30:00Z");
        assert_eq!(
            fall_back.next_after(first, &new_york).unwrap().to_string(),
            "2024-11-04T06:30:00Z"
        );
    }

    #[test]
    fn what_flyteadmin_refuses_is_refused_with_a_reason() {
        assert!(refusal("hourly").contains("exactly 5 fields"));
        assert!(refusal("0 * * * * *").contains("found 6"));
        assert!(refusal("60 * * * *").contains("maximum 59"));
        assert!(refusal("* * * * 7").contains("maximum 6"));
        assert!(refusal("* * 0 * *").contains("minimum 1"));
        assert!(refusal("5-1 * * * *").contains("starts after it ends"));
        assert!(refusal("*/0 * * * *").contains("positive"));
        assert!(refusal("* * * foo *").contains("three-letter name"));
        assert!(refusal("@reboot").contains("@every"));
        assert!(refusal("@every often").contains("not a duration"));
        assert!(refusal("CRON_TZ=Mars/Olympus 0 * * * *").contains("unknown time zone"));
        assert!(refusal("").contains("empty"));
        for accepted in [
            "* * * * *",
            "?/15 * ? * *",
            "0 0 1,15 * sun",
            "@annually",
            "@midnight",
            "@every 2h",
            "TZ=UTC 0 0 * * *",
        ] {
            CronExpression::parse(accepted).unwrap();
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_go_duration(".5m"), Some(30_000_000_000));
        assert_eq!(parse_go_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_go_duration("0"), Some(0));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration("5d"), None);
        assert_eq!(parse_go_duration(""), None);
    }
}
