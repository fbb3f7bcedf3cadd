use super::*;

#[test]
fn the_short_product_is_a_field_of_the_refusal() {
    let body = serde_json::json!({
        "error": {"code": "out_of_stock", "message": "m", "trace_id": null},
        "out_of_stock": {"product_id": 7}
    });
    let refused: RefusedReservation = serde_json::from_value(body).unwrap();
    assert_eq!(refused.error.code, "out_of_stock");
    assert_eq!(refused.out_of_stock, Some(OutOfStock { product_id: 7 }));
    let other = serde_json::json!({
        "error": {"code": "conflict", "message": "order 9 was reserved with other items", "trace_id": null}
    });
    let refused: RefusedReservation = serde_json::from_value(other).unwrap();
    assert_eq!(refused.out_of_stock, None);
}

#[test]
fn reservation_statuses_round_trip_and_move_forward_only() {
    use ReservationStatus as S;
    for s in S::ALL {
        assert_eq!(S::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    assert_eq!(S::parse("Reserved"), None);
    assert_eq!(S::parse("none"), None);
    assert!(S::Reserved.can_commit() && !S::Committed.can_commit());
    assert!(!S::Released.can_commit());
    assert!(S::Reserved.can_release() && S::Committed.can_release());
    assert!(!S::Released.can_release());
}

#[test]
fn a_reserve_request_refuses_unknown_fields() {
    let ok = r#"{"order_id": 1, "items": [{"product_id": 2, "quantity": 3}]}"#;
    let parsed: ReserveRequest = serde_json::from_str(ok).unwrap();
    assert_eq!(
        parsed.items,
        [ItemQty {
            product_id: 2,
            quantity: 3
        }]
    );
    let extra = r#"{"order_id": 1, "items": [], "coupon": "x"}"#;
    assert!(serde_json::from_str::<ReserveRequest>(extra).is_err());
}
