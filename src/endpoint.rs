//! Which endpoints may be reached how: loopback detection and the rules that keep secrets
//! off the network in clear.
//!
//! Invariants: plain `http` reaches only loopback hosts (127.0.0.0/8, `::1`, `localhost`),
//! where the stand-ins listen; everything else carries passwords, session ids and JWTs and
//! must be `https`. Skipping TLS certificate checks (`AWS_ALLOW_INVALID_CERTIFICATES`) is for
//! loopback S3 stand-ins only. A pure leaf: it imports nothing of the crate.

use std::net::IpAddr;

/// True when a URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Why `url` may not carry `what` (passwords, a session id, a token), or `None` when it may:
/// plain `http` to a host that is not loopback is refused.
pub fn plain_http_refusal(url: &url::Url, what: &str) -> Option<String> {
    (url.scheme().eq_ignore_ascii_case("http") && !is_loopback(url)).then(|| {
        format!(
            "http://{} is plain HTTP to a host that is not loopback: {what} would travel in clear; use https:// (plain http is allowed only for 127.0.0.0/8, ::1 and localhost)",
            url.host_str().unwrap_or("")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_off_loopback_only() {
        for (u, refused) in [
            ("http://127.0.0.1:1/", false),
            ("http://127.8.9.1/", false),
            ("http://localhost:9/", false),
            ("http://LOCALHOST:9/", false),
            ("http://[::1]:9/", false),
            ("https://api.intacct.com/", false),
            ("http://api.intacct.com/ia/xml/xmlgw.phtml", true),
            ("HTTP://acme.snowflakecomputing.com", true),
            ("http://10.0.0.1/", true),
            ("http://[::2]/", true),
            ("http://127.0.0.1.nip.io/", true),
            ("http://localhost.example.com/", true),
        ] {
            let url = url::Url::parse(u).unwrap();
            let refusal = plain_http_refusal(&url, "the passwords");
            assert_eq!(refusal.is_some(), refused, "{u}: {refusal:?}");
            if let Some(message) = refusal {
                assert!(message.contains("the passwords"), "{message}");
                assert!(message.contains(url.host_str().unwrap()), "{message}");
            }
        }
    }
}
