//! Verification keys, each bound to exactly one algorithm by its type: an Ed25519 key
//! only verifies `EdDSA`, a P-256 key only `ES256`, an RSA key only `RS256`. Symmetric
//! (`oct`) keys are never loaded, so no token can make the proxy run HMAC with a public
//! key as the secret.
//!
//! Keys come from JWKS URLs ([`store::KeyStore`] fetches, merges and refreshes them) or
//! from static PEM files named `<kid>.pem`.

pub mod store;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

pub use store::KeyStore;

/// One verification key.
pub struct Key {
    pub kid: String,
    pub alg: Algorithm,
    pub decoding: DecodingKey,
}

/// Keys by `kid`.
pub type KeyMap = HashMap<String, Arc<Key>>;

/// RSA moduli shorter than this are refused.
const MIN_RSA_BYTES: usize = 256;

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Parses a JWKS document; keys that are unusable (wrong type, `use` other than `sig`,
/// an `alg` that does not match the key type, bad sizes) are skipped and reported.
pub fn parse_jwks(body: &[u8]) -> Result<(Vec<Key>, Vec<String>), String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no \"keys\" array")?;
    let mut good = Vec::new();
    let mut skipped = Vec::new();
    for jwk in keys {
        match parse_jwk(jwk) {
            Ok(k) => good.push(k),
            Err(e) => skipped.push(e),
        }
    }
    Ok((good, skipped))
}

/// One JWK to a key bound to its algorithm.
pub fn parse_jwk(jwk: &Value) -> Result<Key, String> {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    let kid = field("kid")
        .filter(|k| !k.is_empty() && k.len() <= 128)
        .ok_or("a key without a usable kid")?
        .to_owned();
    let fail = |m: &str| format!("key {kid:?}: {m}");
    if let Some(u) = jwk.get("use") {
        if u.as_str() != Some("sig") {
            return Err(fail("use is not \"sig\""));
        }
    }
    let declared = jwk.get("alg").map(|a| a.as_str().unwrap_or("?"));
    let b64 = |name: &str| {
        field(name)
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .ok_or_else(|| fail(&format!("missing or bad {name}")))
    };
    let (alg, decoding) = match (field("kty"), field("crv")) {
        (Some("OKP"), Some("Ed25519")) => {
            let x = b64("x")?;
            if x.len() != 32 {
                return Err(fail("Ed25519 x is not 32 bytes"));
            }
            (Algorithm::EdDSA, DecodingKey::from_ed_der(&x))
        }
        (Some("EC"), Some("P-256")) => {
            let (x, y) = (b64("x")?, b64("y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err(fail("P-256 coordinates are not 32 bytes"));
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (Algorithm::ES256, DecodingKey::from_ec_der(&point))
        }
        (Some("RSA"), _) => {
            let (n, e) = (b64("n")?, b64("e")?);
            let n = strip_leading_zeros(&n);
            if n.len() < MIN_RSA_BYTES || e.is_empty() || e.len() > 8 {
                return Err(fail("RSA modulus under 2048 bits or bad exponent"));
            }
            (
                Algorithm::RS256,
                DecodingKey::from_rsa_raw_components(n, &e),
            )
        }
        (kty, crv) => return Err(fail(&format!("unsupported key type {kty:?}/{crv:?}"))),
    };
    match declared {
        None => {}
        Some(d) if d == alg_name(alg) => {}
        Some(d) => return Err(fail(&format!("alg {d:?} does not match the key type"))),
    }
    Ok(Key { kid, alg, decoding })
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

pub fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::EdDSA => "EdDSA",
        Algorithm::ES256 => "ES256",
        Algorithm::RS256 => "RS256",
        _ => "unsupported",
    }
}

/// A PEM public key file; the kid is the file name without `.pem`. Ed25519 first, then
/// P-256, then RSA. Private keys are refused: the proxy must never hold one.
pub fn load_pem_file(path: &Path) -> Result<Key, String> {
    let text = std::fs::read(path).map_err(|e| format!("while reading {}: {e}", path.display()))?;
    let kid = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{}: no usable file name for the kid", path.display()))?
        .to_owned();
    let pem = String::from_utf8_lossy(&text);
    if pem.contains("PRIVATE KEY") || !pem.contains("PUBLIC KEY-----") {
        return Err(format!("{}: not a PEM public key", path.display()));
    }
    let (alg, decoding) = if let Ok(k) = DecodingKey::from_ed_pem(&text) {
        (Algorithm::EdDSA, k)
    } else if let Ok(k) = DecodingKey::from_ec_pem(&text) {
        (Algorithm::ES256, k)
    } else if let Ok(k) = DecodingKey::from_rsa_pem(&text) {
        (Algorithm::RS256, k)
    } else {
        return Err(format!("{}: unsupported public key", path.display()));
    };
    let bytes_ok = match alg {
        Algorithm::EdDSA => decoding.try_get_as_bytes().is_ok_and(|b| b.len() == 32),
        Algorithm::ES256 => decoding.try_get_as_bytes().is_ok_and(|b| b.len() == 65),
        _ => true,
    };
    if !bytes_ok {
        return Err(format!("{}: unsupported key size", path.display()));
    }
    Ok(Key { kid, alg, decoding })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn ed25519_jwk_is_bound_to_eddsa() {
        let k = parse_jwk(
            &json!({"kty":"OKP","crv":"Ed25519","x":X,"kid":"a","alg":"EdDSA","use":"sig"}),
        )
        .expect("valid");
        assert_eq!((k.kid.as_str(), k.alg), ("a", Algorithm::EdDSA));
        let no_alg =
            parse_jwk(&json!({"kty":"OKP","crv":"Ed25519","x":X,"kid":"a"})).expect("valid");
        assert_eq!(no_alg.alg, Algorithm::EdDSA);
    }

    #[test]
    fn mismatched_or_unusable_jwks_are_skipped() {
        for bad in [
            json!({"kty":"OKP","crv":"Ed25519","x":X,"kid":"a","alg":"HS256"}),
            json!({"kty":"OKP","crv":"Ed25519","x":X,"kid":"a","alg":"RS256"}),
            json!({"kty":"OKP","crv":"Ed25519","x":X,"kid":"a","use":"enc"}),
            json!({"kty":"OKP","crv":"Ed25519","x":X}),
            json!({"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"a"}),
            json!({"kty":"OKP","crv":"Ed448","x":X,"kid":"a"}),
            json!({"kty":"oct","k":"c2VjcmV0","kid":"a"}),
            json!({"kty":"RSA","n":"AQAB","e":"AQAB","kid":"a"}),
            json!({"kty":"EC","crv":"P-256","x":X,"kid":"a"}),
        ] {
            assert!(parse_jwk(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jwks_keeps_the_good_keys() {
        let body = json!({"keys":[
            {"kty":"OKP","crv":"Ed25519","x":X,"kid":"a"},
            {"kty":"oct","k":"c2VjcmV0","kid":"b"},
        ]});
        let (good, skipped) = parse_jwks(body.to_string().as_bytes()).expect("document");
        assert_eq!(good.len(), 1);
        assert_eq!(skipped.len(), 1);
        assert!(parse_jwks(b"{}").is_err());
        assert!(parse_jwks(b"nope").is_err());
    }

    #[test]
    fn private_keys_and_garbage_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("auth-proxy-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let private = dir.join("k1.pem");
        std::fs::write(
            &private,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .expect("write");
        assert!(load_pem_file(&private).is_err());
        let garbage = dir.join("k2.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        )
        .expect("write");
        assert!(load_pem_file(&garbage).is_err());
        assert!(load_pem_file(&dir.join("missing.pem")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
