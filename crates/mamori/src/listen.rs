//! `mamori webhook listen`: a local receiver for trying webhooks out (like `stripe listen`). It
//! prints each delivery and, given the subscription's secret, checks its Standard Webhooks
//! signature and timestamp the way a receiver should.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Deliveries older or newer than this are refused (the specification's replay window).
const TOLERANCE_S: i64 = 300;

pub async fn run(listen: &str, secret: Option<String>) -> anyhow::Result<()> {
    let key = match secret.as_deref() {
        None => None,
        Some(s) => {
            let encoded = s.strip_prefix("whsec_").unwrap_or(s);
            Some(STANDARD.decode(encoded).map_err(|_| {
                anyhow::anyhow!(
                    "the secret is `whsec_` followed by base64, as `webhook add` printed it"
                )
            })?)
        }
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!(
        "listening on http://{}/ — subscribe that URL; Ctrl-C to stop",
        listener.local_addr()?
    );
    let app = axum::Router::new()
        .fallback(axum::routing::post(receive))
        .with_state(std::sync::Arc::new(key));
    axum::serve(listener, app).await?;
    Ok(())
}

async fn receive(
    State(key): State<std::sync::Arc<Option<Vec<u8>>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (id, timestamp, signatures) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let verdict = match key.as_ref() {
        None => "not checked (no --secret)",
        Some(key) => match check(key, &id, &timestamp, &signatures, &body) {
            Ok(()) => "signature ok",
            Err(why) => why,
        },
    };
    println!("{id}  {verdict}\n{}\n", String::from_utf8_lossy(&body));
    if verdict.starts_with("signature ok") || key.is_none() {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// The receiver's side of the specification: any `v1,<base64>` signature over
/// `id.timestamp.body` under the secret, with a timestamp within five minutes.
fn check(
    key: &[u8],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
) -> Result<(), &'static str> {
    let sent: i64 = timestamp.parse().map_err(|_| "BAD: no timestamp")?;
    if (mamori_core::now_ms() / 1000 - sent).abs() > TOLERANCE_S {
        return Err("BAD: timestamp outside the 5-minute window");
    }
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    let matches = signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|s| STANDARD.decode(s).ok())
        .any(|tag| tag.len() == 32 && mamori_crypto::hmac_sha256_verify_prefix(key, &signed, &tag));
    if matches {
        Ok(())
    } else {
        Err("BAD: signature does not match")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_a_signature_made_as_the_server_makes_it() {
        let key = b"0123456789abcdef0123456789abcdef";
        let now = (mamori_core::now_ms() / 1000).to_string();
        let body = br#"{"type":"consent.changed"}"#;
        let mut signed = format!("msg_1.{now}.").into_bytes();
        signed.extend_from_slice(body);
        let tag = STANDARD.encode(mamori_crypto::hmac_sha256(key, &signed));
        let header = format!("v1,AAAA v1,{tag}");
        assert_eq!(check(key, "msg_1", &now, &header, body), Ok(()));
        assert!(check(key, "msg_2", &now, &header, body).is_err());
        assert!(check(b"another key", "msg_1", &now, &header, body).is_err());
        assert!(check(key, "msg_1", "1000", &header, body).is_err());
        assert!(check(key, "msg_1", &now, &header, b"{}").is_err());
    }
}
