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
//! A job may block until a later one runs (a `read` on a pipe, then the `write` to it), so a
//! queued job must never wait for a thread that is busy: each one is matched with a thread on
//! its way to the queue (the polling one, a sleeper already woken, one just started), and a new
//! thread is started whenever none is left and the pool may grow. Sleepers that were notified
//! but are not awake yet are not idle: counting them twice is what starves a burst.
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
    /// Sleepers notified and not yet awake: each will look at the queue.
    woken: usize,
    /// Threads started that have not looked at the queue yet.
    starting: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State { jobs: VecDeque::new(), threads: 0, busy: 0, sleeping: 0, woken: 0, starting: 0 }),
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
    // Every queued job needs a thread on its way to the queue (see the module documentation):
    // the polling one, sleepers already woken, threads just started. One more is found for this
    // job if those are too few: a sleeper is woken, or else a thread is started.
    let coming = usize::from(pool.polling.load(Ordering::Acquire)) + st.woken + st.starting;
    if st.jobs.len() <= coming {
        return Ok(());
    }
    if st.sleeping > st.woken {
        st.woken += 1;
        pool.wake.notify_one();
    } else if st.threads < pool.max_threads {
        st.threads += 1;
        st.starting += 1;
        let started = std::thread::Builder::new().name("koffi-rs async".into()).spawn(|| work(self::pool()));
        if let Err(e) = started {
            st.threads -= 1;
            st.starting -= 1;
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
    pool.lock().starting -= 1;
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
        if !st.jobs.is_empty() {
            continue;
        }
        st.sleeping += 1;
        st = pool.wake.wait(st).unwrap_or_else(|e| e.into_inner());
        st.sleeping -= 1;
        // Woken by `submit` (or spuriously: undercounting `woken` only starts a thread early).
        st.woken = st.woken.saturating_sub(1);
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
        // Let a thread waiting for this CPU run (on a machine with few cores that is often the
        // JS thread, about to submit the next job): polling is for catching that job, not for
        // holding the CPU it needs.
        std::thread::yield_now();
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

    #[test]
    fn a_job_blocked_on_a_later_one_does_not_starve_it() {
        // A pool whose threads all sleep, then a burst where each job but the last blocks until
        // the last one runs (reads on a pipe, then the write), as many blockers as threads
        // asleep: each job needs its own thread.
        for blockers in 1..pool().max_threads {
            let (tx, rx) = mpsc::channel();
            submit(Box::new(move || tx.send(()).unwrap())).unwrap();
            rx.recv_timeout(Duration::from_secs(10)).unwrap();
            std::thread::sleep(SPIN * 20);
            let gate = std::sync::Arc::new((Mutex::new(false), Condvar::new()));
            let (done_tx, done_rx) = mpsc::channel();
            for _ in 0..blockers {
                let (gate, done_tx) = (gate.clone(), done_tx.clone());
                submit(Box::new(move || {
                    let mut open = gate.0.lock().unwrap();
                    while !*open {
                        open = gate.1.wait(open).unwrap();
                    }
                    done_tx.send(()).unwrap();
                }))
                .unwrap();
            }
            let opener = gate.clone();
            submit(Box::new(move || {
                *opener.0.lock().unwrap() = true;
                opener.1.notify_all();
            }))
            .unwrap();
            for _ in 0..blockers {
                done_rx.recv_timeout(Duration::from_secs(10)).expect("a blocked job waited for a busy thread");
            }
        }
    }
}
