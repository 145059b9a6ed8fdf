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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A node that answers the first `failures` requests with 503, then `getSlot` with 42;
    /// returns its URL and the count of requests it saw.
    async fn flaky_node(failures: u32) -> (String, Arc<AtomicU32>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(AtomicU32::new(0));
        let count = seen.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let count = count.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    let answer = if n < failures {
                        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_string()
                    } else {
                        let body = r#"{"jsonrpc":"2.0","result":42,"id":1}"#;
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    };
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        (url, seen)
    }

    fn client(url: &str) -> solana_rpc_client::nonblocking::rpc_client::RpcClient {
        solana_rpc_client::nonblocking::rpc_client::RpcClient::new_sender(
            RetryingSender::new(url),
            Default::default(),
        )
    }

    #[tokio::test]
    async fn a_request_that_fails_in_transport_is_sent_again() {
        let (url, seen) = flaky_node(3).await;
        assert_eq!(client(&url).get_slot().await.unwrap(), 42);
        assert_eq!(seen.load(Ordering::SeqCst), 4, "three 503s, then the answer");
    }

    #[tokio::test]
    async fn retries_stop_after_the_last_pause() {
        let (url, seen) = flaky_node(100).await;
        assert!(client(&url).get_slot().await.is_err());
        assert_eq!(seen.load(Ordering::SeqCst), 1 + RETRY_PAUSES_MS.len() as u32);
    }
}
