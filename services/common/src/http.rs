//! Request parsing shared by every service: JSON bodies with the API's 400/413/415/422
//! rules, paging, the identity nginx copied from auth-proxy, and the rejection handler
//! that turns every warp rejection into the standard error body.

use std::convert::Infallible;

use bytes::Bytes;
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::error::{error_response, CommonError, INTERNAL_MESSAGE};

/// Hands every handler a clone of the service's shared state.
pub fn with_state<S: Clone + Send + Sync + 'static>(
    state: S,
) -> impl Filter<Extract = (S,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// A JSON response with `status`.
pub fn json_reply<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    use warp::Reply;
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

/// The largest JSON body a service accepts (nginx enforces the same limit at the edge).
pub const MAX_BODY_BYTES: u64 = 64 * 1024;

/// A request refused before it reached a handler.
#[derive(Debug)]
pub struct BadRequest {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl warp::reject::Reject for BadRequest {}

impl BadRequest {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

/// Marks a response for "no route matched", so metrics do not label it with a raw path.
#[derive(Clone, Copy, Debug)]
pub struct Unmatched;

/// A JSON body of type `T`: 415 for another content type, 413 over the limit, 400 for
/// malformed JSON or an unknown field, 422 for a wrong type or value.
pub fn json_body<T>() -> impl Filter<Extract = (T,), Error = Rejection> + Clone
where
    T: DeserializeOwned + Send,
{
    warp::header::optional::<String>("content-type")
        .and(warp::body::content_length_limit(MAX_BODY_BYTES))
        .and(warp::body::bytes())
        .and_then(|ct: Option<String>, body: Bytes| async move {
            parse_json::<T>(ct.as_deref(), &body).map_err(warp::reject::custom)
        })
}

/// The pure part of [`json_body`], tested on its own.
pub fn parse_json<T: DeserializeOwned>(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<T, BadRequest> {
    if let Some(ct) = content_type {
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            return Err(BadRequest::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BadRequest::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body is empty",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        let text = e.to_string();
        match e.classify() {
            Category::Data if text.starts_with("unknown field") => {
                BadRequest::new(StatusCode::BAD_REQUEST, "unknown_field", text)
            }
            Category::Data => {
                BadRequest::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", text)
            }
            Category::Syntax | Category::Eof | Category::Io => BadRequest::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("malformed JSON: {text}"),
            ),
        }
    })
}

/// `?page=1&size=20`, size at most 100.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct PageQuery {
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// A validated page request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub size: u32,
}

impl Paging {
    pub const MAX_SIZE: u32 = 100;
    /// The last page that may be asked for (docs/openapi.yaml `Page`).
    pub const MAX_PAGE: u32 = 1_000_000;

    pub fn try_from_query(q: PageQuery) -> Result<Self, CommonError> {
        let page = q.page.unwrap_or(1);
        let size = q.size.unwrap_or(20);
        if page == 0 || page > Self::MAX_PAGE {
            return Err(CommonError::Validation(format!(
                "page must be between 1 and {}",
                Self::MAX_PAGE
            )));
        }
        if size == 0 || size > Self::MAX_SIZE {
            return Err(CommonError::Validation(format!(
                "size must be between 1 and {}",
                Self::MAX_SIZE
            )));
        }
        Ok(Self { page, size })
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.size)
    }
}

/// `{ items, page, size, total }`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub size: u32,
    pub total: u64,
}

impl<T> PageOf<T> {
    /// The page `paging` asked for, holding `items` of `total`.
    pub fn new(items: Vec<T>, paging: Paging, total: u64) -> Self {
        Self {
            items,
            page: paging.page,
            size: paging.size,
            total,
        }
    }
}

/// Who is calling, as auth-proxy decided and nginx copied (clients cannot set these
/// headers: nginx always overwrites them, and services listen only where nginx reaches).
#[derive(Clone, Debug)]
pub struct Identity {
    pub user_id: u64,
    pub roles: Vec<String>,
    pub token_id: Option<String>,
    pub token_expires: Option<i64>,
}

impl Identity {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// The caller's identity; 401 when nginx sent none (defence in depth: the policy already
/// requires a token on these routes).
pub fn identity() -> impl Filter<Extract = (Identity,), Error = Rejection> + Clone {
    warp::header::headers_cloned().and_then(|h: http::HeaderMap| async move {
        let get = |n: &str| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        };
        let user_id = get("x-user-id")
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|id| *id > 0);
        let Some(user_id) = user_id else {
            return Err(warp::reject::custom(BadRequest::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "sign in to continue",
            )));
        };
        tracing::Span::current().record("user_id", user_id);
        Ok(Identity {
            user_id,
            roles: get("x-user-roles")
                .map(|r| {
                    r.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            token_id: get("x-token-id").map(str::to_owned),
            token_expires: get("x-token-expires").and_then(|v| v.parse().ok()),
        })
    })
}

/// The identity, which must hold `role` (403 otherwise).
pub fn require_role(
    role: &'static str,
) -> impl Filter<Extract = (Identity,), Error = Rejection> + Clone {
    identity().and_then(move |id: Identity| async move {
        if id.has_role(role) {
            Ok(id)
        } else {
            Err(warp::reject::custom(BadRequest::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "you are not allowed to do this",
            )))
        }
    })
}

/// For an optional body field that is not nullable: absent is `None` (with
/// `#[serde(default, deserialize_with = "present")]`), `null` is a wrong type (422), as
/// docs/openapi.yaml's schema has it.
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// The largest id (docs/openapi.yaml `Id`: exact as a JavaScript number).
pub const MAX_ID: u64 = (1 << 53) - 1;

/// A resource id in a public path (`/api/orders/{id}`): decimal digits naming 1 to
/// [`MAX_ID`]. Anything else does not match the route, so it is answered `404 not_found`
/// like an id that names nothing (docs/openapi.yaml: path IDs that are not positive
/// integers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathId(pub u64);

impl std::str::FromStr for PathId {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        match s.parse::<u64>() {
            Ok(n) if (1..=MAX_ID).contains(&n) => Ok(Self(n)),
            _ => Err(()),
        }
    }
}

/// Turns every rejection into the standard error body.
pub async fn recover(rej: Rejection) -> Result<Response, Infallible> {
    use warp::reject;
    let (status, code, message) = if let Some(b) = rej.find::<BadRequest>() {
        (b.status, b.code, b.message.clone())
    } else if rej.is_not_found() {
        let mut resp = error_response(StatusCode::NOT_FOUND, "not_found", "no such route");
        resp.extensions_mut().insert(Unmatched);
        return Ok(resp);
    } else if rej.find::<reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large".into(),
        )
    } else if rej.find::<reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "send a Content-Length".into(),
        )
    } else if rej.find::<reject::UnsupportedMediaType>().is_some() {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json".into(),
        )
    } else if let Some(e) = rej.find::<reject::InvalidQuery>() {
        // Bad types or values in the query are 422, as in bodies (API.md conventions).
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("invalid query string: {e}"),
        )
    } else if let Some(e) = rej.find::<reject::InvalidHeader>() {
        (StatusCode::BAD_REQUEST, "bad_request", e.to_string())
    } else if let Some(e) = rej.find::<reject::MissingHeader>() {
        (StatusCode::BAD_REQUEST, "bad_request", e.to_string())
    } else if rej.find::<reject::MethodNotAllowed>().is_some() {
        let mut resp = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this route",
        );
        resp.extensions_mut().insert(Unmatched);
        return Ok(resp);
    } else {
        tracing::error!(rejection = ?rej, "unhandled rejection");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            INTERNAL_MESSAGE.into(),
        )
    };
    Ok(error_response(status, code, &message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Req {
        name: String,
        n: u32,
    }

    #[test]
    fn an_optional_field_may_be_absent_but_not_null() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Opt {
            #[serde(default, deserialize_with = "present")]
            currency: Option<String>,
        }
        let parse = |b: &str| parse_json::<Opt>(None, b.as_bytes()).map(|o| o.currency);
        assert_eq!(parse("{}").ok(), Some(None));
        assert_eq!(
            parse(r#"{"currency":"USD"}"#).ok(),
            Some(Some("USD".into()))
        );
        let null = parse(r#"{"currency":null}"#).expect_err("null is a wrong type");
        assert_eq!(
            (null.status.as_u16(), null.code),
            (422, "validation_failed")
        );
    }

    #[test]
    fn path_ids_are_one_to_two_to_the_53_minus_one() {
        let id = |s: &str| s.parse::<PathId>().ok().map(|PathId(n)| n);
        assert_eq!(id("1"), Some(1));
        assert_eq!(id("9007199254740991"), Some(MAX_ID));
        for bad in [
            "0",
            "9007199254740992",
            "18446744073709551616",
            "-1",
            "+1",
            "1.0",
            "",
            "x",
        ] {
            assert_eq!(id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn json_errors_map_to_the_api_statuses() {
        let code = |ct: Option<&str>, b: &str| {
            parse_json::<Req>(ct, b.as_bytes())
                .map(|_| ())
                .map_err(|e| (e.status.as_u16(), e.code))
        };
        assert_eq!(code(None, r#"{"name":"a","n":1}"#), Ok(()));
        assert_eq!(
            code(
                Some("application/json; charset=utf-8"),
                r#"{"name":"a","n":1}"#
            ),
            Ok(())
        );
        assert_eq!(code(None, r#"{"name":"a","#), Err((400, "bad_request")));
        assert_eq!(code(None, ""), Err((400, "bad_request")));
        assert_eq!(
            code(None, r#"{"name":"a","n":1,"x":2}"#),
            Err((400, "unknown_field"))
        );
        assert_eq!(
            code(None, r#"{"name":"a","n":"one"}"#),
            Err((422, "validation_failed"))
        );
        assert_eq!(
            code(None, r#"{"name":"a"}"#),
            Err((422, "validation_failed"))
        );
        assert_eq!(
            code(Some("text/plain"), r#"{"name":"a","n":1}"#),
            Err((415, "unsupported_media_type"))
        );
    }

    #[test]
    fn paging_limits() {
        let p = |page, size| {
            Paging::try_from_query(PageQuery { page, size }).map_err(|e| e.to_string())
        };
        assert_eq!(p(None, None), Ok(Paging { page: 1, size: 20 }));
        assert_eq!(p(Some(3), Some(100)).map(|p| p.offset()), Ok(200));
        assert!(p(Some(0), None).is_err());
        assert!(p(None, Some(101)).is_err());
        assert!(p(None, Some(0)).is_err());
    }
}
