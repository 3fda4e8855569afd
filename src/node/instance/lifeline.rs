//! The part of an environment that C can still reach after the environment is gone.
//!
//! A trampoline's handler may be called by any C thread at any time: during a call, from a
//! library's own thread long after the call returned, after `koffi.reset()`, or after the worker
//! that registered it ended. Each environment therefore shares one [`Lifeline`] with every
//! callback handler and tombstone it makes. The lifeline says whether the environment still
//! lives (set false once, at teardown, before anything is freed) and holds the *broker*, the
//! thread-safe function that queues calls from other threads to the JS thread, behind a lock:
//! the handle is cleared under that lock by its finalizer, by `reset()` and at teardown, so a C
//! thread either posts to a live function or finds none and returns zeros. Nothing that reads a
//! lifeline touches the environment unless the lifeline says it lives *and* the reader runs on
//! its JS thread; a thread id recycled after a worker's thread ended cannot pass that test,
//! because the flag went false before that thread ended.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::sys;

use crate::node::js::tsfn::GuardedTsfn;

/// What an environment's callbacks share with it (see the module documentation).
pub struct Lifeline {
    alive: AtomicBool,
    /// The environment's JS thread, as `pthread_self()` reports it.
    js_pthread: libc::pthread_t,
    /// The broker, when there is one.
    broker: GuardedTsfn,
}

// SAFETY: `pthread_t` is an integer on the targets we build for; the broker is guarded (see
// `GuardedTsfn`).
unsafe impl Send for Lifeline {}
// SAFETY: as above.
unsafe impl Sync for Lifeline {}

/// What a broker's finalizer needs: the lifeline to clear, and which handle it finalizes (a
/// broker released by `reset()` is finalized after its successor was made).
pub struct BrokerTag {
    link: Arc<Lifeline>,
    tsfn: usize,
}

impl Lifeline {
    /// The lifeline of an environment whose JS thread is the calling thread.
    pub fn new() -> Arc<Lifeline> {
        // SAFETY: pthread_self has no preconditions.
        let js_pthread = unsafe { libc::pthread_self() };
        Arc::new(Lifeline { alive: AtomicBool::new(true), js_pthread, broker: GuardedTsfn::default() })
    }

    /// Whether the environment has not been torn down.
    #[inline]
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Whether the caller runs on the environment's JS thread while it lives: only then may it
    /// touch the environment's instance and call Node-API.
    #[inline]
    pub fn on_js_thread(&self) -> bool {
        // SAFETY: pthread_self has no preconditions.
        self.is_alive() && unsafe { libc::pthread_self() } == self.js_pthread
    }

    /// Whether a broker exists.
    pub fn has_broker(&self) -> bool {
        self.broker.is_set()
    }

    /// Prepares the finalizer data of a broker about to be made (see [`Lifeline::set_broker`]).
    pub fn tag(self: &Arc<Self>) -> Box<BrokerTag> {
        Box::new(BrokerTag { link: self.clone(), tsfn: 0 })
    }

    /// Installs a broker just made with `tag` as its finalizer data and [`broker_finalized`] as
    /// its finalizer (JS thread).
    pub fn set_broker(&self, tag: *mut BrokerTag, tsfn: sys::napi_threadsafe_function) {
        // SAFETY: the tag handed to Node with this broker; its finalizer runs later on this
        // same thread, so nothing reads the tag meanwhile.
        unsafe { (*tag).tsfn = tsfn as usize };
        self.broker.set(tsfn);
    }

    /// From any thread: queues `data` to the broker. False when there is no broker (the
    /// environment is gone, or being reset): the caller returns zeros.
    pub fn post(&self, data: *mut c_void) -> bool {
        self.is_alive() && self.broker.post(data)
    }

    /// Releases the broker (JS thread; at `reset()` and teardown). Calls already queued are
    /// answered with zeros when Node drains the queue; later ones find no broker.
    pub fn release_broker(&self) {
        let tsfn = self.broker.take();
        if !tsfn.is_null() {
            // SAFETY: a live broker, taken out of the lifeline: released exactly once.
            unsafe { sys::napi_release_threadsafe_function(tsfn, sys::ThreadsafeFunctionReleaseMode::abort) };
        }
    }

    /// The environment is being torn down (JS thread): from now on nothing reaches it.
    pub fn end(&self) {
        self.alive.store(false, Ordering::Release);
        self.release_broker();
    }
}

/// The finalizer of a broker: Node is about to free it, so no thread may post to it any more.
///
/// # Safety
/// `data` is the `Box<BrokerTag>` given to `napi_create_threadsafe_function` with the broker.
pub unsafe extern "C" fn broker_finalized(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: forwarded from the caller; Node finalizes each broker once.
    let tag = unsafe { Box::from_raw(data as *mut BrokerTag) };
    tag.link.broker.clear_if(tag.tsfn);
}
