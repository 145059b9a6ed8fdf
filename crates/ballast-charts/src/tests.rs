use std::path::PathBuf;

use super::*;

const SIZE: (u32, u32) = (800, 500);

/// A fresh path in the temp dir for one test's PNG.
fn out(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ballast-charts-{}-{name}.png", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

struct Image {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Image {
    fn px(&self, x: usize, y: usize) -> (u8, u8, u8) {
        let i = (y * self.w + x) * 3;
        (self.rgb[i], self.rgb[i + 1], self.rgb[i + 2])
    }

    /// Pixels in columns `xs` and rows `ys` for which `pred` holds.
    fn count(
        &self,
        xs: std::ops::Range<usize>,
        ys: std::ops::Range<usize>,
        pred: impl Fn((u8, u8, u8)) -> bool,
    ) -> usize {
        ys.flat_map(|y| xs.clone().map(move |x| (x, y))).filter(|&(x, y)| pred(self.px(x, y))).count()
    }

    /// Leftmost and rightmost column in rows `ys` holding a pixel for which `pred` holds.
    fn columns(
        &self,
        ys: std::ops::Range<usize>,
        pred: impl Fn((u8, u8, u8)) -> bool,
    ) -> Option<(usize, usize)> {
        let hits: Vec<usize> = (0..self.w).filter(|&x| ys.clone().any(|y| pred(self.px(x, y)))).collect();
        Some((*hits.first()?, *hits.last()?))
    }
}

/// Text and dots in INK; no line colour or tick label (SOFT_INK) is this dark.
fn dark(p: (u8, u8, u8)) -> bool {
    p.0 < 80 && p.1 < 80 && p.2 < 80
}

fn not_background(p: (u8, u8, u8)) -> bool {
    p != (255, 255, 255)
}

/// Checks the PNG signature and the IHDR chunk's size by hand, then decodes the whole file.
fn read_png(path: &Path, size: (u32, u32)) -> Image {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[8..12], &13u32.to_be_bytes(), "IHDR length");
    assert_eq!(&bytes[12..16], b"IHDR");
    assert_eq!(&bytes[16..20], &size.0.to_be_bytes(), "IHDR width");
    assert_eq!(&bytes[20..24], &size.1.to_be_bytes(), "IHDR height");
    assert_eq!(bytes[24], 8, "bit depth");
    assert_eq!(bytes[25], 2, "colour type RGB");

    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut rgb).unwrap();
    assert_eq!((info.width, info.height), size);
    assert_eq!(info.color_type, png::ColorType::Rgb);
    rgb.truncate(info.buffer_size());
    Image { w: size.0 as usize, h: size.1 as usize, rgb }
}

fn keeper_series() -> Vec<Series> {
    (1..=3)
        .map(|k| Series {
            name: format!("{k} keepers"),
            points: (0..40)
                .map(|t| (f64::from(t), 300.0 * (-f64::from(t) * 0.05 * f64::from(k)).exp()))
                .collect(),
        })
        .collect()
}

fn chart<'a>(title: &'a str, x_label: &'a str, series: &'a [Series], markers: &'a [Marker]) -> LineChart<'a> {
    LineChart { title, x_label, y_label: "positions", series, markers }
}

struct Grid {
    x_ticks: Vec<String>,
    y_ticks: Vec<String>,
    values: Vec<Vec<f64>>,
}

fn grid(values: Vec<Vec<f64>>) -> Grid {
    Grid {
        x_ticks: (0..values[0].len()).map(|c| format!("{}x", c + 2)).collect(),
        y_ticks: (0..values.len()).map(|r| format!("{} %", 5 * r)).collect(),
        values,
    }
}

fn heat<'a>(title: &'a str, g: &'a Grid) -> HeatMap<'a> {
    HeatMap {
        title,
        x_label: "leverage cap",
        y_label: "haircut",
        x_ticks: &g.x_ticks,
        y_ticks: &g.y_ticks,
        values: &g.values,
        value_label: "bad debt",
    }
}

#[test]
fn line_chart_writes_a_png_with_lines_in_the_plot() {
    let path = out("line");
    let series = keeper_series();
    line_chart(&path, &chart("Liquidatable", "time (s)", &series, &[]), SIZE).unwrap();
    let img = read_png(&path, SIZE);
    // The middle of the plot holds line pixels in the first three palette colours.
    let (xs, ys) = (img.w / 8..img.w * 3 / 4, img.h / 6..img.h * 5 / 6);
    for color in &PALETTE[..3] {
        let n = img.count(xs.clone(), ys.clone(), |p| p == (color.0, color.1, color.2));
        assert!(n > 100, "colour {color:?}: {n} pixels");
    }
    assert!(img.count(xs, ys, not_background) > 2000);
    // The legend sits right of the plot: series colours appear in the last eighth of the width.
    let legend =
        img.count(img.w * 84 / 100..img.w, 0..img.h, |p| p == (PALETTE[0].0, PALETTE[0].1, PALETTE[0].2));
    assert!(legend > 20, "legend swatch: {legend} pixels");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn line_chart_title_is_drawn_centred_in_its_band_and_absent_without_one() {
    let m = Metrics::for_size(SIZE);
    let series = keeper_series();
    let band = m.margin as usize..(m.margin as usize + m.title as usize);

    let path = out("titled");
    line_chart(&path, &chart("Positions still liquidatable", "", &series, &[]), SIZE).unwrap();
    let img = read_png(&path, SIZE);
    let dark_px = img.count(0..img.w, band.clone(), dark);
    assert!(dark_px > 300, "title: {dark_px} dark pixels");
    // Anti-aliased glyph edges: grey pixels between ink and background.
    let grey = img.count(0..img.w, band.clone(), |p| p.0 > 80 && p.0 < 200 && p.0 == p.1 && p.1 == p.2);
    assert!(grey > 50, "title: {grey} anti-aliased pixels");
    let (l, r) = img.columns(band.clone(), dark).unwrap();
    assert!((l + r) / 2 > img.w / 2 - 20 && (l + r) / 2 < img.w / 2 + 20, "title spans {l}..{r}");
    assert!(r - l > 150, "title spans {l}..{r}");

    let path2 = out("untitled");
    line_chart(&path2, &chart("", "", &series, &[]), SIZE).unwrap();
    let img = read_png(&path2, SIZE);
    assert_eq!(img.count(0..img.w, 0..m.margin as usize, not_background), 0, "nothing above the plot");
    assert_eq!(img.count(img.w / 4..img.w * 3 / 4, band, dark), 0, "no title ink");
    std::fs::remove_file(path).unwrap();
    std::fs::remove_file(path2).unwrap();
}

#[test]
fn line_chart_axis_name_is_drawn_below_the_plot() {
    let m = Metrics::for_size(SIZE);
    let series = keeper_series();
    let rows = SIZE.1 as usize - m.margin as usize - m.label as usize..SIZE.1 as usize - m.margin as usize;
    let cols = SIZE.0 as usize / 4..SIZE.0 as usize * 3 / 4;
    let path = out("x-label");
    line_chart(&path, &chart("", "time since shock (s)", &series, &[]), SIZE).unwrap();
    let with = read_png(&path, SIZE).count(cols.clone(), rows.clone(), dark);
    line_chart(&path, &chart("", "", &series, &[]), SIZE).unwrap();
    let without = read_png(&path, SIZE).count(cols, rows, dark);
    assert!(with > 100 && without == 0, "x label: {with} dark pixels with, {without} without");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn line_chart_draws_markers_and_their_labels() {
    let series = keeper_series();
    let markers = [
        Marker { label: "second leg".into(), x: 20.0, y: None },
        Marker { label: "liquidation".into(), x: 10.0, y: Some(150.0) },
    ];
    let path = out("markers");
    line_chart(&path, &chart("", "", &series, &markers), SIZE).unwrap();
    let with = read_png(&path, SIZE);
    line_chart(&path, &chart("", "", &series, &[]), SIZE).unwrap();
    let without = read_png(&path, SIZE);
    let (a, b) = (with.count(0..with.w, 0..with.h, dark), without.count(0..with.w, 0..with.h, dark));
    assert!(a > b + 150, "markers add ink: {a} vs {b}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn line_chart_handles_flat_and_single_point_series() {
    let path = out("flat");
    let flat = [
        Series { name: "flat".into(), points: vec![(1.0, 7.0), (2.0, 7.0), (3.0, 7.0)] },
        Series { name: "one".into(), points: vec![(2.0, 7.0)] },
    ];
    line_chart(&path, &chart("Flat", "x", &flat, &[]), (320, 200)).unwrap();
    let img = read_png(&path, (320, 200));
    assert!(img.count(0..img.w, 0..img.h, |p| p == (PALETTE[0].0, PALETTE[0].1, PALETTE[0].2)) > 50);
    let zero = [Series { name: String::new(), points: vec![(0.0, 0.0), (0.0, 0.0)] }];
    line_chart(&path, &chart("", "", &zero, &[]), SIZE).unwrap();
    std::fs::remove_file(path).unwrap();
}

#[test]
fn line_chart_rejects_bad_input_without_writing() {
    let path = out("rejected");
    let err = |c: &LineChart, size| line_chart(&path, c, size).unwrap_err();
    assert!(err(&chart("t", "", &[], &[]), SIZE).contains("no series"));
    let empty = [Series { name: "k1".into(), points: vec![] }];
    assert!(err(&chart("t", "", &empty, &[]), SIZE).contains("\"k1\") has no points"));
    let nan = [Series { name: "k2".into(), points: vec![(0.0, 1.0), (1.0, f64::NAN)] }];
    assert!(err(&chart("t", "", &nan, &[]), SIZE).contains("point 1 is not finite"));
    let inf = [Series { name: "k3".into(), points: vec![(f64::INFINITY, 1.0)] }];
    assert!(err(&chart("t", "", &inf, &[]), SIZE).contains("not finite"));
    let ok = keeper_series();
    let bad_marker = [Marker { label: "m".into(), x: 1.0, y: Some(f64::NAN) }];
    assert!(err(&chart("t", "", &ok, &bad_marker), SIZE).contains("marker 0"));
    assert!(err(&chart("t", "", &ok, &[]), (100, 100)).contains("size 100x100"));
    assert!(err(&chart("t", "", &ok, &[]), (10_000, 500)).contains("size"));
    assert!(!path.exists());
    let missing_dir = std::env::temp_dir().join("ballast-charts-no-such-dir").join("x.png");
    assert!(line_chart(&missing_dir, &chart("t", "", &ok, &[]), SIZE).unwrap_err().contains("cannot create"));
}

#[test]
fn heat_map_writes_cells_in_scale_colours_and_a_colour_bar() {
    let path = out("heat");
    let g = grid(vec![vec![0.0, 10.0, 20.0], vec![30.0, 40.0, 50.0]]);
    heat_map(&path, &heat("Bad debt", &g), SIZE).unwrap();
    let img = read_png(&path, SIZE);
    let is = |c: RGBColor| move |p: (u8, u8, u8)| p == (c.0, c.1, c.2);
    // The lowest and highest cells (and the ends of the colour bar) in the scale's end colours.
    let low = img.count(0..img.w, 0..img.h, is(scale_color(0.0)));
    let high = img.count(0..img.w, 0..img.h, is(scale_color(1.0)));
    assert!(low > 5000 && high > 5000, "low {low}, high {high}");
    // The colour bar, right of the cells: a column running from yellow at the top to dark
    // purple at the bottom (no cell column has both).
    let bar = (img.w * 3 / 4..img.w).find(|&x| {
        let top = (0..img.h).position(|y| img.px(x, y).1 > 200 && img.px(x, y).2 < 80);
        let bottom = (0..img.h).rposition(|y| img.px(x, y).1 < 30 && img.px(x, y).2 > 60);
        matches!((top, bottom), (Some(t), Some(b)) if t + img.h / 2 < b)
    });
    assert!(bar.is_some(), "no colour bar column");
    // Title and cell values are drawn.
    let m = Metrics::for_size(SIZE);
    assert!(img.count(0..img.w, m.margin as usize..(m.margin + m.title as i32) as usize, dark) > 100);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn heat_map_title_band_is_empty_without_a_title() {
    let m = Metrics::for_size(SIZE);
    let path = out("heat-untitled");
    let g = grid(vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    heat_map(&path, &heat("", &g), SIZE).unwrap();
    let img = read_png(&path, SIZE);
    assert_eq!(img.count(0..img.w, 0..m.margin as usize, not_background), 0);
    heat_map(&path, &heat("A title", &g), SIZE).unwrap();
    let img = read_png(&path, SIZE);
    assert!(img.count(0..img.w, m.margin as usize..(m.margin + m.title as i32) as usize, dark) > 100);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn heat_map_of_equal_values_uses_the_middle_colour() {
    let path = out("heat-equal");
    let g = grid(vec![vec![5.0; 4]; 3]);
    heat_map(&path, &heat("", &g), SIZE).unwrap();
    let img = read_png(&path, SIZE);
    let mid = scale_color(0.5);
    assert!(img.count(0..img.w, 0..img.h, |p| p == (mid.0, mid.1, mid.2)) > 20_000);
    // Many cells, too many tick names to show all: still renders.
    let many = grid((0..40).map(|r| (0..60).map(|c| f64::from(r * c)).collect()).collect());
    heat_map(&path, &heat("Many", &many), SIZE).unwrap();
    std::fs::remove_file(path).unwrap();
}

#[test]
fn heat_map_rejects_bad_input_without_writing() {
    let path = out("heat-rejected");
    let err = |g: &Grid| heat_map(&path, &heat("t", g), SIZE).unwrap_err();
    let empty = Grid { x_ticks: vec![], y_ticks: vec![], values: vec![] };
    assert!(err(&empty).contains("no values"));
    let empty_row = Grid { x_ticks: vec![], y_ticks: vec!["a".into()], values: vec![vec![]] };
    assert!(err(&empty_row).contains("row 0 is empty"));
    let ragged = Grid {
        x_ticks: vec!["a".into(), "b".into()],
        y_ticks: vec!["r".into(); 2],
        values: vec![vec![1.0, 2.0], vec![3.0]],
    };
    assert!(err(&ragged).contains("row 1 has 1 values"));
    let mut nan = grid(vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    nan.values[1][0] = f64::NAN;
    assert!(err(&nan).contains("row 1, column 0 is not finite"));
    let mut ticks = grid(vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    ticks.x_ticks.pop();
    assert!(err(&ticks).contains("1 x tick names for 2 columns"));
    let mut ticks = grid(vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    ticks.y_ticks.push("extra".into());
    assert!(err(&ticks).contains("3 y tick names for 2 rows"));
    let huge = grid(vec![vec![1.0; 400]; 2]);
    assert!(err(&huge).contains("do not fit"));
    let ok = grid(vec![vec![1.0]]);
    assert!(heat_map(&path, &heat("t", &ok), (319, 400)).unwrap_err().contains("size 319x400"));
    assert!(!path.exists());
}

#[test]
fn text_is_measured_from_the_embedded_font() {
    let mut buf = vec![0u8; 200 * 100 * 3];
    let root = GlyphBackend::with_buffer(&mut buf, (200, 100)).unwrap().into_drawing_area();
    let style = text_style(20.0, INK, Pos::new(HPos::Left, VPos::Top));
    let (w_wide, h) = text_size(&root, "WWWW", &style).unwrap();
    let (w_narrow, _) = text_size(&root, "iiii", &style).unwrap();
    assert!((19..=21).contains(&h), "height {h}");
    assert!(w_wide > 2 * w_narrow, "WWWW {w_wide} px, iiii {w_narrow} px");
    assert_eq!(text_size(&root, "", &style).unwrap(), (0, 0));
    let cut = fit_text(&root, "a rather long legend entry", &style, 80).unwrap();
    assert!(cut.ends_with('…') && text_size(&root, &cut, &style).unwrap().0 <= 80, "{cut}");
}

#[test]
fn numbers_ticks_and_ranges() {
    assert_eq!(format_number(0.30000000000000004, 0.1, 1.0), "0.3");
    assert_eq!(format_number(-4.99, 0.005, 5.0), "-4.990");
    assert_eq!(format_number(-0.0001, 0.1, 1.0), "0.0");
    assert_eq!(format_number(2500.0, 500.0, 20_000.0), "2.5k");
    assert_eq!(format_number(3.0e6, 1.0e6, 5.0e6), "3M");
    assert_eq!(format_number(1.5e9, 5.0e8, 2.0e9), "1.5B");
    assert_eq!(format_number(40.0, 10.0, 60.0), "40");
    assert_eq!(nice_step(60.0, 8), 10.0);
    assert_eq!(nice_step(0.02, 8), 0.005);
    assert_eq!(ticks(0.0, 60.0, 10.0), vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
    assert_eq!(ticks(-0.25, 0.3, 0.2).len(), 3);
    assert_eq!(widen_flat(7.0, 7.0), (6.3, 7.7));
    assert_eq!(widen_flat(0.0, 0.0), (-1.0, 1.0));
    assert_eq!(widen_flat(1.0, 2.0), (1.0, 2.0));
    assert_eq!(scale_color(0.0), RGBColor(68, 1, 84));
    assert_eq!(scale_color(1.0), RGBColor(253, 231, 37));
    assert_eq!(scale_color(f64::NAN), scale_color(0.0));
}

#[test]
fn stacked_charts_draw_each_panel_in_its_own_band() {
    let path = out("stacked");
    let series = keeper_series();
    let one = &series[..1];
    let top = chart("Top", "time (s)", one, &[]);
    let bottom = chart("Bottom", "time (s)", &series, &[]);
    stacked_line_charts(&path, &[top, bottom], SIZE).unwrap();
    let img = read_png(&path, (SIZE.0, SIZE.1 * 2));
    let (xs, top_rows, bottom_rows) =
        (img.w / 8..img.w * 3 / 4, img.h / 12..img.h * 5 / 12, img.h * 7 / 12..img.h * 11 / 12);
    let second = |p: (u8, u8, u8)| p == (PALETTE[1].0, PALETTE[1].1, PALETTE[1].2);
    // The second series is drawn in the bottom panel only.
    assert_eq!(img.count(xs.clone(), top_rows, second), 0);
    assert!(img.count(xs, bottom_rows, second) > 100);
    assert!(stacked_line_charts(&path, &[], SIZE).unwrap_err().contains("no chart"));
    std::fs::remove_file(path).unwrap();
}
