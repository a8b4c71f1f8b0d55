//! A loopback proxy in front of an S3-compatible server (moto) that fails some requests the
//! way S3 itself does, for the stage side of the chaos harness:
//! * `503 SlowDown` with S3's XML error body (`<Error><Code>SlowDown</Code><Message>Please
//!   reduce your request rate.</Message>…`), which S3 sends when a prefix takes more requests
//!   than it can absorb; nothing reaches the server;
//! * a connection closed without an answer **before** the request is forwarded: nothing
//!   happened, the client cannot know that;
//! * a connection closed without an answer **after** the server answered: the write landed
//!   (an object exists, a conditional PUT took its name) but the client never heard.
//!
//! It speaks plain HTTP/1.1 at the byte level, so the request reaches the server exactly as
//! signed (SigV4 covers the Host header). Each forwarded request goes to the server on a new
//! connection with `Connection: close`, and its answer is passed back with `Connection: close`,
//! so one client connection carries one request. Decisions come from a seeded generator, so a
//! seed repeats its faults in order of arrival (the arrival order of concurrent requests
//! itself varies).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use object_store::ObjectStoreExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How often each fault fires, per request.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct S3Faults {
    /// Answer `503 SlowDown`.
    pub(crate) slow_down: f64,
    /// Close the connection before forwarding.
    pub(crate) drop_before: f64,
    /// Forward, then close the connection instead of answering.
    pub(crate) drop_after: f64,
}

/// What the proxy did, by kind.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) forwarded: AtomicU64,
    pub(crate) slow_down: AtomicU64,
    pub(crate) drop_before: AtomicU64,
    pub(crate) drop_after: AtomicU64,
}

struct Shared {
    upstream: String,
    faults: S3Faults,
    rng: Mutex<u64>,
    counters: Counters,
}

/// A running proxy; it stops when the test's runtime does.
pub(crate) struct S3FaultProxy {
    /// `http://127.0.0.1:<port>`: what the client takes as its S3 endpoint.
    pub(crate) endpoint: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// S3's answer when a prefix is over its request rate.
const SLOW_DOWN_BODY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>";

impl S3FaultProxy {
    /// A proxy to `upstream` (`http://host:port`) with `faults` drawn from `seed`.
    pub(crate) async fn start(upstream: &str, faults: S3Faults, seed: u64) -> S3FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            upstream: upstream
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
            faults,
            rng: Mutex::new(seed ^ 0x9E37_79B9_7F4A_7C15),
            counters: Counters::default(),
        });
        let accept = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = accept.clone();
                tokio::spawn(async move {
                    let _ = serve(client, &shared).await;
                });
            }
        });
        S3FaultProxy {
            endpoint,
            shared,
            task,
        }
    }

    /// What it did so far.
    pub(crate) fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    /// `forwarded F, slow-down S, dropped before B, dropped after A`.
    pub(crate) fn summary(&self) -> String {
        let c = self.counters();
        format!(
            "forwarded {}, slow-down {}, dropped before {}, dropped after {}",
            c.forwarded.load(Ordering::Relaxed),
            c.slow_down.load(Ordering::Relaxed),
            c.drop_before.load(Ordering::Relaxed),
            c.drop_after.load(Ordering::Relaxed)
        )
    }
}

impl Drop for S3FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

enum Fault {
    None,
    SlowDown,
    DropBefore,
    DropAfter,
}

impl Shared {
    fn unit(&self) -> f64 {
        let mut state = self.rng.lock().unwrap();
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn decide(&self) -> Fault {
        let faults = self.faults;
        let draw = self.unit();
        if draw < faults.slow_down {
            Fault::SlowDown
        } else if draw < faults.slow_down + faults.drop_before {
            Fault::DropBefore
        } else if draw < faults.slow_down + faults.drop_before + faults.drop_after {
            Fault::DropAfter
        } else {
            Fault::None
        }
    }
}

/// One request on `client`: read it whole, then fail or forward it.
async fn serve(mut client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let Some(request) = read_request(&mut client).await? else {
        return Ok(());
    };
    match shared.decide() {
        Fault::SlowDown => {
            shared.counters.slow_down.fetch_add(1, Ordering::Relaxed);
            let answer = format!(
                "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nx-amz-request-id: 4442587FB7D0A2F9\r\nConnection: close\r\n\r\n{SLOW_DOWN_BODY}",
                SLOW_DOWN_BODY.len()
            );
            client.write_all(answer.as_bytes()).await?;
            client.shutdown().await
        }
        Fault::DropBefore => {
            shared.counters.drop_before.fetch_add(1, Ordering::Relaxed);
            drop(client);
            Ok(())
        }
        fault @ (Fault::DropAfter | Fault::None) => {
            let answer = forward(&shared.upstream, &request).await?;
            if matches!(fault, Fault::DropAfter) {
                shared.counters.drop_after.fetch_add(1, Ordering::Relaxed);
                drop(client);
                return Ok(());
            }
            shared.counters.forwarded.fetch_add(1, Ordering::Relaxed);
            client.write_all(&answer).await?;
            client.shutdown().await
        }
    }
}

/// The head's end (after `\r\n\r\n`) in `bytes`, if there.
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// A header's value (case-insensitive name) in an HTTP head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads one whole request (head and body, by Content-Length or chunked) and rewrites its
/// `Connection` header to `close`; `None` when the client closed first.
async fn read_request(client: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let end = loop {
        if let Some(end) = head_end(&bytes) {
            break end;
        }
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        bytes.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let chunked = header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked"));
    if chunked {
        // The body ends with the zero-length chunk and an empty trailer.
        while !bytes[end..].ends_with(b"0\r\n\r\n") {
            let n = client.read(&mut buf).await?;
            if n == 0 {
                return Ok(None);
            }
            bytes.extend_from_slice(&buf[..n]);
        }
    } else {
        let length: usize = header(&head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while bytes.len() < end + length {
            let n = client.read(&mut buf).await?;
            if n == 0 {
                return Ok(None);
            }
            bytes.extend_from_slice(&buf[..n]);
        }
    }
    Ok(Some(with_connection_close(&head, &bytes[end..])))
}

/// `head` without its `Connection` header, with `Connection: close`, followed by `body`.
fn with_connection_close(head: &str, body: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for (i, line) in head.trim_end_matches("\r\n").split("\r\n").enumerate() {
        if i > 0
            && line
                .split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case("connection"))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends `request` to `upstream` on a new connection and returns its whole answer, with
/// `Connection: close` (the server closes after answering a request that asked it to).
async fn forward(upstream: &str, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(request).await?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).await?;
    let Some(end) = head_end(&answer) else {
        return Err(std::io::Error::other("the server closed without an answer"));
    };
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    Ok(with_connection_close(&head, &answer[end..]))
}

/// Each fault against moto itself: a `SlowDown` answer is S3's (503, the XML error body) and
/// nothing lands; a connection dropped before forwarding leaves nothing; one dropped after
/// forwarding gives the client no answer while the object has landed; no fault passes the
/// request and its answer through.
#[tokio::test]
async fn each_fault_does_to_moto_what_it_says() {
    let moto = super::moto::Moto::start("fault-proxy").await;
    // Writes go unsigned (moto takes them); reads are signed and go to moto directly.
    let client = reqwest::Client::new();
    let direct = moto.stage("");
    let stored = async |key: &str| {
        direct
            .get(key)
            .await
            .unwrap()
            .map(|bytes| String::from_utf8(bytes.to_vec()).unwrap())
    };
    let only = async |faults: S3Faults| S3FaultProxy::start(&moto.endpoint, faults, 7).await;
    let through =
        |proxy: &S3FaultProxy, key: &str| format!("{}/{}/{key}", proxy.endpoint, moto.bucket);

    let slow = only(S3Faults {
        slow_down: 1.0,
        ..S3Faults::default()
    })
    .await;
    let answer = client
        .put(through(&slow, "slow"))
        .body("a")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 503);
    let body = answer.text().await.unwrap();
    assert!(
        body.starts_with("<?xml")
            && body.contains(
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
            ),
        "{body}"
    );
    assert!(
        stored("slow").await.is_none(),
        "a SlowDown write lands nothing"
    );
    assert_eq!(slow.counters().slow_down.load(Ordering::Relaxed), 1);

    let before = only(S3Faults {
        drop_before: 1.0,
        ..S3Faults::default()
    })
    .await;
    let sent = client
        .put(through(&before, "before"))
        .body("b")
        .send()
        .await;
    assert!(sent.is_err(), "no answer: {sent:?}");
    assert!(
        stored("before").await.is_none(),
        "dropped before: nothing lands"
    );
    assert_eq!(before.counters().drop_before.load(Ordering::Relaxed), 1);

    let after = only(S3Faults {
        drop_after: 1.0,
        ..S3Faults::default()
    })
    .await;
    let sent = client
        .put(through(&after, "after"))
        .body("landed")
        .send()
        .await;
    assert!(sent.is_err(), "no answer: {sent:?}");
    assert_eq!(
        stored("after").await.as_deref(),
        Some("landed"),
        "dropped after forwarding: the object has landed"
    );
    assert_eq!(after.counters().drop_after.load(Ordering::Relaxed), 1);

    // Without faults, a signed write and read pass through unchanged (SigV4 covers the Host
    // header, so the proxy must not touch it).
    let clean = only(S3Faults::default()).await;
    let mut options = moto.options();
    for (key, value) in &mut options {
        if key == "aws_endpoint" {
            *value = clean.endpoint.clone();
        }
    }
    let proxied = intacct_snowflake::stage::Stage::open_with_options(
        &format!("s3://{}/", moto.bucket),
        options,
    )
    .unwrap();
    proxied
        .store()
        .put(
            &proxied.path("clean"),
            bytes::Bytes::from_static(b"passed").into(),
        )
        .await
        .unwrap();
    assert_eq!(stored("clean").await.as_deref(), Some("passed"));
    assert_eq!(
        proxied.get("clean").await.unwrap().as_deref(),
        Some(&b"passed"[..])
    );
    assert_eq!(clean.counters().forwarded.load(Ordering::Relaxed), 2);
}
