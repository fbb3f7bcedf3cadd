//! Path normalisation before policy matching.
//!
//! The policy must judge the path the upstream will act on, so the raw `$request_uri` is
//! reduced to one canonical form: query and fragment dropped (never matched on),
//! percent-escapes decoded, `.` and `..` segments resolved (never above the root), empty
//! segments collapsed, the trailing slash dropped. Encodings that different parsers read
//! differently are refused outright rather than guessed at: an encoded `/`, `\` or `%`
//! (double encoding), an encoded `?` or `#`, NUL and other control characters, broken
//! escapes and anything that is not UTF-8 once decoded.

use std::borrow::Cow;

/// Why a path was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path does not start with '/'")]
    NotAbsolute,
    #[error("invalid percent escape")]
    BadEscape,
    #[error("ambiguous encoding")]
    Ambiguous,
    #[error("control character")]
    Control,
    #[error("not UTF-8 after decoding")]
    NotUtf8,
}

/// Normalises a request target (`/a/b?q#f`) to the canonical path (`/a/b`).
///
/// Borrows when the path is already canonical, which is the common case.
pub fn normalize(target: &str) -> Result<Cow<'_, str>, PathError> {
    let end = target.find(['?', '#']).unwrap_or(target.len());
    let raw = &target[..end];
    if !raw.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    if is_canonical(raw) {
        return Ok(Cow::Borrowed(raw));
    }
    let decoded = decode(raw.as_bytes())?;
    Ok(Cow::Owned(resolve(&decoded)))
}

/// True when `raw` needs no decoding and has no empty, `.` or `..` segment and no
/// trailing slash (the root `/` itself is canonical).
fn is_canonical(raw: &str) -> bool {
    if raw == "/" {
        return true;
    }
    if raw
        .bytes()
        .any(|b| b == b'%' || b == b'\\' || b.is_ascii_control())
    {
        return false;
    }
    raw[1..]
        .split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// Decodes percent-escapes byte-wise, refusing ambiguous ones, then checks UTF-8.
fn decode(raw: &[u8]) -> Result<String, PathError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        match b {
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex);
                let lo = raw.get(i + 2).copied().and_then(hex);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(PathError::BadEscape);
                };
                let decoded = hi << 4 | lo;
                match decoded {
                    b'/' | b'\\' | b'%' | b'?' | b'#' => return Err(PathError::Ambiguous),
                    c if c.is_ascii_control() => return Err(PathError::Control),
                    c => out.push(c),
                }
                i += 3;
            }
            b'\\' => return Err(PathError::Ambiguous),
            c if c.is_ascii_control() => return Err(PathError::Control),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| PathError::NotUtf8)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Resolves dot segments and collapses empty ones; `..` at the root stays at the root.
fn resolve(decoded: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(decoded.len());
    for seg in &segments {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn norm(s: &str) -> Result<String, PathError> {
        normalize(s).map(Cow::into_owned)
    }

    #[test]
    fn canonical_paths_are_borrowed() {
        assert!(matches!(
            normalize("/api/products/7"),
            Ok(Cow::Borrowed("/api/products/7"))
        ));
        assert!(matches!(normalize("/"), Ok(Cow::Borrowed("/"))));
        assert!(matches!(normalize("/api?x=1"), Ok(Cow::Borrowed("/api"))));
    }

    #[test]
    fn drops_query_and_fragment() {
        assert_eq!(
            norm("/api/users/me?x=/api/admin/users").as_deref(),
            Ok("/api/users/me")
        );
        assert_eq!(
            norm("/api/users/me#/api/admin").as_deref(),
            Ok("/api/users/me")
        );
        assert_eq!(norm("/api/a/?q").as_deref(), Ok("/api/a"));
    }

    #[test]
    fn resolves_dots_and_slashes() {
        assert_eq!(
            norm("/api/./admin/users").as_deref(),
            Ok("/api/admin/users")
        );
        assert_eq!(
            norm("//api//admin/users/").as_deref(),
            Ok("/api/admin/users")
        );
        assert_eq!(
            norm("/api/products/../admin/users").as_deref(),
            Ok("/api/admin/users")
        );
        assert_eq!(norm("/../../etc/passwd").as_deref(), Ok("/etc/passwd"));
        assert_eq!(norm("/a/..").as_deref(), Ok("/"));
        assert_eq!(norm("/a/.").as_deref(), Ok("/a"));
        assert_eq!(
            norm("/.well-known/jwks.json").as_deref(),
            Ok("/.well-known/jwks.json")
        );
    }

    #[test]
    fn decodes_plain_escapes() {
        assert_eq!(norm("/api/%70roducts").as_deref(), Ok("/api/products"));
        assert_eq!(norm("/api/%2e%2E/admin").as_deref(), Ok("/admin"));
        assert_eq!(norm("/caf%C3%A9").as_deref(), Ok("/café"));
    }

    #[test]
    fn refuses_ambiguous_encodings() {
        assert_eq!(norm("/api/admin/..%2fusers"), Err(PathError::Ambiguous));
        assert_eq!(norm("/api/admin/..%2Fusers"), Err(PathError::Ambiguous));
        assert_eq!(norm("/api\\admin"), Err(PathError::Ambiguous));
        assert_eq!(norm("/api/%5cadmin"), Err(PathError::Ambiguous));
        assert_eq!(norm("/api/%252e%252e/admin"), Err(PathError::Ambiguous));
        assert_eq!(norm("/api/%3Fx"), Err(PathError::Ambiguous));
        assert_eq!(norm("/api/%23x"), Err(PathError::Ambiguous));
    }

    #[test]
    fn refuses_controls_bad_escapes_and_non_utf8() {
        assert_eq!(norm("/api/%00"), Err(PathError::Control));
        assert_eq!(norm("/api/%0a"), Err(PathError::Control));
        assert_eq!(norm("/api/\t"), Err(PathError::Control));
        assert_eq!(norm("/api/%7f"), Err(PathError::Control));
        assert_eq!(norm("/api/%zz"), Err(PathError::BadEscape));
        assert_eq!(norm("/api/%4"), Err(PathError::BadEscape));
        assert_eq!(norm("/api/%"), Err(PathError::BadEscape));
        assert_eq!(norm("/api/%ff"), Err(PathError::NotUtf8));
        assert_eq!(norm("/api/%C0%AF"), Err(PathError::NotUtf8));
    }

    #[test]
    fn refuses_relative_and_absolute_form_targets() {
        assert_eq!(norm("api/admin"), Err(PathError::NotAbsolute));
        assert_eq!(norm("http://x/api/admin"), Err(PathError::NotAbsolute));
        assert_eq!(norm(""), Err(PathError::NotAbsolute));
        assert_eq!(norm("?/api"), Err(PathError::NotAbsolute));
    }

    #[test]
    fn is_case_sensitive() {
        assert_eq!(norm("/API/admin/users").as_deref(), Ok("/API/admin/users"));
    }

    fn path_strategy() -> impl Strategy<Value = String> {
        let segment = prop_oneof![
            Just(String::new()),
            Just(".".to_owned()),
            Just("..".to_owned()),
            Just("%2e".to_owned()),
            Just("%2E%2e".to_owned()),
            Just("%41".to_owned()),
            Just("%2f".to_owned()),
            Just("%25".to_owned()),
            "[a-zA-Z0-9._~-]{1,6}",
            "\\PC{1,4}",
        ];
        (
            proptest::collection::vec(segment, 0..8),
            proptest::option::of("[?#][ -~]{0,6}"),
        )
            .prop_map(|(segs, tail)| format!("/{}{}", segs.join("/"), tail.unwrap_or_default()))
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(p in path_strategy()) {
            if let Ok(once) = normalize(&p) {
                let twice = normalize(&once).map(Cow::into_owned);
                prop_assert_eq!(twice.as_deref(), Ok(&*once));
            }
        }

        #[test]
        fn output_is_canonical(p in path_strategy()) {
            if let Ok(out) = normalize(&p) {
                prop_assert!(out.starts_with('/'));
                prop_assert!(!out.contains("//"));
                prop_assert!(out == "/" || !out.ends_with('/'));
                prop_assert!(!out.contains(['?', '#', '%', '\\']));
                for seg in out[1..].split('/') {
                    prop_assert!(seg != "." && seg != "..");
                }
            }
        }

        #[test]
        fn never_escapes_above_root(n in 1usize..6, tail in "[a-z]{1,5}") {
            let p = format!("{}{}", "/..".repeat(n), format_args!("/{tail}"));
            prop_assert_eq!(norm(&p), Ok(format!("/{tail}")));
        }

        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,40}") {
            let _ = normalize(&s);
        }
    }
}
