//! Times and durations as text, the same on the server and in the browser.
//!
//! Instants travel as milliseconds since the Unix epoch. The server renders
//! them in UTC; once hydrated, [`crate::components::time::LocalTime`] shows
//! the browser's local time with a relative hint.

/// `2026-11-22 00:50:30 UTC`.
pub fn format_utc(epoch_millis: i64) -> String {
    let (date, time) = utc_date_and_time(epoch_millis);
    format!("{date} {time} UTC")
}

/// `2026-11-22T00:50:30Z`, as flyteadmin's filters take instants.
pub fn format_rfc3339(epoch_millis: i64) -> String {
    let (date, time) = utc_date_and_time(epoch_millis);
    format!("{date}T{time}Z")
}

/// `("2026-11-22", "00:50:30")` in UTC.
fn utc_date_and_time(epoch_millis: i64) -> (String, String) {
    let seconds = epoch_millis.div_euclid(1000);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            second_of_day / 3600,
            second_of_day % 3600 / 60,
            second_of_day % 60
        ),
    )
}

/// A duration the way people say it: `850ms`, `12s`, `3m 5s`, `2h 1m`, `3d 4h`.
pub fn format_duration(millis: i64) -> String {
    if millis < 0 {
        return format!("-{}", format_duration(-millis));
    }
    if millis < 1000 {
        return format!("{millis}ms");
    }
    let seconds = millis / 1000;
    let (days, hours, minutes, seconds) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => {
            // One decimal under ten seconds: 1.5s says more than 1s.
            if millis < 10_000 {
                format!("{:.1}s", millis as f64 / 1000.0)
            } else {
                format!("{seconds}s")
            }
        }
        (0, 0, _) => format!("{minutes}m {seconds}s"),
        (0, _, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

/// How long ago `then` was, seen from `now`: `just now`, `5 minutes ago`, `in 2 hours`.
pub fn format_relative(then_millis: i64, now_millis: i64) -> String {
    let delta = (now_millis - then_millis) / 1000;
    let future = delta < 0;
    let seconds = delta.abs();
    if seconds < 45 {
        return "just now".into();
    }
    let (count, unit) = if seconds < 3600 {
        ((seconds + 30) / 60, "minute")
    } else if seconds < 86_400 {
        ((seconds + 1800) / 3600, "hour")
    } else if seconds < 30 * 86_400 {
        ((seconds + 43_200) / 86_400, "day")
    } else if seconds < 365 * 86_400 {
        ((seconds + 15 * 86_400) / (30 * 86_400), "month")
    } else {
        ((seconds + 182 * 86_400) / (365 * 86_400), "year")
    };
    let plural = if count == 1 { "" } else { "s" };
    if future {
        format!("in {count} {unit}{plural}")
    } else {
        format!("{count} {unit}{plural} ago")
    }
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (inverse of
/// `civil_from_days`).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_instants_for_filters() {
        assert_eq!(format_rfc3339(1_795_308_630_000), "2026-11-22T00:50:30Z");
    }

    #[test]
    fn formats_instants_in_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(1_795_308_630_000), "2026-11-22 00:50:30 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(-1000), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn formats_durations_at_a_readable_precision() {
        assert_eq!(format_duration(850), "850ms");
        assert_eq!(format_duration(1500), "1.5s");
        assert_eq!(format_duration(12_000), "12s");
        assert_eq!(format_duration(185_000), "3m 5s");
        assert_eq!(format_duration(7_260_000), "2h 1m");
        assert_eq!(format_duration(273_600_000), "3d 4h");
    }

    #[test]
    fn formats_relative_times() {
        let now = 1_000_000_000_000;
        assert_eq!(format_relative(now - 10_000, now), "just now");
        assert_eq!(format_relative(now - 60_000, now), "1 minute ago");
        assert_eq!(format_relative(now - 5 * 60_000, now), "5 minutes ago");
        assert_eq!(format_relative(now - 3 * 3_600_000, now), "3 hours ago");
        assert_eq!(format_relative(now - 2 * 86_400_000, now), "2 days ago");
        assert_eq!(format_relative(now + 2 * 3_600_000, now), "in 2 hours");
    }
}
