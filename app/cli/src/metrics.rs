//! The keeper's metrics, kept and encoded by `prometheus-client` (the Prometheus project's Rust
//! client, OpenMetrics text), served by `axum` at `/metrics`, with `/health` for orchestrators.
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// `/health` answers 503 when no scan has succeeded for this long.
pub const HEALTHY_SCAN_AGE_SECS: u64 = 60;

/// Every counter and gauge of the keeper (counters are exported with a `_total` suffix).
pub struct Metrics {
    pub scans: Counter,
    pub scan_errors: Counter,
    pub positions_scanned: Counter,
    pub positions_unpriced: Counter,
    pub liquidatable_found: Counter,
    pub liquidations_sent: Counter,
    pub liquidations_landed: Counter,
    pub liquidations_failed: Counter,
    pub bad_debt_resolved: Counter,
    /// Liquidations not sent: planned proceeds less fees below the configured minimum.
    pub skipped_unprofitable: Counter,
    /// Liquidations not sent: the simulation was refused (someone else was first, prices moved).
    pub skipped_refused: Counter,
    /// Liquidations not sent: the keeper holds none of the repay token.
    pub skipped_no_balance: Counter,
    /// Full loads of the market by `getProgramAccounts`.
    pub full_loads: Counter,
    /// Account changes received over the websocket.
    pub updates_received: Counter,
    /// 1 while the websocket subscriptions are up.
    pub websocket_connected: Gauge,
    /// Positions of the market the keeper holds (all shards).
    pub positions_tracked: Gauge,
    /// The keeper's balance of each repay token, base units, by mint.
    repay_balances: Family<Vec<(String, String)>, Gauge>,
    /// Liquidatable positions a scan (or the transaction it started) left alone, by reason
    /// (`crate::keeper::Reason::label`).
    not_liquidated: Family<Vec<(String, String)>, Counter>,
    /// Liquidations sent that failed, by reason (`crate::keeper::failure_reason`).
    failed_by_reason: Family<Vec<(String, String)>, Counter>,
    /// Positions liquidatable for at least `--stuck-scans` consecutive scans.
    pub stuck_positions: Gauge,
    /// The compute-unit price of the last liquidation sent, micro-lamports.
    pub last_compute_unit_price: Gauge,
    pub last_scan_seconds: Gauge<f64, AtomicU64>,
    /// Unix time of the last successful scan (0: none yet).
    pub last_scan_timestamp: Gauge,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let mut counter = |name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let scans = counter("ballast_keeper_scans", "Scans of the market completed");
        let scan_errors = counter("ballast_keeper_scan_errors", "Scans that failed (RPC errors)");
        let positions_scanned =
            counter("ballast_keeper_positions_scanned", "Positions decoded and health-checked");
        let positions_unpriced =
            counter("ballast_keeper_positions_unpriced", "Positions skipped: a price was missing or refused");
        let liquidatable_found = counter("ballast_keeper_liquidatable_found", "Liquidatable positions found");
        let liquidations_sent = counter("ballast_keeper_liquidations_sent", "Liquidation transactions sent");
        let liquidations_landed =
            counter("ballast_keeper_liquidations_landed", "Liquidation transactions confirmed");
        let liquidations_failed =
            counter("ballast_keeper_liquidations_failed", "Liquidation transactions that failed");
        let bad_debt_resolved = counter("ballast_keeper_bad_debt_resolved", "Bad-debt resolutions confirmed");
        let skipped_unprofitable = counter(
            "ballast_keeper_skipped_unprofitable",
            "Liquidations skipped: proceeds less fees below the minimum",
        );
        let skipped_refused =
            counter("ballast_keeper_skipped_refused", "Liquidations skipped: the simulation was refused");
        let skipped_no_balance = counter(
            "ballast_keeper_skipped_no_balance",
            "Liquidations skipped: the keeper holds none of the repay token",
        );
        let full_loads =
            counter("ballast_keeper_full_loads", "Full loads of the market by getProgramAccounts");
        let updates_received =
            counter("ballast_keeper_updates_received", "Account changes received over the websocket");
        let mut gauge = |name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let websocket_connected =
            gauge("ballast_keeper_websocket_connected", "1 while the websocket subscriptions are up");
        let positions_tracked =
            gauge("ballast_keeper_positions_tracked", "Positions of the market held in memory");
        let repay_balances = Family::<Vec<(String, String)>, Gauge>::default();
        registry.register(
            "ballast_keeper_repay_balance",
            "The keeper's balance of a repay token (base units), by mint",
            repay_balances.clone(),
        );
        let not_liquidated = Family::<Vec<(String, String)>, Counter>::default();
        registry.register(
            "ballast_keeper_not_liquidated",
            "Liquidatable positions left alone, by reason (one count per scan or skipped transaction)",
            not_liquidated.clone(),
        );
        let failed_by_reason = Family::<Vec<(String, String)>, Counter>::default();
        registry.register(
            "ballast_keeper_send_failures",
            "Liquidations sent that failed, by reason (race lost, blockhash expired, compute exceeded, other)",
            failed_by_reason.clone(),
        );
        let stuck_positions = Gauge::default();
        registry.register(
            "ballast_keeper_stuck_positions",
            "Positions liquidatable for at least --stuck-scans consecutive scans",
            stuck_positions.clone(),
        );
        let last_compute_unit_price = Gauge::default();
        registry.register(
            "ballast_keeper_last_compute_unit_price",
            "Compute-unit price of the last liquidation sent (micro-lamports)",
            last_compute_unit_price.clone(),
        );
        let last_scan_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "ballast_keeper_last_scan_seconds",
            "Duration of the last scan",
            last_scan_seconds.clone(),
        );
        let last_scan_timestamp = Gauge::default();
        registry.register(
            "ballast_keeper_last_scan_timestamp_seconds",
            "Unix time of the last successful scan",
            last_scan_timestamp.clone(),
        );
        Metrics {
            scans,
            scan_errors,
            positions_scanned,
            positions_unpriced,
            liquidatable_found,
            liquidations_sent,
            liquidations_landed,
            liquidations_failed,
            bad_debt_resolved,
            skipped_unprofitable,
            skipped_refused,
            skipped_no_balance,
            full_loads,
            updates_received,
            websocket_connected,
            positions_tracked,
            repay_balances,
            not_liquidated,
            failed_by_reason,
            stuck_positions,
            last_compute_unit_price,
            last_scan_seconds,
            last_scan_timestamp,
            registry,
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Metrics {
    pub fn add(counter: &Counter, n: u64) {
        counter.inc_by(n);
    }

    /// Records the keeper's `balance` of the repay token `mint`.
    pub fn repay_balance(&self, mint: &impl std::fmt::Display, balance: u64) {
        let labels = vec![("mint".to_string(), mint.to_string())];
        self.repay_balances.get_or_create(&labels).set(balance.min(i64::MAX as u64) as i64);
    }

    /// Counts one liquidatable position left alone for `reason` (a `Reason::label`).
    pub fn not_liquidated(&self, reason: &str) {
        self.not_liquidated.get_or_create(&vec![("reason".to_string(), reason.to_string())]).inc();
    }

    /// Counts one liquidation sent that failed for `reason`.
    pub fn send_failed(&self, reason: &str) {
        self.failed_by_reason.get_or_create(&vec![("reason".to_string(), reason.to_string())]).inc();
    }

    /// Records a successful scan that took `seconds`.
    pub fn scan_done(&self, seconds: f64) {
        self.scans.inc();
        self.last_scan_seconds.set(seconds);
        self.last_scan_timestamp.set(unix_now() as i64);
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    /// Healthy while a scan has succeeded within `HEALTHY_SCAN_AGE_SECS`.
    pub fn healthy(&self) -> (bool, String) {
        let last = self.last_scan_timestamp.get() as u64;
        if last == 0 {
            return (false, "no scan has succeeded yet".into());
        }
        let age = unix_now().saturating_sub(last);
        (age <= HEALTHY_SCAN_AGE_SECS, format!("last successful scan {age} s ago"))
    }
}

/// Binds `addr` for [`serve`]: a keeper whose metrics and health cannot be served (the port is
/// taken, the address is not this machine's) must not start without them.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot serve metrics and health on {addr} (--metrics-addr): {e}"))
}

/// Serves `GET /metrics` and `GET /health` on `listener` (a warning when it is not loopback:
/// the metrics tell anyone who can reach them what the keeper is doing).
pub async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "metrics and health are served beyond loopback");
    }
    let for_metrics = metrics.clone();
    let app = Router::new()
        .route(
            "/metrics",
            get(move || async move {
                let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
                ([(header::CONTENT_TYPE, content_type)], for_metrics.render())
            }),
        )
        .route(
            "/health",
            get(move || async move {
                let (ok, detail) = metrics.healthy();
                let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
                (status, detail)
            }),
        );
    tracing::info!(%addr, "metrics listening (/metrics, /health)");
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_metrics_address_is_an_error_naming_it() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let e = bind(addr).await.unwrap_err();
        assert!(e.contains(&addr.to_string()) && e.contains("--metrics-addr"), "{e}");
        drop(taken);
        assert!(bind(addr).await.is_ok(), "free again");
    }

    #[test]
    fn counters_and_gauges_render_in_openmetrics_text() {
        let m = Metrics::default();
        Metrics::add(&m.liquidations_landed, 2);
        m.last_compute_unit_price.set(1_000);
        m.repay_balance(&"USDCmint", 250);
        let text = m.render();
        assert!(text.contains("ballast_keeper_liquidations_landed_total 2"), "{text}");
        assert!(text.contains("ballast_keeper_last_compute_unit_price 1000"), "{text}");
        assert!(text.contains("# HELP ballast_keeper_skipped_unprofitable"), "{text}");
        assert!(text.contains(r#"ballast_keeper_repay_balance{mint="USDCmint"} 250"#), "{text}");
        m.not_liquidated("below_min_profit");
        m.not_liquidated("below_min_profit");
        m.stuck_positions.set(1);
        let text = m.render();
        assert!(
            text.contains(r#"ballast_keeper_not_liquidated_total{reason="below_min_profit"} 2"#),
            "{text}"
        );
        assert!(text.contains("ballast_keeper_stuck_positions 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(!m.healthy().0, "no scan yet");
        m.scan_done(0.01);
        assert!(m.healthy().0);
    }
}
