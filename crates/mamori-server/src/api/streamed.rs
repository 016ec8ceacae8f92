//! Answers written part by part: a JSON object whose last member is an array, each part of
//! the array sent as soon as it is decided, so the first items reach the caller before the
//! last are read. A failure mid-way ends the answer early (the JSON is then incomplete, never
//! wrong); it is logged by its code.

use futures_util::{Stream, StreamExt};

/// `prefix` (the object up to and including its array's `[`), then each part's items through
/// `write`, comma-separated, then `]}`.
pub(crate) fn json_array<T, S>(
    parts: S,
    prefix: String,
    what: &'static str,
    write: fn(&mut String, T),
) -> impl Stream<Item = Result<String, std::io::Error>>
where
    S: Stream<Item = mamori_core::Result<Vec<T>>> + Send + 'static,
{
    let state = (Box::pin(parts), Some(prefix), true);
    futures_util::stream::unfold(state, move |(mut parts, prefix, first)| async move {
        let mut out = prefix?;
        let mut first = first;
        match parts.next().await {
            None => {
                out.push_str("]}");
                return Some((Ok(out), (parts, None, first)));
            }
            Some(Ok(items)) => {
                for item in items {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    write(&mut out, item);
                }
            }
            Some(Err(e)) => {
                tracing::error!(error = %e, code = e.code().as_str(), what, "a streamed answer failed mid-way; cut short");
                let failed = std::io::Error::other(format!("{what} failed"));
                return Some((Err(failed), (parts, None, first)));
            }
        }
        Some((Ok(out), (parts, Some(String::new()), first)))
    })
}
