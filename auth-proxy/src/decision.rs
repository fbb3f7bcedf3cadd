//! What the proxy answers and why: every outcome has one [`Reason`], which fixes the
//! status, the `X-Auth-Error` code, the RFC 6750 challenge and the metric label. The
//! descriptions are fixed strings, so nothing from the token ever reaches a response.

// It knows nothing of tokens: token/ answers its failures as a `Reason`, and the outcome
// that carries a verified token lives with the decision (app/).

/// Why a request was allowed or denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    Public,
    Token,
    // 401
    MissingToken,
    TooLarge,
    Malformed,
    BadHeader,
    BadAlgorithm,
    UnknownKey,
    BadSignature,
    BadClaims,
    Expired,
    NotYetValid,
    IssuedInFuture,
    BadIssuer,
    BadAudience,
    LifetimeTooLong,
    Revoked,
    // 403
    BadPath,
    NoRule,
    MissingOriginal,
    InsufficientRole,
    // 405 (sent to nginx as 403 with `X-Auth-Error: method_not_allowed`)
    MethodNotAllowed,
    // 503
    NoKeys,
}

/// The family of an outcome: the `result` metric label and the HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Unauthorized,
    Forbidden,
    /// A route of the policy asked with a method it does not have: nginx answers `405`
    /// with auth-proxy's `X-Auth-Allow` as `Allow`.
    NotAllowed,
    Unavailable,
}

// === impl Reason ===

impl Reason {
    pub const ALL: [Reason; 23] = [
        Reason::Public,
        Reason::Token,
        Reason::MissingToken,
        Reason::TooLarge,
        Reason::Malformed,
        Reason::BadHeader,
        Reason::BadAlgorithm,
        Reason::UnknownKey,
        Reason::BadSignature,
        Reason::BadClaims,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::IssuedInFuture,
        Reason::BadIssuer,
        Reason::BadAudience,
        Reason::LifetimeTooLong,
        Reason::Revoked,
        Reason::BadPath,
        Reason::NoRule,
        Reason::MissingOriginal,
        Reason::InsufficientRole,
        Reason::MethodNotAllowed,
        Reason::NoKeys,
    ];

    /// Position in [`Reason::ALL`] (declaration order), for metric arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn verdict(self) -> Verdict {
        use Reason::*;
        match self {
            Public | Token => Verdict::Allow,
            BadPath | NoRule | MissingOriginal | InsufficientRole => Verdict::Forbidden,
            MethodNotAllowed => Verdict::NotAllowed,
            NoKeys => Verdict::Unavailable,
            _ => Verdict::Unauthorized,
        }
    }

    /// The metric label.
    pub fn label(self) -> &'static str {
        use Reason::*;
        match self {
            Public => "public",
            Token => "token",
            MissingToken => "missing_token",
            TooLarge => "too_large",
            Malformed => "malformed",
            BadHeader => "bad_header",
            BadAlgorithm => "bad_algorithm",
            UnknownKey => "unknown_key",
            BadSignature => "bad_signature",
            BadClaims => "bad_claims",
            Expired => "expired",
            NotYetValid => "not_yet_valid",
            IssuedInFuture => "issued_in_future",
            BadIssuer => "bad_issuer",
            BadAudience => "bad_audience",
            LifetimeTooLong => "lifetime_too_long",
            Revoked => "revoked",
            BadPath => "bad_path",
            NoRule => "no_rule",
            MissingOriginal => "missing_original",
            InsufficientRole => "insufficient_role",
            MethodNotAllowed => "method_not_allowed",
            NoKeys => "no_keys",
        }
    }

    /// The `X-Auth-Error` code (the API's error code), `None` when allowed.
    pub fn code(self) -> Option<&'static str> {
        match self.verdict() {
            Verdict::Allow => None,
            Verdict::Forbidden => Some("forbidden"),
            Verdict::NotAllowed => Some("method_not_allowed"),
            Verdict::Unavailable => Some("auth_unavailable"),
            Verdict::Unauthorized => Some(match self {
                Reason::Expired => "token_expired",
                Reason::Revoked => "token_revoked",
                _ => "unauthorized",
            }),
        }
    }

    /// The `WWW-Authenticate` challenge, `None` when allowed or unavailable.
    pub fn challenge(self) -> Option<&'static str> {
        use Reason::*;
        Some(match self {
            Public | Token | NoKeys | MethodNotAllowed => return None,
            MissingToken => {
                r#"Bearer realm="mall", error="invalid_token", error_description="missing bearer token""#
            }
            TooLarge => {
                r#"Bearer realm="mall", error="invalid_token", error_description="token too large""#
            }
            Malformed => {
                r#"Bearer realm="mall", error="invalid_token", error_description="malformed token""#
            }
            BadHeader => {
                r#"Bearer realm="mall", error="invalid_token", error_description="unsupported token header""#
            }
            BadAlgorithm => {
                r#"Bearer realm="mall", error="invalid_token", error_description="unsupported algorithm""#
            }
            UnknownKey => {
                r#"Bearer realm="mall", error="invalid_token", error_description="unknown signing key""#
            }
            BadSignature => {
                r#"Bearer realm="mall", error="invalid_token", error_description="invalid signature""#
            }
            BadClaims => {
                r#"Bearer realm="mall", error="invalid_token", error_description="invalid claims""#
            }
            Expired => {
                r#"Bearer realm="mall", error="invalid_token", error_description="token expired""#
            }
            NotYetValid => {
                r#"Bearer realm="mall", error="invalid_token", error_description="token not yet valid""#
            }
            IssuedInFuture => {
                r#"Bearer realm="mall", error="invalid_token", error_description="token issued in the future""#
            }
            BadIssuer => {
                r#"Bearer realm="mall", error="invalid_token", error_description="wrong issuer""#
            }
            BadAudience => {
                r#"Bearer realm="mall", error="invalid_token", error_description="wrong audience""#
            }
            LifetimeTooLong => {
                r#"Bearer realm="mall", error="invalid_token", error_description="token lifetime too long""#
            }
            Revoked => {
                r#"Bearer realm="mall", error="invalid_token", error_description="token revoked""#
            }
            BadPath => {
                r#"Bearer realm="mall", error="insufficient_scope", error_description="ambiguous or invalid path""#
            }
            NoRule => {
                r#"Bearer realm="mall", error="insufficient_scope", error_description="no access to this route""#
            }
            MissingOriginal => {
                r#"Bearer realm="mall", error="insufficient_scope", error_description="missing original request""#
            }
            InsufficientRole => {
                r#"Bearer realm="mall", error="insufficient_scope", error_description="insufficient role""#
            }
        })
    }
}

// === impl Verdict ===

impl Verdict {
    pub fn status(self) -> u16 {
        match self {
            Verdict::Allow => 200,
            Verdict::Unauthorized => 401,
            // auth_request passes only 2xx, 401 and 403 on; nginx makes this one a 405.
            Verdict::Forbidden | Verdict::NotAllowed => 403,
            Verdict::Unavailable => 503,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Unauthorized => "unauthorized",
            Verdict::Forbidden => "forbidden",
            Verdict::NotAllowed => "method_not_allowed",
            Verdict::Unavailable => "unavailable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_a_consistent_answer() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            let v = r.verdict();
            match v {
                Verdict::Allow => assert!(r.code().is_none() && r.challenge().is_none()),
                Verdict::Unauthorized => {
                    let c = r.challenge().expect("challenge");
                    assert!(c.starts_with(
                        r#"Bearer realm="mall", error="invalid_token", error_description=""#
                    ));
                    assert!(c.ends_with('"'));
                    assert!(http::HeaderValue::from_str(c).is_ok());
                }
                Verdict::Forbidden => {
                    assert_eq!(r.code(), Some("forbidden"));
                    assert!(r
                        .challenge()
                        .expect("challenge")
                        .contains(r#"error="insufficient_scope""#));
                }
                Verdict::NotAllowed => {
                    assert_eq!(r.code(), Some("method_not_allowed"));
                    assert!(r.challenge().is_none(), "a 405 is not about credentials");
                }
                Verdict::Unavailable => assert_eq!(r.code(), Some("auth_unavailable")),
            }
        }
        assert_eq!(Reason::Expired.code(), Some("token_expired"));
        assert_eq!(Reason::Revoked.code(), Some("token_revoked"));
        assert_eq!(Reason::BadSignature.code(), Some("unauthorized"));
    }
}
