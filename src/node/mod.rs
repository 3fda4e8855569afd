//! The Node-API binding: the only code that touches Node-API.
//!
//! It is built in five layers, each a folder that uses only itself and the folders listed
//! before it (`scripts/layers.py --check` keeps it so):
//!
//! 1. [`js`] — JS values: the Node-API wrapper, errors, and reading a value as a number,
//!    boolean or string (in place where a probe allowed it).
//! 2. [`instance`] — what one environment owns, and the lifetimes of what C can still reach:
//!    its lifeline, callbacks, libraries, loop handles.
//! 3. [`convert`] — C ↔ JS conversions of every kind of type.
//! 4. [`calls`] — declared functions and their calls (lean, general, async), and the relay of
//!    callbacks into JS.
//! 5. [`api`] — the exported functions, grouped as the API is (libraries, types, memory,
//!    callbacks, settings, poll).
//!
//! This file registers the module: `napi_register_module_v1` builds the exports object of each
//! environment (spec MOD-01) and installs that environment's [`Instance`].

mod api;
mod calls;
mod convert;
mod instance;
mod js;

use std::panic::{catch_unwind, AssertUnwindSafe};

use ::napi::sys;

use self::api::{alloc_count, callbacks, library, memory, poll, settings, types};
use self::instance::Instance;
use self::js::{entry, settle, Env, JsResult, Value};
use crate::types::Direction;

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
/// conversion (`js::keys`). It also makes Node call finalizers during GC, where they may
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
        "register" => callbacks::register,
        "unregister" => callbacks::unregister,
        "_setup" => settings::setup,
        "_infoOf" => calls::entry::info_of,
        "_asyncOf" => calls::entry::async_of,
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
    env.set(node, "env", convert::handles::pointer_value(env, env.0 as usize as u64, crate::types::VOID)?)?;
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
        // Whether the lean path reads V8's tagged values itself (src/node/js/tagged.rs).
        "taggedValues" => |env, _args| env.boolean(Instance::of(env)?.tagged.get().is_some()),
        // Whether a declared function takes the lean path (src/node/calls/plan.rs).
        "leanCall" => crate::node::calls::entry::lean_call,
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
