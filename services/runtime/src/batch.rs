//! Natural batching ("group commit"): callers hand in one item each and wait for its own
//! outcome; one worker takes everything that queued while its last batch ran and does it
//! as one batch. Nothing waits for a timer: a lone item goes out at once, and items are
//! grouped only when they arrive while a batch is running, so batches grow with the load
//! and cost nothing when it is light.
//!
//! Used where concurrent requests each make the same small write elsewhere (order: the
//! reservation commit and the `paid` move of concurrent checkouts, docs/checkout.md "The
//! steps"). Every caller still waits for its item's outcome before it goes on, so a
//! batched step keeps its place in the request's order of steps.
//!
//! The worker logs nothing: it serves several requests at once, so an outcome (an error
//! included) goes back to each caller, which reports it under its own trace id.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

/// One queued item and where its outcome goes.
type Queued<I, O> = (I, oneshot::Sender<O>);

/// The handle callers submit through; clone it freely (the worker ends when every handle
/// is gone).
pub struct Batcher<I, O> {
    queue: mpsc::UnboundedSender<Queued<I, O>>,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<I, O> std::fmt::Debug for Batcher<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Batcher")
    }
}

/// Why an item got no outcome: its batch panicked, or the worker is gone (the runtime is
/// shutting down). Nothing is known about the item's effect.
#[derive(Debug, thiserror::Error)]
#[error("the batch worker is gone; the item's outcome is unknown")]
pub struct WorkerGone;

impl<I, O> Batcher<I, O>
where
    I: Send + 'static,
    O: Send + 'static,
{
    /// Starts the worker on the current tokio runtime. `run` gets 1 to `max` items, in the
    /// order they were submitted, and must answer one outcome per item, in that order.
    pub fn start<F, Fut>(max: usize, run: F) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<O>> + Send + 'static,
    {
        assert!(max > 0, "a batch holds at least one item");
        let (queue, mut rx) = mpsc::unbounded_channel::<Queued<I, O>>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut items = Vec::with_capacity(max.min(16));
                let mut waiters = Vec::with_capacity(max.min(16));
                let mut next = Some(first);
                while let Some((item, waiter)) = next.take() {
                    items.push(item);
                    waiters.push(waiter);
                    if items.len() < max {
                        next = rx.try_recv().ok();
                    }
                }
                // Its own task, so a batch that panics fails only its own items (their
                // callers get `WorkerGone`) and the worker goes on with the next.
                let Ok(outcomes) = tokio::spawn(run(items)).await else {
                    continue;
                };
                debug_assert_eq!(outcomes.len(), waiters.len(), "one outcome per item");
                for (waiter, outcome) in waiters.into_iter().zip(outcomes) {
                    // A caller that stopped waiting (its request went away) drops its
                    // outcome; the batch was done all the same.
                    let _ = waiter.send(outcome);
                }
            }
        });
        Self { queue }
    }

    /// Queues `item` and waits for its outcome.
    pub async fn submit(&self, item: I) -> Result<O, WorkerGone> {
        let (tx, rx) = oneshot::channel();
        self.queue.send((item, tx)).map_err(|_| WorkerGone)?;
        rx.await.map_err(|_| WorkerGone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[tokio::test]
    async fn a_lone_item_goes_out_at_once_and_gets_its_own_outcome() {
        let b = Batcher::start(8, |items: Vec<u32>| async move {
            items.into_iter().map(|i| i * 10).collect()
        });
        assert_eq!(b.submit(4).await.unwrap(), 40);
        assert_eq!(b.submit(5).await.unwrap(), 50);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn items_that_queue_while_a_batch_runs_go_out_together() {
        let seen: Arc<Mutex<Vec<Vec<u32>>>> = Arc::default();
        let log = seen.clone();
        let b = Batcher::start(3, move |items: Vec<u32>| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(items.clone());
                tokio::time::sleep(Duration::from_millis(50)).await;
                items.into_iter().map(|i| i + 100).collect()
            }
        });
        let first = tokio::spawn({
            let b = b.clone();
            async move { b.submit(1).await.unwrap() }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let rest: Vec<_> = (2..=6)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { b.submit(i).await.unwrap() })
            })
            .collect();
        assert_eq!(first.await.unwrap(), 101);
        for (i, h) in (2..=6).zip(rest) {
            assert_eq!(
                h.await.unwrap(),
                i + 100,
                "each caller gets its own outcome"
            );
        }
        let batches = seen.lock().unwrap().clone();
        assert_eq!(
            batches[0],
            vec![1],
            "the first item did not wait for company"
        );
        let mut rest = batches[1..].concat();
        rest.sort_unstable();
        assert_eq!(rest, vec![2, 3, 4, 5, 6], "every item once");
        assert!(
            batches[1..].iter().all(|b| b.len() <= 3),
            "no batch over max: {batches:?}"
        );
        assert!(
            batches.len() <= 3,
            "items that waited were grouped: {batches:?}"
        );
    }

    #[tokio::test]
    async fn a_batch_that_panics_fails_its_own_items_and_the_next_batch_is_served() {
        let b = Batcher::start(2, |items: Vec<u32>| async move {
            if items.contains(&7) {
                panic!("batch function failed");
            }
            items
        });
        assert!(b.submit(7).await.is_err(), "no outcome, and no hang");
        assert_eq!(b.submit(1).await.unwrap(), 1, "the worker lives on");
    }
}
