//! Property keys of record members, made once per member name.
//!
//! Reading a struct argument or building a struct result by member *name* makes V8 decode and
//! internalize the name on every access, which costs more than the rest of the conversion.
//! Instead each name's key is made once, as an internalized string
//! (`node_api_create_property_key_utf8` when this Node has it), and kept by a Node-API
//! reference in slot [`Member::key`] of the environment's [`MemberKeys`]. Node references strings only for
//! addons declaring a recent Node-API version (see `node_api_module_get_api_version_v1`); where
//! it refuses, [`key`] returns `None` and callers use the name.

use std::cell::RefCell;
use std::ffi::{c_char, c_void};
use std::sync::OnceLock;

use napi::sys;

use super::error::JsResult;
use super::napi::{Env, Value};
use crate::types::Member;

/// The instance's keys, by member name number.
#[derive(Default)]
pub struct MemberKeys {
    refs: RefCell<Vec<sys::napi_ref>>,
    /// Set when Node refused a string reference: names are used from then on.
    unsupported: std::cell::Cell<bool>,
}

impl MemberKeys {
    /// The property key of member `m`: the kept one, or a new string when this Node cannot keep
    /// keys.
    #[inline]
    pub fn key(&self, env: Env, m: &Member) -> JsResult<Value> {
        match self.kept_key(env, m)? {
            Some(key) => Ok(key),
            None => property_key(env, &m.name),
        }
    }

    /// The kept property key of member `m`, or `None` when this Node cannot keep keys.
    #[inline]
    fn kept_key(&self, env: Env, m: &Member) -> JsResult<Option<Value>> {
        let r = self.refs.borrow().get(m.key as usize).copied().unwrap_or(std::ptr::null_mut());
        if !r.is_null() {
            let mut v = std::ptr::null_mut();
            // SAFETY: JS thread; a strong reference we created.
            let status = unsafe { sys::napi_get_reference_value(env.0, r, &mut v) };
            if status == sys::Status::napi_ok && !v.is_null() {
                return Ok(Some(v));
            }
        }
        self.make_key(env, m)
    }

    /// Makes and keeps the key of `m`'s name.
    #[cold]
    fn make_key(&self, env: Env, m: &Member) -> JsResult<Option<Value>> {
        let cache = self;
        if cache.unsupported.get() {
            return Ok(None);
        }
        let key = property_key(env, &m.name)?;
        let mut r = std::ptr::null_mut();
        // SAFETY: JS thread, a live value.
        if unsafe { sys::napi_create_reference(env.0, key, 1, &mut r) } != sys::Status::napi_ok {
            cache.unsupported.set(true);
            return Ok(None);
        }
        let mut refs = cache.refs.borrow_mut();
        let slot = m.key as usize;
        if refs.len() <= slot {
            refs.resize(slot + 1, std::ptr::null_mut());
        }
        refs[slot] = r;
        Ok(Some(key))
    }
}

type CreateKey = unsafe extern "C" fn(sys::napi_env, *const c_char, isize, *mut sys::napi_value) -> sys::napi_status;

/// An internalized string for `name` when Node has `node_api_create_property_key_utf8`, else
/// a plain string (V8 internalizes it on first use as a key).
fn property_key(env: Env, name: &str) -> JsResult<Value> {
    static CREATE_KEY: OnceLock<Option<CreateKey>> = OnceLock::new();
    let create = CREATE_KEY.get_or_init(|| {
        // SAFETY: dlsym with a NUL-terminated name; the symbol, when Node exports it, has the
        // documented Node-API signature.
        unsafe {
            let f = libc::dlsym(libc::RTLD_DEFAULT, c"node_api_create_property_key_utf8".as_ptr());
            (!f.is_null()).then(|| std::mem::transmute::<*mut c_void, CreateKey>(f))
        }
    });
    match create {
        Some(f) => {
            let mut v = std::ptr::null_mut();
            // SAFETY: JS thread; `name` is valid UTF-8 of the given length.
            let status = unsafe { f(env.0, name.as_ptr() as *const c_char, name.len() as isize, &mut v) };
            if status != sys::Status::napi_ok {
                return Err(env.failure(status));
            }
            Ok(v)
        }
        None => env.string(name),
    }
}
