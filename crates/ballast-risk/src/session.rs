//! US equity market sessions in New York time, computed from unix time on chain: the civil
//! calendar (Howard Hinnant's days-from-civil algorithm, unsigned since every date here is after
//! 1970) and the US daylight-saving rule (second Sunday of March, 02:00 local, to the first
//! Sunday of November, 02:00 local). Holidays close all day; early closes (half-days) end the
//! session early.

const DAY: u64 = 86_400;

/// Days since 1970-01-01 of the civil date `y-m-d` (y ≥ 1970).
pub fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(y, m, d)` of `days` since 1970-01-01.
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + (m <= 2) as u64, m, d)
}

/// Day of the week of `days` since 1970-01-01: 0 = Sunday … 6 = Saturday (1970-01-01 was a
/// Thursday).
pub fn weekday(days: u64) -> u64 {
    (days + 4) % 7
}

/// The day number of the `n`-th Sunday of `month` in `year`.
fn nth_sunday(year: u64, month: u64, n: u64) -> u64 {
    let first = days_from_civil(year, month, 1);
    first + (7 - weekday(first)) % 7 + 7 * (n - 1)
}

/// Unix seconds at which daylight saving time starts and ends in New York in `year`:
/// 02:00 EST (07:00 UTC) on the second Sunday of March, 02:00 EDT (06:00 UTC) on the first
/// Sunday of November.
pub fn dst_bounds(year: u64) -> (u64, u64) {
    (nth_sunday(year, 3, 2) * DAY + 7 * 3_600, nth_sunday(year, 11, 1) * DAY + 6 * 3_600)
}

/// New York local time (seconds since 1970-01-01 00:00 local) at unix time `now`.
pub fn new_york_local(now: u64) -> u64 {
    let (year, _, _) = civil_from_days(now / DAY);
    let (start, end) = dst_bounds(year);
    let offset = if (start..end).contains(&now) { 4 * 3_600 } else { 5 * 3_600 };
    now.saturating_sub(offset)
}

/// A weekly session in New York time: open on the weekdays of `weekday_mask` (bit 0 = Sunday)
/// from `open_minute` to `close_minute` (minutes after local midnight), except on `holidays`
/// (local dates as days since 1970-01-01), which are closed all day, and on `early_closes`
/// (same dates), which close at `min(early_close_minute, close_minute)` (NYSE half-days: 13:00,
/// 780). A date listed in both is a holiday. The schedule is meant to pass [`Session::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session<'a> {
    pub weekday_mask: u8,
    pub open_minute: u16,
    pub close_minute: u16,
    pub holidays: &'a [u32],
    pub early_closes: &'a [u32],
    pub early_close_minute: u16,
}

/// Why a session schedule is not acceptable ([`Session::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// `weekday_mask` lists no day, or sets bit 7 (there are seven days, bit 0 = Sunday).
    WeekdayMask,
    /// `open_minute >= close_minute`: the session would never open.
    OpenNotBeforeClose,
    /// `close_minute > 1440`: past local midnight.
    CloseAfterMidnight,
    /// Early closes are listed but `early_close_minute` is not strictly between the open and
    /// the close.
    EarlyCloseOutsideSession,
    /// A date (days since 1970-01-01) listed twice in `holidays`.
    DuplicateHoliday(u32),
    /// A date (days since 1970-01-01) listed twice in `early_closes`.
    DuplicateEarlyClose(u32),
}

impl core::fmt::Display for SessionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SessionError::WeekdayMask => f.write_str("weekday mask must list a day among bits 0..=6"),
            SessionError::OpenNotBeforeClose => f.write_str("open minute must be before close minute"),
            SessionError::CloseAfterMidnight => f.write_str("close minute must be at most 1440"),
            SessionError::EarlyCloseOutsideSession => {
                f.write_str("early close minute must be strictly between open and close")
            }
            SessionError::DuplicateHoliday(d) => write!(f, "holiday {d} listed twice"),
            SessionError::DuplicateEarlyClose(d) => write!(f, "early close {d} listed twice"),
        }
    }
}

/// The first date of `dates` that also appears earlier in the list (no allocation, n² / 2
/// comparisons for the few dates a session lists).
fn first_duplicate(dates: &[u32]) -> Option<u32> {
    dates.iter().enumerate().find_map(|(i, d)| dates[..i].contains(d).then_some(*d))
}

/// Unix time of New York local time `local` (seconds since 1970-01-01 00:00 local), for times
/// away from the 02:00 switch itself.
fn utc_of_local(local: u64) -> u64 {
    let edt = local + 4 * 3_600;
    let (year, _, _) = civil_from_days(edt / DAY);
    let (start, end) = dst_bounds(year);
    if (start..end).contains(&edt) {
        edt
    } else {
        local + 5 * 3_600
    }
}

impl Session<'_> {
    /// Checks the schedule: a weekday mask within bits 0..=6 listing at least one day,
    /// `open_minute < close_minute <= 1440`, `open_minute < early_close_minute < close_minute`
    /// when early closes are listed (the minute is ignored otherwise), and no date listed twice
    /// in `holidays` or in `early_closes` (their order does not matter). A date in both lists is
    /// allowed: it is a holiday.
    pub fn validate(&self) -> Result<(), SessionError> {
        if self.weekday_mask == 0 || self.weekday_mask >= 0x80 {
            return Err(SessionError::WeekdayMask);
        }
        if self.open_minute >= self.close_minute {
            return Err(SessionError::OpenNotBeforeClose);
        }
        if self.close_minute > 1_440 {
            return Err(SessionError::CloseAfterMidnight);
        }
        let inside =
            self.open_minute < self.early_close_minute && self.early_close_minute < self.close_minute;
        if !self.early_closes.is_empty() && !inside {
            return Err(SessionError::EarlyCloseOutsideSession);
        }
        if let Some(d) = first_duplicate(self.holidays) {
            return Err(SessionError::DuplicateHoliday(d));
        }
        if let Some(d) = first_duplicate(self.early_closes) {
            return Err(SessionError::DuplicateEarlyClose(d));
        }
        Ok(())
    }

    /// The local closing minute on local date `day`, or `None` if the market does not trade
    /// that day (weekday not in the mask, or a holiday).
    fn close_minute_on(&self, day: u64) -> Option<u16> {
        let date = day as u32;
        if self.weekday_mask >> weekday(day) & 1 == 0 || self.holidays.contains(&date) {
            return None;
        }
        Some(if self.early_closes.contains(&date) {
            self.early_close_minute.min(self.close_minute)
        } else {
            self.close_minute
        })
    }

    /// Unix time of the latest session close at or before `now` (looking back at most 31 days),
    /// or `None` if there was none. A half-day's close is its early close.
    pub fn last_close(&self, now: i64) -> Option<u64> {
        let now = now.max(0) as u64;
        let today = new_york_local(now) / DAY;
        (0..=31u64).filter_map(|back| today.checked_sub(back)).find_map(|day| {
            let close = utc_of_local(day * DAY + self.close_minute_on(day)? as u64 * 60);
            (close <= now).then_some(close)
        })
    }

    /// Whether the session is open at unix time `now`.
    pub fn is_open(&self, now: i64) -> bool {
        let local = new_york_local(now.max(0) as u64);
        let (day, minute) = (local / DAY, (local % DAY) / 60);
        minute >= self.open_minute as u64
            && minute < self.close_minute as u64
            && self.close_minute_on(day).is_some_and(|close| minute < close as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Unix seconds of a UTC date and time.
    fn utc(y: u64, m: u64, d: u64, hh: u64, mm: u64) -> i64 {
        (days_from_civil(y, m, d) * DAY + hh * 3_600 + mm * 60) as i64
    }

    const NYSE: Session = Session {
        weekday_mask: 0b0111110,
        open_minute: 570,
        close_minute: 960,
        holidays: &[],
        early_closes: &[],
        early_close_minute: 780,
    };

    /// Local date (days since 1970-01-01) as stored in `holidays` / `early_closes`.
    fn date(y: u64, m: u64, d: u64) -> u32 {
        days_from_civil(y, m, d) as u32
    }

    #[test]
    fn calendar_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 11, 21), 20_778);
        assert_eq!(civil_from_days(20_778), (2026, 11, 21));
        assert_eq!(weekday(20_778), 6, "2026-11-21 is a Saturday");
        for days in (0..80_000).step_by(13) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn daylight_saving_switches_on_the_right_utc_minute() {
        // 2026: Sunday March 8 at 07:00 UTC, Sunday November 1 at 06:00 UTC.
        assert_eq!(dst_bounds(2026), (utc(2026, 3, 8, 7, 0) as u64, utc(2026, 11, 1, 6, 0) as u64));
        // 2025: March 9 and November 2; 2027: March 14 and November 7.
        assert_eq!(dst_bounds(2025), (utc(2025, 3, 9, 7, 0) as u64, utc(2025, 11, 2, 6, 0) as u64));
        assert_eq!(dst_bounds(2027), (utc(2027, 3, 14, 7, 0) as u64, utc(2027, 11, 7, 6, 0) as u64));
        let local = |t: i64| new_york_local(t as u64);
        assert_eq!(local(utc(2026, 3, 8, 6, 59)), utc(2026, 3, 8, 1, 59) as u64, "EST until 07:00 UTC");
        assert_eq!(local(utc(2026, 3, 8, 7, 0)), utc(2026, 3, 8, 3, 0) as u64, "02:00 jumps to 03:00");
        assert_eq!(local(utc(2026, 11, 1, 5, 59)), utc(2026, 11, 1, 1, 59) as u64, "EDT until 06:00 UTC");
        assert_eq!(local(utc(2026, 11, 1, 6, 0)), utc(2026, 11, 1, 1, 0) as u64, "02:00 falls back to 01:00");
    }

    #[test]
    fn the_session_follows_new_york_time() {
        // Tuesday 2026-11-17 at 15:00 New York (EST) = 20:00 UTC: open.
        assert!(NYSE.is_open(utc(2026, 11, 17, 20, 0)));
        // 09:30 EST opens at 14:30 UTC; the same 09:30 in summer (EDT) is 13:30 UTC.
        assert!(!NYSE.is_open(utc(2026, 11, 17, 14, 29)) && NYSE.is_open(utc(2026, 11, 17, 14, 30)));
        assert!(!NYSE.is_open(utc(2026, 7, 14, 13, 29)) && NYSE.is_open(utc(2026, 7, 14, 13, 30)));
        // Across the March switch: Friday March 6 opens 14:30 UTC, Monday March 9 at 13:30 UTC.
        assert!(!NYSE.is_open(utc(2026, 3, 6, 14, 29)) && NYSE.is_open(utc(2026, 3, 6, 14, 30)));
        assert!(!NYSE.is_open(utc(2026, 3, 9, 13, 29)) && NYSE.is_open(utc(2026, 3, 9, 13, 30)));
        // Closes at 16:00 local; Saturday and Sunday closed.
        assert!(NYSE.is_open(utc(2026, 11, 17, 20, 59)) && !NYSE.is_open(utc(2026, 11, 17, 21, 0)));
        assert!(!NYSE.is_open(utc(2026, 11, 21, 15, 0)) && !NYSE.is_open(utc(2026, 11, 22, 15, 0)));
        // A holiday (Thanksgiving, Thursday 2026-11-26) is closed all day.
        let holidays = [days_from_civil(2026, 11, 26) as u32];
        let with_holiday = Session { holidays: &holidays, ..NYSE };
        assert!(NYSE.is_open(utc(2026, 11, 26, 16, 0)) && !with_holiday.is_open(utc(2026, 11, 26, 16, 0)));
    }

    #[test]
    fn the_last_close_is_the_latest_trading_day_at_16_00_local() {
        let close = |t: i64| NYSE.last_close(t).map(|c| c as i64);
        // Saturday 2026-11-21: Friday's close, 21:00 UTC (EST).
        assert_eq!(close(utc(2026, 11, 21, 15, 0)), Some(utc(2026, 11, 20, 21, 0)));
        // Monday before the open: still Friday's.
        assert_eq!(close(utc(2026, 11, 23, 14, 0)), Some(utc(2026, 11, 20, 21, 0)));
        // A summer Saturday: Friday 20:00 UTC (EDT).
        assert_eq!(close(utc(2026, 7, 18, 12, 0)), Some(utc(2026, 7, 17, 20, 0)));
        // The day after Thanksgiving (a holiday): Wednesday's close.
        let holidays = [days_from_civil(2026, 11, 26) as u32];
        let with_holiday = Session { holidays: &holidays, ..NYSE };
        assert_eq!(
            with_holiday.last_close(utc(2026, 11, 27, 12, 0)).map(|c| c as i64),
            Some(utc(2026, 11, 25, 21, 0))
        );
    }

    #[test]
    fn a_half_day_closes_at_13_00_new_york() {
        // Friday 2026-11-27, the day after Thanksgiving: 13:00 EST = 18:00 UTC.
        assert_eq!(weekday(date(2026, 11, 27) as u64), 5, "a Friday");
        let (holidays, early) = ([date(2026, 11, 26)], [date(2026, 11, 27)]);
        let s = Session { holidays: &holidays, early_closes: &early, ..NYSE };
        assert!(s.validate().is_ok());
        assert!(!s.is_open(utc(2026, 11, 27, 14, 29)) && s.is_open(utc(2026, 11, 27, 14, 30)), "opens 09:30");
        assert!(s.is_open(utc(2026, 11, 27, 17, 59)), "12:59 open");
        assert!(!s.is_open(utc(2026, 11, 27, 18, 0)), "13:00 closed");
        assert!(!s.is_open(utc(2026, 11, 27, 18, 1)), "13:01 closed");
        assert!(!s.is_open(utc(2026, 11, 27, 18, 30)), "13:30 closed");
        assert!(!s.is_open(utc(2026, 11, 27, 21, 0)), "16:00 closed");
        // Without the early close the same minutes were open.
        assert!(Session { early_closes: &[], ..s }.is_open(utc(2026, 11, 27, 18, 30)));
        // The next trading day, Monday 2026-11-30, runs the full session.
        assert!(s.is_open(utc(2026, 11, 30, 18, 30)) && s.is_open(utc(2026, 11, 30, 20, 59)));
        assert!(!s.is_open(utc(2026, 11, 30, 21, 0)));
    }

    #[test]
    fn the_last_close_after_a_half_day_is_13_00() {
        let (holidays, early) = ([date(2026, 11, 26)], [date(2026, 11, 27)]);
        let s = Session { holidays: &holidays, early_closes: &early, ..NYSE };
        let close = |t: i64| s.last_close(t).map(|c| c as i64);
        // 13:00 EST on the half-day.
        let half_day_close = Some(utc(2026, 11, 27, 18, 0));
        // Before the early close: Wednesday's 16:00 (Thursday is Thanksgiving).
        assert_eq!(close(utc(2026, 11, 27, 17, 59)), Some(utc(2026, 11, 25, 21, 0)));
        // From 13:00 on, the half-day's own close.
        assert_eq!(close(utc(2026, 11, 27, 18, 0)), half_day_close);
        assert_eq!(close(utc(2026, 11, 27, 18, 30)), half_day_close, "13:30");
        assert_eq!(close(utc(2026, 11, 27, 21, 0)), half_day_close, "16:00, not a 16:00 close");
        assert_eq!(close(utc(2026, 11, 28, 1, 0)), half_day_close, "20:00 New York");
        assert_eq!(close(utc(2026, 11, 29, 15, 0)), half_day_close, "Sunday");
        assert_eq!(close(utc(2026, 11, 30, 14, 0)), half_day_close, "Monday 09:00 New York");
        // Monday closes normally at 16:00 EST.
        assert_eq!(close(utc(2026, 11, 30, 21, 0)), Some(utc(2026, 11, 30, 21, 0)));
    }

    #[test]
    fn christmas_eve_is_a_half_day() {
        // Thursday 2026-12-24 closes at 13:00 EST; Friday 2026-12-25 is a holiday.
        assert_eq!(weekday(date(2026, 12, 24) as u64), 4, "a Thursday");
        let (holidays, early) =
            ([date(2026, 11, 26), date(2026, 12, 25)], [date(2026, 11, 27), date(2026, 12, 24)]);
        let s = Session { holidays: &holidays, early_closes: &early, ..NYSE };
        assert!(s.is_open(utc(2026, 12, 24, 17, 59)) && !s.is_open(utc(2026, 12, 24, 18, 0)));
        assert!(!s.is_open(utc(2026, 12, 25, 17, 0)), "Christmas");
        for t in [utc(2026, 12, 24, 20, 0), utc(2026, 12, 26, 12, 0), utc(2026, 12, 28, 14, 0)] {
            assert_eq!(s.last_close(t).map(|c| c as i64), Some(utc(2026, 12, 24, 18, 0)));
        }
        // Wednesday 2026-12-23 is a normal day.
        assert!(s.is_open(utc(2026, 12, 23, 20, 59)));
        assert_eq!(s.last_close(utc(2026, 12, 24, 17, 0)).map(|c| c as i64), Some(utc(2026, 12, 23, 21, 0)));
    }

    #[test]
    fn a_summer_half_day_closes_at_13_00_edt() {
        // Thursday 2025-07-03 (the day before Independence Day, a Friday): 13:00 EDT = 17:00 UTC.
        assert_eq!(weekday(date(2025, 7, 3) as u64), 4, "a Thursday");
        let (holidays, early) = ([date(2025, 7, 4)], [date(2025, 7, 3)]);
        let s = Session { holidays: &holidays, early_closes: &early, ..NYSE };
        assert!(s.is_open(utc(2025, 7, 3, 13, 30)), "09:30 EDT");
        // 12:59 EDT open, 13:00 EDT closed (at 17:00 UTC it would still be 12:00 EST).
        assert!(s.is_open(utc(2025, 7, 3, 16, 59)) && !s.is_open(utc(2025, 7, 3, 17, 0)));
        for t in [utc(2025, 7, 3, 17, 0), utc(2025, 7, 4, 15, 0), utc(2025, 7, 7, 13, 0)] {
            assert_eq!(s.last_close(t).map(|c| c as i64), Some(utc(2025, 7, 3, 17, 0)));
        }
    }

    #[test]
    fn a_date_both_holiday_and_early_close_is_a_holiday() {
        // Friday 2026-07-03 (Independence Day observed) listed in both lists: closed all day.
        let both = [date(2026, 7, 3)];
        let s = Session { holidays: &both, early_closes: &both, ..NYSE };
        assert!(s.validate().is_ok());
        assert!(!s.is_open(utc(2026, 7, 3, 14, 0)), "10:00 EDT");
        assert!(!s.is_open(utc(2026, 7, 3, 16, 59)), "12:59 EDT");
        // No 13:00 close that day: the last close is Thursday's 16:00 EDT.
        for t in [utc(2026, 7, 3, 17, 0), utc(2026, 7, 3, 22, 0), utc(2026, 7, 6, 12, 0)] {
            assert_eq!(s.last_close(t).map(|c| c as i64), Some(utc(2026, 7, 2, 20, 0)));
        }
    }

    #[test]
    fn an_early_close_never_extends_the_session() {
        // Not a valid schedule, but defined: the close is min(early close, close).
        let early = [date(2026, 11, 27)];
        let s = Session { early_closes: &early, early_close_minute: 1_000, ..NYSE };
        assert_eq!(s.validate(), Err(SessionError::EarlyCloseOutsideSession));
        assert!(s.is_open(utc(2026, 11, 27, 20, 59)) && !s.is_open(utc(2026, 11, 27, 21, 30)));
        assert_eq!(s.last_close(utc(2026, 11, 27, 22, 0)).map(|c| c as i64), Some(utc(2026, 11, 27, 21, 0)));
    }

    #[test]
    fn validation_rejects_each_bad_schedule() {
        let (hol, early) =
            ([date(2026, 11, 26), date(2026, 12, 25)], [date(2026, 11, 27), date(2026, 12, 24)]);
        let ok = Session { holidays: &hol, early_closes: &early, ..NYSE };
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(NYSE.validate(), Ok(()));
        // Order does not matter; a full-day session to midnight is fine.
        let (hol_rev, early_rev) = ([hol[1], hol[0]], [early[1], early[0]]);
        assert_eq!(Session { holidays: &hol_rev, early_closes: &early_rev, ..ok }.validate(), Ok(()));
        assert_eq!(Session { open_minute: 0, close_minute: 1_440, ..NYSE }.validate(), Ok(()));
        // Without early closes the early-close minute is not checked.
        assert_eq!(Session { early_close_minute: 0, ..NYSE }.validate(), Ok(()));

        let err = |s: Session| s.validate().unwrap_err();
        assert_eq!(err(Session { weekday_mask: 0, ..ok }), SessionError::WeekdayMask);
        assert_eq!(err(Session { weekday_mask: 0x80 | 0b0111110, ..ok }), SessionError::WeekdayMask);
        assert_eq!(err(Session { open_minute: 960, ..ok }), SessionError::OpenNotBeforeClose);
        assert_eq!(err(Session { open_minute: 961, ..ok }), SessionError::OpenNotBeforeClose);
        assert_eq!(err(Session { close_minute: 1_441, ..ok }), SessionError::CloseAfterMidnight);
        for minute in [0, 569, 570, 960, 961] {
            assert_eq!(
                err(Session { early_close_minute: minute, ..ok }),
                SessionError::EarlyCloseOutsideSession,
                "early close at minute {minute}"
            );
        }
        assert_eq!(Session { early_close_minute: 571, ..ok }.validate(), Ok(()));
        assert_eq!(Session { early_close_minute: 959, ..ok }.validate(), Ok(()));
        let dup_hol = [hol[0], hol[1], hol[0]];
        assert_eq!(err(Session { holidays: &dup_hol, ..ok }), SessionError::DuplicateHoliday(hol[0]));
        let dup_early = [early[1], early[1]];
        assert_eq!(
            err(Session { early_closes: &dup_early, ..ok }),
            SessionError::DuplicateEarlyClose(early[1])
        );
    }

    /// The schedule logic before early closes, kept to check that nothing else changed.
    fn old_last_close(mask: u8, close_minute: u16, holidays: &[u32], now: i64) -> Option<u64> {
        let now = now.max(0) as u64;
        let today = new_york_local(now) / DAY;
        (0..=31u64).filter_map(|back| today.checked_sub(back)).find_map(|day| {
            let trading = mask >> weekday(day) & 1 == 1 && !holidays.contains(&(day as u32));
            let close = utc_of_local(day * DAY + close_minute as u64 * 60);
            (trading && close <= now).then_some(close)
        })
    }

    fn old_is_open(mask: u8, open_minute: u16, close_minute: u16, holidays: &[u32], now: i64) -> bool {
        let local = new_york_local(now.max(0) as u64);
        let (day, minute) = (local / DAY, (local % DAY) / 60);
        mask >> weekday(day) & 1 == 1
            && (open_minute as u64..close_minute as u64).contains(&minute)
            && !holidays.contains(&(day as u32))
    }

    /// A valid random schedule and a time in 2020–2035; the listed dates are within 40 days
    /// before the time, so they fall inside `last_close`'s look-back.
    fn schedule() -> impl Strategy<Value = (u8, u16, u16, i64, Vec<u64>, Vec<u64>, u16)> {
        (1u8..0x80, 0u16..1_440, 1u16..=1_440)
            .prop_filter("open before close", |(_, o, c)| o < c)
            .prop_flat_map(|(mask, open, close)| {
                (
                    Just(mask),
                    Just(open),
                    Just(close),
                    utc(2020, 1, 1, 0, 0)..utc(2036, 1, 1, 0, 0),
                    prop::collection::vec(0u64..40, 0..6),
                    prop::collection::vec(0u64..40, 0..6),
                    open + 1..close.max(open + 2),
                )
            })
    }

    fn dates_before(now: i64, backs: &[u64]) -> Vec<u32> {
        let today = new_york_local(now as u64) / DAY;
        backs.iter().map(|b| (today - b) as u32).collect()
    }

    proptest! {
        /// Without early closes (whatever the early-close minute), the schedule is the old one.
        #[test]
        fn without_early_closes_nothing_changes((mask, open, close, now, hol, _, early_minute) in schedule()) {
            let holidays = dates_before(now, &hol);
            let s = Session {
                weekday_mask: mask,
                open_minute: open,
                close_minute: close,
                holidays: &holidays,
                early_closes: &[],
                early_close_minute: early_minute,
            };
            prop_assert_eq!(s.is_open(now), old_is_open(mask, open, close, &holidays, now));
            prop_assert_eq!(s.last_close(now), old_last_close(mask, close, &holidays, now));
        }

        /// An early close at (or after) the close minute is no early close.
        #[test]
        fn an_early_close_at_the_close_is_no_early_close((mask, open, close, now, hol, early, extra) in schedule()) {
            let (holidays, early) = (dates_before(now, &hol), dates_before(now, &early));
            let s = Session {
                weekday_mask: mask,
                open_minute: open,
                close_minute: close,
                holidays: &holidays,
                early_closes: &early,
                early_close_minute: close.saturating_add(extra % 3),
            };
            prop_assert_eq!(s.is_open(now), old_is_open(mask, open, close, &holidays, now));
            prop_assert_eq!(s.last_close(now), old_last_close(mask, close, &holidays, now));
        }

        /// A valid early close only shortens listed days: a listed day is open exactly while the
        /// full session is and the early close has not passed, and from the early close on its
        /// last close is that day's early close; a day not listed is unchanged.
        #[test]
        fn early_closes_only_shorten_listed_days((mask, open, close, now, hol, early, early_minute) in schedule()) {
            let (holidays, mut early) = (dates_before(now, &hol), dates_before(now, &early));
            let local = new_york_local(now as u64);
            let (today, minute) = (local / DAY, (local % DAY) / 60);
            if now % 2 == 0 && !early.contains(&(today as u32)) {
                early.push(today as u32); // half the cases list today
            }
            let s = Session {
                weekday_mask: mask,
                open_minute: open,
                close_minute: close,
                holidays: &holidays,
                early_closes: &early,
                early_close_minute: early_minute,
            };
            prop_assume!(s.validate().is_ok());
            let full = Session { early_closes: &[], ..s };
            if !early.contains(&(today as u32)) {
                prop_assert_eq!(s.is_open(now), full.is_open(now));
            } else {
                prop_assert_eq!(s.is_open(now), full.is_open(now) && minute < early_minute as u64);
                if full.is_open(now) && minute >= early_minute as u64 {
                    let close = utc_of_local(today * DAY + early_minute as u64 * 60);
                    prop_assert_eq!(s.last_close(now), Some(close));
                }
            }
        }
    }
}
