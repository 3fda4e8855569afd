//! How every exported function runs: its arguments fetched ([`Args`]), the Rust implementation
//! called, and its error (or a panic, which would be a bug) thrown as a JS exception instead of
//! crashing the process.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::sys;
use smallvec::SmallVec;

use super::error::{error, JsError, JsResult};
use super::napi::{Env, Value};

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
        super::napi::call!(
            env,
            napi_get_cb_info(env.0, info, &mut argc, argv.as_mut_ptr(), std::ptr::null_mut(), &mut data)
        );
        if argc > 16 {
            argv.resize(argc, std::ptr::null_mut());
            super::napi::call!(
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
pub fn internal_error() -> JsError {
    error("Internal koffi-rs error (a bug): the operation was aborted")
}
