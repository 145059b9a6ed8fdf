//! PNG charts for the keeper benchmark and the risk lab.
//!
//! Two kinds of chart, each written straight to a PNG file:
//!
//! - [`line_chart`]: one line per [`Series`] (e.g. positions still liquidatable over time, one
//!   line per keeper count, or a price path), with optional [`Marker`]s: a labelled vertical line
//!   at an x (an event such as "second leg") or a labelled point.
//! - [`heat_map`]: a value over a 2-D grid of named rows and columns (e.g. bad debt over
//!   leverage cap × haircut), with a colour scale beside it.
//!
//! Everything is pure Rust: plotters draws into an RGB buffer, `ab_glyph` renders the text with
//! the DejaVu Sans font compiled into this crate (`fonts/`, licence beside it; see `glyphs.rs`),
//! and the `png` crate encodes the file. No system font, fontconfig or freetype is needed, so
//! the charts render the same, byte for byte, on a bare CI machine as on a developer's.
//!
//! Inputs are checked before anything is drawn: an empty chart, a series without points, a NaN
//! or infinite value, a ragged grid or a size too small to lay a chart out in is an `Err` with a
//! message naming the problem. A flat series or a grid of equal values gets a range around its
//! value rather than an empty one.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontTransform};

use glyphs::GlyphBackend;

mod glyphs;

/// A named line: `(x, y)` points joined in the order given (sort them by x for a time series).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Shown in the legend; a series with an empty name has no legend entry.
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// An annotation on a line chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Written beside the marker; may be empty.
    pub label: String,
    pub x: f64,
    /// `None`: a dashed vertical line across the whole plot at `x`, labelled in a band above
    /// the plot (never over the data). `Some(y)`: a dot at `(x, y)`, labelled above (or below)
    /// the lines next to it.
    pub y: Option<f64>,
}

/// What [`line_chart`] draws. An empty `title` leaves the title band out.
#[derive(Clone, Copy, Debug)]
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// At least one, each with at least one point. Lines take colours in order from a
    /// ten-colour palette (repeating after ten).
    pub series: &'a [Series],
    pub markers: &'a [Marker],
}

/// What [`heat_map`] draws: `values[row][column]`, row 0 at the bottom (like a y axis), column 0
/// at the left. `y_ticks` names the rows and `x_ticks` the columns, one name each.
#[derive(Clone, Copy, Debug)]
pub struct HeatMap<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_ticks: &'a [String],
    pub y_ticks: &'a [String],
    pub values: &'a [Vec<f64>],
    /// Names the colour scale (e.g. "bad debt (USDC)").
    pub value_label: &'a str,
}

/// Smallest accepted image size (width, height) in pixels: room for the labels.
pub const MIN_SIZE: (u32, u32) = (320, 200);
/// Largest accepted width or height in pixels.
pub const MAX_SIDE: u32 = 8192;

/// Draws `chart` as a `size.0` × `size.1` PNG at `path` (overwriting it).
///
/// The x range is the data's (and the markers'), the y range the data's with 5 % padding, kept at
/// or above 0 when every value is. Series with at most 25 points also get a dot on each point.
pub fn line_chart(path: &Path, chart: &LineChart, size: (u32, u32)) -> Result<(), String> {
    let rgb = render_line_chart(chart, size)?;
    write_png(path, size, &rgb)
}

/// Draws `charts` one above the other, each `size.0` × `size.1`, as one PNG at `path` (a figure
/// whose panels share a time axis but not a scale: a price over a pool's balance).
pub fn stacked_line_charts(path: &Path, charts: &[LineChart], size: (u32, u32)) -> Result<(), String> {
    if charts.is_empty() {
        return Err("stacked line charts: no chart".into());
    }
    let height = size.1.checked_mul(charts.len() as u32).filter(|h| *h <= MAX_SIDE);
    let height = height.ok_or_else(|| {
        format!("stacked line charts: {} panels of {}px are too tall", charts.len(), size.1)
    })?;
    let mut rgb = Vec::with_capacity((size.0 * height * 3) as usize);
    for chart in charts {
        rgb.extend(render_line_chart(chart, size)?);
    }
    write_png(path, (size.0, height), &rgb)
}

/// Draws `map` as a `size.0` × `size.1` PNG at `path` (overwriting it).
///
/// Colours follow a viridis-like scale from the smallest value (dark purple) to the largest
/// (yellow), shown as a labelled colour bar on the right; each cell is also labelled with its value when every label fits in its cell. When
/// there are more tick names than fit along an axis, every k-th is shown.
pub fn heat_map(path: &Path, map: &HeatMap, size: (u32, u32)) -> Result<(), String> {
    let rgb = render_heat_map(map, size)?;
    write_png(path, size, &rgb)
}

// ---------------------------------------------------------------------------------------------
// Shared plumbing

const BACKGROUND: RGBColor = RGBColor(255, 255, 255);
const INK: RGBColor = RGBColor(33, 33, 33);
const SOFT_INK: RGBColor = RGBColor(90, 90, 90);
const GRID: RGBColor = RGBColor(225, 225, 225);
const FRAME: RGBColor = RGBColor(150, 150, 150);

/// Qualitative palette for lines (the "tab10" colours).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn check_size(what: &str, (w, h): (u32, u32)) -> Result<(), String> {
    if w < MIN_SIZE.0 || h < MIN_SIZE.1 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(format!(
            "{what}: size {w}x{h} is outside {}x{} ..= {MAX_SIDE}x{MAX_SIDE}",
            MIN_SIZE.0, MIN_SIZE.1
        ));
    }
    Ok(())
}

fn draw_err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: drawing failed: {e}")
}

fn write_png(path: &Path, (w, h): (u32, u32), rgb: &[u8]) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| format!("writing {}: {e}", path.display()))?;
    writer.write_image_data(rgb).map_err(|e| format!("writing {}: {e}", path.display()))?;
    writer.finish().map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Font sizes and spacings, scaled with the image so a large chart is not all whitespace.
#[derive(Clone, Copy)]
struct Metrics {
    title: f64,
    label: f64,
    tick: f64,
    legend: f64,
    margin: i32,
}

impl Metrics {
    fn for_size((w, h): (u32, u32)) -> Self {
        let scale = (f64::from(w.min(h * 3 / 2)) / 800.0).clamp(0.7, 3.0);
        Metrics {
            title: 24.0 * scale,
            label: 18.0 * scale,
            tick: 15.0 * scale,
            legend: 16.0 * scale,
            margin: (14.0 * scale).round() as i32,
        }
    }
}

fn text_style(size: f64, color: RGBColor, pos: Pos) -> TextStyle<'static> {
    TextStyle {
        font: FontDesc::new(FontFamily::SansSerif, size, FontStyle::Normal),
        color: color.to_backend_color(),
        pos,
    }
}

fn rotated(style: TextStyle<'static>) -> TextStyle<'static> {
    TextStyle { font: style.font.transform(FontTransform::Rotate270), ..style }
}

type Area<'b> = DrawingArea<GlyphBackend<'b>, Shift>;

/// Width and height of `text` in pixels (0 × 0 for an empty string).
fn text_size(area: &Area, text: &str, style: &TextStyle) -> Result<(i32, i32), String> {
    if text.is_empty() {
        return Ok((0, 0));
    }
    let (w, h) = area.estimate_text_size(text, style).map_err(draw_err("measuring text"))?;
    Ok((w as i32, h as i32))
}

fn draw_text(area: &Area, text: &str, style: &TextStyle, at: (i32, i32)) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    area.draw_text(text, style, at).map_err(draw_err("text"))
}

/// Draws the title centred in a band at the top and returns the band's height (0 for no title).
fn draw_title(root: &Area, title: &str, m: &Metrics) -> Result<i32, String> {
    if title.is_empty() {
        return Ok(0);
    }
    let style = text_style(m.title, INK, Pos::new(HPos::Center, VPos::Center));
    let (_, h) = text_size(root, title, &style)?;
    let band = h + 2 * m.margin;
    let (w, _) = root.dim_in_pixel();
    draw_text(root, title, &style, (w as i32 / 2, m.margin + h / 2))?;
    Ok(band)
}

/// Decimal places that tell apart values `step` apart.
fn decimals_for(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    (-(step.log10().floor())).clamp(0.0, 9.0) as usize
}

/// Formats `v` for an axis whose ticks are `step` apart, with the same number of decimals on
/// every tick; large magnitudes get a k/M/B suffix.
fn format_number(v: f64, step: f64, magnitude: f64) -> String {
    let (div, suffix) = if magnitude >= 1e9 {
        (1e9, "B")
    } else if magnitude >= 1e6 {
        (1e6, "M")
    } else if magnitude >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let decimals = decimals_for(step / div);
    let mut s = format!("{:.*}", decimals, v / div);
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s.remove(0);
    }
    s.push_str(suffix);
    s
}

/// Multiples of `step` within `lo..=hi` (with a little tolerance for rounding).
fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let eps = step * 1e-9;
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).filter(|t| *t >= lo - eps && *t <= hi + eps).collect()
}

/// A linear f64 axis whose ticks (and grid lines) are exactly `ticks`, so every tick label can be
/// formatted with the same number of decimals.
#[derive(Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = (value - self.lo) / (self.hi - self.lo);
        let px = f64::from(limit.0) + t * f64::from(limit.1 - limit.0);
        px.round().clamp(-1e7, 1e7) as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// `text`, cut short with an ellipsis to at most `max_w` pixels wide.
fn fit_text(area: &Area, text: &str, style: &TextStyle, max_w: i32) -> Result<String, String> {
    if text_size(area, text, style)?.0 <= max_w {
        return Ok(text.to_string());
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let cut: String = chars.iter().collect::<String>().trim_end().to_string() + "…";
        if text_size(area, &cut, style)?.0 <= max_w {
            return Ok(cut);
        }
    }
    Ok(String::new())
}

/// A range to draw `lo..=hi` in: a flat range is widened around its value.
fn widen_flat(lo: f64, hi: f64) -> (f64, f64) {
    let span = hi - lo;
    if span > f64::EPSILON * lo.abs().max(hi.abs()).max(1.0) {
        return (lo, hi);
    }
    let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
    (lo - half, hi + half)
}

/// A "nice" tick step (1, 2 or 5 × 10^k) giving about `target` ticks over `span`.
fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

// ---------------------------------------------------------------------------------------------
// Line chart

fn validate_line_chart(chart: &LineChart) -> Result<(), String> {
    if chart.series.is_empty() {
        return Err("line chart: no series to draw".into());
    }
    for (i, s) in chart.series.iter().enumerate() {
        if s.points.is_empty() {
            return Err(format!("line chart: series {i} (\"{}\") has no points", s.name));
        }
        if let Some((j, p)) = s.points.iter().enumerate().find(|(_, p)| !(p.0.is_finite() && p.1.is_finite()))
        {
            return Err(format!(
                "line chart: series {i} (\"{}\") point {j} is not finite: ({}, {})",
                s.name, p.0, p.1
            ));
        }
    }
    for (i, mk) in chart.markers.iter().enumerate() {
        if !mk.x.is_finite() || mk.y.is_some_and(|y| !y.is_finite()) {
            return Err(format!("line chart: marker {i} (\"{}\") is not finite", mk.label));
        }
    }
    Ok(())
}

struct Ranges {
    x: (f64, f64),
    y: (f64, f64),
}

fn line_ranges(chart: &LineChart) -> Ranges {
    let points = chart.series.iter().flat_map(|s| s.points.iter().copied());
    let marker_points = chart.markers.iter().map(|mk| (mk.x, mk.y.unwrap_or(f64::NAN)));
    let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in points.chain(marker_points) {
        x_lo = x_lo.min(x);
        x_hi = x_hi.max(x);
        if y.is_finite() {
            y_lo = y_lo.min(y);
            y_hi = y_hi.max(y);
        }
    }
    let x = widen_flat(x_lo, x_hi);
    let (lo, hi) = widen_flat(y_lo, y_hi);
    let pad = (hi - lo) * 0.05;
    let mut y = (lo - pad, hi + pad);
    if y_lo >= 0.0 && y.0 < 0.0 {
        y.0 = 0.0;
    }
    Ranges { x, y }
}

fn render_line_chart(chart: &LineChart, size: (u32, u32)) -> Result<Vec<u8>, String> {
    check_size("line chart", size)?;
    validate_line_chart(chart)?;
    let ranges = line_ranges(chart);
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = GlyphBackend::with_buffer(&mut rgb, size)?.into_drawing_area();
        root.fill(&BACKGROUND).map_err(draw_err("line chart"))?;
        draw_line_chart(&root, chart, &ranges, &Metrics::for_size(size))?;
        root.present().map_err(draw_err("line chart"))?;
    }
    Ok(rgb)
}

fn draw_line_chart(root: &Area, chart: &LineChart, ranges: &Ranges, m: &Metrics) -> Result<(), String> {
    let title_band = draw_title(root, chart.title, m)?;
    let body = root.margin(title_band.max(m.margin), m.margin, m.margin, m.margin);

    // Legend panel on the right, outside the plot, so it never covers data.
    let legend_style = text_style(m.legend, INK, Pos::new(HPos::Left, VPos::Center));
    let swatch = (m.legend * 1.6) as i32;
    let gap = (m.legend * 0.5) as i32;
    let mut legend_w = 0;
    for s in chart.series.iter().filter(|s| !s.name.is_empty()) {
        legend_w = legend_w.max(text_size(root, &s.name, &legend_style)?.0);
    }
    let (body_w, _) = body.dim_in_pixel();
    let legend_panel =
        if legend_w > 0 { (swatch + 3 * gap + legend_w + m.margin).min(body_w as i32 / 3) } else { 0 };
    let (plot_area, legend_area) = body.split_horizontally(body_w as i32 - legend_panel);
    let legend_text_w = legend_panel - swatch - 3 * gap - m.margin;

    let x_step = nice_step(ranges.x.1 - ranges.x.0, 8);
    let y_step = nice_step(ranges.y.1 - ranges.y.0, 8);
    let x_mag = ranges.x.0.abs().max(ranges.x.1.abs());
    let y_mag = ranges.y.0.abs().max(ranges.y.1.abs());
    let x_fmt = move |v: &f64| format_number(*v, x_step, x_mag);
    let y_fmt = move |v: &f64| format_number(*v, y_step, y_mag);

    let tick_style = text_style(m.tick, SOFT_INK, Pos::new(HPos::Left, VPos::Top));
    let label_style = text_style(m.label, INK, Pos::new(HPos::Center, VPos::Top));
    let (_, tick_h) = text_size(root, "0123456789", &tick_style)?;
    let (_, label_h) = text_size(root, "Xg", &label_style)?;
    let mut y_tick_w = 0;
    let x_ticks = ticks(ranges.x.0, ranges.x.1, x_step);
    let y_ticks = ticks(ranges.y.0, ranges.y.1, y_step);
    for v in &y_ticks {
        y_tick_w = y_tick_w.max(text_size(root, &y_fmt(v), &tick_style)?.0);
    }
    let x_area = tick_h + (m.tick * 0.8) as i32 + if chart.x_label.is_empty() { 0 } else { label_h + gap };
    let y_area = y_tick_w + (m.tick * 0.8) as i32 + if chart.y_label.is_empty() { 0 } else { label_h + gap };

    // Vertical markers are labelled in a band above the plot, out of the data's way: one row,
    // or more when labels would overlap. The x mapping does not depend on the band's height, so
    // a probe chart places the labels before the real one is built.
    let build = |band: i32| {
        ChartBuilder::on(&plot_area)
            .margin_right(m.margin)
            .margin_top((m.tick * 0.6) as i32 + band)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(
                Axis { lo: ranges.x.0, hi: ranges.x.1, ticks: x_ticks.clone() },
                Axis { lo: ranges.y.0, hi: ranges.y.1, ticks: y_ticks.clone() },
            )
            .map_err(draw_err("line chart"))
    };
    let marker_style = text_style(m.tick, INK, Pos::new(HPos::Left, VPos::Top));
    let pad = (m.tick * 0.4) as i32;
    let mut verticals: Vec<&Marker> = chart.markers.iter().filter(|mk| mk.y.is_none()).collect();
    verticals.sort_by(|a, b| a.x.total_cmp(&b.x));
    let mut placed = Vec::with_capacity(verticals.len()); // (marker, label left, row)
    let mut row_ends: Vec<i32> = Vec::new();
    let mut label_h = 0;
    {
        let probe = build(0)?;
        let (px_range, _) = probe.plotting_area().get_pixel_range();
        let (root_w, _) = root.dim_in_pixel();
        for mk in &verticals {
            let (lw, lh) = text_size(root, &mk.label, &marker_style)?;
            label_h = label_h.max(lh);
            let (px, _) = probe.backend_coord(&(mk.x, ranges.y.0));
            let left = (px - lw / 2).min(root_w as i32 - m.margin - lw).max(px_range.start - y_area / 2);
            let row = if lw == 0 {
                0
            } else {
                let row = row_ends.iter().position(|&end| left > end + pad).unwrap_or(row_ends.len());
                if row == row_ends.len() {
                    row_ends.push(left + lw);
                } else {
                    row_ends[row] = left + lw;
                }
                row
            };
            placed.push((*mk, left, row));
        }
    }
    let row_h = label_h + pad / 2;
    let band = row_ends.len() as i32 * row_h;
    let mut ctx = build(band)?;

    ctx.configure_mesh()
        .light_line_style(BACKGROUND)
        .bold_line_style(GRID)
        .axis_style(FRAME)
        .x_labels(x_ticks.len())
        .y_labels(y_ticks.len())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(text_style(m.tick, SOFT_INK, Pos::new(HPos::Center, VPos::Center)))
        .axis_desc_style(text_style(m.label, INK, Pos::new(HPos::Center, VPos::Center)))
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .draw()
        .map_err(draw_err("line chart"))?;

    let plot = ctx.plotting_area().clone();
    let dot = (m.legend * 0.22).max(2.0) as i32;
    let stroke = (m.legend / 8.0).max(2.0) as u32;
    for (i, s) in chart.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        plot.draw(&PathElement::new(s.points.clone(), color.stroke_width(stroke)))
            .map_err(draw_err("line chart"))?;
        if s.points.len() <= 25 {
            for p in &s.points {
                plot.draw(&Circle::new(*p, dot, color.filled())).map_err(draw_err("line chart"))?;
            }
        }
    }

    // Markers, drawn over the lines, in pixel space on the root.
    let (px_range, py_range) = plot.get_pixel_range();
    let line_style = SOFT_INK.stroke_width(stroke.max(2) - 1);
    for (mk, left, row) in placed {
        let (px, _) = ctx.backend_coord(&(mk.x, ranges.y.0));
        let dash = (m.tick * 0.5) as i32;
        let mut y = py_range.start;
        while y < py_range.end {
            let y2 = (y + dash).min(py_range.end);
            root.draw(&PathElement::new(vec![(px, y), (px, y2)], line_style))
                .map_err(draw_err("line chart"))?;
            y += 2 * dash;
        }
        let top = py_range.start - pad / 2 - (row_ends.len() - row) as i32 * row_h;
        draw_text(root, &mk.label, &marker_style, (left, top))?;
    }
    // Point markers: the label goes above the lines over its width (or below them when there is
    // no room above), joined to its dot by a leader when it had to move away from it.
    let pixel_paths: Vec<Vec<(i32, i32)>> =
        chart.series.iter().map(|s| s.points.iter().map(|p| ctx.backend_coord(p)).collect()).collect();
    let data_extent = |x0: i32, x1: i32| {
        let (mut top, mut bottom) = (i32::MAX, i32::MIN);
        for path in &pixel_paths {
            for (i, a) in path.iter().enumerate() {
                let b = path.get(i + 1).unwrap_or(a);
                if a.0.max(b.0) >= x0 && a.0.min(b.0) <= x1 {
                    top = top.min(a.1.min(b.1));
                    bottom = bottom.max(a.1.max(b.1));
                }
            }
        }
        (top, bottom)
    };
    for mk in chart.markers {
        let Some(y) = mk.y else { continue };
        let (px, py) = ctx.backend_coord(&(mk.x, y));
        let r = dot + 3;
        let (lw, lh) = text_size(root, &mk.label, &marker_style)?;
        if lw > 0 {
            let left = if px + r + lw + pad <= px_range.end { px + r } else { px - r - lw };
            let (data_top, data_bottom) = data_extent(left - pad, left + lw + pad);
            let above = (py - r).min(data_top - pad) - lh;
            let below = (py + r).max(data_bottom + pad);
            let top = if above >= py_range.start {
                above
            } else if below + lh <= py_range.end {
                below
            } else {
                py - r - lh
            };
            let anchor_y = if top < py { top + lh } else { top };
            if (anchor_y - py).abs() > r + pad {
                root.draw(&PathElement::new(
                    vec![(px, py), (left + lw / 4, anchor_y)],
                    SOFT_INK.stroke_width(1),
                ))
                .map_err(draw_err("line chart"))?;
            }
            let halo = text_style(m.tick, BACKGROUND, Pos::new(HPos::Left, VPos::Top));
            for (dx, dy) in [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)] {
                draw_text(root, &mk.label, &halo, (left + dx, top + dy))?;
            }
            draw_text(root, &mk.label, &marker_style, (left, top))?;
        }
        root.draw(&Circle::new((px, py), r, INK.filled())).map_err(draw_err("line chart"))?;
        root.draw(&Circle::new((px, py), r, BACKGROUND.stroke_width(2))).map_err(draw_err("line chart"))?;
    }

    // Legend entries, top-aligned with the plot.
    if legend_panel > 0 {
        let (lx0, _) = legend_area.get_base_pixel();
        let entry_h = (m.legend * 1.5) as i32;
        let mut y = py_range.start + entry_h / 2;
        for (i, s) in chart.series.iter().enumerate() {
            if s.name.is_empty() {
                continue;
            }
            let color = PALETTE[i % PALETTE.len()];
            let x = lx0 + gap;
            root.draw(&PathElement::new(vec![(x, y), (x + swatch, y)], color.stroke_width(stroke + 1)))
                .map_err(draw_err("line chart"))?;
            let name = fit_text(root, &s.name, &legend_style, legend_text_w)?;
            draw_text(root, &name, &legend_style, (x + swatch + gap, y))?;
            y += entry_h;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Heat map

fn validate_heat_map(map: &HeatMap) -> Result<(usize, usize), String> {
    let rows = map.values.len();
    if rows == 0 {
        return Err("heat map: no values".into());
    }
    let cols = map.values[0].len();
    if cols == 0 {
        return Err("heat map: row 0 is empty".into());
    }
    for (r, row) in map.values.iter().enumerate() {
        if row.len() != cols {
            return Err(format!("heat map: row {r} has {} values, row 0 has {cols}", row.len()));
        }
        if let Some((c, v)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(format!("heat map: value at row {r}, column {c} is not finite: {v}"));
        }
    }
    if map.x_ticks.len() != cols {
        return Err(format!("heat map: {} x tick names for {cols} columns", map.x_ticks.len()));
    }
    if map.y_ticks.len() != rows {
        return Err(format!("heat map: {} y tick names for {rows} rows", map.y_ticks.len()));
    }
    Ok((rows, cols))
}

/// Viridis-like colour for `t` in 0..=1 (interpolated between nine stops of the viridis map).
fn scale_color(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 82, 139),
        (44, 114, 142),
        (33, 145, 140),
        (40, 174, 128),
        (94, 201, 98),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let pos = t * (STOPS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f64;
    let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

fn is_dark(c: RGBColor) -> bool {
    0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2) < 140.0
}

fn render_heat_map(map: &HeatMap, size: (u32, u32)) -> Result<Vec<u8>, String> {
    check_size("heat map", size)?;
    let dims = validate_heat_map(map)?;
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = GlyphBackend::with_buffer(&mut rgb, size)?.into_drawing_area();
        root.fill(&BACKGROUND).map_err(draw_err("heat map"))?;
        draw_heat_map(&root, map, dims, &Metrics::for_size(size))?;
        root.present().map_err(draw_err("heat map"))?;
    }
    Ok(rgb)
}

/// Shows every k-th of `n` labels, the smallest k whose labels (`extent` pixels each along the
/// axis, plus a gap) fit in `cell` pixels per label.
fn label_stride(n: usize, extent: i32, cell: f64, gap: i32) -> usize {
    (1..=n.max(1)).find(|&k| cell * k as f64 >= f64::from(extent + gap)).unwrap_or(n.max(1))
}

fn draw_heat_map(
    root: &Area,
    map: &HeatMap,
    (rows, cols): (usize, usize),
    m: &Metrics,
) -> Result<(), String> {
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let title_band = draw_title(root, map.title, m)?;

    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in map.values.iter().flatten() {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    let (data_lo, data_hi) = (lo, hi);
    let (lo, hi) = widen_flat(lo, hi);
    let step = nice_step(hi - lo, 5);
    let mag = lo.abs().max(hi.abs());

    let tick_style = text_style(m.tick, SOFT_INK, Pos::new(HPos::Left, VPos::Top));
    let label_style = text_style(m.label, INK, Pos::new(HPos::Center, VPos::Center));
    let gap = (m.tick * 0.5) as i32;
    let tick_len = (m.tick * 0.35) as i32;
    let (_, tick_h) = text_size(root, "0123456789", &tick_style)?;
    let (_, label_h) = text_size(root, "Xg", &label_style)?;

    // Colour scale ticks: multiples of `step` within [lo, hi].
    let scale_ticks = ticks(lo, hi, step);
    let mut scale_tick_w = 0;
    for t in &scale_ticks {
        scale_tick_w = scale_tick_w.max(text_size(root, &format_number(*t, step, mag), &tick_style)?.0);
    }
    let bar_w = (m.tick * 1.3) as i32;
    let scale_panel = 2 * gap
        + bar_w
        + tick_len
        + gap
        + scale_tick_w
        + if map.value_label.is_empty() { 0 } else { gap + label_h }
        + m.margin;

    let mut y_tick_w = 0;
    for t in map.y_ticks {
        y_tick_w = y_tick_w.max(text_size(root, t, &tick_style)?.0);
    }
    let mut x_tick_w = 0;
    for t in map.x_ticks {
        x_tick_w = x_tick_w.max(text_size(root, t, &tick_style)?.0);
    }
    let left = m.margin + if map.y_label.is_empty() { 0 } else { label_h + gap } + y_tick_w + tick_len + gap;
    let bottom = m.margin + if map.x_label.is_empty() { 0 } else { label_h + gap } + tick_h + tick_len + gap;
    let top = title_band.max(m.margin) + tick_h / 2;
    let right = w - scale_panel;
    let base = h - bottom;
    if right - left < 2 * cols as i32 || base - top < 2 * rows as i32 {
        return Err(format!("heat map: {cols}x{rows} cells do not fit in a {w}x{h} image with its labels"));
    }
    let cell_w = f64::from(right - left) / cols as f64;
    let cell_h = f64::from(base - top) / rows as f64;
    let col_x = |c: usize| left + (cell_w * c as f64).round() as i32;
    let row_y = |r: usize| base - (cell_h * r as f64).round() as i32;
    let t_of = |v: f64| (v - lo) / (hi - lo);

    // Cells, with their values written in when every value fits.
    let cell_style = text_style(m.tick, INK, Pos::new(HPos::Center, VPos::Center));
    let cell_step = if data_hi > data_lo { nice_step(data_hi - data_lo, 20) } else { step };
    let mut labels = Vec::with_capacity(rows * cols);
    let mut fits = true;
    for row in map.values {
        for v in row {
            let s = format_number(*v, cell_step, mag);
            let (tw, th) = text_size(root, &s, &cell_style)?;
            fits &= f64::from(tw + 6) <= cell_w && f64::from(th + 4) <= cell_h;
            labels.push(s);
        }
    }
    for (r, row) in map.values.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let color = scale_color(t_of(*v));
            let (x0, x1, y0, y1) = (col_x(c), col_x(c + 1), row_y(r + 1), row_y(r));
            root.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled())).map_err(draw_err("heat map"))?;
            if fits {
                let ink = if is_dark(color) { BACKGROUND } else { INK };
                let style = text_style(m.tick, ink, Pos::new(HPos::Center, VPos::Center));
                draw_text(root, &labels[r * cols + c], &style, ((x0 + x1) / 2, (y0 + y1) / 2))?;
            }
        }
    }
    root.draw(&Rectangle::new([(left, top), (right, base)], FRAME.stroke_width(1)))
        .map_err(draw_err("heat map"))?;

    // Column names below, row names to the left; every k-th when they would collide.
    let x_stride = label_stride(cols, x_tick_w, cell_w, gap);
    let xs = text_style(m.tick, SOFT_INK, Pos::new(HPos::Center, VPos::Top));
    for (c, name) in map.x_ticks.iter().enumerate().filter(|(c, _)| c % x_stride == 0) {
        let cx = (col_x(c) + col_x(c + 1)) / 2;
        root.draw(&PathElement::new(vec![(cx, base), (cx, base + tick_len)], FRAME.stroke_width(1)))
            .map_err(draw_err("heat map"))?;
        draw_text(root, name, &xs, (cx, base + tick_len + gap / 2))?;
    }
    let y_stride = label_stride(rows, tick_h, cell_h, gap / 2);
    let ys = text_style(m.tick, SOFT_INK, Pos::new(HPos::Right, VPos::Center));
    for (r, name) in map.y_ticks.iter().enumerate().filter(|(r, _)| r % y_stride == 0) {
        let cy = (row_y(r) + row_y(r + 1)) / 2;
        root.draw(&PathElement::new(vec![(left - tick_len, cy), (left, cy)], FRAME.stroke_width(1)))
            .map_err(draw_err("heat map"))?;
        draw_text(root, name, &ys, (left - tick_len - gap / 2, cy))?;
    }
    draw_text(root, map.x_label, &label_style, ((left + right) / 2, h - m.margin - label_h / 2))?;
    draw_text(root, map.y_label, &rotated(label_style.clone()), (m.margin + label_h / 2, (top + base) / 2))?;

    // Colour scale: a vertical gradient bar with value ticks, named by `value_label`.
    let bar_x = right + 2 * gap;
    let bar_h = base - top;
    for i in 0..bar_h {
        let y = base - i;
        let color = scale_color(f64::from(i) / f64::from((bar_h - 1).max(1)));
        root.draw(&PathElement::new(vec![(bar_x, y), (bar_x + bar_w, y)], color.stroke_width(1)))
            .map_err(draw_err("heat map"))?;
    }
    root.draw(&Rectangle::new([(bar_x, top), (bar_x + bar_w, base)], FRAME.stroke_width(1)))
        .map_err(draw_err("heat map"))?;
    let ts = text_style(m.tick, SOFT_INK, Pos::new(HPos::Left, VPos::Center));
    for t in &scale_ticks {
        let y = base - (t_of(*t) * f64::from(bar_h - 1)).round() as i32;
        root.draw(&PathElement::new(
            vec![(bar_x + bar_w, y), (bar_x + bar_w + tick_len, y)],
            FRAME.stroke_width(1),
        ))
        .map_err(draw_err("heat map"))?;
        draw_text(root, &format_number(*t, step, mag), &ts, (bar_x + bar_w + tick_len + gap / 2, y))?;
    }
    let vx = bar_x + bar_w + tick_len + gap + scale_tick_w + gap + label_h / 2;
    draw_text(root, map.value_label, &rotated(label_style), (vx, (top + base) / 2))?;
    Ok(())
}

#[cfg(test)]
mod tests;
