//! `koffi.load` and the library object: `func` in its three syntaxes, the deprecated
//! convention forms, `symbol` and `unload` (spec §2, §3).

use std::sync::Arc;

use napi::sys;

use crate::node::calls::callable::{Callable, MAX_PARAMS};
use crate::node::calls::entry::function_object;
use crate::node::convert::handles::pointer_value;
use crate::node::convert::spec::{resolve_param_spec, resolve_spec};
use crate::node::instance::libraries::LibHandle;
use crate::node::instance::Instance;
use crate::node::js::{call, entry, error, type_error, Args, Env, JsResult, JsType, Value};
use crate::types::{parse_prototype, Convention, FuncSig, Param};

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
            call!(env, napi_coerce_to_bool(env.0, v, &mut b));
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
            if !handle.mark_unloaded() {
                return env.undefined();
            }
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
    if list.len() > MAX_PARAMS {
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
