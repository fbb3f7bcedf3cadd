//! A catalog search (`GET /api/products`): checked, with its canonical form as cache key.

use mall_http::limits::{bounded_query, MAX_PRICE};
use serde::Deserialize;

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
    /// Checked against the price bound by [`Search::parse`] (a string here, so that a
    /// number beyond `i64` gets the same message as one beyond the bound).
    pub min_price: Option<String>,
    pub max_price: Option<String>,
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
        // Lengths as sent (docs/openapi.yaml), before anything is trimmed.
        let text = q.q.as_deref().unwrap_or("");
        if text.chars().count() > 100 {
            return Err("q must be at most 100 characters".into());
        }
        if q.category.as_deref().unwrap_or("").chars().count() > 50 {
            return Err("category must be at most 50 characters".into());
        }
        let words: Vec<String> = text
            .split_whitespace()
            .take(5)
            .map(str::to_lowercase)
            .collect();
        let price = |field: &str, raw: &Option<String>| {
            raw.as_deref()
                .map(|r| bounded_query(field, r, 0, MAX_PRICE))
                .transpose()
        };
        // min_price > max_price is an empty range: it matches nothing (200, no items).
        let min_price = price("min_price", &q.min_price)?;
        let max_price = price("max_price", &q.max_price)?;
        let category = q
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        Ok(Self {
            words,
            category,
            min_price,
            max_price,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_checks_sort_and_price_range() {
        let q = |sort: Option<&str>, lo: Option<i64>, hi: Option<i64>| SearchQuery {
            q: Some("  Red  Kettle ".into()),
            category: None,
            min_price: lo.map(|p| p.to_string()),
            max_price: hi.map(|p| p.to_string()),
            sort: sort.map(str::to_owned),
            page: None,
            size: None,
        };
        let s = Search::parse(&q(None, None, None)).expect("valid");
        assert_eq!(s.words, vec!["red", "kettle"]);
        assert_eq!(s.sort, Sort::Newest);
        assert!(Search::parse(&q(Some("cheapest"), None, None)).is_err());
        // An empty range is a search that matches nothing, not an error.
        assert!(Search::parse(&q(None, Some(10), Some(5))).is_ok());
        assert!(Search::parse(&q(None, Some(-1), None)).is_err());
        assert!(Search::parse(&q(None, None, Some(MAX_PRICE + 1))).is_err());
        assert!(Search::parse(&q(None, Some(0), Some(MAX_PRICE))).is_ok());
    }
}
