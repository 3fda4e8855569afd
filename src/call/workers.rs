//! The threads that run asynchronous calls (`fn.async`, spec CALL-06).
//!
//! A process-wide pool: jobs go into one queue, and a few threads take them. What makes it
//! worth having instead of libuv's thread pool is how an idle thread waits. A thread that has
//! just finished a job keeps polling the queue for a short while ([`SPIN`]) before it sleeps on
//! a condition variable. Programs that make async calls one after another (call, wait for the
//! callback, call again) then hand each new call to a thread that is already awake: no futex
//! wake-up, which on a virtual machine costs several microseconds, about a third of the round
//! trip. Only one thread polls at a time, so an idle pool costs at most one core for
//! [`SPIN`] after its last job, and nothing after that.
//!
//! The engine knows nothing of Node here: a job is any closure; the binding's jobs make the
//! C call and hand the result back to the JS thread themselves.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// How long a thread that ran out of jobs keeps polling for the next one before it sleeps.
pub const SPIN: Duration = Duration::from_micros(50);

/// A job: runs once, on one of the pool's threads.
pub type Job = Box<dyn FnOnce() + Send>;

/// The pool's shared state.
struct Pool {
    state: Mutex<State>,
    wake: Condvar,
    /// Jobs in the queue (read without the lock by the polling thread).
    queued: AtomicUsize,
    /// Whether a thread is polling the queue.
    polling: AtomicBool,
    /// Most threads the pool starts.
    max_threads: usize,
}

struct State {
    jobs: VecDeque<Job>,
    /// Threads started.
    threads: usize,
    /// Threads running a job.
    busy: usize,
    /// Threads asleep on `wake`.
    sleeping: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State { jobs: VecDeque::new(), threads: 0, busy: 0, sleeping: 0 }),
        wake: Condvar::new(),
        queued: AtomicUsize::new(0),
        polling: AtomicBool::new(false),
        max_threads: max_threads(std::env::var("UV_THREADPOOL_SIZE").ok().as_deref()),
    })
}

/// As many threads as libuv's pool would have: `UV_THREADPOOL_SIZE` (1 to 1024), else 4.
fn max_threads(setting: Option<&str>) -> usize {
    setting.and_then(|s| s.trim().parse::<usize>().ok()).map_or(4, |n| n.clamp(1, 1024))
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A job never runs under the lock, so the lock cannot be poisoned by one; recover anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Queues `job` to run on a pool thread. Fails only if no thread could be started at all.
pub fn submit(job: Job) -> std::io::Result<()> {
    let pool = pool();
    let mut st = pool.lock();
    st.jobs.push_back(job);
    pool.queued.fetch_add(1, Ordering::Release);
    // Every queued job needs a thread that is not busy: a polling one takes the first job, the
    // sleeping ones are woken for the rest, new ones started while the pool may grow.
    let polling = usize::from(pool.polling.load(Ordering::Acquire));
    let available = st.threads - st.busy;
    if st.jobs.len() > polling && st.sleeping > 0 {
        pool.wake.notify_one();
    } else if st.jobs.len() > available && st.threads < pool.max_threads {
        st.threads += 1;
        let started = std::thread::Builder::new().name("koffi-rs async".into()).spawn(|| work(self::pool()));
        if let Err(e) = started {
            st.threads -= 1;
            if st.threads == 0 {
                st.jobs.pop_back();
                pool.queued.fetch_sub(1, Ordering::Release);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// A pool thread: runs jobs, polls for [`SPIN`] when there are none, then sleeps.
fn work(pool: &'static Pool) {
    loop {
        let mut st = pool.lock();
        if let Some(job) = take(pool, &mut st) {
            st.busy += 1;
            drop(st);
            job();
            pool.lock().busy -= 1;
            continue;
        }
        if !pool.polling.swap(true, Ordering::AcqRel) {
            drop(st);
            poll_queue(pool);
            pool.polling.store(false, Ordering::Release);
            // Look again, with the lock: a job queued meanwhile is this thread's to take.
            continue;
        }
        st.sleeping += 1;
        while st.jobs.is_empty() {
            st = pool.wake.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        st.sleeping -= 1;
    }
}

fn take(pool: &Pool, st: &mut State) -> Option<Job> {
    let job = st.jobs.pop_front()?;
    pool.queued.fetch_sub(1, Ordering::Release);
    Some(job)
}

/// Waits up to [`SPIN`] for a job to be queued, without sleeping.
fn poll_queue(pool: &Pool) {
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            if pool.queued.load(Ordering::Acquire) > 0 {
                return;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() >= SPIN {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn thread_count_follows_libuv_setting() {
        assert_eq!(max_threads(None), 4);
        assert_eq!(max_threads(Some("8")), 8);
        assert_eq!(max_threads(Some(" 2 ")), 2);
        assert_eq!(max_threads(Some("0")), 1);
        assert_eq!(max_threads(Some("100000")), 1024);
        assert_eq!(max_threads(Some("many")), 4);
    }

    #[test]
    fn every_job_runs_once_one_at_a_time_and_many_at_once() {
        let (tx, rx) = mpsc::channel();
        // One after another, as `fn.async` callers awaiting each call do (the polling path).
        for i in 0..200 {
            let tx = tx.clone();
            submit(Box::new(move || tx.send(i).unwrap())).unwrap();
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(i));
        }
        // Bursts, longer than the polling window apart (the sleeping path).
        for burst in 0..3 {
            for i in 0..64 {
                let tx = tx.clone();
                submit(Box::new(move || {
                    std::thread::sleep(Duration::from_micros(100));
                    tx.send(1000 * burst + i).unwrap()
                }))
                .unwrap();
            }
            let mut got: Vec<i32> = (0..64).map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
            got.sort();
            assert_eq!(got, (0..64).map(|i| 1000 * burst + i).collect::<Vec<_>>());
            std::thread::sleep(SPIN * 4);
        }
        let st = pool().lock();
        assert!(st.threads >= 1 && st.threads <= pool().max_threads);
        assert!(st.jobs.is_empty());
    }
}
