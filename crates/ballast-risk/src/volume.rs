//! Rolling 24 h volume in hourly buckets (SPEC §5), and the insurance-pool target it sets.

/// Hourly buckets indexed by `unix_hour % 24`; `last_hour` is the newest hour written.
/// Unsigned arithmetic throughout: SBPF v0 has no signed division.
pub const BUCKETS: usize = 24;

/// The unix hour of `now` (times before 1970 count as hour 0).
pub fn hour_of(now: i64) -> u64 {
    now.max(0) as u64 / 3600
}

/// Clears the buckets of hours between `last_hour` (exclusive) and `hour` (inclusive) and moves
/// `last_hour` forward; a time earlier than `last_hour` changes nothing.
pub fn roll(buckets: &mut [u64; BUCKETS], last_hour: &mut u64, hour: u64) {
    if hour <= *last_hour {
        return;
    }
    if hour - *last_hour >= BUCKETS as u64 {
        *buckets = [0; BUCKETS];
    } else {
        for h in (*last_hour + 1)..=hour {
            buckets[(h % BUCKETS as u64) as usize] = 0;
        }
    }
    *last_hour = hour;
}

/// Adds `amount` to the bucket of unix time `now`.
pub fn record(buckets: &mut [u64; BUCKETS], last_hour: &mut u64, now: i64, amount: u64) {
    let hour = hour_of(now);
    roll(buckets, last_hour, hour);
    let b = &mut buckets[(hour % BUCKETS as u64) as usize];
    *b = b.saturating_add(amount);
}

/// The volume of the 24 hours ending at `now` (the current hour and the 23 before it).
pub fn volume_24h(buckets: &[u64; BUCKETS], last_hour: u64, now: i64) -> u64 {
    let total = |b: &[u64; BUCKETS]| b.iter().fold(0u64, |acc, v| acc.saturating_add(*v));
    let hour = hour_of(now);
    // Nothing has left the window since the newest flow (the usual case: an instruction that
    // just recorded one): the buckets as they are, without a copy to roll.
    if hour <= last_hour {
        return total(buckets);
    }
    let (mut b, mut last) = (*buckets, last_hour);
    roll(&mut b, &mut last, hour);
    total(&b)
}

/// `target_bps × volume / 10 000`, rounded up (the pool fills to at least the target).
pub fn pool_target(volume_24h: u64, target_bps: u16) -> u64 {
    // `div`: natively when the product fits 64 bits, never the 128-bit division helper.
    crate::fixed::div(volume_24h as u128 * target_bps as u128, 10_000, crate::fixed::Rounding::Up) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_older_than_a_day_drop_out() {
        let (mut b, mut last) = ([0u64; BUCKETS], 0u64);
        let t0 = 1_800_000_000; // 500 000 hours exactly: the start of an hour
        record(&mut b, &mut last, t0, 100);
        record(&mut b, &mut last, t0 + 3599, 50); // same hour
        record(&mut b, &mut last, t0 + 5 * 3600, 30);
        assert_eq!(volume_24h(&b, last, t0 + 5 * 3600), 180);
        assert_eq!(volume_24h(&b, last, t0 + 23 * 3600 + 3599), 180);
        assert_eq!(volume_24h(&b, last, t0 + 24 * 3600), 30, "hour 0 has left the window");
        assert_eq!(volume_24h(&b, last, t0 + 29 * 3600), 0);
        record(&mut b, &mut last, t0 + 100 * 3600, 7);
        assert_eq!(volume_24h(&b, last, t0 + 100 * 3600), 7);
    }

    #[test]
    fn target_is_two_percent_by_default() {
        assert_eq!(pool_target(11_200_013_288, 200), 224_000_266);
        assert_eq!(pool_target(0, 200), 0);
    }
}
