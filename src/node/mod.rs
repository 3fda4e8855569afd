//! The N-API binding: the only code that touches Node-API.
//!
//! `napi_register_module_v1` builds the exports object of each environment (spec MOD-01) and
//! installs that environment's [`Instance`](instance::Instance). Every exported function goes
//! through [`entry`], which fetches the arguments, runs the Rust implementation, and turns its
//! error into a thrown JS exception (never a crash: panics are caught too).

mod alloc_count;
mod asynccall;
mod callback;
mod convert;
mod fastpath;
mod func;
mod handles;
mod instance;
mod library;
mod lifeline;
mod limits;
mod memory;
mod napi;
mod poll;
mod settings;
mod strings;
mod tagged;
mod tsfn;
mod types;

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ::napi::sys;
use smallvec::SmallVec;

use self::instance::Instance;
use self::napi::{error, Env, JsResult, Value};
use crate::types::Direction;

/// The arguments of one JS call into us.
pub struct Args {
    /// The arguments passed.
    pub argv: SmallVec<[Value; 16]>,
    /// The function's data pointer.
    pub data: *mut c_void,
    undefined: Value,
}

impl Args {
    fn get(env: Env, info: sys::napi_callback_info) -> JsResult<Args> {
        let mut argc = 16usize;
        let mut argv: SmallVec<[Value; 16]> = SmallVec::from_elem(std::ptr::null_mut(), 16);
        let mut data = std::ptr::null_mut();
        napi::call!(env, napi_get_cb_info(env.0, info, &mut argc, argv.as_mut_ptr(), std::ptr::null_mut(), &mut data));
        if argc > 16 {
            argv.resize(argc, std::ptr::null_mut());
            napi::call!(
                env,
                napi_get_cb_info(env.0, info, &mut argc, argv.as_mut_ptr(), std::ptr::null_mut(), std::ptr::null_mut())
            );
        }
        argv.truncate(argc);
        Ok(Args { argv, data, undefined: env.undefined()? })
    }

    /// Number of arguments passed.
    pub fn len(&self) -> usize {
        self.argv.len()
    }

    /// Argument `i`, or `undefined` when absent.
    pub fn at(&self, i: usize) -> Value {
        self.argv.get(i).copied().unwrap_or(self.undefined)
    }
}

/// Runs an exported function: arguments in, result or thrown exception out.
///
/// # Safety
/// Must be called by Node with the env and callback info of the current call.
pub unsafe fn entry(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    f: impl FnOnce(Env, &Args) -> JsResult<Value>,
) -> sys::napi_value {
    let env = Env(env);
    settle(env, catch_unwind(AssertUnwindSafe(|| Args::get(env, info).and_then(|args| f(env, &args)))))
}

/// The value a Node-API callback returns for `result`: the value, or NULL after throwing the
/// error (a panic, which would be a bug, becomes an Error rather than an abort).
pub fn settle(env: Env, result: std::thread::Result<JsResult<Value>>) -> sys::napi_value {
    match result {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            env.throw(e);
            std::ptr::null_mut()
        }
        Err(_) => {
            env.throw(internal_error());
            std::ptr::null_mut()
        }
    }
}

/// The error a caught panic (a bug) becomes.
#[cold]
pub fn internal_error() -> napi::JsError {
    error("Internal koffi-rs error (a bug): the operation was aborted")
}

macro_rules! exports {
    ($($js:literal => $f:expr),* $(,)?) => {
        [$(
            ($js, {
                unsafe extern "C" fn cb(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
                    // SAFETY: called by Node with the current call's env and info.
                    unsafe { entry(env, info, $f) }
                }
                cb as unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value
            }),
        )*]
    };
}

/// The Node-API version this addon is written against, asked by Node before it registers the
/// addon. Declaring the experimental version (as upstream Koffi 3 does) is what lets Node
/// 20/22 reference strings, so that struct member keys are made once rather than on every
/// conversion (convert::keys). It also makes Node call finalizers during GC, where they may
/// not call into JS: ours only free Rust data.
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    i32::MAX
}

/// Node's entry point: called once per environment that loads the addon.
///
/// # Safety
/// Called by Node with a valid env and exports object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: sys::napi_env, exports: sys::napi_value) -> sys::napi_value {
    let e = Env(env);
    settle(e, catch_unwind(AssertUnwindSafe(|| init(e, exports))))
}

fn init(env: Env, exports: Value) -> JsResult<Value> {
    let inst = Instance::install(env.0)?;
    let functions = exports! {
        "load" => library::load,
        "struct" => |env, args| types::record(env, args, false, false),
        "pack" => |env, args| types::record(env, args, true, false),
        "union" => |env, args| types::record(env, args, false, true),
        "_recordFlat" => types::record_flat,
        "opaque" => types::opaque,
        "pointer" => types::pointer,
        "array" => types::array,
        "alias" => types::alias,
        "proto" => types::proto,
        "disposable" => types::disposable,
        "in" => |env, args| types::direction(env, args, Direction::In),
        "out" => |env, args| types::direction(env, args, Direction::Out),
        "inout" => |env, args| types::direction(env, args, Direction::InOut),
        "as" => types::cast,
        "sizeof" => types::size_of,
        "alignof" => types::align_of,
        "offsetof" => types::offset_of,
        "resolve" => types::resolve_api,
        "introspect" => types::introspect,
        "config" => settings::config,
        "stats" => settings::stats,
        "errno" => settings::errno,
        "reset" => settings::reset,
        "alloc" => memory::alloc,
        "free" => memory::free,
        "decode" => memory::decode,
        "encode" => memory::encode,
        "address" => memory::address,
        "view" => memory::view,
        "call" => memory::call,
        "register" => callback::register,
        "unregister" => callback::unregister,
        "_setup" => settings::setup,
        "_infoOf" => library::info_of,
        "_asyncOf" => library::async_of,
        "_pollOpen" => poll::open,
        "_pollStart" => poll::start,
        "_pollStop" => poll::stop,
        "_pollClose" => poll::close,
        "_pollRef" => poll::set_ref,
    };
    for (name, cb) in functions {
        let f = env.function(name, Some(cb), std::ptr::null_mut())?;
        env.set(exports, name, f)?;
    }
    env.set(exports, "types", types::types_object(env, inst)?)?;
    let os = env.object()?;
    env.set(os, "errno", settings::errno_constants(env)?)?;
    env.set(exports, "os", os)?;
    let node = env.object()?;
    env.set(node, "env", handles::pointer_value(env, env.0 as usize as u64, crate::types::VOID)?)?;
    env.set(exports, "node", node)?;
    env.set(exports, "version", env.string("2.16.3")?)?;
    let implementation = env.object()?;
    env.set(implementation, "name", env.string("koffi-rs")?)?;
    env.set(implementation, "version", env.string(env!("CARGO_PKG_VERSION"))?)?;
    let probes = exports! {
        "heapAllocations" => |env, _args| env.double(alloc_count::allocations() as f64),
        "heapBytes" => |env, _args| env.double(alloc_count::live_bytes() as f64),
        // Callback handlers replaced in their slot and not yet freed (src/callback/pool.rs).
        "retiredCallbacks" => |env, _args| env.double(crate::callback::retired() as f64),
        // Whether the lean path reads V8's tagged values itself (src/node/tagged.rs).
        "taggedValues" => |env, _args| env.boolean(Instance::of(env)?.tagged.get().is_some()),
    };
    for (name, cb) in probes {
        env.set(implementation, name, env.function(name, Some(cb), std::ptr::null_mut())?)?;
    }
    env.set(exports, "implementation", implementation)?;
    let extension = if cfg!(windows) {
        ".dll"
    } else if cfg!(target_os = "macos") {
        ".dylib"
    } else {
        ".so"
    };
    env.set(exports, "extension", env.string(extension)?)?;
    Ok(exports)
}
