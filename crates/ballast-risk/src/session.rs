//! US equity market sessions in New York time, computed from unix time on chain: the civil
//! calendar (Howard Hinnant's days-from-civil algorithm, unsigned since every date here is after
//! 1970) and the US daylight-saving rule (second Sunday of March, 02:00 local, to the first
//! Sunday of November, 02:00 local).

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
/// (local dates as days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session<'a> {
    pub weekday_mask: u8,
    pub open_minute: u16,
    pub close_minute: u16,
    pub holidays: &'a [u32],
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
    /// Unix time of the latest session close at or before `now` (looking back at most 31 days),
    /// or `None` if there was none.
    pub fn last_close(&self, now: i64) -> Option<u64> {
        let now = now.max(0) as u64;
        let today = new_york_local(now) / DAY;
        (0..=31u64).filter_map(|back| today.checked_sub(back)).find_map(|day| {
            let trading =
                self.weekday_mask >> weekday(day) & 1 == 1 && !self.holidays.contains(&(day as u32));
            let close = utc_of_local(day * DAY + self.close_minute as u64 * 60);
            (trading && close <= now).then_some(close)
        })
    }

    /// Whether the session is open at unix time `now`.
    pub fn is_open(&self, now: i64) -> bool {
        let local = new_york_local(now.max(0) as u64);
        let (day, minute) = (local / DAY, (local % DAY) / 60);
        self.weekday_mask >> weekday(day) & 1 == 1
            && (self.open_minute as u64..self.close_minute as u64).contains(&minute)
            && !self.holidays.contains(&(day as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix seconds of a UTC date and time.
    fn utc(y: u64, m: u64, d: u64, hh: u64, mm: u64) -> i64 {
        (days_from_civil(y, m, d) * DAY + hh * 3_600 + mm * 60) as i64
    }

    const NYSE: Session =
        Session { weekday_mask: 0b0111110, open_minute: 570, close_minute: 960, holidays: &[] };

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
}
