//! A thread-safe function handle that other threads may post to while Node may finalize it: the
//! handle sits behind a lock, and whoever ends its life (its finalizer, a release, Node
//! answering `napi_closing`) clears it under that lock. A thread then either posts to a live
//! function or finds none. Used for the callback broker (`lifeline`) and the async completion
//! function (`asynccall`).

use std::ffi::c_void;
use std::sync::{Mutex, MutexGuard};

use napi::sys;

use super::error::JsResult;
use super::napi::Env;

/// Makes a thread-safe function named `name` that calls `call_js` on the JS thread for each
/// item posted to it. It is unref'd: it never keeps the process alive by itself. Node gives
/// `finalize_data` to `finalize` when it finalizes the function; if making it fails, the data
/// is still the caller's.
pub fn create(
    env: Env,
    name: &str,
    finalize_data: *mut c_void,
    finalize: sys::napi_finalize,
    call_js: sys::napi_threadsafe_function_call_js,
) -> JsResult<sys::napi_threadsafe_function> {
    let name = env.string(name)?;
    let mut tsfn = std::ptr::null_mut();
    // SAFETY: JS thread, valid env; `finalize_data` goes to `finalize` once Node finalizes the
    // function (the caller's contract for what it points to).
    let status = unsafe {
        sys::napi_create_threadsafe_function(
            env.0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            name,
            0,
            1,
            finalize_data,
            finalize,
            std::ptr::null_mut(),
            call_js,
            &mut tsfn,
        )
    };
    if status != sys::Status::napi_ok {
        return Err(env.failure(status));
    }
    // SAFETY: JS thread, the function just made.
    unsafe { sys::napi_unref_threadsafe_function(env.0, tsfn) };
    Ok(tsfn)
}

/// A `napi_threadsafe_function`, or none (0), behind a lock.
#[derive(Default)]
pub struct GuardedTsfn(Mutex<usize>);

impl GuardedTsfn {
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The handle (NULL when none), for the JS thread's own use (ref/unref).
    pub fn get(&self) -> sys::napi_threadsafe_function {
        *self.lock() as sys::napi_threadsafe_function
    }

    /// Whether a handle is set.
    pub fn is_set(&self) -> bool {
        *self.lock() != 0
    }

    /// Installs a function just made (JS thread).
    pub fn set(&self, tsfn: sys::napi_threadsafe_function) {
        *self.lock() = tsfn as usize;
    }

    /// Takes the handle out, leaving none: the caller releases it (outside the lock, since Node
    /// may finalize, and so take the lock, from inside the release).
    pub fn take(&self) -> sys::napi_threadsafe_function {
        std::mem::take(&mut *self.lock()) as sys::napi_threadsafe_function
    }

    /// For a finalizer: clears the handle if it is still `tsfn` (a successor may be set).
    pub fn clear_if(&self, tsfn: usize) {
        let mut h = self.lock();
        if *h == tsfn {
            *h = 0;
        }
    }

    /// From any thread: queues `data`. False when there is no function, or Node is closing it
    /// (then it is cleared: nobody posts to it again).
    pub fn post(&self, data: *mut c_void) -> bool {
        let mut tsfn = self.lock();
        if *tsfn == 0 {
            return false;
        }
        // SAFETY: the handle is alive while it is set (cleared under this lock before Node
        // frees it); the queue is unbounded, so a non-blocking call never waits.
        let status = unsafe {
            sys::napi_call_threadsafe_function(
                *tsfn as sys::napi_threadsafe_function,
                data,
                sys::ThreadsafeFunctionCallMode::nonblocking,
            )
        };
        if status == sys::Status::napi_closing {
            *tsfn = 0;
        }
        status == sys::Status::napi_ok
    }
}
