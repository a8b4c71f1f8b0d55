//! Reading an HTTP response body with a ceiling on its size.
//!
//! A gateway, proxy or misbehaving server can answer with a body of any size (gzip makes a
//! small transfer a huge body); both clients read bodies through [`read_capped`], so memory
//! stays bounded and the error names the limit instead of the process running out of memory.

use bytes::{Bytes, BytesMut};

use crate::error::{Error, Result, Service};

/// The largest Intacct response body read: a 2,000-record page is a few MB.
pub(crate) const INTACCT_MAX_BODY_BYTES: usize = 128 * 1024 * 1024;
/// The largest Snowflake response body read: a result partition is at most tens of MB.
pub(crate) const SNOWFLAKE_MAX_BODY_BYTES: usize = 512 * 1024 * 1024;

/// The whole body of `response`, or [`Error::BodyTooLarge`] as soon as it passes `max_bytes`
/// (checked against `Content-Length` first, then while reading).
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    max_bytes: usize,
    service: Service,
    transport: impl Fn(reqwest::Error) -> Error,
) -> Result<Bytes> {
    let too_large = || Error::BodyTooLarge {
        service,
        limit_bytes: max_bytes as u64,
    };
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(
        response
            .content_length()
            .map_or(64 * 1024, |n| n as usize)
            .min(max_bytes),
    );
    while let Some(chunk) = response.chunk().await.map_err(&transport)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves one response on loopback: `declared` as Content-Length (or chunked when `None`)
    /// and `size` bytes of body.
    async fn serve_once(declared: Option<usize>, size: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let body = vec![b'x'; size];
            let head = match declared {
                Some(n) => format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n"),
                None => {
                    format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size:x}\r\n")
                }
            };
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&body).await;
            if declared.is_none() {
                let _ = socket.write_all(b"\r\n0\r\n\r\n").await;
            }
        });
        format!("http://{addr}/")
    }

    async fn read(url: &str, max: usize) -> Result<Bytes> {
        let response = reqwest::get(url).await.unwrap();
        read_capped(response, max, Service::Intacct, |e| Error::Transport {
            service: Service::Intacct,
            message: e.to_string(),
            timeout: false,
        })
        .await
    }

    #[tokio::test]
    async fn bodies_past_the_limit_are_refused_naming_it() {
        let small = read(&serve_once(Some(1000), 1000).await, 4096)
            .await
            .unwrap();
        assert_eq!(small.len(), 1000);
        for url in [
            serve_once(Some(10_000), 10_000).await,
            serve_once(None, 10_000).await,
        ] {
            match read(&url, 4096).await {
                Err(Error::BodyTooLarge {
                    service: Service::Intacct,
                    limit_bytes: 4096,
                }) => {}
                other => panic!("expected BodyTooLarge, got {other:?}"),
            }
        }
    }
}
