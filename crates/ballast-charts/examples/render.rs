//! Renders examples of both charts: `cargo run -p ballast-charts --example render [DIR]` writes
//! DIR/chart-line.png (keeper benchmark), DIR/chart-price.png (a price path with markers) and
//! DIR/chart-heat.png (a heat map); DIR defaults to the system temp dir.

use std::path::PathBuf;

use ballast_charts::{heat_map, line_chart, HeatMap, LineChart, Marker, Series};

fn main() -> Result<(), String> {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(std::env::temp_dir);

    // Keeper benchmark: positions still liquidatable over time, one line per keeper count.
    let series: Vec<Series> = [1u32, 2, 4, 8]
        .iter()
        .map(|&keepers| Series {
            name: format!("{keepers} keeper{}", if keepers == 1 { "" } else { "s" }),
            points: (0..=60)
                .map(|t| {
                    let t = f64::from(t);
                    let rate = 0.035 * f64::from(keepers).powf(0.8);
                    let second_leg = if t >= 30.0 { 120.0 * (-(t - 30.0) * rate).exp() } else { 0.0 };
                    (t, (500.0 * (-t * rate).exp() + second_leg).round())
                })
                .collect(),
        })
        .collect();
    let markers = [
        Marker { label: "price drop −30 %".into(), x: 0.0, y: None },
        Marker { label: "second leg".into(), x: 30.0, y: None },
    ];
    line_chart(
        &dir.join("chart-line.png"),
        &LineChart {
            title: "Liquidatable positions after a price shock",
            x_label: "time since shock (s)",
            y_label: "positions still liquidatable",
            series: &series,
            markers: &markers,
        },
        (1000, 600),
    )?;

    // Risk lab: a price path with the events the scenario marks on it.
    let price: Vec<(f64, f64)> = (0..=240)
        .map(|i| {
            let t = f64::from(i);
            let drop = if t < 60.0 {
                0.0
            } else if t < 90.0 {
                (t - 60.0) / 30.0 * 0.3
            } else {
                0.3
            };
            let second = if t < 150.0 { 0.0 } else { ((t - 150.0) / 20.0).min(1.0) * 0.15 };
            (t, 142.5 * (1.0 - drop - second) + 1.8 * (t * 0.37).sin() + 0.9 * (t * 1.3).cos())
        })
        .collect();
    let price_series = [Series { name: "SOL/USD".into(), points: price.clone() }];
    let price_markers = [
        Marker { label: "first leg".into(), x: 60.0, y: None },
        Marker { label: "second leg".into(), x: 150.0, y: None },
        Marker { label: "first liquidation".into(), x: 74.0, y: Some(price[74].1) },
        Marker { label: "oracle stale".into(), x: 200.0, y: Some(price[200].1) },
    ];
    line_chart(
        &dir.join("chart-price.png"),
        &LineChart {
            title: "Scenario: two-leg crash",
            x_label: "slot (×1000)",
            y_label: "price (USD)",
            series: &price_series,
            markers: &price_markers,
        },
        (900, 500),
    )?;

    // Risk lab: bad debt over leverage cap × haircut.
    let caps: [f64; 7] = [2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0];
    let haircuts: [f64; 6] = [0.0, 0.05, 0.10, 0.15, 0.20, 0.25];
    let values: Vec<Vec<f64>> = haircuts
        .iter()
        .map(|h| {
            caps.iter().map(|c| (((c - 1.5) * 9000.0 * (1.0 - 3.0 * h)).max(0.0)).powf(1.1).round()).collect()
        })
        .collect();
    let x_ticks: Vec<String> = caps.iter().map(|c| format!("{c}×")).collect();
    let y_ticks: Vec<String> = haircuts.iter().map(|h| format!("{:.0} %", h * 100.0)).collect();
    heat_map(
        &dir.join("chart-heat.png"),
        &HeatMap {
            title: "Bad debt by leverage cap and haircut",
            x_label: "leverage cap",
            y_label: "haircut",
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            values: &values,
            value_label: "bad debt (USDC)",
        },
        (1000, 650),
    )?;
    for name in ["chart-line.png", "chart-price.png", "chart-heat.png"] {
        println!("wrote {}", dir.join(name).display());
    }
    Ok(())
}
