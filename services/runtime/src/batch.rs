//! Natural batching ("group commit"): callers hand in one item each and wait for its own
//! outcome; one worker takes everything that queued while its batches ran and does it as
//! one batch, with up to [`IN_FLIGHT`] batches running at once. Nothing waits for a timer:
//! a lone item goes out at once, and items are grouped only when they arrive while every
//! slot is busy, so batches grow with the load and cost nothing when it is light.
//!
//! Used where concurrent requests each make the same small write elsewhere (order: the
//! reservation commit and the `paid` move of concurrent checkouts; payment: the payment's
//! insert and settlement; docs/checkout.md "The steps"). Every caller still waits for its item's outcome before it goes on, so a
//! batched step keeps its place in the request's order of steps.
//!
//! The worker logs nothing: it serves several requests at once, so an outcome (an error
//! included) goes back to each caller, which reports it under its own trace id.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Semaphore};

/// How many batches of one batcher may be in flight at once. With one, a request that
/// reached its step just after a batch left waited for that batch and then for its own;
/// with two it goes out in the next batch at once, and only what arrives while both run
/// waits and is grouped. Measured (docs/performance.md "two batches in flight"): two gave
/// more checkouts per second at less CPU per checkout than one, three and four more CPU.
/// Callers that lock rows send their batches sorted by key, so two batches of one step
/// never deadlock on each other.
pub const IN_FLIGHT: usize = 2;

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
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        tokio::spawn(async move {
            loop {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                let Some(first) = rx.recv().await else {
                    return;
                };
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
                let batch = tokio::spawn(run(items));
                tokio::spawn(async move {
                    let Ok(outcomes) = batch.await else {
                        return;
                    };
                    drop(slot);
                    debug_assert_eq!(outcomes.len(), waiters.len(), "one outcome per item");
                    for (waiter, outcome) in waiters.into_iter().zip(outcomes) {
                        // A caller that stopped waiting (its request went away) drops its
                        // outcome; the batch was done all the same.
                        let _ = waiter.send(outcome);
                    }
                });
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
    async fn items_that_queue_while_every_slot_is_busy_go_out_together() {
        let seen: Arc<Mutex<Vec<Vec<u32>>>> = Arc::default();
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (log, now, peak) = (seen.clone(), running.clone(), most.clone());
        let b = Batcher::start(3, move |items: Vec<u32>| {
            let (log, now, peak) = (log.clone(), now.clone(), peak.clone());
            async move {
                use std::sync::atomic::Ordering::SeqCst;
                peak.fetch_max(now.fetch_add(1, SeqCst) + 1, SeqCst);
                log.lock().unwrap().push(items.clone());
                tokio::time::sleep(Duration::from_millis(300)).await;
                now.fetch_sub(1, SeqCst);
                items.into_iter().map(|i| i + 100).collect()
            }
        });
        let submit = |i: u32| {
            let b = b.clone();
            tokio::spawn(async move { b.submit(i).await.unwrap() })
        };
        // One alone in each slot, then four while both slots are busy.
        let mut handles = vec![submit(1)];
        tokio::time::sleep(Duration::from_millis(50)).await;
        handles.push(submit(2));
        tokio::time::sleep(Duration::from_millis(50)).await;
        handles.extend((3..=6).map(submit));
        for (i, h) in (1..=6).zip(handles) {
            assert_eq!(
                h.await.unwrap(),
                i + 100,
                "each caller gets its own outcome"
            );
        }
        let batches = seen.lock().unwrap().clone();
        assert_eq!(
            batches[..2],
            [vec![1], vec![2]],
            "neither item waited for company or for the other's batch"
        );
        let mut rest = batches[2..].concat();
        rest.sort_unstable();
        assert_eq!(rest, vec![3, 4, 5, 6], "every item once");
        assert!(
            batches.iter().all(|b| b.len() <= 3),
            "no batch over max: {batches:?}"
        );
        assert_eq!(
            batches.len(),
            4,
            "the items that waited were grouped: {batches:?}"
        );
        let most = most.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            most, IN_FLIGHT,
            "never more than {IN_FLIGHT} batches at once"
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
