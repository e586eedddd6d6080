//! Priority admission to an account's global budget. When more requests want the budget than it allows, the one
//! with the highest [`Priority`] goes first, and among equals the one that asked first. Without it, a budget of 100
//! requests a second is shared by whoever happens to poll first: a hundred workers listing small resources take it
//! from the few lists that decide how long an import lasts, and from a person waiting on the connection page.
//!
//! One waiter at a time holds the baton and waits for the rate limiter's next token; the others wait for the baton
//! in priority order. A waiter dropped at any point (its request cancelled) leaves the queue and hands the baton on.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use governor::DefaultDirectRateLimiter;
use tokio::sync::Notify;

/// How urgently a request wants the account's shared budget. Ordered: a higher priority is admitted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Priority {
    /// Background work whose order does not change when it ends: the import's shorter lists.
    Background,
    /// Background work that decides when it ends: the import's longest lists, which each endpoint's own limit
    /// already paces, so they can only lose time by waiting behind shorter work.
    CriticalPath,
    /// Background work someone is about to look at: the import's most recent days, which the dashboards show first.
    Recent,
    /// Work a person or live sync is waiting on now: key checks, the connection page, webhook follow-ups. The
    /// default, so only work that says it can wait ever does.
    #[default]
    Interactive,
}

/// The waiting line in front of a direct rate limiter.
#[derive(Debug, Default)]
pub(crate) struct PriorityQueue {
    state: Mutex<QueueState>,
}

#[derive(Debug, Default)]
struct QueueState {
    next_ticket: u64,
    /// Waiters by (priority, highest first; then arrival).
    waiting: BTreeMap<(Reverse<Priority>, u64), Arc<Notify>>,
    /// Whether a waiter is waiting for the limiter's token now.
    baton_taken: bool,
}

impl QueueState {
    fn wake_first(&self) {
        if let Some(first) = self.waiting.values().next() {
            first.notify_one();
        }
    }
}

/// A waiter's place: in line, holding the baton, or done. Dropping it in any state leaves the queue consistent.
struct Place<'a> {
    queue: &'a PriorityQueue,
    key: (Reverse<Priority>, u64),
    holds_baton: bool,
    done: bool,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut state = self.queue.state.lock().expect("priority queue poisoned");
        if self.holds_baton {
            state.baton_taken = false;
        } else {
            state.waiting.remove(&self.key);
        }
        // The dropped waiter may have been woken to take the baton: wake whoever is first now instead.
        if !state.baton_taken {
            state.wake_first();
        }
    }
}

impl PriorityQueue {
    /// Waits until `limiter` admits one request, after every waiter of higher priority (or equal priority and
    /// earlier arrival) has been admitted.
    pub(crate) async fn admit(&self, limiter: &DefaultDirectRateLimiter, priority: Priority) {
        let notify = Arc::new(Notify::new());
        let mut place = {
            let mut state = self.state.lock().expect("priority queue poisoned");
            let key = (Reverse(priority), state.next_ticket);
            state.next_ticket += 1;
            state.waiting.insert(key, Arc::clone(&notify));
            Place {
                queue: self,
                key,
                holds_baton: false,
                done: false,
            }
        };
        loop {
            {
                let mut state = self.state.lock().expect("priority queue poisoned");
                let first = state.waiting.keys().next() == Some(&place.key);
                if first && !state.baton_taken {
                    state.waiting.remove(&place.key);
                    state.baton_taken = true;
                    place.holds_baton = true;
                }
            }
            if place.holds_baton {
                break;
            }
            notify.notified().await;
        }
        limiter.until_ready().await;
        let mut state = self.state.lock().expect("priority queue poisoned");
        state.baton_taken = false;
        state.wake_first();
        place.done = true;
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use governor::{Quota, RateLimiter};

    use super::*;

    /// A limiter of `per_second` with no burst beyond one, whose single token is spent at once.
    fn exhausted(per_second: u32) -> DefaultDirectRateLimiter {
        let limiter = RateLimiter::direct(
            Quota::per_second(NonZeroU32::new(per_second).unwrap()).allow_burst(NonZeroU32::MIN),
        );
        assert!(limiter.check().is_ok());
        limiter
    }

    #[tokio::test]
    async fn waiters_are_admitted_by_priority_then_arrival() {
        let limiter = Arc::new(exhausted(4));
        let queue = Arc::new(PriorityQueue::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        let arrivals = [
            ("background 1", Priority::Background),
            ("critical 1", Priority::CriticalPath),
            ("background 2", Priority::Background),
            ("interactive", Priority::Interactive),
            ("recent", Priority::Recent),
            ("critical 2", Priority::CriticalPath),
        ];
        for (name, priority) in arrivals {
            let (limiter, queue, order) = (limiter.clone(), queue.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                queue.admit(&limiter, priority).await;
                order.lock().unwrap().push(name);
            }));
            // Every waiter is in line long before the next token comes (250 ms away).
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        for task in tasks {
            task.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        // The first arrival took the baton while alone in line; the rest go by priority, then arrival.
        assert_eq!(
            order,
            [
                "background 1",
                "interactive",
                "recent",
                "critical 1",
                "critical 2",
                "background 2"
            ]
        );
    }

    #[tokio::test]
    async fn a_cancelled_waiter_leaves_the_line_and_passes_the_baton_on() {
        let limiter = Arc::new(exhausted(10));
        let queue = Arc::new(PriorityQueue::default());
        // The holder of the baton is cancelled while it waits for the token, and a waiter in line is cancelled too.
        let holder = {
            let (limiter, queue) = (limiter.clone(), queue.clone());
            tokio::spawn(async move { queue.admit(&limiter, Priority::Background).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let in_line = {
            let (limiter, queue) = (limiter.clone(), queue.clone());
            tokio::spawn(async move { queue.admit(&limiter, Priority::Interactive).await })
        };
        let last = {
            let (limiter, queue) = (limiter.clone(), queue.clone());
            tokio::spawn(async move { queue.admit(&limiter, Priority::Background).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        holder.abort();
        in_line.abort();
        tokio::time::timeout(Duration::from_secs(2), last)
            .await
            .expect("the last waiter is admitted once the others are gone")
            .unwrap();
        let state = queue.state.lock().unwrap();
        assert!(state.waiting.is_empty() && !state.baton_taken);
    }
}
