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
    let p =
        |page, size| Paging::try_from_query(PageQuery { page, size }).map_err(|e| e.to_string());
    assert_eq!(p(None, None), Ok(Paging { page: 1, size: 20 }));
    assert_eq!(p(Some(3), Some(100)).map(|p| p.offset()), Ok(200));
    assert!(p(Some(0), None).is_err());
    assert!(p(None, Some(101)).is_err());
    assert!(p(None, Some(0)).is_err());
}

#[test]
fn a_405_names_the_methods_of_the_public_routes_of_its_path() {
    assert_eq!(
        allowed_methods("/api/categories").as_deref(),
        Some("GET, HEAD")
    );
    assert_eq!(
        allowed_methods("/api/products/7").as_deref(),
        Some("GET, HEAD, PUT, DELETE")
    );
    assert_eq!(
        allowed_methods("/api/products").as_deref(),
        Some("GET, HEAD, POST")
    );
    assert_eq!(
        allowed_methods("/api/orders/7/cancel").as_deref(),
        Some("POST")
    );
    assert_eq!(
        allowed_methods("/api/orders//cancel"),
        None,
        "an empty segment is no id"
    );
    assert_eq!(allowed_methods("/api/orders/7/cancel/x"), None);
    assert_eq!(
        allowed_methods("/internal/carts/7"),
        None,
        "not a public route"
    );
}
