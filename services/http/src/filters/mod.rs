//! Request parsing shared by every service: JSON bodies with the API's 400/413/415/422
//! rules, paging, the identity nginx copied from auth-proxy, and the rejection handler
//! that turns every warp rejection into the standard error body.

mod identity;
mod paging;
mod routes;

use std::convert::Infallible;

use bytes::Bytes;
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::error::{error_response, INTERNAL_MESSAGE};

pub use identity::{identity, require_role, Identity};
pub use paging::{PageOf, PageQuery, Paging};

/// The methods the public routes of `path` have, for the `Allow` header of a 405 (RFC
/// 9110), in the usual order, `HEAD` with `GET`; `None` when no public route has that path.
pub fn allowed_methods(path: &str) -> Option<String> {
    const ORDER: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
    let mut methods: Vec<&str> = routes::ROUTES
        .iter()
        .filter(|(_, pattern)| path_matches(pattern, path))
        .flat_map(|(m, _)| {
            if *m == "GET" {
                vec!["GET", "HEAD"]
            } else {
                vec![*m]
            }
        })
        .collect();
    if methods.is_empty() {
        return None;
    }
    methods.sort_by_key(|m| ORDER.iter().position(|o| o == m).unwrap_or(ORDER.len()));
    methods.dedup();
    Some(methods.join(", "))
}

/// `/api/orders/{id}/cancel` matches `/api/orders/7/cancel`: `{…}` is one non-empty segment.
fn path_matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {}
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

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

/// A response whose body is JSON already rendered (a cached catalog page).
pub fn json_bytes_reply(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
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
mod tests;
