use super::route_label;

#[test]
fn route_label_hides_ids_and_odd_segments() {
    assert_eq!(route_label("/api/products/42"), "/api/products/{id}");
    assert_eq!(
        route_label("/api/admin/users/7/roles"),
        "/api/admin/users/{id}/roles"
    );
    assert_eq!(route_label("/"), "/");
    assert_eq!(route_label("/a%20b"), "/{x}");
}
