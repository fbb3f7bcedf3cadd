//! Catalog types that are valid by construction: a product's fields and a stock change
//! (here), a search (`search`), a reservation request (`reservation`).

use mall_http::limits::{bounded, label, JsonInt, MAX_PRICE};
use serde::Deserialize;

mod reservation;
mod search;

pub use reservation::{
    ItemQty, MoveEffect, Reservation, ReservationMove, ReservationStatus, ReserveBody,
};
pub use search::{Search, SearchQuery, Sort};

/// The create body (`POST /api/products`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    pub name: String,
    pub description: String,
    pub price: JsonInt,
    #[serde(default, deserialize_with = "mall_http::filters::present")]
    pub stock: Option<JsonInt>,
    pub category: String,
    pub image_url: Option<String>,
    #[serde(default, deserialize_with = "mall_http::filters::present")]
    pub currency: Option<String>,
}

/// The replace body (`PUT /api/products/{id}`): no `stock`, which moves only through
/// `PATCH …/stock` and orders, so a replace never races a checkout.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaceBody {
    pub name: String,
    pub description: String,
    pub price: JsonInt,
    pub category: String,
    pub image_url: Option<String>,
    #[serde(default, deserialize_with = "mall_http::filters::present")]
    pub currency: Option<String>,
}

impl From<ReplaceBody> for ProductBody {
    fn from(b: ReplaceBody) -> Self {
        Self {
            name: b.name,
            description: b.description,
            price: b.price,
            stock: None,
            category: b.category,
            image_url: b.image_url,
            currency: b.currency,
        }
    }
}

/// A checked product.
#[derive(Debug, Clone)]
pub struct ProductInput {
    pub name: String,
    pub description: String,
    pub price: i64,
    pub stock: Option<i64>,
    pub category: String,
    pub image_url: Option<String>,
    pub currency: String,
}

/// The largest stock of a product (and so the largest stock delta either way).
pub const MAX_STOCK: i64 = mall_http::limits::MAX_STOCK;

impl ProductInput {
    pub fn parse(body: ProductBody, stock_required: bool) -> Result<Self, String> {
        let name = label("name", &body.name, 200)?;
        if body.description.chars().count() > 5000 {
            return Err("description must be at most 5000 characters".into());
        }
        let price = bounded("price", body.price, 0, MAX_PRICE)?;
        let stock = match body.stock {
            Some(s) => Some(bounded("stock", s, 0, MAX_STOCK)?),
            None if stock_required => return Err("stock is required".into()),
            None => None,
        };
        let category = label("category", &body.category, 50)?;
        let currency = body.currency.unwrap_or_else(|| "KRW".into());
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err("currency must be a three-letter ISO 4217 code such as KRW".into());
        }
        // Exactly docs/openapi.yaml's pattern: nothing trimmed, an empty string refused.
        let image_url = match body.image_url {
            Some(u) if u.chars().count() > 500 => {
                return Err("image_url must be at most 500 characters".into())
            }
            Some(u)
                if !(u.starts_with("https://")
                    || u.starts_with("http://")
                    || u.starts_with('/')) =>
            {
                return Err("image_url must be an http(s) URL or a path starting with /".into())
            }
            Some(u)
                if u.chars().any(|c| {
                    c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>'
                }) =>
            {
                return Err("image_url contains characters that are not allowed".into())
            }
            other => other,
        };
        Ok(Self {
            name: name.to_owned(),
            description: body.description.trim().to_owned(),
            price,
            stock,
            category: category.to_owned(),
            image_url,
            currency,
        })
    }
}

/// `PATCH /api/products/{id}/stock`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockDelta {
    pub delta: JsonInt,
}

impl StockDelta {
    /// The delta, at most [`MAX_STOCK`] either way.
    pub fn parse(&self) -> Result<i64, String> {
        bounded("delta", self.delta, -MAX_STOCK, MAX_STOCK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> ProductBody {
        ProductBody {
            name: "Kettle".into(),
            description: "boils".into(),
            price: 30000.into(),
            stock: Some(5.into()),
            category: "Kitchen".into(),
            image_url: None,
            currency: None,
        }
    }

    #[test]
    fn product_defaults_to_krw_and_refuses_bad_fields() {
        assert_eq!(
            ProductInput::parse(body(), true).map(|p| p.currency),
            Ok("KRW".into())
        );
        let bad = [
            ProductBody {
                name: " ".into(),
                ..body()
            },
            ProductBody {
                price: (-1).into(),
                ..body()
            },
            ProductBody {
                price: (MAX_PRICE + 1).into(),
                ..body()
            },
            ProductBody {
                price: JsonInt::NotWhole,
                ..body()
            },
            ProductBody {
                stock: Some((-1).into()),
                ..body()
            },
            ProductBody {
                stock: Some((MAX_STOCK + 1).into()),
                ..body()
            },
            ProductBody {
                stock: None,
                ..body()
            },
            ProductBody {
                category: String::new(),
                ..body()
            },
            ProductBody {
                currency: Some("won".into()),
                ..body()
            },
            ProductBody {
                image_url: Some("javascript:alert(1)".into()),
                ..body()
            },
        ];
        for b in bad {
            assert!(ProductInput::parse(b, true).is_err());
        }
        assert!(ProductInput::parse(
            ProductBody {
                stock: None,
                ..body()
            },
            false
        )
        .is_ok());
    }

    #[test]
    fn stock_deltas_are_bounded_both_ways() {
        let delta = |d: JsonInt| StockDelta { delta: d }.parse();
        assert_eq!(delta(MAX_STOCK.into()), Ok(MAX_STOCK));
        assert_eq!(delta((-MAX_STOCK).into()), Ok(-MAX_STOCK));
        for bad in [
            (MAX_STOCK + 1).into(),
            i64::MAX.into(),
            i64::MIN.into(),
            JsonInt::NotWhole,
        ] {
            assert_eq!(
                delta(bad),
                Err(format!(
                    "delta must be a whole number from {} to {MAX_STOCK}",
                    -MAX_STOCK
                ))
            );
        }
    }
}
