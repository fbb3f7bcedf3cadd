use mall_http::filters::{PageOf, PageQuery, Paging};

use super::*;
use crate::storage::products::Product;

fn product(id: u64, name: &str, stock: i64) -> Product {
    Product {
        id,
        name: name.into(),
        description: String::new(),
        price: 100,
        currency: "EUR".into(),
        stock,
        category: "Kitchen".into(),
        image_url: None,
        created_at: "2026-12-07T00:00:00Z".into(),
        updated_at: "2026-12-07T00:00:00Z".into(),
    }
}

fn rendered(template: &Template, stocks: &[i64]) -> serde_json::Value {
    let mut out = Vec::new();
    template.render_into(stocks, &mut out);
    serde_json::from_slice(&out).expect("the rendering is JSON")
}

#[test]
fn a_page_renders_as_serde_would_with_the_stocks_given() {
    let paging = Paging::try_from_query(PageQuery {
        page: Some(1),
        size: Some(20),
    })
    .expect("paging");
    let items = vec![product(7, "Kettle", 5), product(3, "Pan", 9)];
    let page = PageOf::new(items.clone(), paging, 2);
    let template = Template::stocked(page).expect("cuts match");
    assert_eq!(template.ids(), [7, 3]);
    let (mut kettle, mut pan) = (items[0].clone(), items[1].clone());
    kettle.stock = 0;
    pan.stock = 12345;
    let expected = PageOf::new(vec![kettle, pan], paging, 2);
    assert_eq!(
        rendered(&template, &[0, 12345]),
        serde_json::to_value(&expected).expect("json")
    );
}

#[test]
fn a_name_that_spells_the_cut_is_left_alone() {
    // Inside a JSON string the quotes are escaped, so the cut never matches there.
    let sneaky = product(7, "\"stock\":-9223372036854775808", 5);
    let template = Template::stocked(Some(sneaky.clone())).expect("cuts match");
    assert_eq!(template.ids(), [7]);
    let mut expected = sneaky;
    expected.stock = 4;
    assert_eq!(
        rendered(&template, &[4]),
        serde_json::to_value(&expected).expect("json")
    );
}

#[test]
fn nothing_and_plain_values_have_no_cuts() {
    let none = Template::stocked(None::<Product>).expect("no cuts");
    assert!(none.is_null());
    assert!(none.ids().is_empty());
    let plain = Template::plain(&vec!["a", "b"]).expect("plain");
    assert!(!plain.is_null());
    assert_eq!(rendered(&plain, &[]), serde_json::json!(["a", "b"]));
}
