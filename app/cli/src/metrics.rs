//! The keeper's counters, served in the Prometheus text format on a loopback port.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Default)]
pub struct Metrics {
    pub scans: AtomicU64,
    pub scan_errors: AtomicU64,
    pub positions_scanned: AtomicU64,
    pub positions_unpriced: AtomicU64,
    pub liquidatable_found: AtomicU64,
    pub liquidations_sent: AtomicU64,
    pub liquidations_landed: AtomicU64,
    pub liquidations_failed: AtomicU64,
    pub bad_debt_resolved: AtomicU64,
    /// Liquidations not sent: planned proceeds less fees below the configured minimum.
    pub skipped_unprofitable: AtomicU64,
    /// Liquidations not sent: the simulation was refused (someone else was first, prices moved).
    pub skipped_refused: AtomicU64,
    /// The compute-unit price of the last liquidation sent, micro-lamports.
    pub last_compute_unit_price: AtomicU64,
    pub last_scan_micros: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, u64); 13] = [
            (
                "ballast_keeper_scans_total",
                "counter",
                "Scans of the market completed",
                self.scans.load(Relaxed),
            ),
            (
                "ballast_keeper_scan_errors_total",
                "counter",
                "Scans that failed (RPC errors)",
                self.scan_errors.load(Relaxed),
            ),
            (
                "ballast_keeper_positions_scanned_total",
                "counter",
                "Positions decoded and health-checked",
                self.positions_scanned.load(Relaxed),
            ),
            (
                "ballast_keeper_positions_unpriced_total",
                "counter",
                "Positions skipped: a price was missing or refused",
                self.positions_unpriced.load(Relaxed),
            ),
            (
                "ballast_keeper_liquidatable_found_total",
                "counter",
                "Liquidatable positions found",
                self.liquidatable_found.load(Relaxed),
            ),
            (
                "ballast_keeper_liquidations_sent_total",
                "counter",
                "Liquidation transactions sent",
                self.liquidations_sent.load(Relaxed),
            ),
            (
                "ballast_keeper_liquidations_landed_total",
                "counter",
                "Liquidation transactions confirmed",
                self.liquidations_landed.load(Relaxed),
            ),
            (
                "ballast_keeper_liquidations_failed_total",
                "counter",
                "Liquidation transactions that failed",
                self.liquidations_failed.load(Relaxed),
            ),
            (
                "ballast_keeper_bad_debt_resolved_total",
                "counter",
                "Bad-debt resolutions confirmed",
                self.bad_debt_resolved.load(Relaxed),
            ),
            (
                "ballast_keeper_skipped_unprofitable_total",
                "counter",
                "Liquidations skipped: proceeds less fees below the minimum",
                self.skipped_unprofitable.load(Relaxed),
            ),
            (
                "ballast_keeper_skipped_refused_total",
                "counter",
                "Liquidations skipped: the simulation was refused",
                self.skipped_refused.load(Relaxed),
            ),
            (
                "ballast_keeper_last_compute_unit_price",
                "gauge",
                "Compute-unit price of the last liquidation sent (micro-lamports)",
                self.last_compute_unit_price.load(Relaxed),
            ),
            ("ballast_keeper_last_scan_seconds", "gauge", "Duration of the last scan", 0),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in rows {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            if name == "ballast_keeper_last_scan_seconds" {
                out.push_str(&format!("{name} {:.6}\n", self.last_scan_micros.load(Relaxed) as f64 / 1e6));
            } else {
                out.push_str(&format!("{name} {value}\n"));
            }
        }
        out
    }
}

/// Serves `GET /metrics` (any path) on `addr`, which must be a loopback address.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<()> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(format!("metrics address {addr} is not loopback")));
    }
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, "metrics listening");
    loop {
        let (mut socket, _) = listener.accept().await?;
        let body = metrics.render();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await; // the request line; any path answers
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}
