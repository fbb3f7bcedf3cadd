//! Access tokens: strict parsing of the compact JWS form and its header, signature
//! verification with a key bound to one algorithm, and the claims (see [`claims`]).
//!
//! Nothing here trusts `jsonwebtoken`'s permissive decoding: the three parts are checked
//! byte by byte, the header and claims are parsed with the duplicate-refusing [`Json`],
//! and only the signature check itself is delegated (`jsonwebtoken::crypto::verify`).

pub mod claims;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::HeaderValue;
use jsonwebtoken::Algorithm;

use crate::decision::Reason;
use crate::json::{self, Json};
use crate::keys::Key;

pub use claims::{Rules, Verified};

/// A compact JWS split into its parts; borrowed from the `Authorization` header.
#[derive(Debug)]
pub struct Compact<'a> {
    /// `header.payload`, the signed bytes.
    pub signing_input: &'a str,
    pub payload: &'a str,
    pub signature: &'a str,
}

/// The protected header, reduced to what the proxy acts on.
#[derive(Debug, PartialEq, Eq)]
pub struct Header {
    pub alg: Algorithm,
    pub kid: String,
}

/// Header parameters that carry keys, key URLs or processing instructions the proxy will
/// never honour; their mere presence refuses the token.
const FORBIDDEN_HEADER_PARAMS: [&str; 9] = [
    "jwk", "jku", "x5u", "x5c", "crit", "cty", "enc", "zip", "b64",
];

/// The bearer token of an `Authorization` header value, `None` when there is no bearer
/// token at all (another scheme, an empty value).
pub fn bearer(value: &HeaderValue) -> Option<&[u8]> {
    let bytes = value.as_bytes();
    let scheme = bytes.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = bytes[7..].trim_ascii_start();
    (!token.is_empty()).then_some(token)
}

/// Splits a token into its three parts, refusing oversize, JWE (5 parts), unsigned or
/// truncated forms and anything outside the base64url alphabet (padding included).
pub fn split(token: &[u8], max_bytes: usize) -> Result<Compact<'_>, Reason> {
    if token.len() > max_bytes {
        return Err(Reason::TooLarge);
    }
    let mut dots = [0usize; 2];
    let mut n = 0;
    for (i, b) in token.iter().enumerate() {
        match b {
            b'.' => {
                if n == 2 {
                    return Err(Reason::Malformed);
                }
                dots[n] = i;
                n += 1;
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => {}
            _ => return Err(Reason::Malformed),
        }
    }
    if n != 2 {
        return Err(Reason::Malformed);
    }
    // Only base64url bytes and dots remain, so this is ASCII.
    let text = std::str::from_utf8(token).map_err(|_| Reason::Malformed)?;
    let (header, payload, signature) = (
        &text[..dots[0]],
        &text[dots[0] + 1..dots[1]],
        &text[dots[1] + 1..],
    );
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(Reason::Malformed);
    }
    Ok(Compact {
        signing_input: &text[..dots[1]],
        payload,
        signature,
    })
}

/// Decodes one base64url part (canonical, unpadded) into a strict JSON object.
pub fn decode_object(part: &str, on_error: Reason) -> Result<Vec<(String, Json)>, Reason> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| on_error)?;
    match Json::parse(&bytes).map_err(|_| on_error)? {
        Json::Object(members) => Ok(members),
        _ => Err(on_error),
    }
}

/// Parses and vets the protected header.
pub fn header(compact: &Compact<'_>) -> Result<Header, Reason> {
    let end = compact.signing_input.find('.').unwrap_or(0);
    let members = decode_object(&compact.signing_input[..end], Reason::BadHeader)?;
    if members
        .iter()
        .any(|(k, _)| FORBIDDEN_HEADER_PARAMS.contains(&k.as_str()))
    {
        return Err(Reason::BadHeader);
    }
    let alg = match json::get(&members, "alg") {
        Some(Json::String(s)) => algorithm(s).ok_or(Reason::BadAlgorithm)?,
        _ => return Err(Reason::BadHeader),
    };
    let kid = match json::get(&members, "kid") {
        Some(Json::String(s)) if !s.is_empty() && s.len() <= 128 => s.clone(),
        _ => return Err(Reason::BadHeader),
    };
    match json::get(&members, "typ") {
        None => {}
        Some(Json::String(t))
            if t.eq_ignore_ascii_case("JWT") || t.eq_ignore_ascii_case("at+jwt") => {}
        Some(_) => return Err(Reason::BadHeader),
    }
    Ok(Header { alg, kid })
}

/// The allowlist: exactly these names, case-sensitive. `none`, `HS*`, `PS*` and anything
/// else is refused before a key is even looked up.
fn algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "EdDSA" => Some(Algorithm::EdDSA),
        "ES256" => Some(Algorithm::ES256),
        "RS256" => Some(Algorithm::RS256),
        _ => None,
    }
}

/// Checks the signature with `key`, which only ever verifies its own algorithm.
pub fn verify_signature(compact: &Compact<'_>, header: &Header, key: &Key) -> Result<(), Reason> {
    if header.alg != key.alg {
        return Err(Reason::BadAlgorithm);
    }
    match jsonwebtoken::crypto::verify(
        compact.signature,
        compact.signing_input.as_bytes(),
        &key.decoding,
        key.alg,
    ) {
        Ok(true) => Ok(()),
        _ => Err(Reason::BadSignature),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn compact_with_header(h: &str) -> String {
        format!("{}.{}.c2ln", b64(h), b64("{}"))
    }

    fn parse_header(h: &str) -> Result<Header, Reason> {
        let token = compact_with_header(h);
        let c = split(token.as_bytes(), 8192).expect("split");
        header(&c)
    }

    #[test]
    fn bearer_takes_the_token_after_the_scheme() {
        let v = HeaderValue::from_static("Bearer abc.def.ghi");
        assert_eq!(bearer(&v), Some(&b"abc.def.ghi"[..]));
        let v = HeaderValue::from_static("bearer   abc");
        assert_eq!(bearer(&v), Some(&b"abc"[..]));
        assert_eq!(bearer(&HeaderValue::from_static("Basic dXNlcg==")), None);
        assert_eq!(bearer(&HeaderValue::from_static("Bearer ")), None);
        assert_eq!(bearer(&HeaderValue::from_static("Bearer")), None);
    }

    #[test]
    fn split_refuses_wrong_shapes() {
        assert_eq!(split(b"a.b", 100).err(), Some(Reason::Malformed));
        assert_eq!(split(b"a.b.c.d.e", 100).err(), Some(Reason::Malformed));
        assert_eq!(split(b"a.b.", 100).err(), Some(Reason::Malformed));
        assert_eq!(split(b".b.c", 100).err(), Some(Reason::Malformed));
        assert_eq!(split(b"a.b+.c", 100).err(), Some(Reason::Malformed));
        assert_eq!(split(b"a.b.c=", 100).err(), Some(Reason::Malformed));
        assert_eq!(split(b"a.b.c ", 100).err(), Some(Reason::Malformed));
        assert_eq!(split(b"a.b.c", 4).err(), Some(Reason::TooLarge));
        let ok = split(b"aa.bb.cc", 100).expect("three parts");
        assert_eq!(
            (ok.signing_input, ok.payload, ok.signature),
            ("aa.bb", "bb", "cc")
        );
    }

    #[test]
    fn header_accepts_the_issuers_shape() {
        let h = parse_header(r#"{"alg":"EdDSA","typ":"JWT","kid":"k1"}"#).expect("ok");
        assert_eq!(
            h,
            Header {
                alg: Algorithm::EdDSA,
                kid: "k1".into()
            }
        );
    }

    #[test]
    fn header_refuses_none_and_symmetric_algorithms_in_any_case() {
        for alg in [
            "none", "None", "NONE", "nOnE", "HS256", "HS512", "PS256", "eddsa", "",
        ] {
            let h = format!(r#"{{"alg":"{alg}","kid":"k1"}}"#);
            assert_eq!(parse_header(&h), Err(Reason::BadAlgorithm), "{alg}");
        }
    }

    #[test]
    fn header_refuses_embedded_keys_urls_and_crit() {
        for extra in [
            r#""jwk":{"kty":"OKP"}"#,
            r#""jku":"http://evil/jwks""#,
            r#""x5u":"http://evil/cert""#,
            r#""x5c":["MIIB"]"#,
            r#""crit":["exp"]"#,
            r#""crit":[]"#,
            r#""cty":"JWT""#,
            r#""enc":"A256GCM""#,
            r#""zip":"DEF""#,
        ] {
            let h = format!(r#"{{"alg":"EdDSA","kid":"k1",{extra}}}"#);
            assert_eq!(parse_header(&h), Err(Reason::BadHeader), "{extra}");
        }
    }

    #[test]
    fn header_refuses_wrong_types_missing_kid_and_duplicates() {
        for h in [
            r#"{"alg":"EdDSA"}"#,
            r#"{"alg":"EdDSA","kid":""}"#,
            r#"{"alg":"EdDSA","kid":7}"#,
            r#"{"alg":["EdDSA"],"kid":"k1"}"#,
            r#"{"alg":"EdDSA","kid":"k1","typ":"JOSE+JSON"}"#,
            r#"{"alg":"EdDSA","kid":"k1","typ":1}"#,
            r#"{"alg":"EdDSA","kid":"k1","alg":"EdDSA"}"#,
            r#"{"alg":"EdDSA","kid":"k1","kid":"k2"}"#,
            r#"["EdDSA"]"#,
            r#"{"alg":"EdDSA","kid":"k1""#,
        ] {
            assert!(parse_header(h).is_err(), "{h}");
        }
    }
}
