//! Recurring schedules for [`super::JobQueue`]: every N minutes, or a five-field cron expression
//! (`minute hour day-of-month month day-of-week`, UTC) with `*`, `*/n`, `a-b`, `a-b/n` and lists.
//! Pure: computing the next run time is a value-in, value-out function.

use std::fmt;

use time::{Duration, OffsetDateTime};

/// When a recurring job runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every N minutes (N >= 1), counted from the previous due time.
    EveryMinutes(u32),
    /// A cron expression.
    Cron(CronSpec),
}

/// A parsed five-field cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSpec {
    source: String,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Whether day-of-month and day-of-week were both restricted (cron then ORs them).
    dom_restricted: bool,
    dow_restricted: bool,
}

/// An invalid schedule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a schedule: {reason}")]
pub struct ScheduleError {
    /// The input.
    pub input: String,
    /// What is wrong.
    pub reason: String,
}

fn field(part: &str, min: u32, max: u32) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let mut restricted = false;
    for item in part.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| format!("bad step `{s}`"))?),
            None => (item, 1),
        };
        if step == 0 {
            return Err("a step of 0".to_owned());
        }
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            restricted = true;
            (a.parse().map_err(|_| format!("bad value `{a}`"))?, b.parse().map_err(|_| format!("bad value `{b}`"))?)
        } else {
            restricted = true;
            let v: u32 = range.parse().map_err(|_| format!("bad value `{range}`"))?;
            (v, if step > 1 { max } else { v })
        };
        if range == "*" && step > 1 {
            restricted = true;
        }
        if lo < min || hi > max || lo > hi {
            return Err(format!("`{item}` is outside {min}-{max}"));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, restricted))
}

impl CronSpec {
    /// Parses `minute hour day-of-month month day-of-week` (day-of-week 0-7, Sunday is 0 or 7).
    ///
    /// # Errors
    /// [`ScheduleError`] naming the input and the fault.
    pub fn parse(input: &str) -> Result<Self, ScheduleError> {
        let err = |reason: String| ScheduleError { input: input.to_owned(), reason };
        let parts: Vec<&str> = input.split_whitespace().collect();
        let [m, h, dom, mon, dow] = parts.as_slice() else {
            return Err(err(format!("expected 5 fields, found {}", parts.len())));
        };
        let (minutes, _) = field(m, 0, 59).map_err(err)?;
        let (hours, _) = field(h, 0, 23).map_err(err)?;
        let (days, dom_restricted) = field(dom, 1, 31).map_err(err)?;
        let (months, _) = field(mon, 1, 12).map_err(err)?;
        let (mut weekdays, dow_restricted) = field(dow, 0, 7).map_err(err)?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1;
        }
        Ok(Self { source: parts.join(" "), minutes, hours, days, months, weekdays, dom_restricted, dow_restricted })
    }

    fn matches(&self, t: OffsetDateTime) -> bool {
        self.minutes & (1 << t.minute()) != 0 && self.hours & (1 << t.hour()) != 0 && self.matches_day(t)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EveryMinutes(n) => write!(f, "every {n}m"),
            Self::Cron(c) => write!(f, "cron {}", c.source),
        }
    }
}

impl Schedule {
    /// Parses the stored form written by `Display` (`every 15m`, `cron */5 * * * *`) or a bare
    /// cron expression.
    ///
    /// # Errors
    /// [`ScheduleError`].
    pub fn parse(input: &str) -> Result<Self, ScheduleError> {
        let s = input.trim();
        if let Some(n) = s.strip_prefix("every ").and_then(|r| r.strip_suffix('m')) {
            return match n.trim().parse::<u32>() {
                Ok(n) if n >= 1 => Ok(Self::EveryMinutes(n)),
                _ => Err(ScheduleError { input: input.to_owned(), reason: "expected `every <N >= 1>m`".to_owned() }),
            };
        }
        CronSpec::parse(s.strip_prefix("cron ").unwrap_or(s)).map(Self::Cron)
    }

    /// The first due time strictly after `after` (whole minutes for cron). `None` only for a cron
    /// expression that never matches within four years (`0 0 31 2 *`).
    #[must_use]
    pub fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            Self::EveryMinutes(n) => Some(after + Duration::minutes(i64::from(*n))),
            Self::Cron(spec) => {
                let start = after.replace_nanosecond(0).ok()?.replace_second(0).ok()? + Duration::minutes(1);
                let mut t = start;
                let limit = start + Duration::days(366 * 4);
                while t < limit {
                    if spec.matches(t) {
                        return Some(t);
                    }
                    // Skip whole hours / days that cannot match, minute by minute otherwise.
                    if spec.hours & (1 << t.hour()) == 0 || !spec.matches_day(t) {
                        t = t.replace_minute(0).ok()? + Duration::hours(1);
                    } else {
                        t += Duration::minutes(1);
                    }
                }
                None
            }
        }
    }
}

impl CronSpec {
    fn matches_day(&self, t: OffsetDateTime) -> bool {
        let bit = |set: u64, v: u8| set & (1 << v) != 0;
        let dom = bit(self.days, t.day());
        let dow = bit(self.weekdays, t.weekday().number_days_from_sunday());
        let day_ok = if self.dom_restricted && self.dow_restricted { dom || dow } else { dom && dow };
        day_ok && bit(self.months, u8::from(t.month()))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn cron_next_times() {
        let next = |expr: &str, at: OffsetDateTime| Schedule::parse(expr).unwrap().next_after(at).unwrap();
        let t = datetime!(2025-12-02 10:07:30 UTC);
        assert_eq!(next("*/15 * * * *", t), datetime!(2025-12-02 10:15 UTC));
        assert_eq!(next("0 9 * * 1-5", t), datetime!(2025-12-03 09:00 UTC));
        assert_eq!(next("30 2 1 * *", t), datetime!(2026-01-01 02:30 UTC));
        assert_eq!(next("0 0 * * 0", t), datetime!(2025-12-07 00:00 UTC), "Sunday");
        assert_eq!(next("0 0 * * 7", t), datetime!(2025-12-07 00:00 UTC), "Sunday as 7");
        assert_eq!(next("every 15m", t), datetime!(2025-12-02 10:22:30 UTC));
        assert_eq!(Schedule::parse("0 0 31 2 *").unwrap().next_after(t), None);
    }

    #[test]
    fn bad_schedules_are_errors() {
        for bad in ["", "* * * *", "60 * * * *", "*/0 * * * *", "every 0m", "a b c d e", "5-1 * * * *"] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
        let s = Schedule::parse("cron */5 * * * *").unwrap();
        assert_eq!(Schedule::parse(&s.to_string()).unwrap(), s);
    }
}
