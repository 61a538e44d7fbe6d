//! A minimal `join_all` for the preview's concurrent store lookups: polls a batch of futures on
//! the caller's task until all are done and returns their outputs in order. The crate has no async
//! runtime (and no `futures` dependency); the batches are small (`SyncSettings::lookup_concurrency`),
//! so polling every unfinished future on each wake-up costs nothing next to a database round trip.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The outputs of `futures`, in order, once all are done.
pub(super) fn join_all<F: Future>(futures: Vec<F>) -> JoinAll<F> {
    let slots = futures.into_iter().map(|f| Slot::Running(Box::pin(f))).collect();
    JoinAll { slots }
}

enum Slot<F: Future> {
    Running(Pin<Box<F>>),
    Done(F::Output),
    Taken,
}

/// The future of [`join_all`].
pub(super) struct JoinAll<F: Future> {
    slots: Vec<Slot<F>>,
}

// The futures are boxed (pinned on the heap) and outputs are only moved, never pinned.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut pending = false;
        for slot in &mut self.slots {
            if let Slot::Running(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(out) => *slot = Slot::Done(out),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            return Poll::Pending;
        }
        let outputs = self
            .slots
            .iter_mut()
            .filter_map(|slot| match std::mem::replace(slot, Slot::Taken) {
                Slot::Done(out) => Some(out),
                Slot::Running(_) | Slot::Taken => None,
            })
            .collect();
        Poll::Ready(outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outputs_come_in_order_whatever_finishes_first() {
        let futures: Vec<_> = (0..5u64)
            .map(|i| async move {
                tokio::time::sleep(std::time::Duration::from_millis(50 - i * 10)).await;
                i
            })
            .collect();
        assert_eq!(join_all(futures).await, vec![0, 1, 2, 3, 4]);
        assert!(join_all(Vec::<std::future::Ready<u8>>::new()).await.is_empty());
    }
}
