//! Every JSON-RPC request the SDK sends, retried when the transport fails: a node behind a load
//! balancer answers 502/503 or drops a connection now and then, and in a crash that is when a
//! keeper can least afford to give up a scan or lose track of a transaction it sent. The crash
//! benchmark measured it: with a fifth of requests failing, a keeper whose every read failed once
//! never finished a scan (docs/keeper-bench.md). Only transport failures are retried (no answer,
//! an HTTP error status); a node's JSON-RPC answer, an error included, is returned as it came.
//! Resending `sendTransaction` is safe: the same signed bytes are the same transaction.
use std::time::Duration;

use async_trait::async_trait;
use solana_rpc_client::http_sender::HttpSender;
use solana_rpc_client::rpc_sender::{RpcSender, RpcTransportStats};
use solana_rpc_client_api::client_error::{ErrorKind, Result};
use solana_rpc_client_api::request::RpcRequest;

/// Pauses before each retry: four retries within ~0.75 s.
pub const RETRY_PAUSES_MS: [u64; 4] = [50, 100, 200, 400];

/// An HTTP transport that retries transport failures ([`RETRY_PAUSES_MS`]).
pub struct RetryingSender {
    inner: HttpSender,
}

impl RetryingSender {
    pub fn new(url: &str) -> Self {
        Self { inner: HttpSender::new(url.to_string()) }
    }
}

/// Whether a failed request may succeed if sent again: no answer, or an HTTP error status.
pub fn transient(kind: &ErrorKind) -> bool {
    matches!(kind, ErrorKind::Reqwest(_) | ErrorKind::Io(_))
}

#[async_trait]
impl RpcSender for RetryingSender {
    async fn send(&self, request: RpcRequest, params: serde_json::Value) -> Result<serde_json::Value> {
        let mut pauses = RETRY_PAUSES_MS.iter();
        loop {
            match self.inner.send(request, params.clone()).await {
                Err(e) if transient(e.kind()) => match pauses.next() {
                    Some(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
                    None => return Err(e),
                },
                answer => return answer,
            }
        }
    }

    fn get_transport_stats(&self) -> RpcTransportStats {
        self.inner.get_transport_stats()
    }

    fn url(&self) -> String {
        self.inner.url()
    }
}
