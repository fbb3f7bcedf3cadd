//! An entry as it is sent: its JSON cut where each shown product's stock goes, so a hit is
//! the parts with the current stocks between them, with no JSON parsed or built.

use std::io::Write;

use serde::Serialize;

use super::stocked::Stocked;

/// The stock a value is rendered with to find where each product's stock goes: no product
/// can have it (stock is never negative), and inside a JSON string the quotes around
/// `stock` would be escaped, so [`CUT`] only ever matches a product's own field.
const SENTINEL: i64 = i64::MIN;
const CUT: &[u8] = b"\"stock\":-9223372036854775808";
const FIELD: &[u8] = b"\"stock\":";

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Template {
    /// The products shown, in the order their stocks appear.
    ids: Vec<u64>,
    /// The JSON around the stocks: one part more than `ids`.
    parts: Vec<Box<[u8]>>,
}

impl Template {
    /// The template of a value that shows no stock.
    pub(crate) fn plain<T: Serialize + ?Sized>(value: &T) -> Option<Self> {
        Some(Self {
            ids: Vec::new(),
            parts: vec![serde_json::to_vec(value).ok()?.into()],
        })
    }

    /// The template of `value`, whose stocks it overwrites; `None` if the cuts do not
    /// match the products it shows (then it is not cached).
    pub(crate) fn stocked<T: Serialize + Stocked>(mut value: T) -> Option<Self> {
        let ids = value.ids();
        for &id in &ids {
            value.set_stock(id, SENTINEL);
        }
        let json = serde_json::to_vec(&value).ok()?;
        let mut parts = Vec::with_capacity(ids.len() + 1);
        let mut rest = json.as_slice();
        while let Some(at) = rest.windows(CUT.len()).position(|w| w == CUT) {
            parts.push(rest[..at].into());
            rest = &rest[at + CUT.len()..];
        }
        parts.push(rest.into());
        (parts.len() == ids.len() + 1).then_some(Self { ids, parts })
    }

    /// The products whose stocks go into the template, in order.
    pub(crate) fn ids(&self) -> &[u64] {
        &self.ids
    }

    /// Whether the value shows nothing (an unknown or deleted product's page).
    pub(crate) fn is_null(&self) -> bool {
        self.ids.is_empty() && self.parts.len() == 1 && &*self.parts[0] == b"null"
    }

    /// Appends the JSON with `stocks` (one per id, in order) to `out`.
    pub(crate) fn render_into(&self, stocks: &[i64], out: &mut Vec<u8>) {
        debug_assert_eq!(stocks.len(), self.ids.len());
        for (part, stock) in self.parts.iter().zip(stocks) {
            out.extend_from_slice(part);
            out.extend_from_slice(FIELD);
            // Writing into a Vec cannot fail.
            let _ = write!(out, "{stock}");
        }
        if let Some(last) = self.parts.last() {
            out.extend_from_slice(last);
        }
    }

    /// The length of the JSON without its stocks (for sizing a buffer).
    pub(crate) fn len_hint(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum::<usize>() + self.ids.len() * 28
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
