//! The stored layout of a stocked entry (the ids of the products it shows, a newline, then
//! the value as JSON) and the decoding of what [`LOOKUP`](super::LOOKUP) found for one.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// What [`LOOKUP`](super::LOOKUP) answered for one entry: its bytes, then for each id in
/// its head the stock generation and the cached stock.
pub(super) type Found = (Option<Vec<u8>>, Vec<u64>, Vec<Option<i64>>);

/// The stored form of a stocked entry: `ids` (those of the products `value` shows),
/// comma-separated, a newline, then `value` as JSON (which has no raw newline).
pub(super) fn encode<T: Serialize + ?Sized>(ids: &[u64], value: &T) -> Option<Vec<u8>> {
    let head: Vec<String> = ids.iter().map(u64::to_string).collect();
    let mut bytes = head.join(",").into_bytes();
    bytes.push(b'\n');
    serde_json::to_writer(&mut bytes, value).ok()?;
    Some(bytes)
}

/// One product's stock as the lookup found it on a hit.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct StockSlot {
    pub(super) id: u64,
    /// The product's stock generation, read before MySQL is (see
    /// [`CatalogCache::current_stocks`](crate::cache::CatalogCache::current_stocks)).
    pub(super) generation: u64,
    pub(super) cached: Option<i64>,
}

/// A stocked entry found in the cache: the value and the stock of each product it shows.
pub(super) struct Hit<T> {
    pub(super) value: T,
    pub(super) stocks: Vec<StockSlot>,
}

/// The hit in what the lookup found, or `None` (a miss) when there is no entry, or it is
/// not in this layout (no head, a malformed one, an answer that does not match it) or not
/// a `T`.
pub(super) fn decode<T: DeserializeOwned>((entry, generations, stocks): Found) -> Option<Hit<T>> {
    let bytes = entry?;
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let (head, json) = (&bytes[..newline], &bytes[newline + 1..]);
    if !head.iter().all(|&b| b.is_ascii_digit() || b == b',') {
        return None;
    }
    let ids: Vec<u64> = if head.is_empty() {
        Vec::new()
    } else {
        std::str::from_utf8(head)
            .ok()?
            .split(',')
            .map(|id| id.parse().ok())
            .collect::<Option<_>>()?
    };
    if ids.len() != generations.len() || ids.len() != stocks.len() {
        return None;
    }
    let value = serde_json::from_slice(json).ok()?;
    let stocks = ids
        .into_iter()
        .zip(generations)
        .zip(stocks)
        .map(|((id, generation), cached)| StockSlot {
            id,
            generation,
            cached,
        })
        .collect();
    Some(Hit { value, stocks })
}
