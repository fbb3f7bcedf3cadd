//! Batched statements (`mall_runtime::batch`): a batcher of database work, calling a batch
//! procedure and checking its answer, and the one error a failed batch hands to each of its
//! callers.

use std::future::Future;

use mall_runtime::batch::Batcher;
use mysql_async::prelude::Queryable;
use mysql_async::Pool;

/// A [`Batcher`] whose batches are database work: each item gets its own outcome, or, when
/// the batch failed (all of it rolled back) or its worker is gone, that error.
pub struct DbBatcher<I, T>(Batcher<I, Result<T, SharedError>>);

impl<I, T> DbBatcher<I, T>
where
    I: Send + 'static,
    T: Send + 'static,
{
    /// Starts the worker (needs a tokio runtime). `run` gets 1 to `max` items sorted by
    /// `key`, the key of the rows each locks ([`in_key_order`]: two batches in flight
    /// never deadlock on each other), and answers one outcome per item, in their order,
    /// or the batch's error.
    pub fn start<K, F, Fut>(max: usize, key: fn(&I) -> K, run: F) -> Self
    where
        K: Ord + 'static,
        F: Fn(Vec<I>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<T>, mysql_async::Error>> + Send + 'static,
    {
        Self(Batcher::start(max, move |items: Vec<I>| {
            let n = items.len();
            let batch = in_key_order(items, key, run.clone());
            async move {
                match batch.await {
                    Ok(each) => each.into_iter().map(Ok).collect(),
                    Err(e) => {
                        let shared = SharedError::of(&e);
                        (0..n).map(|_| Err(shared.clone())).collect()
                    }
                }
            }
        }))
    }

    /// Queues `item` and waits for its outcome.
    pub async fn submit(&self, item: I) -> Result<T, SharedError> {
        let outcome = self.0.submit(item).await;
        outcome.unwrap_or_else(|gone| Err(SharedError::other(gone.to_string())))
    }
}

/// Runs `call` on `items` sorted by `key`, the order their rows are locked in (so two
/// batches of one step in flight at once never deadlock on each other), and answers in
/// the order the items came. Items with equal keys keep their order.
pub async fn in_key_order<I, K, T, F, Fut>(
    items: Vec<I>,
    key: impl Fn(&I) -> K,
    call: F,
) -> Result<Vec<T>, mysql_async::Error>
where
    K: Ord,
    F: FnOnce(Vec<I>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, mysql_async::Error>>,
{
    let n = items.len();
    let mut indexed: Vec<(usize, I)> = items.into_iter().enumerate().collect();
    indexed.sort_by_key(|(_, item)| key(item));
    let (places, sorted): (Vec<usize>, Vec<I>) = indexed.into_iter().unzip();
    let outcomes = call(sorted).await?;
    if outcomes.len() != n {
        return Err(mysql_async::Error::Other(
            format!("a batch of {n} got {} outcomes", outcomes.len()).into(),
        ));
    }
    let mut back: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for (place, outcome) in places.into_iter().zip(outcomes) {
        back[place] = Some(outcome);
    }
    Ok(back.into_iter().flatten().collect())
}

/// A batch's writes: `one` for a batch of exactly one item, else `many`. The single way
/// (the plain statement, or the single procedure with scalar parameters) writes what the
/// batch procedure writes for that item and costs MariaDB less than the procedure
/// unpacking one item from JSON; at a shopper mix's rate most batches hold one
/// (docs/performance.md "a batch of one").
pub async fn one_or_many<'a, I, T, A, B>(
    items: &'a [I],
    one: impl FnOnce(&'a I) -> A,
    many: impl FnOnce(&'a [I]) -> B,
) -> Result<Vec<T>, mysql_async::Error>
where
    A: Future<Output = Result<T, mysql_async::Error>>,
    B: Future<Output = Result<Vec<T>, mysql_async::Error>>,
{
    match items {
        [item] => Ok(vec![one(item).await?]),
        _ => many(items).await,
    }
}

/// A database error that several callers share: the one failure of a batched statement
/// (`mall_runtime::batch`), handed to every request of the batch. mysql_async's error is not
/// `Clone`, so each gets its text and whether it said the database is unavailable
/// ([`is_unavailable`](crate::db::is_unavailable): answered 503 like the error itself, `mall_http`'s `CommonError`).
#[derive(Clone, Debug)]
pub struct SharedError {
    message: String,
    unavailable: bool,
}

impl SharedError {
    pub fn of(err: &mysql_async::Error) -> Self {
        Self {
            message: err.to_string(),
            unavailable: crate::db::is_unavailable(err),
        }
    }

    /// A failure that is not the database's (the batch worker is gone).
    pub fn other(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            unavailable: false,
        }
    }

    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }
}

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SharedError {}

/// Calls a batch procedure (`call` with `params`) whose answer is one row with one column,
/// `answer`: a JSON array with one entry per item (`R`, a tuple read from a JSON array), in
/// the order the items were given, each naming its item (`key_of`). Its entries, checked to
/// name exactly `keys` in that order. A misshapen answer is an error, not a panic; the
/// answer is read to its end, and after an error the connection is made safe for the pool
/// ([`after_procedure`](crate::db::after_procedure)).
///
/// One value rather than a result set because MariaDB builds a result set from a JSON
/// array only through JSON_TABLE, a temporary table per call (docs/performance.md "Issue
/// 19, continued: the procedures' answers").
pub async fn call<R>(
    pool: &Pool,
    call: &str,
    params: Vec<mysql_async::Value>,
    keys: impl Iterator<Item = u64>,
    key_of: impl Fn(&R) -> u64,
) -> Result<Vec<R>, mysql_async::Error>
where
    R: serde::de::DeserializeOwned,
{
    // Every batch procedure holds its own transaction and rolls it back on any error: a
    // deadlock's victim left nothing, and runs again.
    let answer = crate::deadlock::retry(call, || async {
        let mut c = crate::db::conn(pool).await?;
        let answer = c.exec_first::<String, _, _>(call, params.clone()).await;
        crate::db::after_procedure(&mut c, answer).await
    })
    .await?;
    let entries = decode(call, answer.as_deref())?;
    if !entries.iter().map(key_of).eq(keys) {
        return Err(mysql_async::Error::Other(
            format!("{call} answered other items than it was given").into(),
        ));
    }
    Ok(entries)
}

/// A batch procedure's `answer`, or the error saying it had none or a misshapen one.
fn decode<R: serde::de::DeserializeOwned>(
    call: &str,
    answer: Option<&str>,
) -> Result<Vec<R>, mysql_async::Error> {
    let answer =
        answer.ok_or_else(|| mysql_async::Error::Other(format!("{call} sent no answer").into()))?;
    serde_json::from_str(answer)
        .map_err(|e| mysql_async::Error::Other(format!("{call} answered {e}").into()))
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[tokio::test]
    async fn a_batch_is_called_in_key_order_and_answered_in_the_order_given() {
        let items = vec![(30, 'a'), (10, 'b'), (20, 'c'), (10, 'd')];
        let answered = super::in_key_order(
            items,
            |i| i.0,
            |sorted| async move {
                let keys: Vec<(u32, char)> = sorted.clone();
                assert_eq!(keys, [(10, 'b'), (10, 'd'), (20, 'c'), (30, 'a')]);
                Ok(sorted.into_iter().map(|(k, c)| format!("{k}{c}")).collect())
            },
        )
        .await
        .unwrap();
        assert_eq!(answered, ["30a", "10b", "20c", "10d"]);
        let short = super::in_key_order(vec![1, 2], |i| *i, |_| async { Ok(vec![1]) }).await;
        assert!(short.is_err(), "one outcome per item, or an error");
    }

    #[test]
    fn an_answer_is_read_entry_by_entry_and_a_misshapen_one_is_an_error() {
        let read: Vec<(u64, Option<u64>)> = decode("CALL x", Some("[[3,7],[4,null]]")).unwrap();
        assert_eq!(read, vec![(3, Some(7)), (4, None)]);
        let read: Vec<(u64, String, Option<String>)> =
            decode("CALL x", Some(r#"[[5,"moved","committed"]]"#)).unwrap();
        assert_eq!(read, vec![(5, "moved".into(), Some("committed".into()))]);
        for bad in [
            None,
            Some(""),
            Some("[[3]]"),
            Some(r#"[["3",1]]"#),
            Some("{}"),
        ] {
            let e = decode::<(u64, i64)>("CALL x", bad).unwrap_err().to_string();
            assert!(e.contains("CALL x"), "{bad:?}: {e}");
        }
    }
}
