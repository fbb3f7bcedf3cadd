//! Catalog types that are valid by construction: a product's fields, a search, a stock
//! change, a reservation request.

use serde::Deserialize;

/// The create body (`POST /api/products`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    pub name: String,
    pub description: String,
    pub price: i64,
    pub stock: Option<i64>,
    pub category: String,
    pub image_url: Option<String>,
    pub currency: Option<String>,
}

/// The replace body (`PUT /api/products/{id}`): no `stock`, which moves only through
/// `PATCH …/stock` and orders, so a replace never races a checkout.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaceBody {
    pub name: String,
    pub description: String,
    pub price: i64,
    pub category: String,
    pub image_url: Option<String>,
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

pub const MAX_STOCK: i64 = 1_000_000_000;

impl ProductInput {
    pub fn parse(body: ProductBody, stock_required: bool) -> Result<Self, String> {
        let name = body.name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err("name must be 1 to 200 characters without control characters".into());
        }
        if body.description.chars().count() > 5000 {
            return Err("description must be at most 5000 characters".into());
        }
        if body.price < 0 {
            return Err("price must not be negative".into());
        }
        match body.stock {
            Some(s) if !(0..=MAX_STOCK).contains(&s) => {
                return Err(format!("stock must be between 0 and {MAX_STOCK}"))
            }
            None if stock_required => return Err("stock is required".into()),
            _ => {}
        }
        let category = body.category.trim();
        if category.is_empty()
            || category.chars().count() > 50
            || category.chars().any(char::is_control)
        {
            return Err("category must be 1 to 50 characters".into());
        }
        let currency = body.currency.unwrap_or_else(|| "KRW".into());
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err("currency must be a three-letter ISO 4217 code such as KRW".into());
        }
        let image_url = match body
            .image_url
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
        {
            Some(u) if u.len() > 500 => {
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
            price: body.price,
            stock: body.stock,
            category: category.to_owned(),
            image_url,
            currency,
        })
    }
}

/// `sort=` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Newest,
    PriceAsc,
    PriceDesc,
    Name,
}

impl Sort {
    pub fn parse(s: Option<&str>) -> Result<Self, String> {
        match s.unwrap_or("newest") {
            "newest" => Ok(Self::Newest),
            "price_asc" => Ok(Self::PriceAsc),
            "price_desc" => Ok(Self::PriceDesc),
            "name" => Ok(Self::Name),
            other => Err(format!(
                "unknown sort {other:?}; use newest, price_asc, price_desc or name"
            )),
        }
    }

    pub fn order_by(self) -> &'static str {
        match self {
            Self::Newest => "p.created_at DESC, p.id DESC",
            Self::PriceAsc => "p.price ASC, p.id ASC",
            Self::PriceDesc => "p.price DESC, p.id DESC",
            Self::Name => "p.name ASC, p.id ASC",
        }
    }
}

/// The query string of `GET /api/products` (unknown parameters are ignored, as the
/// OpenAPI document says: browsers and caches add their own).
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub sort: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// A checked search; its canonical form is also its cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub words: Vec<String>,
    pub category: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub sort: Sort,
}

impl Search {
    pub fn parse(q: &SearchQuery) -> Result<Self, String> {
        let text = q.q.as_deref().unwrap_or("").trim();
        if text.chars().count() > 100 {
            return Err("q must be at most 100 characters".into());
        }
        let words: Vec<String> = text
            .split_whitespace()
            .take(5)
            .map(str::to_lowercase)
            .collect();
        if q.min_price.is_some_and(|p| p < 0) || q.max_price.is_some_and(|p| p < 0) {
            return Err("min_price and max_price must not be negative".into());
        }
        if let (Some(lo), Some(hi)) = (q.min_price, q.max_price) {
            if lo > hi {
                return Err("min_price must not exceed max_price".into());
            }
        }
        let category = q
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        Ok(Self {
            words,
            category,
            min_price: q.min_price,
            max_price: q.max_price,
            sort: Sort::parse(q.sort.as_deref())?,
        })
    }

    pub fn cache_key(&self, page: u32, size: u32) -> String {
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{page}|{size}",
            self.words, self.category, self.min_price, self.max_price, self.sort
        )
    }
}

/// `PATCH /api/products/{id}/stock`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockDelta {
    pub delta: i64,
}

/// One line of a reservation.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ItemQty {
    pub product_id: u64,
    pub quantity: u32,
}

/// `POST /internal/reservations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveBody {
    pub order_id: u64,
    pub items: Vec<ItemQty>,
}

/// A checked reservation: 1–100 distinct products, quantities 1–999, sorted by product id
/// (rows are always locked in that order, so two reservations never deadlock).
#[derive(Debug, Clone)]
pub struct Reservation {
    pub order_id: u64,
    pub items: Vec<ItemQty>,
}

impl Reservation {
    pub fn parse(body: ReserveBody) -> Result<Self, String> {
        if body.order_id == 0 {
            return Err("order_id must be positive".into());
        }
        if body.items.is_empty() || body.items.len() > 100 {
            return Err("a reservation holds 1 to 100 products".into());
        }
        let mut items = body.items;
        if items
            .iter()
            .any(|i| i.quantity == 0 || i.quantity > 999 || i.product_id == 0)
        {
            return Err("quantities must be 1 to 999 of existing products".into());
        }
        items.sort_by_key(|i| i.product_id);
        if items.windows(2).any(|w| w[0].product_id == w[1].product_id) {
            return Err("each product may appear once".into());
        }
        Ok(Self {
            order_id: body.order_id,
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> ProductBody {
        ProductBody {
            name: "Kettle".into(),
            description: "boils".into(),
            price: 30000,
            stock: Some(5),
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
                price: -1,
                ..body()
            },
            ProductBody {
                stock: Some(-1),
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
    fn search_checks_sort_and_price_range() {
        let q = |sort: Option<&str>, lo, hi| SearchQuery {
            q: Some("  Red  Kettle ".into()),
            category: None,
            min_price: lo,
            max_price: hi,
            sort: sort.map(str::to_owned),
            page: None,
            size: None,
        };
        let s = Search::parse(&q(None, None, None)).expect("valid");
        assert_eq!(s.words, vec!["red", "kettle"]);
        assert_eq!(s.sort, Sort::Newest);
        assert!(Search::parse(&q(Some("cheapest"), None, None)).is_err());
        assert!(Search::parse(&q(None, Some(10), Some(5))).is_err());
        assert!(Search::parse(&q(None, Some(-1), None)).is_err());
    }

    #[test]
    fn reservations_are_sorted_and_distinct() {
        let r = Reservation::parse(ReserveBody {
            order_id: 1,
            items: vec![
                ItemQty {
                    product_id: 9,
                    quantity: 1,
                },
                ItemQty {
                    product_id: 3,
                    quantity: 2,
                },
            ],
        })
        .expect("valid");
        assert_eq!(r.items[0].product_id, 3);
        let dup = ReserveBody {
            order_id: 1,
            items: vec![
                ItemQty {
                    product_id: 3,
                    quantity: 1,
                },
                ItemQty {
                    product_id: 3,
                    quantity: 2,
                },
            ],
        };
        assert!(Reservation::parse(dup).is_err());
        assert!(Reservation::parse(ReserveBody {
            order_id: 1,
            items: vec![]
        })
        .is_err());
    }
}
