//! Market history files: bars of real prices and volumes, checked as they load. A file the lab
//! cannot trust (a missing column, rows out of order, a gap longer than its resolution allows, a
//! bar whose high is below its low) is refused with its path and line, never repaired.
use std::fmt;
use std::path::{Path, PathBuf};

use ballast_risk::session::days_from_civil;

/// One bar: the first second it covers (unix, UTC) and its prices and traded volume (base
/// units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub time: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// How often a file has a bar, and the longest gap it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// `timestamp,open,high,low,close,volume`, unix seconds on whole minutes. Minutes without
    /// trades may be missing (the price holds), at most [`MAX_MINUTE_GAP_SECS`] in a row.
    Minute,
    /// The same with a bar every five minutes (a file named `*-5m.csv`), gaps of at most
    /// [`MAX_MINUTE_GAP_SECS`] too.
    FiveMinute,
    /// `date,open,high,low,close,volume`, `YYYY-MM-DD`, trading days only: weekends and
    /// holidays are gaps of at most [`MAX_DAILY_GAP_SECS`].
    Daily,
}

/// The longest run of missing minutes a minute file may have: a quarter of an hour.
pub const MAX_MINUTE_GAP_SECS: i64 = 15 * 60;
/// The longest gap between trading days: a long weekend with a holiday on each side.
pub const MAX_DAILY_GAP_SECS: i64 = 5 * 86_400;

impl Resolution {
    /// The resolution a history file's name says: `*-5m.csv` five-minute bars, `*-daily.csv`
    /// trading days, else minutes.
    pub fn of_file(file: &Path) -> Self {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with("-5m.csv") {
            Resolution::FiveMinute
        } else if name.ends_with("-daily.csv") {
            Resolution::Daily
        } else {
            Resolution::Minute
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Resolution::Minute => "1 min",
            Resolution::FiveMinute => "5 min",
            Resolution::Daily => "1 day",
        }
    }

    pub fn step_secs(self) -> i64 {
        match self {
            Resolution::Minute => 60,
            Resolution::FiveMinute => 300,
            Resolution::Daily => 86_400,
        }
    }

    fn time_column(self) -> &'static str {
        match self {
            Resolution::Minute | Resolution::FiveMinute => "timestamp",
            Resolution::Daily => "date",
        }
    }

    fn max_gap_secs(self) -> i64 {
        match self {
            Resolution::Minute | Resolution::FiveMinute => MAX_MINUTE_GAP_SECS,
            Resolution::Daily => MAX_DAILY_GAP_SECS,
        }
    }
}

/// A refused data file: which file, which line (1 is the header), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for DataError {}

/// A file's bars, in time order.
#[derive(Debug, Clone)]
pub struct History {
    pub file: PathBuf,
    pub resolution: Resolution,
    pub bars: Vec<Bar>,
    /// Bars the file leaves out inside its span (minutes without trades; for daily files,
    /// weekdays without a bar are not counted: holidays).
    pub missing: usize,
}

const COLUMNS: [&str; 5] = ["open", "high", "low", "close", "volume"];

/// Unix seconds of `YYYY-MM-DD` 00:00 UTC.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (u64, u64, u64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1970..=2100).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d) as i64 * 86_400)
}

/// `YYYY-MM-DD HH:MM` UTC of unix second `t`, for messages and tables.
pub fn format_time(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = ballast_risk::session::civil_from_days(days as u64);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// Reads `file` (see [`Resolution`] for the columns). Extra columns are ignored; rows are
/// separated by newlines and fields by commas.
pub fn load(file: &Path, resolution: Resolution) -> Result<History, DataError> {
    let text = std::fs::read_to_string(file).map_err(|e| DataError {
        file: file.to_path_buf(),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(file, &text, resolution)
}

/// [`load`] of `text` already read (`file` names it in errors).
pub fn parse(file: &Path, text: &str, resolution: Resolution) -> Result<History, DataError> {
    let error =
        |line: usize, message: String| DataError { file: file.to_path_buf(), line: Some(line), message };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let Some((_, header)) = lines.next() else {
        return Err(DataError { file: file.to_path_buf(), line: None, message: "the file is empty".into() });
    };
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let column = |name: &str| {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| error(1, format!("no column '{name}' (the header has: {})", names.join(", "))))
    };
    let time_at = column(resolution.time_column())?;
    let at: Vec<usize> = COLUMNS.iter().map(|c| column(c)).collect::<Result<_, _>>()?;
    let (step, max_gap) = (resolution.step_secs(), resolution.max_gap_secs());
    let mut bars: Vec<Bar> = Vec::new();
    let mut missing = 0usize;
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != names.len() {
            return Err(error(n, format!("{} fields, the header has {}", fields.len(), names.len())));
        }
        let time = match resolution {
            Resolution::Minute | Resolution::FiveMinute => {
                fields[time_at].parse::<i64>().ok().filter(|t| *t > 0)
            }
            Resolution::Daily => parse_date(fields[time_at]),
        }
        .ok_or_else(|| error(n, format!("'{}' is not a {}", fields[time_at], resolution.time_column())))?;
        if time % step != 0 {
            return Err(error(
                n,
                format!("timestamp {time} is not on a bar boundary ({})", resolution.label()),
            ));
        }
        let mut v = [0f64; 5];
        for (k, &i) in at.iter().enumerate() {
            v[k] = fields[i].parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0).ok_or_else(|| {
                error(n, format!("column '{}': '{}' is not a number ≥ 0", COLUMNS[k], fields[i]))
            })?;
        }
        let [open, high, low, close, volume] = v;
        if low <= 0.0 || high < open.max(close) || low > open.min(close) {
            return Err(error(
                n,
                format!("not a bar: open {open}, high {high}, low {low}, close {close} (0 < low ≤ open, close ≤ high)"),
            ));
        }
        if let Some(prev) = bars.last() {
            if time <= prev.time {
                return Err(error(
                    n,
                    format!(
                        "{} is not after the row before ({}): rows must be sorted by time, without duplicates",
                        format_time(time),
                        format_time(prev.time)
                    ),
                ));
            }
            let gap = time - prev.time;
            if gap > max_gap {
                return Err(error(
                    n,
                    format!(
                        "a gap of {} min after {} UTC (at most {} min allowed)",
                        gap / 60,
                        format_time(prev.time),
                        max_gap / 60
                    ),
                ));
            }
            if resolution != Resolution::Daily {
                missing += (gap / step - 1) as usize;
            }
        }
        bars.push(Bar { time, open, high, low, close, volume });
    }
    if bars.is_empty() {
        return Err(DataError {
            file: file.to_path_buf(),
            line: None,
            message: "no rows after the header".into(),
        });
    }
    Ok(History { file: file.to_path_buf(), resolution, bars, missing })
}

impl History {
    /// The bar covering unix second `t` (the last one starting at or before it), if any.
    pub fn bar_at(&self, t: i64) -> Option<&Bar> {
        let i = self.bars.partition_point(|b| b.time <= t);
        i.checked_sub(1).map(|i| &self.bars[i])
    }

    pub fn first_time(&self) -> i64 {
        self.bars[0].time
    }

    /// The second after the last bar ends.
    pub fn end_time(&self) -> i64 {
        self.bars[self.bars.len() - 1].time + self.resolution.step_secs()
    }

    /// The index of the bar covering `t`, if any.
    pub fn index_at(&self, t: i64) -> Option<usize> {
        self.bars.partition_point(|b| b.time <= t).checked_sub(1)
    }

    /// Undoes a split-adjustment: the bars before `from` as traded, per share before a split of
    /// `ratio` new shares for one old that takes effect at `from` (prices × ratio, volume ÷
    /// ratio). Files adjusted for splits (Yahoo's "Close" basis) divide the earlier bars by the
    /// ratio; the oracle of the day published the per-share price as traded.
    pub fn undo_split(&mut self, from: i64, ratio: f64) {
        for bar in self.bars.iter_mut().take_while(|b| b.time < from) {
            bar.open *= ratio;
            bar.high *= ratio;
            bar.low *= ratio;
            bar.close *= ratio;
            bar.volume /= ratio;
        }
    }

    /// Volume traded in `[from, to)` (bars starting there).
    pub fn volume_between(&self, from: i64, to: i64) -> f64 {
        let a = self.bars.partition_point(|b| b.time < from);
        let b = self.bars.partition_point(|b| b.time < to);
        self.bars[a..b].iter().map(|b| b.volume).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(text: &str) -> Result<History, DataError> {
        parse(Path::new("data/x.csv"), text, Resolution::Minute)
    }

    const HEADER: &str = "timestamp,open,high,low,close,volume\n";

    #[test]
    fn a_good_file_loads_with_its_missing_minutes_counted() {
        let h =
            minute(&format!("{HEADER}60,10,11,9,10.5,3\n120,10.5,12,10,11,4\n300,11,11,10,10,1\n")).unwrap();
        assert_eq!(h.bars.len(), 3);
        assert_eq!(h.missing, 2);
        assert_eq!(h.bar_at(130).unwrap().time, 120);
        assert_eq!(h.bar_at(59), None);
        assert_eq!(h.volume_between(60, 300), 7.0);
    }

    #[test]
    fn bad_files_are_refused_with_their_file_and_line() {
        let e = minute("timestamp,open,high,low,volume\n60,1,1,1,1\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "data/x.csv:1: no column 'close' (the header has: timestamp, open, high, low, volume)"
        );
        let e = minute(&format!("{HEADER}120,1,1,1,1,1\n60,1,1,1,1,1\n")).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("must be sorted"), "{e}");
        let e = minute(&format!("{HEADER}60,1,1,1,1,1\n60,1,1,1,1,1\n")).unwrap_err();
        assert!(e.message.contains("without duplicates"), "{e}");
        let e = minute(&format!("{HEADER}60,1,1,1,1,1\n{},1,1,1,1,1\n", 60 + 16 * 60)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "data/x.csv:3: a gap of 16 min after 1970-01-01 00:01 UTC (at most 15 min allowed)"
        );
        let e = minute(&format!("{HEADER}60,1,0.5,1,1,1\n")).unwrap_err();
        assert!(e.message.starts_with("not a bar"), "{e}");
        let e = minute(&format!("{HEADER}60,1,1,1,x,1\n")).unwrap_err();
        assert_eq!(e.to_string(), "data/x.csv:2: column 'close': 'x' is not a number ≥ 0");
        let e = minute(&format!("{HEADER}61,1,1,1,1,1\n")).unwrap_err();
        assert_eq!(e.message, "timestamp 61 is not on a bar boundary (1 min)");
        let e = parse(Path::new("x-5m.csv"), &format!("{HEADER}360,1,1,1,1,1\n"), Resolution::FiveMinute)
            .unwrap_err();
        assert_eq!(e.message, "timestamp 360 is not on a bar boundary (5 min)");
        assert_eq!(Resolution::of_file(Path::new("d/sol-2022-11-5m.csv")), Resolution::FiveMinute);
        assert_eq!(Resolution::of_file(Path::new("d/sol-2021-05-19.csv")), Resolution::Minute);
        assert_eq!(Resolution::of_file(Path::new("d/tsla-2020-03-daily.csv")), Resolution::Daily);
        let e = minute(&format!("{HEADER}60,1,1,1,1\n")).unwrap_err();
        assert_eq!(e.message, "5 fields, the header has 6");
        assert_eq!(minute(HEADER).unwrap_err().message, "no rows after the header");
    }

    #[test]
    fn daily_files_allow_weekends_but_not_a_missing_week() {
        let text = "date,open,high,low,close,volume\n2020-08-28,10,11,9,10,1\n2020-08-31,2.5,3,2,2.6,5\n";
        let h = parse(Path::new("d.csv"), text, Resolution::Daily).unwrap();
        assert_eq!(h.bars[1].time - h.bars[0].time, 3 * 86_400);
        let text = "date,open,high,low,close,volume\n2020-08-20,10,11,9,10,1\n2020-08-31,2.5,3,2,2.6,5\n";
        let e = parse(Path::new("d.csv"), text, Resolution::Daily).unwrap_err();
        assert!(e.message.starts_with("a gap of 15840 min"), "{e}");
        let e = parse(
            Path::new("d.csv"),
            "date,open,high,low,close,volume\n2020-13-01,1,1,1,1,1\n",
            Resolution::Daily,
        )
        .unwrap_err();
        assert_eq!(e.message, "'2020-13-01' is not a date");
    }
}
