use super::*;

#[test]
fn redaction_drops_query_and_long_segments() {
    let token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl";
    assert_eq!(
        redact_path(&format!("/api/x?access_token={token}")),
        "/api/x"
    );
    assert_eq!(redact_path(&format!("/api/{token}/y")), "/api/[redacted]/y");
    let long = format!("/{}", "a/".repeat(300));
    assert!(redact_path(&long).len() < 220);
}
