//! Tests of error.rs (the standard body, statuses, Retry-After, the 401 challenge).
use super::*;

fn server(code: u16) -> CommonError {
    CommonError::Db(mysql_async::Error::Server(mysql_async::ServerError {
        code,
        message: "secret detail from the server".into(),
        state: "HY000".into(),
    }))
}

#[tokio::test]
async fn a_dependency_that_is_down_is_503_with_retry_after_and_no_detail() {
    use http_body_util::BodyExt as _;
    let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "127.0.0.1:3306");
    for e in [
        CommonError::Db(refused.into()),
        CommonError::Db(mysql_async::Error::Driver(
            mysql_async::DriverError::ConnectionClosed,
        )),
        server(4151),
        server(1045),
        CommonError::Internal(anyhow::Error::new(server_error(1053)).context("while reading")),
    ] {
        assert!(e.is_unavailable(), "{e:?}");
        let resp = e.into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[http::header::RETRY_AFTER], "1");
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        assert!(body.contains("service_unavailable"), "{body}");
        assert!(
            !body.contains("127.0.0.1") && !body.contains("secret"),
            "{body}"
        );
    }
}

fn server_error(code: u16) -> mysql_async::Error {
    mysql_async::Error::Server(mysql_async::ServerError {
        code,
        message: "m".into(),
        state: "HY000".into(),
    })
}

#[test]
fn a_fault_in_the_code_stays_500() {
    // 1064: a syntax error; 1062 is a duplicate key (mapped to 409 by the services).
    for e in [
        server(1064),
        CommonError::Internal(anyhow::anyhow!("a bug")),
    ] {
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.code(), "internal_error");
        assert_eq!(e.retry_after(), None);
    }
}
