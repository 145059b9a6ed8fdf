//! Token amounts as people write them ("1.5") and as the program counts them (base units).

/// Base units of `text` for a token with `decimals`: "1.5" with 6 decimals is 1 500 000; `all`
/// and `max` mean `u64::MAX` (the program's "everything"). More decimals than the token has, or an
/// amount past `u64`, is an error.
pub fn parse_amount(text: &str, decimals: u8) -> Result<u64, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("all") || t.eq_ignore_ascii_case("max") {
        return Ok(u64::MAX);
    }
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() && frac.is_empty() || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err(format!("`{text}` is not an amount"));
    }
    if frac.len() > decimals as usize {
        return Err(format!("`{text}` has more than {decimals} decimals"));
    }
    let scale = 10u128.pow(decimals as u32);
    let whole: u128 =
        if whole.is_empty() { 0 } else { whole.parse().map_err(|_| format!("`{text}` is too large"))? };
    let frac: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>().unwrap() * 10u128.pow((decimals as usize - frac.len()) as u32)
    };
    let units =
        whole.checked_mul(scale).and_then(|w| w.checked_add(frac)).ok_or(format!("`{text}` is too large"))?;
    u64::try_from(units).map_err(|_| format!("`{text}` is too large"))
}

/// `units` base units written with `decimals` decimals ("1.500000").
pub fn format_amount(units: u64, decimals: u8) -> String {
    if decimals == 0 {
        return units.to_string();
    }
    let scale = 10u64.pow(decimals as u32);
    format!("{}.{:0width$}", units / scale, units % scale, width = decimals as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip() {
        assert_eq!(parse_amount("1.5", 6), Ok(1_500_000));
        assert_eq!(parse_amount("0.000001", 6), Ok(1));
        assert_eq!(parse_amount("42", 0), Ok(42));
        assert_eq!(parse_amount(".5", 1), Ok(5));
        assert_eq!(parse_amount("all", 9), Ok(u64::MAX));
        assert!(parse_amount("1.0000001", 6).is_err());
        assert!(parse_amount("-1", 6).is_err());
        assert!(parse_amount("1e3", 6).is_err());
        assert!(parse_amount("18446744073709551616", 0).is_err());
        assert_eq!(format_amount(1_500_000, 6), "1.500000");
        assert_eq!(format_amount(7, 0), "7");
    }
}
