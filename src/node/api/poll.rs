//! `koffi.node.poll` / `PollHandle` (spec NODE-02, NODE-03): a libuv poll handle on the
//! environment's event loop, for C libraries that hand out a file descriptor to watch.
//!
//! The JS class lives in lib/api.js; it drives these natives: `_pollOpen(fd, owner)` →
//! handle value, `_pollStart(handle, events, callback)`, `_pollStop`, `_pollClose`, `_pollRef`.
//! libuv is Node's own (its symbols resolve inside the node binary, like Node-API's).
//!
//! Handles left open belong to their environment, which closes them when it ends
//! (`instance::loop_handles`).

use std::ffi::{c_char, c_int, c_void, CStr};

use napi::sys;

use crate::node::instance::loop_handles::LoopHandles;
use crate::node::instance::Instance;
use crate::node::js::{call, error, type_error, Args, Env, JsResult, JsType, Value};

/// `UV_POLL` in libuv's `uv_handle_type`.
const UV_POLL: c_int = 8;
const UV_READABLE: c_int = 1;
const UV_WRITABLE: c_int = 2;
const UV_DISCONNECT: c_int = 4;

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_poll_init(event_loop: *mut c_void, handle: *mut c_void, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut c_void, events: c_int, cb: unsafe extern "C" fn(*mut c_void, c_int, c_int)) -> c_int;
    fn uv_poll_stop(handle: *mut c_void) -> c_int;
    fn uv_close(handle: *mut c_void, cb: unsafe extern "C" fn(*mut c_void));
    fn uv_ref(handle: *mut c_void);
    fn uv_unref(handle: *mut c_void);
    fn uv_strerror(err: c_int) -> *const c_char;
}

/// What a poll handle's `data` field points to.
struct Poll {
    env: sys::napi_env,
    /// The environment's set of handles.
    set: *const LoopHandles,
    /// The libuv handle (its first field, `data`, points back here).
    handle: Vec<u64>,
    owner: sys::napi_ref,
    callback: Option<sys::napi_ref>,
    context: sys::napi_async_context,
    closed: bool,
}

fn handle_ptr(poll: &mut Poll) -> *mut c_void {
    poll.handle.as_mut_ptr() as *mut c_void
}

fn poll_of(env: Env, v: Value) -> JsResult<&'static mut Poll> {
    if env.type_of(v)? != JsType::External {
        return Err(type_error("Invalid poll handle"));
    }
    let p = env.external_data(v)? as *mut Poll;
    if p.is_null() {
        return Err(type_error("Invalid poll handle"));
    }
    // SAFETY: externals made by `open` point to a live Poll until its close callback ran, and
    // lib/api.js never uses a handle after close().
    Ok(unsafe { &mut *p })
}

fn uv_error(rc: c_int) -> String {
    // SAFETY: uv_strerror returns a static string for any code.
    unsafe { CStr::from_ptr(uv_strerror(rc)) }.to_string_lossy().into_owned()
}

/// `_pollOpen(fd, owner)`: initialises a poll handle for `fd` (spec NODE-03).
pub fn open(env: Env, args: &Args) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    let set = LoopHandles::of(env, &inst.polls, close_poll)?;
    let fd = args.at(0);
    if env.type_of(fd)? != JsType::Number {
        return Err(type_error(format!("Unexpected {} value for descriptor, expected number", env.type_name(fd))));
    }
    let fd = env.get_f64(fd)? as c_int;
    let mut event_loop = std::ptr::null_mut();
    call!(env, napi_get_uv_event_loop(env.0, &mut event_loop));
    let name = env.string("koffi-rs poll")?;
    let mut context = std::ptr::null_mut();
    let owner = args.at(1);
    call!(env, napi_async_init(env.0, owner, name, &mut context));
    // SAFETY: uv_handle_size has no preconditions.
    let size = unsafe { uv_handle_size(UV_POLL) };
    let mut poll = Box::new(Poll {
        env: env.0,
        set,
        handle: vec![0u64; size.div_ceil(8)],
        owner: env.reference(owner)?,
        callback: None,
        context,
        closed: false,
    });
    let handle = handle_ptr(&mut poll);
    // SAFETY: a zeroed handle of the size libuv asked for, on this environment's loop.
    let rc = unsafe { uv_poll_init(event_loop as *mut c_void, handle, fd) };
    if rc != 0 {
        // SAFETY: references and context we created.
        unsafe {
            sys::napi_delete_reference(env.0, poll.owner);
            sys::napi_async_destroy(env.0, poll.context);
        }
        return Err(error(format!("Failed to init UV poll: {}", uv_error(rc))));
    }
    let raw = Box::into_raw(poll);
    // SAFETY: uv_handle_t starts with `void *data`.
    unsafe { *(handle as *mut *mut Poll) = raw };
    // SAFETY: the environment's set, alive while it has live handles.
    unsafe { (*set).add(raw as *mut c_void) };
    env.external(raw as *mut c_void)
}

/// `_pollStart(handle, {readable, writable, disconnect}, callback)`.
pub fn start(env: Env, args: &Args) -> JsResult<Value> {
    let poll = poll_of(env, args.at(0))?;
    let cb = args.at(2);
    if env.type_of(cb)? != JsType::Function {
        return Err(type_error(format!("Unexpected {} value for callback, expected function", env.type_name(cb))));
    }
    let events = env.get_f64(args.at(1))? as c_int;
    if let Some(old) = poll.callback.take() {
        // SAFETY: a reference we created.
        unsafe { sys::napi_delete_reference(env.0, old) };
    }
    poll.callback = Some(env.reference(cb)?);
    // SAFETY: an initialised, open handle.
    let rc = unsafe { uv_poll_start(handle_ptr(poll), events, on_event) };
    if rc != 0 {
        return Err(error(format!("Failed to start UV poll: {}", uv_error(rc))));
    }
    env.undefined()
}

/// `_pollStop(handle)`.
pub fn stop(env: Env, args: &Args) -> JsResult<Value> {
    let poll = poll_of(env, args.at(0))?;
    if !poll.closed {
        // SAFETY: an initialised, open handle.
        unsafe { uv_poll_stop(handle_ptr(poll)) };
    }
    env.undefined()
}

/// `_pollRef(handle, bool)`.
pub fn set_ref(env: Env, args: &Args) -> JsResult<Value> {
    let poll = poll_of(env, args.at(0))?;
    if !poll.closed {
        // SAFETY: an initialised, open handle.
        unsafe {
            if env.get_bool(args.at(1))? {
                uv_ref(handle_ptr(poll))
            } else {
                uv_unref(handle_ptr(poll))
            }
        }
    }
    env.undefined()
}

/// `_pollClose(handle)`: asynchronous release; idempotent.
pub fn close(env: Env, args: &Args) -> JsResult<Value> {
    let poll = poll_of(env, args.at(0))?;
    // SAFETY: a live Poll.
    unsafe { close_poll(poll as *mut Poll as *mut c_void) };
    env.undefined()
}

/// Starts closing a live poll handle unless it is closing already (also the environment's
/// teardown, through its `LoopHandles`).
///
/// # Safety
/// `p` is a live Poll (freed only by its close callback).
unsafe fn close_poll(p: *mut c_void) {
    // SAFETY: forwarded from the caller.
    let poll = unsafe { &mut *(p as *mut Poll) };
    if !poll.closed {
        poll.closed = true;
        // SAFETY: an initialised handle, closed once; `on_close` frees it.
        unsafe { uv_close(handle_ptr(poll), on_close) };
    }
}

unsafe extern "C" fn on_close(handle: *mut c_void) {
    // SAFETY: `data` is the Box leaked by `open`; libuv calls this once, on the JS thread.
    let raw = unsafe { *(handle as *mut *mut Poll) };
    // SAFETY: as above.
    let poll = unsafe { Box::from_raw(raw) };
    // SAFETY: the set this handle was added to, which outlives it.
    if unsafe { LoopHandles::closed(poll.set, raw as *mut c_void) } {
        // The environment is ending: its references and contexts go with it.
        return;
    }
    // SAFETY: JS thread; references and context we created.
    unsafe {
        if let Some(cb) = poll.callback {
            sys::napi_delete_reference(poll.env, cb);
        }
        sys::napi_delete_reference(poll.env, poll.owner);
        sys::napi_async_destroy(poll.env, poll.context);
    }
}

unsafe extern "C" fn on_event(handle: *mut c_void, status: c_int, events: c_int) {
    // SAFETY: `data` points to the live Poll (freed only after close).
    let poll = unsafe { &mut **(handle as *mut *mut Poll) };
    let Some(cb) = poll.callback else { return };
    let env = Env(poll.env);
    let mut scope = std::ptr::null_mut();
    // SAFETY: libuv runs this on the JS thread, outside any JS frame: open a scope for our values.
    unsafe { sys::napi_open_handle_scope(env.0, &mut scope) };
    let _ = deliver(env, poll, cb, status, events);
    // SAFETY: the scope opened above.
    unsafe { sys::napi_close_handle_scope(env.0, scope) };
}

/// Calls the JS callback with `this` = the PollHandle and `(status, events)` (spec §18-Q10).
fn deliver(env: Env, poll: &Poll, cb: sys::napi_ref, status: c_int, events: c_int) -> JsResult<()> {
    let f = env.deref(cb)?;
    let this = env.deref(poll.owner)?;
    let ev = env.object()?;
    env.set(ev, "readable", env.boolean(events & UV_READABLE != 0)?)?;
    env.set(ev, "writable", env.boolean(events & UV_WRITABLE != 0)?)?;
    env.set(ev, "disconnect", env.boolean(events & UV_DISCONNECT != 0)?)?;
    let argv = [env.int32(status)?, ev];
    let mut result = std::ptr::null_mut();
    // make_callback runs microtasks and reports exceptions as uncaught, like any libuv callback.
    call!(env, napi_make_callback(env.0, poll.context, this, f, argv.len(), argv.as_ptr(), &mut result));
    Ok(())
}
