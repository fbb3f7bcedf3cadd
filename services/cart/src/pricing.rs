//! A cart priced from the catalog: every line with its current name, price and currency,
//! and the totals, computed with checked arithmetic. A cart holds one currency (adding a
//! product in another is refused: routes/cart.rs); one that a catalog change left holding
//! two is shown with one total per currency and no sum across them.

use std::collections::{BTreeMap, HashMap};

use mall_http::limits::{line_total, MAX_TOTAL};

use crate::catalog::CatalogProduct;
use crate::storage::Line;

/// The priced cart is the contract both `GET /api/cart` and the order service read.
pub use mall_contracts::cart::{CartLine, CartView, CurrencyTotal};

/// `lines` priced from `products` (live products by id); lines of products not among them
/// are left out. Fails (with the message to show) when a total would exceed the largest
/// amount the mall handles.
pub fn price(lines: &[Line], products: &HashMap<u64, CatalogProduct>) -> Result<CartView, String> {
    let mut items = Vec::with_capacity(lines.len());
    let mut sums: BTreeMap<&str, i64> = BTreeMap::new();
    for l in lines {
        let Some(p) = products.get(&l.product_id) else {
            continue;
        };
        let too_large = || {
            format!(
                "the cart's total in {} would exceed {MAX_TOTAL}, the largest amount the mall handles; lower a quantity",
                p.currency
            )
        };
        let line = line_total(p.price, l.quantity).ok_or_else(too_large)?;
        let sum = sums.entry(p.currency.as_str()).or_insert(0);
        *sum = sum
            .checked_add(line)
            .filter(|s| *s <= MAX_TOTAL)
            .ok_or_else(too_large)?;
        items.push(CartLine {
            product_id: p.id,
            name: p.name.clone(),
            price: p.price,
            currency: p.currency.clone(),
            quantity: l.quantity,
            line_total: line,
        });
    }
    let totals: Vec<CurrencyTotal> = sums
        .into_iter()
        .map(|(currency, total)| CurrencyTotal {
            currency: currency.to_owned(),
            total,
        })
        .collect();
    let (currency, total) = match totals.as_slice() {
        [] => (None, Some(0)),
        [one] => (Some(one.currency.clone()), Some(one.total)),
        _ => (None, None),
    };
    Ok(CartView {
        items,
        currency,
        total,
        totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: u64, price: i64, currency: &str) -> (u64, CatalogProduct) {
        let p = CatalogProduct {
            id,
            name: format!("p{id}"),
            price,
            currency: currency.into(),
        };
        (id, p)
    }

    fn line(product_id: u64, quantity: u32) -> Line {
        Line {
            product_id,
            quantity,
        }
    }

    #[test]
    fn one_currency_has_one_total() {
        let products = HashMap::from([product(1, 1000, "KRW"), product(2, 300, "KRW")]);
        let cart = price(&[line(1, 2), line(2, 1), line(9, 1)], &products).expect("priced");
        assert_eq!(cart.items.len(), 2, "unknown products drop out");
        assert_eq!(cart.currency.as_deref(), Some("KRW"));
        assert_eq!(cart.total, Some(2300));
        let empty = price(&[], &products).expect("priced");
        assert_eq!((empty.currency, empty.total), (None, Some(0)));
        assert!(empty.totals.is_empty());
    }

    #[test]
    fn two_currencies_are_never_summed() {
        let products = HashMap::from([product(1, 1000, "KRW"), product(2, 250, "USD")]);
        let cart = price(&[line(1, 1), line(2, 2)], &products).expect("priced");
        assert_eq!((cart.currency, cart.total), (None, None));
        let totals: Vec<(&str, i64)> = cart
            .totals
            .iter()
            .map(|t| (t.currency.as_str(), t.total))
            .collect();
        assert_eq!(totals, vec![("KRW", 1000), ("USD", 500)]);
    }

    #[test]
    fn totals_beyond_the_limit_are_refused_not_wrapped() {
        let products = HashMap::from([
            product(1, i64::MAX - 7, "KRW"),
            product(2, MAX_TOTAL, "KRW"),
        ]);
        assert!(price(&[line(1, 2)], &products).is_err());
        assert!(price(&[line(2, 1)], &products).is_ok());
        let err = price(&[line(2, 1), line(2, 1)], &products).expect_err("over the limit");
        assert!(
            err.contains("KRW") && err.contains(&MAX_TOTAL.to_string()),
            "{err}"
        );
    }
}
