//! IPv6 addresses (RFC 4291 text forms, with `::` and an embedded IPv4 tail), validated by the
//! standard library's parser; times (`12:30:45`), MAC addresses and `std::vec` paths do not parse.

use crate::detect::{Kind, Span};

fn is_part(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b':' || b == b'.'
}

pub(crate) fn ipv6s(bytes: &[u8], out: &mut Vec<Span>) {
    let mut from = 0;
    for colon in memchr::memchr_iter(b':', bytes) {
        if colon < from {
            continue;
        }
        let mut start = colon;
        while start > 0 && is_part(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = colon + 1;
        while end < bytes.len() && is_part(bytes[end]) {
            end += 1;
        }
        from = end;
        // A sentence's full stop or colon after the address is not part of it.
        while end > colon + 1 && bytes[end - 1] == b'.' {
            end -= 1;
        }
        while start < colon && bytes[start] == b'.' {
            start += 1;
        }
        let glued = start > 0 && bytes[start - 1].is_ascii_alphanumeric()
            || bytes.get(end).is_some_and(u8::is_ascii_alphanumeric);
        let text = std::str::from_utf8(&bytes[start..end]).unwrap_or("");
        let groups = text.split(':').filter(|g| !g.is_empty()).count();
        if !glued && groups >= 2 && text.parse::<std::net::Ipv6Addr>().is_ok() {
            out.push(Span {
                kind: Kind::IpAddress,
                start,
                end,
            });
        }
    }
}
