//! The catalog's change feed: what a product process publishes on the Redis channel
//! `{prefix}catalog:changes` after each change it made, so that every copy of the catalog
//! elsewhere (the other product slot's cache during a blue/green switch, the cart's copy
//! of the prices) drops what the change made stale.
//!
//! A message is `{origin} all` (an admin write: everything is dead) or `{origin} stock
//! {id},{id},…` (an order's stock change: only those products' stocks are dead), where
//! `origin` is the publishing process's own random number, so it can skip its own.

/// The channel's name under the mall's Redis key prefix.
pub const CHANNEL: &str = "catalog:changes";

/// A change, as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// An admin write: every entry, price and stock is dead.
    All,
    /// These products' stocks are dead (names and prices are not).
    Stock(Vec<u64>),
}

/// The message that announces `change`, made by the process `origin`.
pub fn message(origin: u64, change: &Change) -> String {
    match change {
        Change::All => format!("{origin} all"),
        Change::Stock(ids) => {
            let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
            format!("{origin} stock {}", ids.join(","))
        }
    }
}

/// The origin and change of a message; `None` when it is not one (a reader that cannot
/// read a message must treat it as [`Change::All`]).
pub fn parse(payload: &[u8]) -> Option<(u64, Change)> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut words = text.split(' ');
    let origin = words.next()?.parse().ok()?;
    let change = match (words.next()?, words.next()) {
        ("all", None) => Change::All,
        ("stock", Some(ids)) => Change::Stock(
            ids.split(',')
                .map(|id| id.parse().ok())
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    };
    words.next().is_none().then_some((origin, change))
}

/// The request header with which a caller asks the price lookup to read the database, not
/// the product process's cache (`Cache-Control: no-cache`): what a caller keeps a copy of
/// must not come from another copy that may not have heard of a change yet.
pub const FRESH_REQUEST: (&str, &str) = ("cache-control", "no-cache");

/// The answer's header that says it was read from the database (`x-catalog-read:
/// database`); a product build that does not know [`FRESH_REQUEST`] never sends it.
pub const FRESH_ANSWER: (&str, &str) = ("x-catalog-read", "database");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_as_written() {
        for change in [
            Change::All,
            Change::Stock(vec![7]),
            Change::Stock(vec![3, 1]),
        ] {
            assert_eq!(parse(message(42, &change).as_bytes()), Some((42, change)));
        }
    }

    #[test]
    fn anything_else_is_not_a_message() {
        for bad in [
            "",
            "42",
            "42 all x",
            "42 stock",
            "42 stock ",
            "42 stock 1,,2",
            "42 stock 1 2",
            "x all",
            "42 price 1",
            "-1 all",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
        }
    }
}
