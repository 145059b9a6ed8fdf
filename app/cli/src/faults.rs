//! Loopback fault-injection proxies for the keeper benchmark. They sit between a keeper and a
//! local `solana-test-validator`, so a run can measure how the keeper copes with failing or slow
//! RPC and with websocket drops without changing either side.
//!
//! - [`RpcProxy`]: an HTTP/1.1 JSON-RPC proxy. A seeded share of requests gets a 503 answer, and
//!   another share is held back before it is forwarded.
//! - [`WsProxy`]: a plain TCP pass-through for the validator's websocket. [`WsProxy::cut`] drops
//!   every connection and refuses new ones for a while.
//!
//! Both listen on `127.0.0.1:<ephemeral port>` and run as tasks on the caller's tokio runtime.
use std::collections::HashMap;
use std::future::{poll_fn, IntoFuture};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use axum::Router;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// The largest request or response body the RPC proxy buffers. `getProgramAccounts` over a
/// whole market can run to tens of megabytes.
const MAX_BODY: usize = 256 << 20;
/// The largest response head (status line and headers) accepted from upstream.
const MAX_HEAD: usize = 64 << 10;

/// What [`RpcProxy`] does to requests. Shares are in parts per million of requests:
/// `1_000_000` means all of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RpcFaults {
    /// Share of requests answered with HTTP 503 and never forwarded.
    pub fail_ppm: u32,
    /// Share of the remaining requests held for `delay` before they are forwarded.
    pub delay_ppm: u32,
    pub delay: Duration,
    /// Seed of the generator that picks the requests, so a run can be repeated exactly.
    pub seed: u64,
}

/// Counters of an [`RpcProxy`], updated as requests go through.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Requests received from the client.
    pub requests: AtomicU64,
    /// Requests answered with an injected 503.
    pub failed: AtomicU64,
    /// Requests held for the configured delay.
    pub delayed: AtomicU64,
    /// Requests sent upstream (including those whose exchange then failed).
    pub forwarded: AtomicU64,
    /// Forwarded requests answered 502 because upstream could not be reached or answered badly.
    pub upstream_errors: AtomicU64,
}

/// A copy of [`ProxyStats`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RpcCounts {
    pub requests: u64,
    pub failed: u64,
    pub delayed: u64,
    pub forwarded: u64,
    pub upstream_errors: u64,
}

impl ProxyStats {
    pub fn snapshot(&self) -> RpcCounts {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        RpcCounts {
            requests: get(&self.requests),
            failed: get(&self.failed),
            delayed: get(&self.delayed),
            forwarded: get(&self.forwarded),
            upstream_errors: get(&self.upstream_errors),
        }
    }
}

/// An HTTP/1.1 proxy in front of a validator's JSON-RPC port that injects failures and delays.
///
/// The client side is served by axum (keep-alive, `Content-Length` and chunked request bodies).
/// Each request goes upstream on a fresh connection (`Connection: close`): on loopback that costs
/// little, and it avoids replaying a POST (a `sendTransaction`) after a stale kept connection.
/// Dropping the proxy, or [`RpcProxy::stop`], stops it.
pub struct RpcProxy {
    /// `http://127.0.0.1:<port>`, for the client's RPC URL.
    pub url: String,
    pub addr: SocketAddr,
    pub stats: Arc<ProxyStats>,
    shared: Arc<RpcShared>,
    stop: Arc<StopSignal>,
}

struct RpcShared {
    upstream: Upstream,
    /// The faults and their generator, drawn from under one lock so a seed gives one sequence.
    faults: Mutex<(RpcFaults, XorShift)>,
    stats: Arc<ProxyStats>,
}

impl RpcProxy {
    /// Listens on an ephemeral loopback port and forwards to `upstream` (`http://host:port`,
    /// optionally with a path prefix).
    pub async fn start(upstream: &str, faults: RpcFaults) -> io::Result<RpcProxy> {
        let upstream = Upstream::parse(upstream)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(ProxyStats::default());
        let shared = Arc::new(RpcShared {
            upstream,
            faults: Mutex::new((faults, XorShift::new(faults.seed))),
            stats: stats.clone(),
        });
        let router = Router::new().fallback(handle_rpc).with_state(shared.clone());
        // Small JSON answers: don't let Nagle hold them back.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let stop = Arc::new(StopSignal::default());
        let server = axum::serve(listener, router).with_graceful_shutdown(stop.clone().wait()).into_future();
        tokio::spawn(async move {
            let _ = server.await;
        });
        Ok(RpcProxy { url: format!("http://{addr}"), addr, stats, shared, stop })
    }

    /// Replaces the faults from the next request on, and re-seeds the generator with
    /// `faults.seed` (e.g. failures on for 10 s, then `RpcFaults::default()`).
    pub fn set_faults(&self, faults: RpcFaults) {
        *lock(&self.shared.faults) = (faults, XorShift::new(faults.seed));
    }

    pub fn faults(&self) -> RpcFaults {
        lock(&self.shared.faults).0
    }

    /// Stops accepting connections and closes the open ones once their request is answered.
    pub fn stop(&self) {
        self.stop.trigger();
    }
}

impl Drop for RpcProxy {
    fn drop(&mut self) {
        self.stop.trigger();
    }
}

impl RpcShared {
    /// Whether this request fails, and how long it is held otherwise. Always two draws, so the
    /// outcomes of N requests depend on the seed only, not on their interleaving.
    fn draw(&self) -> (bool, Option<Duration>) {
        let mut guard = lock(&self.faults);
        let (faults, rng) = &mut *guard;
        let fail = rng.hit(faults.fail_ppm);
        let delay = rng.hit(faults.delay_ppm);
        (fail, (!fail && delay).then_some(faults.delay))
    }
}

async fn handle_rpc(State(shared): State<Arc<RpcShared>>, request: Request) -> Response {
    let stats = &shared.stats;
    stats.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    // The body is read even for an injected failure, so the client's connection stays usable.
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(err) => return (StatusCode::BAD_REQUEST, format!("request body: {err}\n")).into_response(),
    };
    let (fail, delay) = shared.draw();
    if fail {
        stats.failed.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::SERVICE_UNAVAILABLE, "injected fault\n").into_response();
    }
    if let Some(delay) = delay {
        stats.delayed.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(delay).await;
    }
    stats.forwarded.fetch_add(1, Ordering::Relaxed);
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| passes(name) && *name != header::HOST && *name != header::EXPECT);
    match forward(&shared.upstream, &parts.method, path, headers, &body).await {
        Ok(response) => response,
        Err(err) => {
            stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
            (StatusCode::BAD_GATEWAY, format!("upstream: {err}\n")).into_response()
        }
    }
}

/// Where the RPC proxy forwards to: `host:port` and a path prefix (empty or `/...`).
struct Upstream {
    authority: String,
    prefix: String,
}

impl Upstream {
    fn parse(url: &str) -> io::Result<Upstream> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("not an http:// URL: {url}"))
        })?;
        let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("no host: {url}")));
        }
        // `host` or `[v6]` without a port: HTTP's default.
        let has_port = authority.rsplit_once(':').is_some_and(|(_, port)| !port.contains(']'));
        let authority = if has_port { authority.to_owned() } else { format!("{authority}:80") };
        Ok(Upstream { authority, prefix: prefix.trim_end_matches('/').to_owned() })
    }
}

/// One request upstream on a fresh connection, and its whole answer.
async fn forward<'a>(
    upstream: &Upstream,
    method: &Method,
    path: &str,
    headers: impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)>,
    body: &[u8],
) -> io::Result<Response> {
    let mut request = format!(
        "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        upstream.prefix,
        upstream.authority,
        body.len()
    )
    .into_bytes();
    for (name, value) in headers {
        request.extend_from_slice(name.as_str().as_bytes());
        request.extend_from_slice(b": ");
        request.extend_from_slice(value.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body);

    let mut stream = TcpStream::connect(&upstream.authority).await?;
    stream.set_nodelay(true)?;
    stream.write_all(&request).await?;
    let mut reader = BufReader::new(stream);
    let (status, headers) = loop {
        let (status, headers) = read_head(&mut reader).await?;
        // Interim answers (100 Continue) come before the real one.
        if !(100..200).contains(&status) {
            break (status, headers);
        }
    };
    let body = read_body(&mut reader, method == Method::HEAD, status, &headers).await?;

    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).map_err(invalid)?;
    for (name, value) in headers {
        // The body is re-framed by the server side: its own Content-Length.
        if passes(&name) && name != header::CONTENT_LENGTH {
            response.headers_mut().append(name, value);
        }
    }
    Ok(response)
}

/// False for hop-by-hop headers, which belong to one connection and are not passed on.
fn passes(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "proxy-authenticate"
            | "proxy-authorization"
    )
}

type Headers = Vec<(HeaderName, HeaderValue)>;

/// Reads a response's status line and headers.
async fn read_head(reader: &mut (impl AsyncBufRead + Unpin)) -> io::Result<(u16, Headers)> {
    let mut total = 0;
    let mut line = Vec::new();
    read_head_line(reader, &mut line, &mut total).await?;
    let status = std::str::from_utf8(&line)
        .ok()
        .and_then(|line| line.strip_prefix("HTTP/1."))
        .and_then(|rest| rest.split_ascii_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let mut headers = Vec::new();
    loop {
        read_head_line(reader, &mut line, &mut total).await?;
        let line = line.trim_ascii();
        if line.is_empty() {
            return Ok((status, headers));
        }
        let colon = line.iter().position(|&b| b == b':').ok_or_else(|| invalid("bad header"))?;
        let name = HeaderName::from_bytes(&line[..colon]).map_err(invalid)?;
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).map_err(invalid)?;
        headers.push((name, value));
    }
}

/// Reads one line of a response head into `line`, keeping the head's `total` size bounded.
async fn read_head_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    line: &mut Vec<u8>,
    total: &mut usize,
) -> io::Result<()> {
    line.clear();
    *total += reader.read_until(b'\n', line).await?;
    if !line.ends_with(b"\n") {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    if *total > MAX_HEAD {
        return Err(invalid("response head too large"));
    }
    Ok(())
}

/// Reads a response body framed as its headers say: chunked, `Content-Length`, or up to the
/// end of the connection.
async fn read_body(
    reader: &mut (impl AsyncBufRead + Unpin),
    head_request: bool,
    status: u16,
    headers: &Headers,
) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if head_request || status == 204 || status == 304 {
        return Ok(body);
    }
    let value = |name: HeaderName| {
        headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_str().unwrap_or_default())
    };
    if value(header::TRANSFER_ENCODING).is_some_and(|te| te.to_ascii_lowercase().contains("chunked")) {
        let mut line = Vec::new();
        loop {
            line.clear();
            reader.read_until(b'\n', &mut line).await?;
            let size = std::str::from_utf8(&line)
                .ok()
                .and_then(|line| line.split(';').next())
                .and_then(|size| usize::from_str_radix(size.trim(), 16).ok())
                .ok_or_else(|| invalid("bad chunk size"))?;
            if size == 0 {
                break;
            }
            if body.len() + size > MAX_BODY {
                return Err(invalid("response body too large"));
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..]).await?;
            line.clear();
            reader.read_until(b'\n', &mut line).await?;
            if line.is_empty() || !line.trim_ascii().is_empty() {
                return Err(invalid("bad chunk end"));
            }
        }
        // Trailers, up to the empty line (or the end of the connection).
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).await? == 0 || line.trim_ascii().is_empty() {
                return Ok(body);
            }
        }
    }
    if let Some(length) = value(header::CONTENT_LENGTH) {
        let length: usize = length.trim().parse().map_err(invalid)?;
        if length > MAX_BODY {
            return Err(invalid("response body too large"));
        }
        body.resize(length, 0);
        reader.read_exact(&mut body).await?;
        return Ok(body);
    }
    reader.take(MAX_BODY as u64 + 1).read_to_end(&mut body).await?;
    if body.len() > MAX_BODY {
        return Err(invalid("response body too large"));
    }
    Ok(body)
}

fn invalid(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err)
}

/// A TCP pass-through proxy for the validator's websocket that can cut every connection.
///
/// It does not look at the bytes, so it works for any protocol. A cut closes both sides of each
/// connection (the keeper sees its websocket end, as when the validator restarts), and new
/// connections are accepted and closed at once until the cut is over. Dropping the proxy stops
/// it and closes its connections.
pub struct WsProxy {
    pub addr: SocketAddr,
    pub stats: Arc<WsStats>,
    shared: Arc<WsShared>,
    accept: AbortHandle,
}

/// Counters of a [`WsProxy`].
#[derive(Debug, Default)]
pub struct WsStats {
    /// Connections passed through to upstream.
    pub accepted: AtomicU64,
    /// Open connections closed by [`WsProxy::cut`].
    pub cut: AtomicU64,
    /// Connections closed on arrival during a cut.
    pub refused: AtomicU64,
    /// Connections closed because upstream could not be reached.
    pub upstream_errors: AtomicU64,
}

struct WsShared {
    upstream: String,
    state: Mutex<WsState>,
    stats: Arc<WsStats>,
}

/// Under one lock, so a connection is either refused or registered before a cut closes it.
#[derive(Default)]
struct WsState {
    cut_until: Option<Instant>,
    connections: HashMap<u64, AbortHandle>,
    next_id: u64,
}

impl WsProxy {
    /// Listens on an ephemeral loopback port and passes connections to `upstream`
    /// (`host:port`, or `ws://host:port`).
    pub async fn start(upstream: &str) -> io::Result<WsProxy> {
        let upstream = upstream.strip_prefix("ws://").unwrap_or(upstream);
        let upstream = upstream.trim_end_matches('/').to_owned();
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(WsStats::default());
        let shared =
            Arc::new(WsShared { upstream, state: Mutex::new(WsState::default()), stats: stats.clone() });
        let accept = tokio::spawn(accept_ws(listener, shared.clone())).abort_handle();
        Ok(WsProxy { addr, stats, shared, accept })
    }

    /// `ws://127.0.0.1:<port>`, for the client's websocket URL.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Closes every open connection now and refuses new ones until `for_` has passed. A later
    /// call replaces the end of the cut (`Duration::ZERO`: close the open ones only).
    pub fn cut(&self, for_: Duration) {
        let mut state = lock(&self.shared.state);
        state.cut_until = Some(Instant::now() + for_);
        let cut = state.connections.len() as u64;
        for (_, connection) in state.connections.drain() {
            connection.abort();
        }
        self.stats.cut.fetch_add(cut, Ordering::Relaxed);
    }
}

impl Drop for WsProxy {
    fn drop(&mut self) {
        self.accept.abort();
        for (_, connection) in lock(&self.shared.state).connections.drain() {
            connection.abort();
        }
    }
}

async fn accept_ws(listener: TcpListener, shared: Arc<WsShared>) {
    loop {
        let client = match listener.accept().await {
            Ok((client, _)) => client,
            Err(_) => {
                // Out of file descriptors and the like: wait rather than spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let mut state = lock(&shared.state);
        if state.cut_until.is_some_and(|until| Instant::now() < until) {
            drop(state);
            shared.stats.refused.fetch_add(1, Ordering::Relaxed);
            drop(client);
            continue;
        }
        let id = state.next_id;
        state.next_id += 1;
        // Registered before the lock is released: the task's own removal waits for it.
        let task = tokio::spawn(pass_through(client, shared.clone(), id));
        state.connections.insert(id, task.abort_handle());
        shared.stats.accepted.fetch_add(1, Ordering::Relaxed);
    }
}

/// Copies bytes both ways until either side closes; a cut aborts it, dropping both sockets.
async fn pass_through(mut client: TcpStream, shared: Arc<WsShared>, id: u64) {
    let _ = client.set_nodelay(true);
    match TcpStream::connect(&shared.upstream).await {
        Ok(mut upstream) => {
            let _ = upstream.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
        Err(_) => {
            shared.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    lock(&shared.state).connections.remove(&id);
}

/// xorshift64* (Vigna): a few lines, deterministic per seed, plenty to pick a share of requests.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // One splitmix64 step spreads small seeds (0, 1, 2...) over the whole state; never 0.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True for `ppm` draws in a million (the high bits, the best ones of xorshift64*).
    fn hit(&mut self, ppm: u32) -> bool {
        (self.next() >> 32) % 1_000_000 < u64::from(ppm)
    }
}

/// A one-shot stop signal for the axum server, without tokio's `sync` feature.
#[derive(Default)]
struct StopSignal(Mutex<(bool, Option<Waker>)>);

impl StopSignal {
    fn trigger(&self) {
        let mut state = lock(&self.0);
        state.0 = true;
        if let Some(waker) = state.1.take() {
            waker.wake();
        }
    }

    async fn wait(self: Arc<Self>) {
        poll_fn(|cx| {
            let mut state = lock(&self.0);
            if state.0 {
                Poll::Ready(())
            } else {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
}

/// A poisoned lock only means another task panicked; the data (counters, flags) is still fine.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw HTTP/1.1 upstream: answers every request (kept-alive) with its body echoed, with
    /// `x-path` (the request's path) and `x-upstream`, framed by Content-Length or chunked.
    async fn echo_upstream(chunked: bool) -> (SocketAddr, Arc<AtomicU64>) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(AtomicU64::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let seen = counter.clone();
                tokio::spawn(async move {
                    let mut reader = BufReader::new(stream);
                    while let Some((path, body)) = read_request(&mut reader).await {
                        seen.fetch_add(1, Ordering::Relaxed);
                        let mut answer = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                             x-upstream: yes\r\nx-path: {path}\r\n"
                        )
                        .into_bytes();
                        if chunked {
                            answer.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                            // Uneven chunks, one with an extension, then a trailer.
                            for (i, chunk) in body.chunks(1000 + 7).enumerate() {
                                let ext = if i == 1 { ";x=1" } else { "" };
                                answer.extend(format!("{:x}{ext}\r\n", chunk.len()).bytes());
                                answer.extend_from_slice(chunk);
                                answer.extend_from_slice(b"\r\n");
                            }
                            answer.extend_from_slice(b"0\r\nx-trailer: t\r\n\r\n");
                        } else {
                            answer.extend(format!("Content-Length: {}\r\n\r\n", body.len()).bytes());
                            answer.extend_from_slice(&body);
                        }
                        if reader.get_mut().write_all(&answer).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (addr, seen)
    }

    /// A request's path and its Content-Length body; None at the end of the connection.
    async fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
        let mut line = String::new();
        reader.read_line(&mut line).await.ok().filter(|&n| n > 0)?;
        let path = line.split(' ').nth(1)?.to_owned();
        let mut length = 0;
        loop {
            line.clear();
            reader.read_line(&mut line).await.ok().filter(|&n| n > 0)?;
            if line.trim().is_empty() {
                break;
            }
            let (name, value) = line.split_once(':')?;
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await.ok()?;
        Some((path, body))
    }

    /// A keep-alive HTTP/1.1 client on one connection.
    struct Client(BufReader<TcpStream>);

    struct Answer {
        status: u16,
        headers: Headers,
        body: Vec<u8>,
    }

    impl Answer {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.to_str().unwrap())
        }
    }

    impl Client {
        async fn connect(addr: SocketAddr) -> Client {
            Client(BufReader::new(TcpStream::connect(addr).await.unwrap()))
        }

        async fn post(&mut self, path: &str, body: &[u8]) -> Answer {
            let mut request = format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            request.extend_from_slice(body);
            self.0.get_mut().write_all(&request).await.unwrap();
            let (status, headers) = read_head(&mut self.0).await.unwrap();
            let body = read_body(&mut self.0, false, status, &headers).await.unwrap();
            Answer { status, headers, body }
        }
    }

    fn json(i: usize) -> Vec<u8> {
        format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"getSlot","params":["é\n\u0000"]}}"#).into_bytes()
    }

    /// Bodies of every size class: tiny, a few chunks, several hundred kilobytes.
    fn bodies() -> Vec<Vec<u8>> {
        let big: Vec<u8> = (0..300_000u32).map(|i| b"abcdefghij0123456789"[i as usize % 20]).collect();
        vec![json(1), json(2), b"x".to_vec(), vec![b'7'; 2500], big, json(3)]
    }

    async fn forwards_byte_exact(chunked: bool) {
        let (upstream, seen) = echo_upstream(chunked).await;
        let proxy = RpcProxy::start(&format!("http://{upstream}"), RpcFaults::default()).await.unwrap();
        let mut client = Client::connect(proxy.addr).await;
        let bodies = bodies();
        for body in &bodies {
            let answer = client.post("/rpc?x=1", body).await;
            assert_eq!(answer.status, 200);
            assert!(answer.body == *body, "body of {} bytes changed", body.len());
            assert_eq!(answer.header("x-upstream"), Some("yes"));
            assert_eq!(answer.header("x-path"), Some("/rpc?x=1"));
            assert_eq!(answer.header("content-type"), Some("application/json"));
            assert_eq!(answer.header("transfer-encoding"), None);
        }
        let n = bodies.len() as u64;
        assert_eq!(seen.load(Ordering::Relaxed), n);
        let counts = RpcCounts { requests: n, forwarded: n, ..RpcCounts::default() };
        assert_eq!(proxy.stats.snapshot(), counts);
    }

    #[tokio::test]
    async fn forwards_byte_exact_over_keep_alive() {
        forwards_byte_exact(false).await;
    }

    #[tokio::test]
    async fn forwards_chunked_upstream_answers() {
        forwards_byte_exact(true).await;
    }

    #[tokio::test]
    async fn fail_all_answers_503_and_forwards_nothing() {
        let (upstream, seen) = echo_upstream(false).await;
        let faults = RpcFaults { fail_ppm: 1_000_000, ..RpcFaults::default() };
        let proxy = RpcProxy::start(&format!("http://{upstream}"), faults).await.unwrap();
        let mut client = Client::connect(proxy.addr).await;
        for i in 0..20 {
            let answer = client.post("/", &json(i)).await;
            assert_eq!(answer.status, 503);
            assert!(!answer.body.is_empty());
        }
        assert_eq!(seen.load(Ordering::Relaxed), 0);
        let counts = RpcCounts { requests: 20, failed: 20, ..RpcCounts::default() };
        assert_eq!(proxy.stats.snapshot(), counts);
    }

    #[tokio::test]
    async fn set_faults_turns_failures_off_at_runtime() {
        let (upstream, _) = echo_upstream(false).await;
        let faults = RpcFaults { fail_ppm: 1_000_000, ..RpcFaults::default() };
        let proxy = RpcProxy::start(&format!("http://{upstream}"), faults).await.unwrap();
        let mut client = Client::connect(proxy.addr).await;
        assert_eq!(client.post("/", &json(1)).await.status, 503);
        proxy.set_faults(RpcFaults::default());
        assert_eq!(proxy.faults(), RpcFaults::default());
        let answer = client.post("/", &json(2)).await;
        assert_eq!((answer.status, answer.body), (200, json(2)));
    }

    #[tokio::test]
    async fn delay_holds_the_request() {
        let (upstream, _) = echo_upstream(false).await;
        let delay = Duration::from_millis(300);
        let faults = RpcFaults { delay_ppm: 1_000_000, delay, ..RpcFaults::default() };
        let proxy = RpcProxy::start(&format!("http://{upstream}"), faults).await.unwrap();
        let mut client = Client::connect(proxy.addr).await;
        let start = Instant::now();
        let answer = client.post("/", &json(1)).await;
        assert!(start.elapsed() >= delay, "answered after {:?}", start.elapsed());
        assert_eq!((answer.status, answer.body), (200, json(1)));

        proxy.set_faults(RpcFaults { delay_ppm: 0, ..faults });
        let start = Instant::now();
        assert_eq!(client.post("/", &json(2)).await.status, 200);
        assert!(start.elapsed() < delay, "not delayed, answered after {:?}", start.elapsed());
        assert_eq!(proxy.stats.delayed.load(Ordering::Relaxed), 1);
        assert_eq!(proxy.stats.forwarded.load(Ordering::Relaxed), 2);
    }

    /// Failures among 400 requests at 50 %: about half, and the same count for the same seed.
    async fn failures_of_400(seed: u64) -> u64 {
        let (upstream, _) = echo_upstream(false).await;
        let faults = RpcFaults { fail_ppm: 500_000, seed, ..RpcFaults::default() };
        let proxy = RpcProxy::start(&format!("http://{upstream}"), faults).await.unwrap();
        let mut client = Client::connect(proxy.addr).await;
        let mut failed = 0;
        for i in 0..400 {
            let answer = client.post("/", &json(i)).await;
            match answer.status {
                503 => failed += 1,
                200 => assert_eq!(answer.body, json(i)),
                status => panic!("status {status}"),
            }
        }
        let counts = proxy.stats.snapshot();
        assert_eq!((counts.requests, counts.failed, counts.forwarded), (400, failed, 400 - failed));
        failed
    }

    #[tokio::test]
    async fn half_fail_share_is_about_half_and_seeded() {
        let first = failures_of_400(7).await;
        assert!((160..=240).contains(&first), "{first} of 400 failed");
        // Pinned: a benchmark run with this seed fails exactly these requests.
        assert_eq!(first, 203);
        assert_eq!(failures_of_400(7).await, first);
        let other = failures_of_400(8).await;
        assert!((160..=240).contains(&other), "{other} of 400 failed");
    }

    #[test]
    fn generator_shares_match_ppm() {
        for (ppm, low, high) in [(0, 0, 0), (10_000, 800, 1200), (500_000, 49_000, 51_000)] {
            let mut rng = XorShift::new(1);
            let hits = (0..100_000).filter(|_| rng.hit(ppm)).count();
            assert!((low..=high).contains(&hits), "{hits} hits at {ppm} ppm");
        }
        let mut rng = XorShift::new(0);
        assert!((0..1000).all(|_| rng.hit(1_000_000)));
    }

    #[tokio::test]
    async fn unreachable_upstream_answers_502() {
        let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let upstream = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let proxy = RpcProxy::start(&upstream, RpcFaults::default()).await.unwrap();
        let mut client = Client::connect(proxy.addr).await;
        assert_eq!(client.post("/", &json(1)).await.status, 502);
        assert_eq!(proxy.stats.upstream_errors.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn stop_closes_the_listener_and_idle_connections() {
        let (upstream, _) = echo_upstream(false).await;
        let proxy = RpcProxy::start(&format!("http://{upstream}"), RpcFaults::default()).await.unwrap();
        let mut client = Client::connect(proxy.addr).await;
        assert_eq!(client.post("/", &json(1)).await.status, 200);
        proxy.stop();
        let mut byte = [0; 1];
        let read = tokio::time::timeout(Duration::from_secs(2), client.0.read(&mut byte)).await;
        assert!(matches!(read, Ok(Ok(0))), "kept connection not closed: {read:?}");
        // The listener is dropped alongside the connections: allow it a moment.
        let start = Instant::now();
        while TcpStream::connect(proxy.addr).await.is_ok() {
            assert!(start.elapsed() < Duration::from_secs(2), "still accepting after stop");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[test]
    fn upstream_urls() {
        let parse = |url| Upstream::parse(url).map(|u| (u.authority, u.prefix));
        assert_eq!(parse("http://127.0.0.1:8899").unwrap(), ("127.0.0.1:8899".into(), "".into()));
        assert_eq!(parse("http://localhost/").unwrap(), ("localhost:80".into(), "".into()));
        assert_eq!(parse("http://[::1]:8899/a/").unwrap(), ("[::1]:8899".into(), "/a".into()));
        assert_eq!(parse("http://[::1]").unwrap(), ("[::1]:80".into(), "".into()));
        assert!(parse("https://x:1").is_err());
        assert!(parse("http:///x").is_err());
    }

    /// A TCP upstream that greets each connection, then echoes.
    async fn greeting_echo_upstream() -> SocketAddr {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    stream.write_all(b"hello\n").await.unwrap();
                    let (mut read, mut write) = stream.split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        addr
    }

    /// Connects through the proxy and checks bytes go both ways.
    async fn ws_roundtrip(proxy: &WsProxy) -> TcpStream {
        let mut stream = TcpStream::connect(proxy.addr).await.unwrap();
        let mut greeting = [0; 6];
        stream.read_exact(&mut greeting).await.unwrap();
        assert_eq!(&greeting, b"hello\n");
        let message: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let (mut read, mut write) = stream.split();
        let mut echoed = vec![0; message.len()];
        let (written, echo) = tokio::join!(write.write_all(&message), read.read_exact(&mut echoed));
        written.unwrap();
        echo.unwrap();
        assert!(echoed == message);
        stream
    }

    /// Whether the peer closes `stream` within a second (EOF, or a reset).
    async fn closed_soon(stream: &mut TcpStream) -> bool {
        let mut byte = [0; 1];
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut byte)).await {
            Ok(Ok(n)) => n == 0,
            Ok(Err(_)) => true,
            Err(_) => false,
        }
    }

    #[tokio::test]
    async fn ws_proxy_passes_bytes_both_ways() {
        let proxy = WsProxy::start(&format!("ws://{}", greeting_echo_upstream().await)).await.unwrap();
        assert_eq!(proxy.url(), format!("ws://127.0.0.1:{}", proxy.addr.port()));
        let mut first = ws_roundtrip(&proxy).await;
        let _second = ws_roundtrip(&proxy).await;
        assert!(!closed_soon(&mut first).await);
        assert_eq!(proxy.stats.accepted.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn ws_cut_closes_refuses_then_passes_again() {
        let proxy = WsProxy::start(&greeting_echo_upstream().await.to_string()).await.unwrap();
        let mut open = ws_roundtrip(&proxy).await;
        let mut other = ws_roundtrip(&proxy).await;
        let cut_for = Duration::from_secs(1);
        let start = Instant::now();
        proxy.cut(cut_for);
        assert!(closed_soon(&mut open).await, "open connection not closed by the cut");
        assert!(closed_soon(&mut other).await, "open connection not closed by the cut");

        let mut during = TcpStream::connect(proxy.addr).await.unwrap();
        assert!(closed_soon(&mut during).await, "connection during the cut not closed");
        assert!(start.elapsed() < cut_for, "test too slow to check the cut");

        tokio::time::sleep(cut_for.saturating_sub(start.elapsed())).await;
        let _after = ws_roundtrip(&proxy).await;
        let stats = &proxy.stats;
        let counts = [&stats.accepted, &stats.cut, &stats.refused].map(|c| c.load(Ordering::Relaxed));
        assert_eq!(counts, [3, 2, 1]);
    }

    #[tokio::test]
    async fn ws_upstream_down_closes_the_client() {
        let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let upstream = closed.local_addr().unwrap().to_string();
        drop(closed);
        let proxy = WsProxy::start(&upstream).await.unwrap();
        let mut client = TcpStream::connect(proxy.addr).await.unwrap();
        assert!(closed_soon(&mut client).await);
        assert_eq!(proxy.stats.upstream_errors.load(Ordering::Relaxed), 1);
    }
}
