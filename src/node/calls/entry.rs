//! Declared functions as JS functions (spec FN-15, FN-16): the function object, its Node-API
//! entries — the lean entries for signatures of numbers and booleans, the general entries for
//! the rest and the lean ones' fallbacks, the async entry — and the choice between the lean and
//! the general path for each call.

use std::ffi::c_void;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use napi::sys;
use smallvec::SmallVec;

use super::asynccall::call_async;
use super::callable::{classify, lower_sig, Callable, MAX_PARAMS};
use super::general::execute_in;
use super::lean;
use super::plan::{FastPlan, ParamConv};
use crate::abi::CallPlan;
use crate::node::convert::spec::resolve_param_spec;
use crate::node::convert::Ctx;
use crate::node::instance::callbacks::release_transients;
use crate::node::instance::Instance;
use crate::node::js::callinfo::{direct_data, DIRECT_DATA};
use crate::node::js::{call, drop_boxed, entry, error, settle, type_error, Args, Env, JsResult, Value};
use crate::types::{Direction, Param};

/// Calls `c` with JS arguments (spec CALL-01, CALL-02).
pub fn call(env: Env, inst: &Instance, c: &Callable, args: &[Value]) -> JsResult<Value> {
    c.ensure_loaded()?;
    let n = c.params.len();
    match &c.plan {
        Some(plan) => {
            if args.len() < n {
                return Err(type_error(format!("Expected {n} arguments, got {}", args.len())));
            }
            execute(env, inst, c, &c.params, plan, &args[..n])
        }
        None => call_variadic(env, inst, c, args),
    }
}

/// Variadic calls: (type, value) pairs after the fixed arguments (spec CALL-04, CALL-05).
fn call_variadic(env: Env, inst: &Instance, c: &Callable, args: &[Value]) -> JsResult<Value> {
    let n = c.params.len();
    if args.len() < n {
        return Err(type_error(format!("Expected {n} arguments or more, got {}", args.len())));
    }
    let extra = &args[n..];
    if extra.len() % 2 != 0 {
        return Err(error("Missing value argument for variadic call"));
    }
    if n + extra.len() / 2 > MAX_PARAMS {
        return Err(type_error("Functions cannot have more than 64 parameters"));
    }
    let mut params: Vec<Param> = c.sig.params.clone();
    let mut values: SmallVec<[Value; 16]> = args[..n].iter().copied().collect();
    for pair in extra.chunks(2) {
        let (ty, dir) = resolve_param_spec(env, inst, pair[0])?;
        inst.reg.borrow().check_param(ty, dir)?;
        params.push(Param { ty, dir });
        values.push(pair[1]);
    }
    let ret = Param { ty: c.sig.ret, dir: Direction::In };
    let plan = classify(&lower_sig(inst, &ret, &params, n, true))?;
    let convs: Vec<ParamConv> = params.iter().map(|p| ParamConv { info: inst.type_info(p.ty), dir: p.dir }).collect();
    execute(env, inst, c, &convs, &plan, &values)
}

fn execute(
    env: Env,
    inst: &Instance,
    c: &Callable,
    params: &[ParamConv],
    plan: &CallPlan,
    args: &[Value],
) -> JsResult<Value> {
    let mem = inst.memory()?;
    // SAFETY: the call memory outlives the call; nested calls mark and release in LIFO order.
    let mark = unsafe { (*mem).mark() };
    let result = if let Some(fast) = &c.fast {
        lean::execute(env, inst, c, fast, args, mem, fast.reserves(), &mut Some(mark))
    } else {
        let mut ctx = Ctx::for_call(env, inst, mem);
        let result = execute_in(&mut ctx, c, params, plan, args);
        if !ctx.transients.is_empty() {
            release_transients(ctx.transients.drain(..));
        }
        result
    };
    // SAFETY: as above.
    unsafe { (*mem).release(mark) };
    result
}

/// Wraps a callable in a JS function (spec FN-15): named after the C function, with `info`, and
/// `async` unless variadic (FN-16).
pub fn function_object(env: Env, inst: &Instance, callable: Callable) -> JsResult<Value> {
    let name = if callable.name.is_empty() { "<anonymous>".to_string() } else { callable.name.clone() };
    let variadic = callable.plan.is_none();
    let callable = Arc::new(callable);
    let lean = callable.fast.as_ref().and_then(|fast| lean_entry_for(callable.params.len(), fast));
    // The call entries get the Callable itself as data (one pointer less to follow per call);
    // it stays alive through the wrap below, which has the same lifetime as the function.
    let call_data = Arc::as_ptr(&callable) as *mut c_void;
    let f = env.function(&name, Some(lean.unwrap_or(call_entry(callable.params.len(), variadic))), call_data)?;
    // The function wraps its callable (freed with it), so that the shared `info`/`async`
    // getters can find it from `this`.
    let data = Box::into_raw(Box::new(callable.clone())) as *mut c_void;
    call!(
        env,
        napi_wrap(env.0, f, data, Some(drop_boxed::<Arc<Callable>>), std::ptr::null_mut(), std::ptr::null_mut())
    );
    // `info` and `async` are made on first use, by accessors that lib/api.js defines with
    // shared getter functions: declaring thousands of functions is common, most are never
    // introspected, and Node-API would create two new getter functions per declaration.
    let decorate = inst.helper(env, |h| h.decorate)?;
    let undefined = env.undefined()?;
    env.call_function(undefined, decorate, &[f, env.boolean(variadic)?])?;
    Ok(f)
}

/// The callable a declared function wraps.
fn unwrap_callable<'a>(env: Env, f: Value) -> JsResult<&'a Arc<Callable>> {
    let mut data = std::ptr::null_mut();
    // Anything not wrapped (another function, a plain object, a number) fails with
    // `napi_invalid_arg`: that is the user's mistake, not an internal error.
    // SAFETY: `f` is a value of this call; `data` receives the wrapped pointer, if any.
    let status = unsafe { sys::napi_unwrap(env.0, f, &mut data) };
    if status != sys::Status::napi_ok || data.is_null() {
        return Err(type_error("Not a function declared by koffi"));
    }
    // SAFETY: only function_object wraps, with a Box<Arc<Callable>> that lives as long as `f`.
    Ok(unsafe { &*(data as *const Arc<Callable>) })
}

/// `_infoOf(fn)`: the `info` object of a declared function (spec FN-15).
pub fn info_of(env: Env, args: &Args) -> JsResult<Value> {
    unwrap_callable(env, args.at(0))?.info_object(env)
}

/// `koffi.implementation.leanCall(fn)`: whether a declared function takes the lean path (its
/// own entry and the table of `plan.rs`) rather than the general conversion.
pub fn lean_call(env: Env, args: &Args) -> JsResult<Value> {
    env.boolean(unwrap_callable(env, args.at(0))?.fast.is_some())
}

/// `_asyncOf(fn)`: the asynchronous twin of a declared function (spec FN-16).
pub fn async_of(env: Env, args: &Args) -> JsResult<Value> {
    let callable = unwrap_callable(env, args.at(0))?;
    let name = if callable.name.is_empty() { "<anonymous>" } else { &callable.name };
    env.function_owning(name, Some(call_async_function), callable.clone())
}

/// The callable behind a function made by `async_of` (its data is an `Arc<Callable>`).
///
/// # Safety
/// `args.data` must be such a function's data.
unsafe fn callable_of(args: &Args) -> &Arc<Callable> {
    // SAFETY: forwarded from the caller; the Box lives as long as the function.
    unsafe { &*(args.data as *const Arc<Callable>) }
}

/// The call entry of a declared function with up to `N` parameters: the hot path. It reads
/// the arguments straight into a stack array sized for the function (Node-API fills every slot
/// it is given, so a smaller array is a cheaper call), and takes the instance from the
/// callable, so that a call costs one Node-API call before conversions start.
unsafe extern "C" fn call_function<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let e = Env(env);
    let mut argc = N;
    let mut argv: [Value; N] = [std::ptr::null_mut(); N];
    let mut data = std::ptr::null_mut();
    // SAFETY: called by Node with a valid env and callback info; argv holds N values.
    let status =
        unsafe { sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), std::ptr::null_mut(), &mut data) };
    if status != sys::Status::napi_ok {
        e.throw(e.failure(status));
        return std::ptr::null_mut();
    }
    // SAFETY: the function's data is its Callable, kept alive by the function's wrap; the
    // callable's instance lives as long as its environment.
    let (callable, inst) = unsafe {
        let callable = &*(data as *const Callable);
        (callable, &*callable.inst)
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if argc <= N {
            call(e, inst, callable, &argv[..argc])
        } else if callable.plan.is_some() && callable.params.len() <= N {
            // Extra arguments to a fixed function are ignored (spec CALL-02).
            call(e, inst, callable, &argv)
        } else {
            let mut more = vec![std::ptr::null_mut(); argc];
            call!(
                e,
                napi_get_cb_info(env, info, &mut argc, more.as_mut_ptr(), std::ptr::null_mut(), std::ptr::null_mut())
            );
            call(e, inst, callable, &more)
        }
    }));
    settle(e, result)
}

/// The general entry of any declared function (the lean entry's fallback): it picks the entry
/// its callable would have had without the lean path.
///
/// # Safety
/// Must be called by Node with the env and callback info of a declared function's call.
#[cold]
unsafe fn general_entry(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let mut data = std::ptr::null_mut();
    // SAFETY: forwarded from the caller.
    let status = unsafe {
        sys::napi_get_cb_info(env, info, std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), &mut data)
    };
    if status != sys::Status::napi_ok || data.is_null() {
        let e = Env(env);
        e.throw(e.failure(status));
        return std::ptr::null_mut();
    }
    // SAFETY: a declared function's data is its Callable, kept alive by the function's wrap.
    let callable = unsafe { &*(data as *const Callable) };
    // SAFETY: forwarded from the caller.
    unsafe { call_entry(callable.params.len(), callable.plan.is_none())(env, info) }
}

/// The call entry for a function of `params` fixed parameters (variadic ones take the widest).
fn call_entry(
    params: usize,
    variadic: bool,
) -> unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value {
    match (variadic, params) {
        (false, 0) => call_function::<0>,
        (false, 1) => call_function::<1>,
        (false, 2) => call_function::<2>,
        (false, 3) => call_function::<3>,
        (false, 4) => call_function::<4>,
        (false, 5..=8) => call_function::<8>,
        _ => call_function::<16>,
    }
}

unsafe extern "C" fn call_async_function(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by Node with a valid env and callback info.
    unsafe {
        entry(env, info, |env, args| {
            let inst = Instance::of(env)?;
            call_async(env, inst, callable_of(args), &args.argv)
        })
    }
}

/// A Node-API callback.
type Entry = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// The entry point of a lean-path function of `params` parameters, if there is one for that
/// count (larger ones take the general entry, which reaches the same lean path).
fn lean_entry_for(params: usize, fast: &FastPlan) -> Option<Entry> {
    /// The entry for `N` parameters, with `fast.reserves` made a constant.
    fn pick<const N: usize, const DIRECT: bool>(fast: &FastPlan) -> Entry {
        if fast.reserves {
            lean_entry::<N, DIRECT, true>
        } else {
            lean_entry::<N, DIRECT, false>
        }
    }
    Some(match params {
        // Decided when the function is declared: the probe runs when the module loads.
        0 if DIRECT_DATA.load(Ordering::Relaxed) => pick::<0, true>(fast),
        0 => pick::<0, false>(fast),
        1 => pick::<1, false>(fast),
        2 => pick::<2, false>(fast),
        3 => pick::<3, false>(fast),
        4 => pick::<4, false>(fast),
        5 => pick::<5, false>(fast),
        6 => pick::<6, false>(fast),
        7 => pick::<7, false>(fast),
        8 => pick::<8, false>(fast),
        _ => return None,
    })
}

/// The Node-API entry of a lean-path function of exactly `N` parameters: the whole call in one
/// function, without the general entry's layers. Whatever the lean path does not handle
/// (missing arguments, an unloaded library, call memory not mapped yet) goes to the general
/// entry before anything has happened, so that it reports the error in the one usual way.
/// `DIRECT` (only with no parameters): read the function's data with [`direct_data`];
/// `RESERVES`: the function's `FastPlan::reserves`, as a constant.
unsafe extern "C" fn lean_entry<const N: usize, const DIRECT: bool, const RESERVES: bool>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // Not zeroed: Node-API fills all N slots (with `undefined` past the arguments passed).
    let mut slots = std::mem::MaybeUninit::<[Value; N]>::uninit();
    let data = if N == 0 && DIRECT {
        // SAFETY: checked by `probe_direct_data` for this process's Node-API.
        unsafe { direct_data(info) }
    } else {
        let mut argc = N;
        let mut data = std::ptr::null_mut();
        let argv = slots.as_mut_ptr() as *mut Value;
        // SAFETY: called by Node with a valid env and callback info; `slots` holds N values.
        let status = unsafe { sys::napi_get_cb_info(env, info, &mut argc, argv, std::ptr::null_mut(), &mut data) };
        if status != sys::Status::napi_ok || argc < N {
            // SAFETY: forwarded.
            return unsafe { general_entry(env, info) };
        }
        data
    };
    // SAFETY: written by napi_get_cb_info above (nothing to write when N is 0). Borrowed in
    // place: a copy would reload what Node just stored, in wider loads that stall.
    let argv: &[Value; N] = unsafe { slots.assume_init_ref() };
    // SAFETY: the function's data is its Callable, kept alive by the function's wrap.
    let c: &Callable = unsafe { &*(data as *const Callable) };
    // SAFETY: the callable's instance lives as long as its environment, which is calling.
    let inst = unsafe { &*c.inst };
    let (Some(fast), false) = (&c.fast, c.mem.is_null()) else {
        // SAFETY: forwarded.
        return unsafe { general_entry(env, info) };
    };
    let mem = c.mem;
    if c.lib.as_ref().is_some_and(|lib| !lib.is_loaded()) {
        // SAFETY: forwarded.
        return unsafe { general_entry(env, info) };
    }
    let e = Env(env);
    // A function that takes nothing from the call memory (no stack arguments, no temporaries)
    // has nothing to release: nested calls made by callbacks release their own.
    // SAFETY: the instance's call memory; nested calls mark and release in LIFO order.
    let mut mark = if RESERVES { Some(unsafe { (*mem).mark() }) } else { None };
    let result = lean::execute(e, inst, c, fast, argv, mem, RESERVES, &mut mark);
    if let Some(mark) = mark {
        // SAFETY: as above.
        unsafe { (*mem).release(mark) };
    }
    match result {
        Ok(v) => v,
        Err(err) => {
            e.throw(err);
            std::ptr::null_mut()
        }
    }
}
