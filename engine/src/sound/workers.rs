//! The bands' work split over the cores.

/// Threads that work on bands in parallel (the machine's cores, up to 4).
pub(super) fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from).clamp(1, 4)
}

/// Runs `share(w, workers)` for each worker `w` in `0..workers` (`workers` from
/// [`worker_count`]): worker 0 on this thread, the others on threads named `{name}-{w}`. A share
/// whose thread cannot be started is done here. Returns the shares' results in worker order.
pub(super) fn run_shares<T: Send>(name: &str, share: impl Fn(usize, usize) -> T + Sync) -> Vec<T> {
    let workers = worker_count();
    let share = &share;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers)
            .map(|w| {
                std::thread::Builder::new()
                    .name(format!("{name}-{w}"))
                    .spawn_scoped(scope, move || share(w, workers))
                    .map_err(|_| w)
            })
            .collect();
        let mut results = Vec::with_capacity(workers);
        results.push(share(0, workers));
        for handle in handles {
            results.push(match handle {
                // A worker only panics on a bug; re-raise it here rather than lose its share.
                Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                Err(w) => share(w, workers),
            });
        }
        results
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_share_runs_once_in_worker_order() {
        let results =
            run_shares("test-share", |w, workers| (w, workers, std::thread::current().name().map(str::to_owned)));
        assert_eq!(results.len(), worker_count());
        for (i, (w, workers, name)) in results.iter().enumerate() {
            assert_eq!((*w, *workers), (i, worker_count()));
            if i > 0 {
                assert_eq!(name.as_deref(), Some(format!("test-share-{i}").as_str()));
            }
        }
    }
}
