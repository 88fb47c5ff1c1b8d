//! Instants as Unix seconds, civil-calendar arithmetic, and the date formats readers see.

/// Seconds since 1970-01-01T00:00:00Z.
pub type Timestamp = i64;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A calendar date and time of day, checked for existence (no February 30th).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Offset east of UTC, in minutes, as written; `None` when no offset was written (a bare
    /// date, or a time with no `Z` or `±HH:MM`): a time on the site's clock, which the author's
    /// tools resolve with the site's time zone.
    pub offset_minutes: Option<i32>,
}

impl DateTime {
    /// Builds a date-time, refusing impossible dates and times with a reader-facing reason.
    pub fn new(
        year: i64,
        month: u32,
        day: u32,
        (hour, minute, second): (u32, u32, u32),
        offset_minutes: Option<i32>,
    ) -> Result<Self, String> {
        if !(1..=12).contains(&month) {
            return Err(format!("month {month} does not exist"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(format!(
                "{year:04}-{month:02}-{day:02} is not a date: {} has {} days",
                MONTHS[month as usize - 1],
                days_in_month(year, month)
            ));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(format!(
                "{hour:02}:{minute:02}:{second:02} is not a time of day"
            ));
        }
        if offset_minutes.is_some_and(|m| m.abs() >= 24 * 60) {
            return Err("the UTC offset must be less than 24 hours".into());
        }
        Ok(Self {
            year,
            month,
            day,
            hour,
            minute,
            second: second.min(59),
            offset_minutes,
        })
    }

    /// The instant, taking a time with no written offset as UTC; see [`Self::civil_seconds`]
    /// for resolving it in another zone.
    pub fn timestamp(&self) -> Timestamp {
        self.civil_seconds() - i64::from(self.offset_minutes.unwrap_or(0)) * 60
    }

    /// The written date and time counted as seconds since 1970-01-01T00:00 on the same clock,
    /// ignoring any offset.
    pub fn civil_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

/// Parses the subset of RFC 3339 the content uses: `YYYY-MM-DD`, optionally followed by
/// `THH:MM[:SS]` and `Z` or `±HH:MM`. A bare date means midnight, and a time without an
/// offset a time, on the site's clock (`offset_minutes` is `None`).
pub fn parse_rfc3339(text: &str) -> Result<DateTime, String> {
    let bad = || format!("`{text}` is not a date: write 2026-06-14 or 2026-06-14T09:30:00+02:00");
    let num = |s: &str| -> Result<u32, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return Err(bad());
    }
    let (year, month, day) = (num(parts[0])? as i64, num(parts[1])?, num(parts[2])?);
    let Some(time) = time else {
        return DateTime::new(year, month, day, (0, 0, 0), None);
    };
    let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, Some(0))
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (sign, hm) = (if &time[i..i + 1] == "-" { -1 } else { 1 }, &time[i + 1..]);
        // `HH:MM`, two digits each as RFC 3339 has it: longer hours overflowed the arithmetic.
        let (h, m) = hm
            .split_once(':')
            .filter(|(h, m)| h.len() == 2 && m.len() == 2)
            .ok_or_else(bad)?;
        let (h, m) = (num(h)?, num(m)?);
        if m > 59 {
            return Err(bad());
        }
        (&time[..i], Some(sign * (h * 60 + m) as i32))
    } else {
        (time, None)
    };
    let clock = clock.split('.').next().unwrap_or(clock);
    let fields: Vec<&str> = clock.split(':').collect();
    let (h, m, s) = match fields.as_slice() {
        [h, m] => (num(h)?, num(m)?, 0),
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        _ => return Err(bad()),
    };
    DateTime::new(year, month, day, (h, m, s), offset)
}

/// "Jun 14, 2026": the date as the index and post pages show it, for a timestamp already
/// moved to the site's clock (see [`local`]).
pub fn format_long(ts: Timestamp) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(86_400));
    format!("{} {}, {}", MONTHS[m as usize - 1], d, y)
}

/// The calendar year of a timestamp (on whichever clock it is counted).
pub fn year(ts: Timestamp) -> i64 {
    civil_from_days(ts.div_euclid(86_400)).0
}

/// An instant as seconds on a clock `offset_minutes` east of UTC: what to pass to
/// [`format_long`] and [`year`] to show it in a time zone.
pub fn local(ts: Timestamp, offset_minutes: i32) -> Timestamp {
    ts + i64::from(offset_minutes) * 60
}

/// `2026-06-14T09:00:00+02:00`: an instant as RFC 3339 with the given UTC offset (`Z` for 0).
pub fn format_rfc3339_at(ts: Timestamp, offset_minutes: i32) -> String {
    let utc = format_rfc3339(local(ts, offset_minutes));
    if offset_minutes == 0 {
        return utc;
    }
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let m = offset_minutes.unsigned_abs();
    format!("{}{sign}{:02}:{:02}", &utc[..utc.len() - 1], m / 60, m % 60)
}

/// `2026-06-14T09:00:00Z`: machine-readable, for `<time datetime>` and feeds.
pub fn format_rfc3339(ts: Timestamp) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(86_400));
    let secs = ts.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_across_four_centuries() {
        for days in (-200_000..200_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn formats_dates_like_the_seed() {
        let ts = parse_rfc3339("2026-06-14").unwrap().timestamp();
        assert_eq!(format_long(ts), "Jun 14, 2026");
        assert_eq!(
            format_long(parse_rfc3339("2026-05-02").unwrap().timestamp()),
            "May 2, 2026"
        );
        assert_eq!(year(ts), 2026);
        assert_eq!(format_rfc3339(ts), "2026-06-14T00:00:00Z");
    }

    #[test]
    fn bare_date_is_midnight_utc_and_offsets_shift_the_instant() {
        let midnight = parse_rfc3339("2026-05-24").unwrap().timestamp();
        assert_eq!(
            parse_rfc3339("2026-05-24T00:00:00Z").unwrap().timestamp(),
            midnight
        );
        assert_eq!(
            parse_rfc3339("2026-05-24T09:00:00+02:00")
                .unwrap()
                .timestamp(),
            midnight + 7 * 3600
        );
        assert_eq!(
            parse_rfc3339("2026-05-24T09:00-01:30").unwrap().timestamp(),
            midnight + 10 * 3600 + 30 * 60
        );
    }

    #[test]
    fn a_date_without_an_offset_is_on_the_site_clock() {
        assert_eq!(parse_rfc3339("2026-05-24").unwrap().offset_minutes, None);
        assert_eq!(
            parse_rfc3339("2026-05-24T09:00").unwrap().offset_minutes,
            None
        );
        assert_eq!(
            parse_rfc3339("2026-05-24T09:00Z").unwrap().offset_minutes,
            Some(0)
        );
        assert_eq!(
            parse_rfc3339("2026-05-24T09:00-04:00")
                .unwrap()
                .offset_minutes,
            Some(-240)
        );
        let d = parse_rfc3339("2026-05-24T09:00").unwrap();
        assert_eq!(
            d.civil_seconds(),
            days_from_civil(2026, 5, 24) * 86_400 + 9 * 3600
        );
    }

    #[test]
    fn formats_an_instant_with_an_offset() {
        let ts = parse_rfc3339("2026-01-01T03:00:00Z").unwrap().timestamp();
        assert_eq!(format_rfc3339_at(ts, 0), "2026-01-01T03:00:00Z");
        assert_eq!(format_rfc3339_at(ts, -480), "2025-12-31T19:00:00-08:00");
        assert_eq!(format_rfc3339_at(ts, 330), "2026-01-01T08:30:00+05:30");
        assert_eq!(format_rfc3339_at(ts, -90), "2026-01-01T01:30:00-01:30");
        assert_eq!(format_long(local(ts, -480)), "Dec 31, 2025");
        assert_eq!(year(local(ts, -480)), 2025);
        // What it prints parses back to the same instant.
        assert_eq!(
            parse_rfc3339(&format_rfc3339_at(ts, -570))
                .unwrap()
                .timestamp(),
            ts
        );
    }

    #[test]
    fn rejects_impossible_dates() {
        assert!(parse_rfc3339("2026-02-29")
            .unwrap_err()
            .contains("Feb has 28 days"));
        assert!(parse_rfc3339("2024-02-29").is_ok());
        assert!(parse_rfc3339("2026-13-01").is_err());
        assert!(parse_rfc3339("2026-04-31").is_err());
        assert!(parse_rfc3339("2026-04-01T25:00:00Z").is_err());
        assert!(parse_rfc3339("June 4th").is_err());
        assert!(parse_rfc3339("").is_err());
    }

    #[test]
    fn rejects_offsets_that_are_not_two_digit_hours_and_minutes() {
        // 71582789 * 60 wraps a u32 to 44: release builds read this as +00:44.
        for bad in [
            "+4294967295:00",
            "+71582789:00",
            "+2:00",
            "+02:0",
            "+02:60",
            "-00:99",
        ] {
            assert!(
                parse_rfc3339(&format!("2026-05-24T09:00{bad}")).is_err(),
                "{bad}"
            );
        }
        assert!(parse_rfc3339("2026-05-24T09:00-23:59").is_ok());
    }
}
