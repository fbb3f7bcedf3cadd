use mall_desc::Error;

use crate::description;

/// The repository's description with one text replaced (which must occur in it).
fn with(from: &str, to: &str) -> String {
    let text = description();
    assert!(text.contains(from), "mall.toml no longer contains {from:?}");
    text.replacen(from, to, 1)
}

/// The problems `parse` reports for a description, joined.
fn problems(text: &str) -> String {
    match mall_desc::parse(text) {
        Err(Error::Invalid(p)) => p.0.join("\n"),
        Err(e) => panic!("expected validation problems, got {e}"),
        Ok(_) => panic!("the bad description was accepted"),
    }
}

#[test]
fn the_repository_description_is_valid() {
    mall_desc::parse(&description()).expect("mall.toml is valid");
}

#[test]
fn a_route_of_an_unknown_service_is_refused() {
    let p = problems(&with(
        "service = \"cart\"\nmethods",
        "service = \"carts\"\nmethods",
    ));
    assert!(p.contains("unknown service \"carts\""), "{p}");
}

#[test]
fn a_port_offset_used_twice_is_refused() {
    let p = problems(&with("port_offset = 3", "port_offset = 2"));
    assert!(p.contains("port offset 2 is used twice"), "{p}");
}

#[test]
fn a_part_name_used_twice_is_refused() {
    let p = problems(&with("name = \"cart\"", "name = \"product\""));
    assert!(p.contains("part product: the name is used twice"), "{p}");
}

#[test]
fn a_lowercase_or_unknown_method_is_refused() {
    let p = problems(&with("methods = [\"PATCH\"]", "methods = [\"patch\"]"));
    assert!(p.contains("method \"patch\" is not one of"), "{p}");
    let p = problems(&with("methods = [\"PATCH\"]", "methods = [\"BREW\"]"));
    assert!(p.contains("method \"BREW\" is not one of"), "{p}");
}

#[test]
fn a_relative_path_is_refused() {
    let p = problems(&with(
        "path = \"/api/categories\"",
        "path = \"api/categories\"",
    ));
    assert!(p.contains("the path must start with /"), "{p}");
}

#[test]
fn a_route_nginx_sends_elsewhere_is_refused() {
    let p = problems(&with(
        "section = \"cart\"\nservice = \"cart\"",
        "section = \"cart\"\nservice = \"order\"",
    ));
    assert!(p.contains("nginx sends it to cart"), "{p}");
}

#[test]
fn a_route_without_an_nginx_location_is_refused() {
    let p = problems(&with(
        "path = \"/api/categories\"",
        "path = \"/api/brands\"",
    ));
    assert!(
        p.contains("no nginx location of the public listener matches it"),
        "{p}"
    );
}

#[test]
fn an_unknown_field_is_a_syntax_error() {
    let text = with(
        "binary = \"cart-service\"",
        "binary = \"cart-service\"\nport = 8103",
    );
    let err = mall_desc::parse(&text).expect_err("an unknown field is refused");
    assert!(matches!(err, Error::Syntax(_)), "{err}");
    assert!(err.to_string().contains("unknown field `port`"), "{err}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = with("port_offset = 3", "port_offset = 2").replacen(
        "methods = [\"PATCH\"]",
        "methods = [\"patch\"]",
        1,
    );
    assert_eq!(problems(&text).lines().count(), 2);
}
