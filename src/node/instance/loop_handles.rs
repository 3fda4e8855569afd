//! The libuv handles an environment owns (its poll handles), closed when it ends.
//!
//! Handles left open belong to their environment: an async cleanup hook closes them when the
//! environment ends (a worker exiting or terminated, Node's exit), and Node keeps running the
//! loop until the last close callback has run, as libuv requires before the loop is closed.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;

use napi::sys;

use crate::node::js::{Env, JsResult};

/// The handles of one environment that are not freed yet (open or closing), and whether the
/// environment is ending. Made with the first handle; freed by the cleanup hook once the last
/// handle is closed.
pub struct LoopHandles {
    live: RefCell<Vec<*mut c_void>>,
    ending: Cell<bool>,
    hook: Cell<sys::napi_async_cleanup_hook_handle>,
    /// Starts closing one live handle, unless it is closing already; its close callback then
    /// reports through [`LoopHandles::closed`].
    close: unsafe fn(*mut c_void),
}

impl LoopHandles {
    /// The environment's set, kept in `slot` (the instance's), made and hooked to the
    /// environment's teardown on first use. `close` starts closing a handle of this set.
    pub fn of(
        env: Env,
        slot: &Cell<*const LoopHandles>,
        close: unsafe fn(*mut c_void),
    ) -> JsResult<*const LoopHandles> {
        let current = slot.get();
        if !current.is_null() {
            return Ok(current);
        }
        let set = Box::into_raw(Box::new(LoopHandles {
            live: RefCell::new(Vec::new()),
            ending: Cell::new(false),
            hook: Cell::new(std::ptr::null_mut()),
            close,
        }));
        // SAFETY: valid env; `set` stays alive until the hook has finished with it.
        let status = unsafe {
            sys::napi_add_async_cleanup_hook(env.0, Some(close_all), set as *mut c_void, std::ptr::null_mut())
        };
        if status != sys::Status::napi_ok {
            // SAFETY: not handed over.
            drop(unsafe { Box::from_raw(set) });
            return Err(env.failure(status));
        }
        slot.set(set);
        Ok(set)
    }

    /// Counts a new live handle (its owner's pointer).
    pub fn add(&self, handle: *mut c_void) {
        self.live.borrow_mut().push(handle);
    }

    /// A handle's close callback ran (JS thread): forgets it. True when the environment is
    /// ending, so that the handle's JS references are left to go with it; the last handle of
    /// an ending environment lets Node go on, and frees the set.
    ///
    /// # Safety
    /// `set` is the set `handle` was added to; after a true answer it may be freed.
    pub unsafe fn closed(set: *const LoopHandles, handle: *mut c_void) -> bool {
        // SAFETY: the set outlives its live handles.
        let this = unsafe { &*set };
        this.live.borrow_mut().retain(|p| *p != handle);
        if !this.ending.get() {
            return false;
        }
        if this.live.borrow().is_empty() {
            // SAFETY: ending, and this was the last live handle.
            unsafe { finished(set as *mut LoopHandles) };
        }
        true
    }
}

/// The environment ends: closes every handle still open, and lets Node go on once the last one
/// is closed (JS thread, no JS may run).
unsafe extern "C" fn close_all(hook: sys::napi_async_cleanup_hook_handle, arg: *mut c_void) {
    // SAFETY: the LoopHandles given with the hook, alive until `finished`.
    let set = unsafe { &*(arg as *const LoopHandles) };
    set.ending.set(true);
    set.hook.set(hook);
    let live = set.live.borrow().clone();
    for handle in live {
        // SAFETY: a live handle of this set (freed only by its close callback).
        unsafe { (set.close)(handle) };
    }
    if set.live.borrow().is_empty() {
        // SAFETY: as above.
        unsafe { finished(arg as *mut LoopHandles) };
    }
}

/// The last handle of an ending environment is closed: Node may go on.
///
/// # Safety
/// `set` is the environment's set, ending, with no live handle; not used afterwards.
unsafe fn finished(set: *mut LoopHandles) {
    // SAFETY: forwarded from the caller.
    let set = unsafe { Box::from_raw(set) };
    // SAFETY: the handle Node gave the hook.
    unsafe { sys::napi_remove_async_cleanup_hook(set.hook.get()) };
}
