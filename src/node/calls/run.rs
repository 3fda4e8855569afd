//! The call itself: a filled frame goes through the thunk, with the frame recorded as the call
//! in progress (callbacks find the thread's stack through it), and what callbacks relayed during
//! the call left behind is settled when C returns (spec CB-08, CALL-11).

use super::callable::Callable;
use super::relay::{close_relay_scopes, release_kept};
use crate::call::{invoke, CallFrame};
use crate::node::instance::Instance;
use crate::node::js::{Env, JsError, JsResult};

/// Runs C with `frame`, recording it as the current call so that callbacks can find the
/// thread's stack, and rethrows an exception a callback left pending (spec CB-08). Returns the
/// errno C left (read through `errno`, the thread's errno slot).
#[inline(always)]
pub fn run(env: Env, inst: &Instance, c: &Callable, frame: &mut CallFrame) -> JsResult<()> {
    let previous = inst.current_frame.replace(frame);
    // SAFETY: the frame was filled by the plan classified from the declared signature, and the
    // stack pointer points into the call memory's stack block.
    unsafe { invoke::invoke(c.ptr, frame) };
    inst.current_frame.set(previous);
    if inst.relayed.get() {
        return after_relays(env, inst, frame, previous.is_null());
    }
    Ok(())
}

/// After a call during which callbacks ran: closes the handle scopes they shared and, after
/// the outermost call, releases what they left; rethrows an exception one of them kept. The
/// errno C left is kept through it all.
#[cold]
fn after_relays(env: Env, inst: &Instance, frame: &CallFrame, outermost: bool) -> JsResult<()> {
    // SAFETY: the thread's errno slot.
    let _errno = KeepErrno::new(inst.errno);
    // The handle scopes callbacks shared during this call close before anything else is
    // made: the result must not live in one of them.
    close_relay_scopes(env, inst, frame as *const CallFrame);
    // What callbacks relayed during this call returned lived as long as C needed it: until now.
    release_kept(inst, frame as *const CallFrame);
    if outermost {
        inst.relayed.set(false);
        // Libraries unloaded by callbacks: no C code of theirs runs on this thread any more.
        let unloads = std::mem::take(&mut *inst.deferred_unloads.borrow_mut());
        for lib in unloads {
            lib.close_if_idle();
        }
    }
    let pending = inst.pending_exception.borrow_mut().take();
    if let Some(r) = pending {
        rethrow(env, r);
        return Err(JsError::PENDING);
    }
    Ok(())
}

/// Keeps the thread's `errno` through a scope: what runs in it (Node-API calls converting a
/// result, say) may change errno, and nothing between C's return and the next JS statement may
/// (spec CALL-11).
pub struct KeepErrno {
    slot: *mut i32,
    value: i32,
}

impl KeepErrno {
    /// Remembers the value in `slot`, the thread's errno slot.
    #[inline(always)]
    pub fn new(slot: *mut i32) -> KeepErrno {
        // SAFETY: the caller passes the thread's errno slot (Instance::errno on the JS thread).
        KeepErrno { slot, value: unsafe { *slot } }
    }
}

impl Drop for KeepErrno {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: as in `new`.
        unsafe { *self.slot = self.value };
    }
}

/// Throws the exception kept by a callback (element 0 of the referenced array).
#[cold]
fn rethrow(env: Env, r: napi::sys::napi_ref) {
    let exception = env.deref(r).and_then(|holder| env.get_element(holder, 0));
    // SAFETY: JS thread; a reference we created.
    unsafe { napi::sys::napi_delete_reference(env.0, r) };
    if let Ok(v) = exception {
        // SAFETY: JS thread, valid value.
        unsafe { napi::sys::napi_throw(env.0, v) };
    }
}
