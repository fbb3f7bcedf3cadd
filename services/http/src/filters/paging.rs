//! Paging: the `?page=&size=` query, its validated form, and the page body
//! (`{ items, page, size, total }`).

use serde::Deserialize;

use crate::error::CommonError;

/// `?page=1&size=20`, size at most 100.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct PageQuery {
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// A validated page request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub size: u32,
}

impl Paging {
    pub const MAX_SIZE: u32 = 100;
    /// The last page that may be asked for (docs/openapi.yaml `Page`).
    pub const MAX_PAGE: u32 = 1_000_000;

    pub fn try_from_query(q: PageQuery) -> Result<Self, CommonError> {
        let page = q.page.unwrap_or(1);
        let size = q.size.unwrap_or(20);
        if page == 0 || page > Self::MAX_PAGE {
            return Err(CommonError::Validation(format!(
                "page must be between 1 and {}",
                Self::MAX_PAGE
            )));
        }
        if size == 0 || size > Self::MAX_SIZE {
            return Err(CommonError::Validation(format!(
                "size must be between 1 and {}",
                Self::MAX_SIZE
            )));
        }
        Ok(Self { page, size })
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.size)
    }
}

/// `{ items, page, size, total }`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub size: u32,
    pub total: u64,
}

impl<T> PageOf<T> {
    /// The page `paging` asked for, holding `items` of `total`.
    pub fn new(items: Vec<T>, paging: Paging, total: u64) -> Self {
        Self {
            items,
            page: paging.page,
            size: paging.size,
            total,
        }
    }
}
