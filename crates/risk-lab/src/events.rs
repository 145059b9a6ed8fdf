//! The events the lab replays: `data/history/events.toml` names each window and its files.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::data::{self, DataError, History, Resolution};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(rename = "event")]
    events: Vec<EventEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventEntry {
    id: String,
    title: String,
    /// Positions open over `[warm_up, start)` (dates, UTC midnight).
    warm_up: String,
    start: String,
    end: String,
    /// Asset symbol → bar file, relative to the manifest (`*-5m.csv`: five-minute bars).
    files: BTreeMap<String, String>,
    /// Splits inside the window (the files are split-adjusted, as Yahoo publishes them).
    #[serde(default)]
    splits: Vec<SplitEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SplitEntry {
    asset: String,
    /// The first trading day on the new shares.
    date: String,
    /// New shares per old share (a reverse split is below 1).
    ratio: f64,
}

/// A split inside an event's window.
#[derive(Debug, Clone)]
pub struct Split {
    pub asset: String,
    /// The opening bell of the first trading day on the new shares (unix seconds).
    pub at: i64,
    pub ratio: f64,
    /// The file as shipped (adjusted: one price scale throughout), for the replay without the
    /// split that the split's replay is held against.
    pub adjusted: History,
}

/// One event: its window and each asset's history.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub title: String,
    pub warm_up: i64,
    pub start: i64,
    pub end: i64,
    /// Each asset's price per share as traded (a split inside the window undone).
    pub assets: BTreeMap<String, History>,
    pub splits: Vec<Split>,
}

impl Event {
    pub fn split_of(&self, asset: &str) -> Option<&Split> {
        self.splits.iter().find(|s| s.asset == asset)
    }
}

/// Reads the manifest at `path` and every file it names; `only` keeps just those event ids
/// (all when empty). A file that does not cover its event's window is refused by name.
pub fn load(path: &Path, only: &[String]) -> Result<Vec<Event>, DataError> {
    let refuse = |line: Option<usize>, message: String| DataError { file: path.to_path_buf(), line, message };
    let text = std::fs::read_to_string(path).map_err(|e| refuse(None, format!("cannot read: {e}")))?;
    let manifest: Manifest = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
        refuse(line, e.message().to_string())
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for entry in manifest.events {
        if !only.is_empty() && !only.contains(&entry.id) {
            continue;
        }
        let date = |text: &str, what: &str| {
            data::parse_date(text).ok_or_else(|| {
                refuse(None, format!("event {}: {what} '{text}' is not a date (YYYY-MM-DD)", entry.id))
            })
        };
        let (warm_up, start, end) =
            (date(&entry.warm_up, "warm_up")?, date(&entry.start, "start")?, date(&entry.end, "end")?);
        if !(warm_up < start && start < end) {
            return Err(refuse(None, format!("event {}: needs warm_up < start < end", entry.id)));
        }
        let mut assets = BTreeMap::new();
        for (symbol, file) in &entry.files {
            let file: PathBuf = dir.join(file);
            let history = data::load(&file, Resolution::of_file(&file))?;
            if history.first_time() > warm_up || history.end_time() < end {
                return Err(DataError {
                    file: file.clone(),
                    line: None,
                    message: format!(
                        "covers {} to {} UTC, event {} needs {} to {}",
                        data::format_time(history.first_time()),
                        data::format_time(history.end_time()),
                        entry.id,
                        data::format_time(warm_up),
                        data::format_time(end)
                    ),
                });
            }
            assets.insert(symbol.clone(), history);
        }
        let mut splits = Vec::new();
        for split in &entry.splits {
            let what = format!("event {}: split of {} on {}", entry.id, split.asset, split.date);
            let day = date(&split.date, "split date")?;
            let history = assets
                .get_mut(&split.asset)
                .ok_or_else(|| refuse(None, format!("{what}: the event has no file for {}", split.asset)))?;
            if history.resolution != Resolution::Daily {
                return Err(refuse(None, format!("{what}: splits take trading-day files (*-daily.csv)")));
            }
            if !(split.ratio.is_finite() && split.ratio > 0.0 && split.ratio != 1.0) {
                return Err(refuse(None, format!("{what}: ratio {} is not a split", split.ratio)));
            }
            let (at, _) = crate::paths::nyse_session(day);
            if !(start..end).contains(&at) || history.bar_at(at).is_none_or(|b| b.time != day) {
                return Err(refuse(
                    None,
                    format!("{what}: not a trading day of the file inside [start, end)"),
                ));
            }
            let adjusted = history.clone();
            history.undo_split(day, split.ratio);
            splits.push(Split { asset: split.asset.clone(), at, ratio: split.ratio, adjusted });
        }
        out.push(Event { id: entry.id, title: entry.title, warm_up, start, end, assets, splits });
    }
    if out.is_empty() {
        return Err(refuse(None, format!("no event matches {only:?}")));
    }
    Ok(out)
}
