//! Asynchronous calls: `fn.async(...args, callback)` (spec CALL-06..CALL-10, CFG-05).
//!
//! Arguments are converted on the JS thread into a memory block of the async pool (a stack and a
//! heap block of `async_stack_size` / `async_heap_size`); the C function runs on that block's
//! stack on a thread of the call pool (`call::workers`); a thread-safe function brings it back
//! to the JS thread, where the result is converted, outputs are copied back
//! and the callback gets `(null, result)` or `(error)`. Every object argument (Buffers and
//! TypedArrays included, §18-Q11) is referenced until then.

use std::ffi::c_void;
use std::sync::Arc;

use napi::sys;
use smallvec::SmallVec;

use super::callable::Callable;
use super::general::{finish, prepare};
use crate::call::errno::{errno, set_errno};
use crate::call::{invoke, CallFrame, CallMemory};
use crate::node::convert::{Ctx, OutArg};
use crate::node::instance::callbacks::{abandon_transients, release_transients, Transient};
use crate::node::instance::libraries::InFlight;
use crate::node::instance::Instance;
use crate::node::js::tsfn::{self, GuardedTsfn};
use crate::node::js::{error, error_value, type_error, Env, ErrorKind, JsError, JsResult, JsType, Value};

/// One asynchronous call in flight.
struct AsyncCall {
    inst: *const Instance,
    callable: Arc<Callable>,
    mem: Option<Box<CallMemory>>,
    frame: CallFrame,
    sret: *mut u8,
    /// A conversion error: reported through the callback, the C function is not called.
    failed: Option<String>,
    errno: i32,
    outs: SmallVec<[OutArg; 2]>,
    out_refs: Vec<sys::napi_ref>,
    keep: Vec<sys::napi_ref>,
    transients: SmallVec<[Transient; 2]>,
    callback: sys::napi_ref,
    /// Keeps the library mapped until the call is over (dropped last, with the call).
    _lib: InFlight,
}

/// Takes an idle resident block set, or maps a new one (spec CFG-05).
fn take_memory(inst: &Instance) -> JsResult<Box<CallMemory>> {
    if let Some(mem) = inst.async_pool.borrow_mut().pop() {
        return Ok(mem);
    }
    let cfg = inst.config.get();
    CallMemory::new(cfg.async_stack_size, cfg.async_heap_size).map(Box::new).map_err(|e| error(e.to_string()))
}

/// Keeps a block set if fewer than `resident_async_pools` are idle, else frees it.
fn return_memory(inst: &Instance, mut mem: Box<CallMemory>) {
    mem.reset();
    let mut pool = inst.async_pool.borrow_mut();
    if pool.len() < inst.config.get().resident_async_pools {
        pool.push(mem);
    }
}

/// `fn.async(...args, callback)`.
pub fn call_async(env: Env, inst: &Instance, callable: &Arc<Callable>, args: &[Value]) -> JsResult<Value> {
    let n = callable.params.len();
    let plan =
        callable.plan.as_ref().ok_or_else(|| type_error("Variadic functions cannot be called asynchronously"))?;
    if args.len() < n + 1 {
        return Err(type_error(format!("Expected {} arguments, got {}", n + 1, args.len())));
    }
    let cb = args[n];
    if env.type_of(cb)? != JsType::Function {
        return Err(type_error(format!("Expected callback function as last argument, got {}", env.type_name(cb))));
    }
    callable.ensure_loaded()?;
    if inst.async_running.get() >= inst.config.get().max_async_calls {
        return Err(error("Too many asynchronous calls are running"));
    }
    let mut mem = take_memory(inst)?;
    let mem_ptr: *mut CallMemory = &mut *mem;
    let mut call = Box::new(AsyncCall {
        inst,
        callable: callable.clone(),
        mem: None,
        frame: CallFrame::default(),
        sret: std::ptr::null_mut(),
        failed: None,
        errno: 0,
        outs: SmallVec::new(),
        out_refs: Vec::new(),
        keep: Vec::new(),
        transients: SmallVec::new(),
        callback: env.reference(cb)?,
        _lib: InFlight::new(callable.lib.as_ref()),
    });
    // Every object argument stays alive until the call completes (spec CALL-09, §18-Q11).
    for &v in &args[..n] {
        if matches!(env.type_of(v)?, JsType::Object | JsType::Function | JsType::External) {
            call.keep.push(env.reference(v)?);
        }
    }
    let mut ctx = Ctx::for_call(env, inst, mem_ptr);
    match prepare(&mut ctx, &mut call.frame, callable, &callable.params, plan, &args[..n]).map_err(JsError::kind) {
        Ok(sret) => call.sret = sret,
        // Spec CALL-07: conversion errors reach the callback, as a plain Error.
        Err(ErrorKind::Pending) => {
            let mut exc = std::ptr::null_mut();
            // SAFETY: JS thread, an exception is pending.
            unsafe { sys::napi_get_and_clear_last_exception(env.0, &mut exc) };
            let text = env.get(exc, "message").and_then(|m| env.get_string(m)).unwrap_or_default();
            call.failed = Some(text);
        }
        Err(ErrorKind::Type(m)) | Err(ErrorKind::Error(m)) => call.failed = Some(m),
    }
    for out in &ctx.outs {
        call.out_refs.push(env.reference(out.value())?);
    }
    call.outs = std::mem::take(&mut ctx.outs);
    call.transients = std::mem::take(&mut ctx.transients);
    drop(ctx);
    call.mem = Some(mem);

    let done = completion(env, inst)?;
    let data = Box::into_raw(call) as usize;
    let job = {
        let done = done.clone();
        move || {
            // SAFETY: the AsyncCall queued below; nothing else touches it until `complete`.
            unsafe { execute(data as *mut AsyncCall) };
            if !done.post(data as *mut c_void) {
                // SAFETY: not handed to the JS thread: still ours.
                unsafe { abandon(data as *mut AsyncCall) };
            }
        }
    };
    if let Err(e) = crate::call::workers::submit(Box::new(job)) {
        // SAFETY: never queued, still ours.
        let call = unsafe { Box::from_raw(data as *mut AsyncCall) };
        discard(env, inst, call);
        return Err(error(format!("Failed to start a thread for asynchronous calls: {e}")));
    }
    if inst.async_running.get() == 0 {
        // Calls in flight keep the event loop alive, as libuv's pending work would.
        // SAFETY: JS thread; the environment's completion function.
        unsafe { sys::napi_ref_threadsafe_function(env.0, done.get()) };
    }
    inst.async_running.set(inst.async_running.get() + 1);
    env.undefined()
}

/// On a pool thread: the C call itself.
///
/// # Safety
/// `call` is an AsyncCall queued by `call_async`, used by nothing else until `complete`.
unsafe fn execute(call: *mut AsyncCall) {
    // SAFETY: forwarded from the caller.
    let call = unsafe { &mut *call };
    if call.failed.is_none() {
        // SAFETY: the frame was filled for this function's plan; its stack pointer lies in the
        // call's own block, which no other call uses.
        unsafe { invoke::invoke(call.callable.ptr, &mut call.frame) };
        call.errno = errno();
    }
}

/// The environment's completion function, made on first use: the thread-safe function that
/// brings finished calls back to the JS thread, guarded (see `GuardedTsfn`): cleared when Node
/// finalizes it, after which calls are dropped.
fn completion(env: Env, inst: &Instance) -> JsResult<Arc<GuardedTsfn>> {
    if let Some(done) = inst.async_done.borrow().as_ref() {
        return Ok(done.clone());
    }
    let done = Arc::new(GuardedTsfn::default());
    let finalize_data = Arc::into_raw(done.clone()) as *mut c_void;
    // `finalize_data` is a counted reference to `done`, given back to `finalized` when Node
    // finalizes the function. Unref'd while no call is in flight: an idle environment may exit.
    let tsfn = match tsfn::create(env, "koffi-rs async", finalize_data, Some(finalized), Some(completed)) {
        Ok(tsfn) => tsfn,
        Err(e) => {
            // SAFETY: not handed over.
            drop(unsafe { Arc::from_raw(finalize_data as *const GuardedTsfn) });
            return Err(e);
        }
    };
    done.set(tsfn);
    *inst.async_done.borrow_mut() = Some(done.clone());
    Ok(done)
}

/// Node finalizes the completion function: no pool thread may use it from now on.
unsafe extern "C" fn finalized(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: the reference `completion` handed over.
    let done = unsafe { Arc::from_raw(data as *const GuardedTsfn) };
    // Node frees it next: nothing to release, only to forget.
    done.take();
}

/// On the JS thread, for each finished call.
unsafe extern "C" fn completed(env: sys::napi_env, _js: sys::napi_value, _context: *mut c_void, data: *mut c_void) {
    if env.is_null() {
        // The environment is going away: the call cannot be completed.
        // SAFETY: handed over by `post` (see `call_async`), and Node drains each queued call once.
        unsafe { abandon(data as *mut AsyncCall) };
        return;
    }
    // SAFETY: the AsyncCall a pool thread finished, completed exactly once.
    unsafe { complete(env, data) };
}

/// Frees a finished call whose environment is gone (any thread). Its JS references died with
/// the environment; its transient callbacks go back to the pool answering zeros, its memory is
/// unmapped.
///
/// # Safety
/// `call` is a finished AsyncCall that nothing else will touch.
unsafe fn abandon(call: *mut AsyncCall) {
    // SAFETY: forwarded from the caller.
    let mut call = unsafe { Box::from_raw(call) };
    abandon_transients(call.transients.drain(..));
    drop(call);
}

/// Releases what a call that never ran holds.
fn discard(env: Env, inst: &Instance, mut call: Box<AsyncCall>) {
    release_transients(call.transients.drain(..));
    for r in call.keep.drain(..).chain(call.out_refs.drain(..)).chain(std::iter::once(call.callback)) {
        // SAFETY: references we created.
        unsafe { sys::napi_delete_reference(env.0, r) };
    }
    if let Some(mem) = call.mem.take() {
        return_memory(inst, mem);
    }
}

/// Back on the JS thread: result, outputs, callback.
///
/// # Safety
/// `data` is a finished AsyncCall, completed exactly once.
unsafe fn complete(env: sys::napi_env, data: *mut c_void) {
    // SAFETY: the Box leaked by call_async, completed exactly once.
    let mut call = unsafe { Box::from_raw(data as *mut AsyncCall) };
    let env = Env(env);
    // SAFETY: the instance outlives every call of its environment.
    let inst = unsafe { &*call.inst };
    inst.async_running.set(inst.async_running.get().saturating_sub(1));
    let outcome = finish_call(env, inst, &mut call);
    release_transients(call.transients.drain(..));
    for r in call.keep.drain(..).chain(call.out_refs.drain(..)) {
        // SAFETY: references we created.
        unsafe { sys::napi_delete_reference(env.0, r) };
    }
    if let Some(mem) = call.mem.take() {
        return_memory(inst, mem);
    }
    let cb = env.deref(call.callback);
    // SAFETY: as above.
    unsafe { sys::napi_delete_reference(env.0, call.callback) };
    if inst.async_running.get() == 0 {
        if let Some(done) = inst.async_done.borrow().as_ref() {
            // SAFETY: JS thread; the environment's completion function.
            unsafe { sys::napi_unref_threadsafe_function(env.0, done.get()) };
        }
    }
    let Ok(cb) = cb else { return };
    let args: Vec<Value> = match outcome.map_err(JsError::kind) {
        Ok(v) => vec![env.null().unwrap_or(std::ptr::null_mut()), v],
        Err(ErrorKind::Pending) => {
            let mut exc = std::ptr::null_mut();
            // SAFETY: JS thread, an exception is pending.
            unsafe { sys::napi_get_and_clear_last_exception(env.0, &mut exc) };
            vec![exc]
        }
        Err(ErrorKind::Type(m)) | Err(ErrorKind::Error(m)) => vec![error_value(env, error(m))],
    };
    // koffi.errno() inside the callback reports the async call's errno (spec EXT-11).
    set_errno(call.errno);
    let Ok(undefined) = env.undefined() else { return };
    // An exception thrown by the callback stays pending: Node reports it as uncaught.
    let _ = env.call_function(undefined, cb, &args);
}

fn finish_call(env: Env, inst: &Instance, call: &mut AsyncCall) -> JsResult<Value> {
    if let Some(msg) = call.failed.take() {
        return Err(error(msg));
    }
    let plan = call.callable.plan.as_ref().ok_or_else(|| error("missing plan"))?;
    let mem_ptr: *mut CallMemory =
        call.mem.as_deref_mut().map(|m| m as *mut CallMemory).unwrap_or(std::ptr::null_mut());
    let mut ctx = Ctx::for_call(env, inst, mem_ptr);
    let mut outs = std::mem::take(&mut call.outs);
    for (out, r) in outs.iter_mut().zip(&call.out_refs) {
        *out.value_mut() = env.deref(*r)?;
    }
    ctx.outs = outs;
    let callable = call.callable.clone();
    finish(&mut ctx, &callable, plan, &call.frame, call.sret)
}
