//! What a value that shows stock is: the products it shows and how their current stock is
//! overlaid on it, for each shape the catalog caches (a product, an optional one, a list, a
//! page).

use mall_http::filters::PageOf;

use crate::storage::products::Product;

/// A cached value that shows products' stock, overlaid on a cache hit.
pub trait Stocked {
    /// The products whose stock the value shows.
    fn ids(&self) -> Vec<u64>;
    /// Sets the stock shown for product `id`.
    fn set_stock(&mut self, id: u64, stock: i64);
}

impl Stocked for Product {
    fn ids(&self) -> Vec<u64> {
        vec![self.id]
    }

    fn set_stock(&mut self, id: u64, stock: i64) {
        if self.id == id {
            self.stock = stock;
        }
    }
}

impl<T: Stocked> Stocked for Option<T> {
    fn ids(&self) -> Vec<u64> {
        self.as_ref().map(T::ids).unwrap_or_default()
    }

    fn set_stock(&mut self, id: u64, stock: i64) {
        if let Some(value) = self {
            value.set_stock(id, stock);
        }
    }
}

impl<T: Stocked> Stocked for Vec<T> {
    fn ids(&self) -> Vec<u64> {
        self.iter().flat_map(T::ids).collect()
    }

    fn set_stock(&mut self, id: u64, stock: i64) {
        for item in self {
            item.set_stock(id, stock);
        }
    }
}

impl<T: Stocked> Stocked for PageOf<T> {
    fn ids(&self) -> Vec<u64> {
        self.items.ids()
    }

    fn set_stock(&mut self, id: u64, stock: i64) {
        self.items.set_stock(id, stock);
    }
}
