//! The data pointer of the function being called, read straight from Node's callback info,
//! past Node-API, where a probe proved the layout (see [`probe_direct_data`]).

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

use napi::sys;

use super::error::JsResult;
use super::napi::Env;

/// Whether a function's data pointer may be read straight from its `napi_callback_info`
/// (set by [`probe_direct_data`] when this process's Node-API lays it out as expected).
pub static DIRECT_DATA: AtomicBool = AtomicBool::new(false);

/// The data pointer of the function being called, read from Node's callback info without a
/// `napi_get_cb_info` call: in Node.js the info is a wrapper whose second word is the
/// function's callback bundle `{ napi_env env; void *cb_data; ... }`. A function without
/// parameters needs nothing else from the info, and this saves a third of its call overhead.
///
/// # Safety
/// Only after [`probe_direct_data`] found that layout.
#[inline(always)]
pub unsafe fn direct_data(info: sys::napi_callback_info) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    unsafe {
        let bundle = *(info as *const *const *mut c_void).add(1);
        *bundle.add(1)
    }
}

/// Checks, once per process, whether [`direct_data`] reads what `napi_get_cb_info` reports: it
/// calls a probe function whose data and environment are known, and compares. Only called on
/// Node.js itself (other runtimes implementing Node-API lay out their info differently).
pub fn probe_direct_data(env: Env) -> JsResult<()> {
    static PROBED: std::sync::Once = std::sync::Once::new();
    let mut outcome = Ok(());
    PROBED.call_once(|| outcome = run_probe(env));
    outcome
}

/// A marker whose address is the probe function's data.
static PROBE_MARKER: u8 = 0;

fn run_probe(env: Env) -> JsResult<()> {
    unsafe extern "C" fn probe(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
        // SAFETY: called by Node with a valid env and callback info.
        let data = unsafe { super::napi::callback_data(env, info) };
        let expected = &PROBE_MARKER as *const u8 as *mut c_void;
        if data == expected && !info.is_null() {
            // SAFETY: Node.js's callback info holds at least two words; the second one is
            // checked to be a bundle starting with this env before its data word is trusted.
            let matches = unsafe {
                let bundle = *(info as *const *const *mut c_void).add(1);
                !bundle.is_null() && *bundle == env as *mut c_void && *bundle.add(1) == expected
            };
            DIRECT_DATA.store(matches, Ordering::Relaxed);
        }
        std::ptr::null_mut()
    }
    let f = env.function("probe", Some(probe), &PROBE_MARKER as *const u8 as *mut c_void)?;
    env.call_function(env.undefined()?, f, &[])?;
    Ok(())
}
