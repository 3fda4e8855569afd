//! `koffi.load` and the library object: `func` in its three syntaxes, the deprecated
//! convention forms, `symbol` and `unload` (spec §2, §3).

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::Mutex;

use napi::sys;

use super::func::Callable;
use super::handles::pointer_value;
use super::instance::Instance;
use super::napi::{drop_boxed, error, type_error, Env, JsResult, JsType, Value};
use super::types::{resolve_param_spec, resolve_spec};
use super::{entry, Args};
use crate::types::{parse_prototype, Convention, FuncSig, Param};

/// A loaded shared library (or the process image), shared by the library object and every
/// function declared from it.
///
/// The library is unmapped only by `lib.unload()` (spec LIB-10), and only once no call into it
/// is in flight; garbage collection and environment teardown never unmap it. C code
/// may have left pointers into it where nothing of ours can see them: libuv handles on Node's
/// loop, `atexit` handlers, threads. Unmapping under them crashes the process later, far from
/// the cause, so a library nobody unloads stays mapped until the process ends.
pub struct LibHandle {
    lib: Mutex<Option<libloading::os::unix::Library>>,
    /// False once `unload()` was called: no new call may start.
    loaded: AtomicBool,
    is_self: bool,
    /// Asynchronous calls into the library not yet completed: the last one to complete after
    /// `unload()` closes it.
    in_flight: AtomicUsize,
}

impl LibHandle {
    /// Whether the library may still be called (`unload()` not called).
    #[inline]
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Relaxed)
    }

    fn new(lib: libloading::os::unix::Library, is_self: bool) -> LibHandle {
        LibHandle { lib: Mutex::new(Some(lib)), loaded: AtomicBool::new(true), is_self, in_flight: AtomicUsize::new(0) }
    }

    /// Closes the library if `unload()` was called and no asynchronous call into it is in
    /// flight. Synchronous calls are the caller's concern (see `unload`).
    pub fn close_if_idle(&self) {
        if !self.is_loaded() && self.in_flight.load(Ordering::Acquire) == 0 {
            self.close();
        }
    }

    /// `dlclose` (twice is harmless).
    fn close(&self) {
        let lib = self.lib.lock().ok().and_then(|mut lib| lib.take());
        drop(lib);
    }

    fn symbol(&self, name: &str) -> Option<*const c_void> {
        if !self.is_loaded() {
            return None;
        }
        let lib = self.lib.lock().ok()?;
        let lib = lib.as_ref()?;
        let mut cname = name.as_bytes().to_vec();
        cname.push(0);
        // SAFETY: we only read the symbol's address; nothing is called here.
        let sym = unsafe { lib.get::<*const c_void>(&cname) }.ok()?;
        Some(sym.into_raw() as *const c_void)
    }
}

/// An asynchronous call into a library, from before its arguments are converted until it is
/// completed or abandoned: while one exists, `unload()` leaves the library mapped, and the last
/// one to go after `unload()` closes it.
pub struct InFlight(Option<Arc<LibHandle>>);

impl InFlight {
    /// Counts a call into `lib` (JS thread, after checking that it is loaded).
    pub fn new(lib: Option<&Arc<LibHandle>>) -> InFlight {
        if let Some(lib) = lib {
            lib.in_flight.fetch_add(1, Ordering::AcqRel);
        }
        InFlight(lib.cloned())
    }
}

impl Drop for InFlight {
    /// The call is over (any thread).
    fn drop(&mut self) {
        if let Some(lib) = &self.0 {
            if lib.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 && !lib.is_loaded() {
                lib.close();
            }
        }
    }
}

impl Drop for LibHandle {
    /// The last reference went (garbage collection, teardown) without `unload()`: the library
    /// stays mapped (see [`LibHandle`]).
    fn drop(&mut self) {
        if let Some(lib) = self.lib.get_mut().ok().and_then(|lib| lib.take()) {
            std::mem::forget(lib);
        }
    }
}

/// `koffi.load(path | null, options?)` (spec LIB-01..LIB-07).
pub fn load(env: Env, args: &Args) -> JsResult<Value> {
    if args.len() < 1 {
        return Err(type_error("Expected 1 or 2 arguments, got 0"));
    }
    let path_value = args.at(0);
    let path = match env.type_of(path_value)? {
        JsType::String => Some(env.get_string(path_value)?),
        JsType::Null | JsType::Undefined => None,
        _ => {
            return Err(type_error(format!(
                "Unexpected {} value for filename, expected string or null",
                env.type_name(path_value)
            )))
        }
    };
    let mut flags = libc::RTLD_NOW | libc::RTLD_LOCAL;
    if args.len() >= 2 && !matches!(env.type_of(args.at(1))?, JsType::Undefined) {
        let opts = args.at(1);
        if env.type_of(opts)? != JsType::Object || env.is_array(opts)? {
            return Err(type_error(format!("Unexpected {} value for options, expected object", env.type_name(opts))));
        }
        let truthy = |name: &str| -> JsResult<bool> {
            let v = env.get(opts, name)?;
            let mut b = std::ptr::null_mut();
            super::napi::call!(env, napi_coerce_to_bool(env.0, v, &mut b));
            env.get_bool(b)
        };
        if truthy("lazy")? {
            flags = (flags & !libc::RTLD_NOW) | libc::RTLD_LAZY;
        }
        if truthy("global")? {
            flags = (flags & !libc::RTLD_LOCAL) | libc::RTLD_GLOBAL;
        }
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if truthy("deep")? {
            flags |= libc::RTLD_DEEPBIND;
        }
    }
    let inst = Instance::of(env)?;
    let handle = match &path {
        Some(p) => {
            // SAFETY: loading a library runs its initialisers; that is what the user asked for.
            let lib = unsafe { libloading::os::unix::Library::open(Some(p), flags) }.map_err(|e| {
                let msg = e.to_string();
                let msg = msg.strip_prefix(&format!("{p}: ")).unwrap_or(&msg).to_string();
                error(format!("Failed to load shared library: {msg}"))
            })?;
            LibHandle::new(lib, false)
        }
        None => LibHandle::new(libloading::os::unix::Library::this(), true),
    };
    // The first successful load maps the synchronous call memory (LIB-07, CFG-03).
    inst.ensure_memory()?;
    let handle = Arc::new(handle);
    let obj = env.object()?;
    let methods: [(&str, sys::napi_callback); 7] = [
        ("func", Some(lib_func)),
        ("symbol", Some(lib_symbol)),
        ("unload", Some(lib_unload)),
        ("cdecl", Some(lib_cdecl)),
        ("stdcall", Some(lib_stdcall)),
        ("fastcall", Some(lib_fastcall)),
        ("thiscall", Some(lib_thiscall)),
    ];
    for (name, cb) in methods {
        let f = env.function_owning(name, cb, handle.clone())?;
        env.set(obj, name, f)?;
    }
    Ok(obj)
}

fn handle_of(args: &Args) -> &Arc<LibHandle> {
    // SAFETY: every library method is created with a Box<Arc<LibHandle>> as its data, freed
    // only when the method itself is collected.
    unsafe { &*(args.data as *const Arc<LibHandle>) }
}

macro_rules! lib_method {
    ($name:ident, $conv:expr) => {
        unsafe extern "C" fn $name(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
            // SAFETY: called by Node with a valid env and callback info.
            unsafe { entry(env, info, |env, args| declare(env, handle_of(args), args, $conv)) }
        }
    };
}

lib_method!(lib_func, None);
lib_method!(lib_cdecl, Some(Convention::Cdecl));
lib_method!(lib_stdcall, Some(Convention::Stdcall));
lib_method!(lib_fastcall, Some(Convention::Fastcall));
lib_method!(lib_thiscall, Some(Convention::Thiscall));

unsafe extern "C" fn lib_symbol(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by Node with a valid env and callback info.
    unsafe { entry(env, info, |env, args| symbol(env, handle_of(args), args)) }
}

unsafe extern "C" fn lib_unload(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by Node with a valid env and callback info.
    unsafe {
        entry(env, info, |env, args| {
            let handle = handle_of(args);
            // Spec LIB-10: twice is harmless, and it is a no-op for the process image.
            if handle.is_self {
                return env.undefined();
            }
            handle.loaded.store(false, Ordering::Relaxed);
            let inst = Instance::of(env)?;
            if inst.current_frame.get().is_null() {
                handle.close_if_idle();
            } else {
                // Called from a callback: the C code that called it, perhaps this library's,
                // is still running. Closed when the outermost call returns.
                inst.deferred_unloads.borrow_mut().push(handle.clone());
            }
            env.undefined()
        })
    }
}

fn convention_of(env: Env, v: Value) -> JsResult<Option<Convention>> {
    if env.type_of(v)? != JsType::String {
        return Ok(None);
    }
    Ok(Convention::from_keyword(&env.get_string(v)?))
}

/// `lib.func(...)` in its three syntaxes (spec FN-01..FN-05).
fn declare(env: Env, lib: &Arc<LibHandle>, args: &Args, forced: Option<Convention>) -> JsResult<Value> {
    let inst = Instance::of(env)?;
    // The deprecated forms prepend their convention: `lib.stdcall(...)` ≡ `lib.func('__stdcall', ...)`.
    let mut list: Vec<Value> = args.argv.to_vec();
    let mut convention = forced;
    let n = list.len() + forced.is_some() as usize;
    if forced.is_none() && !list.is_empty() {
        if let Some(c) = convention_of(env, list[0])? {
            convention = Some(c);
            list.remove(0);
        }
    }
    if convention.is_some() && n != 4 {
        return Err(type_error(format!("Expected 3 or 4 arguments, got {n}")));
    }
    let mut sig = match list.len() {
        0 => return Err(type_error("Expected 1 to 4 arguments, got 0")),
        1 if env.type_of(list[0])? == JsType::String => {
            let text = env.get_string(list[0])?;
            let decl = parse_prototype(&mut inst.reg.borrow_mut(), &text, true)?;
            FuncSig {
                name: decl.name,
                ret: decl.ret,
                params: decl.params,
                variadic: decl.variadic,
                convention: decl.convention,
            }
        }
        1 => {
            return Err(type_error(format!(
                "Unexpected {} value for prototype, expected string",
                env.type_name(list[0])
            )))
        }
        3 => classic_signature(env, inst, list[0], list[1], list[2])?,
        n => return Err(type_error(format!("Expected 1 to 4 arguments, got {n}"))),
    };
    if let Some(c) = convention {
        sig.convention = c;
    }
    // Spec FN-09: variadic functions always use cdecl.
    if sig.variadic && sig.convention != Convention::Cdecl {
        eprintln!("Call convention '{}' does not support variadic functions, ignoring", sig.convention.name());
        sig.convention = Convention::Cdecl;
    }
    let ptr =
        lib.symbol(&sig.name).ok_or_else(|| error(format!("Cannot find function '{}' in shared library", sig.name)))?;
    let callable = Callable::new(inst, sig, ptr, Some(lib.clone()))?;
    function_object(env, inst, callable)
}

/// The classic form `(name, result, params)` (spec FN-02, FN-04, FN-05).
fn classic_signature(env: Env, inst: &Instance, name: Value, ret: Value, params: Value) -> JsResult<FuncSig> {
    if env.type_of(name)? != JsType::String {
        return Err(type_error(format!(
            "Unexpected {} value for name, expected string or integer",
            env.type_name(name)
        )));
    }
    let name = env.get_string(name)?;
    let (ret, _) = resolve_spec(env, inst, ret)?;
    inst.reg.borrow().check_return(ret)?;
    if !env.is_array(params)? {
        return Err(type_error(format!(
            "Unexpected {} value for parameters of '{name}', expected an array",
            env.type_name(params)
        )));
    }
    let n = env.array_length(params)?;
    let mut list = Vec::with_capacity(n as usize);
    let mut variadic = false;
    for i in 0..n {
        let item = env.get_element(params, i)?;
        if env.type_of(item)? == JsType::String && env.get_string(item)? == "..." {
            if i + 1 != n {
                return Err(error("Unexpected '...' before the last parameter"));
            }
            variadic = true;
            break;
        }
        let (ty, dir) = resolve_param_spec(env, inst, item)?;
        inst.reg.borrow().check_param(ty, dir)?;
        list.push(Param { ty, dir });
    }
    if list.len() > super::func::MAX_PARAMS {
        return Err(type_error("Functions cannot have more than 64 parameters"));
    }
    Ok(FuncSig { name, ret, params: list, variadic, convention: Convention::Cdecl })
}

/// `lib.symbol(name, type)` (spec LIB-11): a pointer value tagged with `type` (§18-Q5).
fn symbol(env: Env, lib: &Arc<LibHandle>, args: &Args) -> JsResult<Value> {
    if args.len() != 2 {
        return Err(type_error(format!("Expected 2, got {}", args.len())));
    }
    if env.type_of(args.at(0))? != JsType::String {
        return Err(type_error(format!("Unexpected {} value for name, expected string", env.type_name(args.at(0)))));
    }
    let inst = Instance::of(env)?;
    let name = env.get_string(args.at(0))?;
    let (ty, _) = resolve_spec(env, inst, args.at(1))?;
    let addr = lib.symbol(&name).ok_or_else(|| error(format!("Cannot find symbol '{name}' in shared library")))?;
    pointer_value(env, addr as usize as u64, ty)
}

/// Wraps a callable in a JS function (spec FN-15): named after the C function, with `info`, and
/// `async` unless variadic (FN-16).
pub fn function_object(env: Env, inst: &Instance, callable: Callable) -> JsResult<Value> {
    let name = if callable.name.is_empty() { "<anonymous>".to_string() } else { callable.name.clone() };
    let variadic = callable.plan.is_none();
    let callable = Arc::new(callable);
    let lean = callable.fast.as_ref().and_then(|fast| super::fastpath::entry(callable.params.len(), fast));
    // The call entries get the Callable itself as data (one pointer less to follow per call);
    // it stays alive through the wrap below, which has the same lifetime as the function.
    let call_data = Arc::as_ptr(&callable) as *mut c_void;
    let f = env.function(&name, Some(lean.unwrap_or(call_entry(callable.params.len(), variadic))), call_data)?;
    // The function wraps its callable (freed with it), so that the shared `info`/`async`
    // getters can find it from `this`.
    let data = Box::into_raw(Box::new(callable.clone())) as *mut c_void;
    super::napi::call!(
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
    super::napi::call!(env, napi_unwrap(env.0, f, &mut data));
    if data.is_null() {
        return Err(type_error("Not a function declared by koffi"));
    }
    // SAFETY: only function_object wraps, with a Box<Arc<Callable>> that lives as long as `f`.
    Ok(unsafe { &*(data as *const Arc<Callable>) })
}

/// `_infoOf(fn)`: the `info` object of a declared function (spec FN-15).
pub fn info_of(env: Env, args: &Args) -> JsResult<Value> {
    unwrap_callable(env, args.at(0))?.info_object(env)
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
            callable.call(e, inst, &argv[..argc])
        } else if callable.plan.is_some() && callable.params.len() <= N {
            // Extra arguments to a fixed function are ignored (spec CALL-02).
            callable.call(e, inst, &argv)
        } else {
            let mut more = vec![std::ptr::null_mut(); argc];
            super::napi::call!(
                e,
                napi_get_cb_info(env, info, &mut argc, more.as_mut_ptr(), std::ptr::null_mut(), std::ptr::null_mut())
            );
            callable.call(e, inst, &more)
        }
    }));
    super::settle(e, result)
}

/// The general entry of any declared function (the lean entry's fallback): it picks the entry
/// its callable would have had without the lean path.
///
/// # Safety
/// Must be called by Node with the env and callback info of a declared function's call.
pub(super) unsafe fn general_entry(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
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
            super::asynccall::call_async(env, inst, callable_of(args), &args.argv)
        })
    }
}
