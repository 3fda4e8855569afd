//! Thin, checked wrappers over the raw Node-API functions (`napi::sys`).
//!
//! Every wrapper turns a failed status into a [`JsError`]; the export glue (`export`) turns that
//! into a thrown JS exception. Values are raw `napi_value` handles, valid for the current
//! callback's handle scope.

use std::ffi::{c_char, c_void, CStr};
use std::ptr;

use napi::sys::{self, napi_env, napi_value, ValueType};

use super::error::{error, range_error, JsError, JsResult};
use super::typed::{typed_elem_size, typed_kind};
use crate::types::ErrorClass;

/// A JS value handle.
pub type Value = napi_value;

/// Builds (without throwing) the JS error object for `err`; NULL for `Pending` or on failure.
pub fn error_value(env: Env, err: JsError) -> Value {
    let Some(thrown) = err.0 else { return ptr::null_mut() };
    let Ok(text) = env.string(&thrown.message) else { return ptr::null_mut() };
    let mut out = ptr::null_mut();
    // SAFETY: JS thread, valid env and message string.
    unsafe {
        match thrown.class {
            ErrorClass::Type => sys::napi_create_type_error(env.0, ptr::null_mut(), text, &mut out),
            ErrorClass::Error => sys::napi_create_error(env.0, ptr::null_mut(), text, &mut out),
            ErrorClass::Range => sys::napi_create_range_error(env.0, ptr::null_mut(), text, &mut out),
        };
    }
    out
}

/// The JS type of a value, as `napi_typeof` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs, reason = "the variants are JS types")]
pub enum JsType {
    Undefined,
    Null,
    Boolean,
    Number,
    String,
    Symbol,
    Object,
    Function,
    External,
    BigInt,
}

/// A Node-API environment handle (the JS thread's).
#[derive(Clone, Copy, Debug)]
pub struct Env(pub napi_env);

macro_rules! call {
    ($env:expr, $f:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: every Node-API function is safe to call on the JS thread with a valid env
        // and handles from the current scope, which is how `Env` is used.
        let status = unsafe { ::napi::sys::$f($($arg),*) };
        if status != ::napi::sys::Status::napi_ok {
            return Err($env.failure(status));
        }
    }};
}
pub(crate) use call;

/// Node-API finalizer freeing a `Box<T>` given to Node as instance, function or wrap data.
///
/// # Safety
/// `data` must come from `Box::<T>::into_raw`, and Node finalises it once.
pub unsafe extern "C" fn drop_boxed<T>(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { Box::from_raw(data as *mut T) });
}

/// The data pointer of the function Node is calling, from its callback info (NULL if Node-API
/// refuses).
///
/// # Safety
/// `env` and `info` are those Node passed to the running Node-API callback.
pub unsafe fn callback_data(env: sys::napi_env, info: sys::napi_callback_info) -> *mut c_void {
    let mut data = ptr::null_mut();
    // SAFETY: forwarded from the caller; Node-API accepts NULL for unwanted outputs.
    let status =
        unsafe { sys::napi_get_cb_info(env, info, ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), &mut data) };
    if status == sys::Status::napi_ok {
        data
    } else {
        ptr::null_mut()
    }
}

impl Env {
    /// Maps a failed status to an error: a pending exception propagates as is.
    #[cold]
    pub fn failure(self, status: sys::napi_status) -> JsError {
        if status == sys::Status::napi_pending_exception || self.exception_pending() {
            return JsError::PENDING;
        }
        let mut info = ptr::null();
        // SAFETY: valid env; the returned pointer is read before any other Node-API call.
        let msg = unsafe {
            if sys::napi_get_last_error_info(self.0, &mut info) == sys::Status::napi_ok
                && !info.is_null()
                && !(*info).error_message.is_null()
            {
                CStr::from_ptr((*info).error_message).to_string_lossy().into_owned()
            } else {
                format!("Node-API call failed with status {status}")
            }
        };
        error(msg)
    }

    /// Whether a JS exception is pending.
    pub fn exception_pending(self) -> bool {
        let mut pending = false;
        // SAFETY: valid env.
        unsafe { sys::napi_is_exception_pending(self.0, &mut pending) };
        pending
    }

    /// Throws `err` into JS (nothing to do for `Pending`).
    pub fn throw(self, err: JsError) {
        let Some(thrown) = err.0 else { return };
        let msg = std::ffi::CString::new(thrown.message.replace('\0', " ")).unwrap_or_default();
        // SAFETY: valid env and NUL-terminated message.
        unsafe {
            match thrown.class {
                ErrorClass::Type => sys::napi_throw_type_error(self.0, ptr::null(), msg.as_ptr()),
                ErrorClass::Error => sys::napi_throw_error(self.0, ptr::null(), msg.as_ptr()),
                ErrorClass::Range => sys::napi_throw_range_error(self.0, ptr::null(), msg.as_ptr()),
            };
        }
    }

    /// `typeof`, with `null` and BigInt told apart.
    #[inline]
    pub fn type_of(self, v: Value) -> JsResult<JsType> {
        let mut t = 0;
        call!(self, napi_typeof(self.0, v, &mut t));
        Ok(match t {
            ValueType::napi_undefined => JsType::Undefined,
            ValueType::napi_null => JsType::Null,
            ValueType::napi_boolean => JsType::Boolean,
            ValueType::napi_number => JsType::Number,
            ValueType::napi_string => JsType::String,
            ValueType::napi_symbol => JsType::Symbol,
            ValueType::napi_function => JsType::Function,
            ValueType::napi_external => JsType::External,
            ValueType::napi_bigint => JsType::BigInt,
            _ => JsType::Object,
        })
    }

    /// The name upstream's messages use for a value's type (spec §14 `GetValueType`).
    pub fn type_name(self, v: Value) -> &'static str {
        match self.type_of(v) {
            Ok(JsType::Undefined) => "Undefined",
            Ok(JsType::Null) => "Null",
            Ok(JsType::Boolean) => "Boolean",
            Ok(JsType::Number) => "Number",
            Ok(JsType::String) => "String",
            Ok(JsType::Symbol) => "Symbol",
            Ok(JsType::Function) => "Function",
            Ok(JsType::External) => "External",
            Ok(JsType::BigInt) => "BigInt",
            Ok(JsType::Object) => {
                if self.is_array(v).unwrap_or(false) {
                    "Array"
                } else if let Ok(Some(kind)) = self.typedarray_kind(v) {
                    kind
                } else if self.is_arraybuffer(v).unwrap_or(false) {
                    "ArrayBuffer"
                } else if self.is_dataview(v).unwrap_or(false) {
                    "Buffer"
                } else {
                    "Object"
                }
            }
            Err(_) => "Unknown",
        }
    }

    fn typedarray_kind(self, v: Value) -> JsResult<Option<&'static str>> {
        if !self.is_typedarray(v)? {
            return Ok(None);
        }
        let mut t = 0;
        call!(
            self,
            napi_get_typedarray_info(
                self.0,
                v,
                &mut t,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut()
            )
        );
        // A kind this build does not know (a newer Node) still has a name to show.
        Ok(Some(typed_kind(t).map_or("TypedArray", |k| k.0)))
    }

    /// `undefined`.
    #[inline]
    pub fn undefined(self) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_get_undefined(self.0, &mut v));
        Ok(v)
    }

    /// `null`.
    #[inline]
    pub fn null(self) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_get_null(self.0, &mut v));
        Ok(v)
    }

    /// A boolean.
    #[inline]
    pub fn boolean(self, b: bool) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_get_boolean(self.0, b, &mut v));
        Ok(v)
    }

    /// A Number.
    #[inline]
    pub fn double(self, d: f64) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_create_double(self.0, d, &mut v));
        Ok(v)
    }

    /// A Number from an i32.
    #[inline]
    pub fn int32(self, i: i32) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_create_int32(self.0, i, &mut v));
        Ok(v)
    }

    /// A Number from a u32.
    #[inline]
    pub fn uint32(self, i: u32) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_create_uint32(self.0, i, &mut v));
        Ok(v)
    }

    /// A Number when exactly representable (|v| ≤ 2^53), else a BigInt (spec PRIM-07).
    #[inline]
    pub fn int64(self, i: i64) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        if (-(1i64 << 53)..=(1i64 << 53)).contains(&i) {
            call!(self, napi_create_int64(self.0, i, &mut v));
        } else {
            call!(self, napi_create_bigint_int64(self.0, i, &mut v));
        }
        Ok(v)
    }

    /// Unsigned twin of [`Env::int64`].
    #[inline]
    pub fn uint64(self, u: u64) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        if u <= (1u64 << 53) {
            call!(self, napi_create_int64(self.0, u as i64, &mut v));
        } else {
            call!(self, napi_create_bigint_uint64(self.0, u, &mut v));
        }
        Ok(v)
    }

    /// A BigInt from a u64.
    pub fn bigint_u64(self, u: u64) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_create_bigint_uint64(self.0, u, &mut v));
        Ok(v)
    }

    /// A string from UTF-8 bytes (invalid sequences become U+FFFD).
    #[inline]
    pub fn string_utf8(self, bytes: &[u8]) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_create_string_utf8(self.0, bytes.as_ptr() as *const c_char, bytes.len() as isize, &mut v));
        Ok(v)
    }

    /// A string from Rust text.
    pub fn string(self, s: &str) -> JsResult<Value> {
        self.string_utf8(s.as_bytes())
    }

    /// A string from UTF-16 code units.
    #[inline]
    pub fn string_utf16(self, units: &[u16]) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_create_string_utf16(self.0, units.as_ptr(), units.len() as isize, &mut v));
        Ok(v)
    }

    /// A new plain object.
    pub fn object(self) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_create_object(self.0, &mut v));
        Ok(v)
    }

    /// A new array of `len` holes.
    pub fn array(self, len: usize) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_create_array_with_length(self.0, len, &mut v));
        Ok(v)
    }

    /// `obj[name] = value`.
    pub fn set(self, obj: Value, name: &str, value: Value) -> JsResult<()> {
        self.set_prop(obj, self.string(name)?, value)
    }

    /// `obj[key] = value`.
    pub fn set_prop(self, obj: Value, key: Value, value: Value) -> JsResult<()> {
        call!(self, napi_set_property(self.0, obj, key, value));
        Ok(())
    }

    /// `obj[key]`.
    pub fn get_prop(self, obj: Value, key: Value) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_get_property(self.0, obj, key, &mut v));
        Ok(v)
    }

    /// `obj[name]`.
    pub fn get(self, obj: Value, name: &str) -> JsResult<Value> {
        let key = self.string(name)?;
        self.get_prop(obj, key)
    }

    /// `arr[i]`.
    #[inline]
    pub fn get_element(self, arr: Value, i: u32) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_get_element(self.0, arr, i, &mut v));
        Ok(v)
    }

    /// `arr[i] = value`.
    #[inline]
    pub fn set_element(self, arr: Value, i: u32, value: Value) -> JsResult<()> {
        call!(self, napi_set_element(self.0, arr, i, value));
        Ok(())
    }

    /// `Array.isArray(v)`.
    #[inline]
    pub fn is_array(self, v: Value) -> JsResult<bool> {
        let mut b = false;
        call!(self, napi_is_array(self.0, v, &mut b));
        Ok(b)
    }

    /// `arr.length` of an Array.
    #[inline]
    pub fn array_length(self, v: Value) -> JsResult<u32> {
        let mut n = 0;
        call!(self, napi_get_array_length(self.0, v, &mut n));
        Ok(n)
    }

    /// Whether `v` is a TypedArray (Buffers included).
    #[inline]
    pub fn is_typedarray(self, v: Value) -> JsResult<bool> {
        let mut b = false;
        call!(self, napi_is_typedarray(self.0, v, &mut b));
        Ok(b)
    }

    /// Whether `v` is an ArrayBuffer.
    #[inline]
    pub fn is_arraybuffer(self, v: Value) -> JsResult<bool> {
        let mut b = false;
        call!(self, napi_is_arraybuffer(self.0, v, &mut b));
        Ok(b)
    }

    /// Whether `v` is a DataView.
    pub fn is_dataview(self, v: Value) -> JsResult<bool> {
        let mut b = false;
        call!(self, napi_is_dataview(self.0, v, &mut b));
        Ok(b)
    }

    /// Data pointer and byte length of a TypedArray or ArrayBuffer (byteOffset included), or
    /// `None` for anything else.
    #[inline]
    pub fn buffer_data(self, v: Value) -> JsResult<Option<(*mut u8, usize)>> {
        // Asking directly answers "is it a TypedArray" too (napi_invalid_arg when it is not), in
        // one call instead of two.
        let (mut t, mut len, mut data) = (0, 0usize, ptr::null_mut::<c_void>());
        // SAFETY: JS thread, valid env and value.
        let status = unsafe {
            sys::napi_get_typedarray_info(self.0, v, &mut t, &mut len, &mut data, ptr::null_mut(), ptr::null_mut())
        };
        if status == sys::Status::napi_ok {
            let size = typed_elem_size(t)?;
            // Node made the view, so its byte length fits; checked all the same.
            let bytes = len.checked_mul(size).ok_or_else(|| range_error("TypedArray byte length overflows"))?;
            return Ok(Some((data as *mut u8, bytes)));
        }
        if self.is_arraybuffer(v)? {
            let (mut data, mut len) = (ptr::null_mut::<c_void>(), 0usize);
            call!(self, napi_get_arraybuffer_info(self.0, v, &mut data, &mut len));
            return Ok(Some((data as *mut u8, len)));
        }
        Ok(None)
    }

    /// The data address of a TypedArray (Buffers included), in one call; `None` for anything
    /// else (the general conversion then decides).
    #[inline(always)]
    pub fn typedarray_data(self, v: Value) -> Option<*mut u8> {
        let mut data = ptr::null_mut::<c_void>();
        // Only the data pointer is asked for: Node finds a TypedArray's element type through a
        // chain of checks, which would cost more than the rest of this call.
        // SAFETY: JS thread, valid env and value; Node-API accepts NULL for unwanted outputs.
        let status = unsafe {
            sys::napi_get_typedarray_info(
                self.0,
                v,
                ptr::null_mut(),
                ptr::null_mut(),
                &mut data,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        (status == sys::Status::napi_ok).then_some(data as *mut u8)
    }

    /// The number behind a JS Number.
    #[inline]
    pub fn get_f64(self, v: Value) -> JsResult<f64> {
        let mut d = 0.0;
        call!(self, napi_get_value_double(self.0, v, &mut d));
        Ok(d)
    }

    /// The low 64 bits (two's complement) of a BigInt (spec PRIM-04).
    #[inline]
    pub fn get_bigint_bits(self, v: Value) -> JsResult<u64> {
        let mut u = 0u64;
        let mut lossless = false;
        call!(self, napi_get_value_bigint_uint64(self.0, v, &mut u, &mut lossless));
        Ok(u)
    }

    /// A BigInt's numeric value as a double (spec PRIM-05, §18-Q2).
    pub fn get_bigint_f64(self, v: Value) -> JsResult<f64> {
        let mut sign = 0;
        let mut count = 0usize;
        // Asking for the word count: both sign and words must be NULL.
        call!(self, napi_get_value_bigint_words(self.0, v, ptr::null_mut(), &mut count, ptr::null_mut()));
        let mut words = vec![0u64; count.max(1)];
        call!(self, napi_get_value_bigint_words(self.0, v, &mut sign, &mut count, words.as_mut_ptr()));
        let mut d = 0.0f64;
        for w in words.iter().take(count).rev() {
            d = d * 18446744073709551616.0 + *w as f64;
        }
        Ok(if sign != 0 { -d } else { d })
    }

    /// A JS boolean's value.
    #[inline]
    pub fn get_bool(self, v: Value) -> JsResult<bool> {
        let mut b = false;
        call!(self, napi_get_value_bool(self.0, v, &mut b));
        Ok(b)
    }

    /// Copies a JS string as UTF-8 into `buf` (NUL-terminated); returns the bytes written
    /// (without the NUL). The result is cut when `buf` is too small.
    #[inline]
    pub fn string_utf8_into(self, v: Value, buf: *mut u8, cap: usize) -> JsResult<usize> {
        let mut len = 0usize;
        call!(self, napi_get_value_string_utf8(self.0, v, buf as *mut c_char, cap, &mut len));
        Ok(len)
    }

    /// UTF-8 byte length of a JS string.
    #[inline]
    pub fn string_utf8_len(self, v: Value) -> JsResult<usize> {
        let mut len = 0usize;
        call!(self, napi_get_value_string_utf8(self.0, v, ptr::null_mut(), 0, &mut len));
        Ok(len)
    }

    /// Copies a JS string as UTF-16 into `buf` (NUL-terminated); returns the units written.
    #[inline]
    pub fn string_utf16_into(self, v: Value, buf: *mut u16, cap: usize) -> JsResult<usize> {
        let mut len = 0usize;
        call!(self, napi_get_value_string_utf16(self.0, v, buf, cap, &mut len));
        Ok(len)
    }

    /// UTF-16 length of a JS string.
    #[inline]
    pub fn string_utf16_len(self, v: Value) -> JsResult<usize> {
        let mut len = 0usize;
        call!(self, napi_get_value_string_utf16(self.0, v, ptr::null_mut(), 0, &mut len));
        Ok(len)
    }

    /// A JS string as a Rust `String`.
    pub fn get_string(self, v: Value) -> JsResult<String> {
        self.with_string(v, str::to_owned)?.ok_or_else(|| self.failure(sys::Status::napi_string_expected))
    }

    /// Runs `f` on the text of `v` if it is a string (`None` otherwise), without allocating
    /// for short strings: type specifiers and names are parsed straight from a stack buffer.
    pub fn with_string<R>(self, v: Value, f: impl FnOnce(&str) -> R) -> JsResult<Option<R>> {
        // Most strings here are short names and type specifiers: one call into a stack buffer.
        let mut small = [0u8; 128];
        let mut n = 0usize;
        // SAFETY: JS thread, valid env and value; `small` has the given capacity.
        let status = unsafe {
            sys::napi_get_value_string_utf8(self.0, v, small.as_mut_ptr() as *mut c_char, small.len(), &mut n)
        };
        match status {
            sys::Status::napi_ok => {}
            sys::Status::napi_string_expected => return Ok(None),
            status => return Err(self.failure(status)),
        }
        if n + 1 < small.len() {
            // Node writes valid UTF-8 when nothing was cut off (lone surrogates become U+FFFD).
            return Ok(Some(match std::str::from_utf8(&small[..n]) {
                Ok(s) => f(s),
                Err(_) => f(&String::from_utf8_lossy(&small[..n])),
            }));
        }
        let len = self.string_utf8_len(v)?;
        let mut buf = vec![0u8; len + 1];
        let n = self.string_utf8_into(v, buf.as_mut_ptr(), buf.len())?;
        buf.truncate(n);
        Ok(Some(f(&String::from_utf8_lossy(&buf))))
    }

    /// An External holding `data` (no finalizer).
    #[inline]
    pub fn external(self, data: *mut c_void) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_create_external(self.0, data, None, ptr::null_mut(), &mut v));
        Ok(v)
    }

    /// The pointer inside an External.
    #[inline]
    pub fn external_data(self, v: Value) -> JsResult<*mut c_void> {
        let mut data = ptr::null_mut();
        call!(self, napi_get_value_external(self.0, v, &mut data));
        Ok(data)
    }

    /// Tags an object or External (once).
    #[inline]
    pub fn tag(self, v: Value, tag: &sys::napi_type_tag) -> JsResult<()> {
        call!(self, napi_type_tag_object(self.0, v, tag));
        Ok(())
    }

    /// Whether `v` carries `tag`.
    #[inline]
    pub fn has_tag(self, v: Value, tag: &sys::napi_type_tag) -> JsResult<bool> {
        let mut b = false;
        call!(self, napi_check_object_type_tag(self.0, v, tag, &mut b));
        Ok(b)
    }

    /// Creates a JS function calling `cb` with `data`.
    pub fn function(self, name: &str, cb: sys::napi_callback, data: *mut c_void) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(
            self,
            napi_create_function(self.0, name.as_ptr() as *const c_char, name.len() as isize, cb, data, &mut v)
        );
        Ok(v)
    }

    /// Creates a JS function calling `cb` with `data` moved to the heap and freed when the
    /// function is collected; `cb` receives the data as a `*mut T`.
    pub fn function_owning<T: 'static>(self, name: &str, cb: sys::napi_callback, data: T) -> JsResult<Value> {
        let data = Box::into_raw(Box::new(data)) as *mut c_void;
        let f = self.function(name, cb, data).inspect_err(|_| {
            // SAFETY: the Box made above, not handed to Node.
            drop(unsafe { Box::from_raw(data as *mut T) });
        })?;
        call!(self, napi_add_finalizer(self.0, f, data, Some(drop_boxed::<T>), ptr::null_mut(), ptr::null_mut()));
        Ok(f)
    }

    /// Calls `f` with `this` and `args`.
    pub fn call_function(self, this: Value, f: Value, args: &[Value]) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_call_function(self.0, this, f, args.len(), args.as_ptr(), &mut v));
        Ok(v)
    }

    /// A strong reference keeping `v` alive across calls.
    pub fn reference(self, v: Value) -> JsResult<sys::napi_ref> {
        let mut r = ptr::null_mut();
        call!(self, napi_create_reference(self.0, v, 1, &mut r));
        Ok(r)
    }

    /// The value behind a reference.
    pub fn deref(self, r: sys::napi_ref) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        call!(self, napi_get_reference_value(self.0, r, &mut v));
        Ok(v)
    }

    /// Freezes an object.
    pub fn freeze(self, v: Value) -> JsResult<()> {
        call!(self, napi_object_freeze(self.0, v));
        Ok(())
    }

    /// Own enumerable string keys, in property order.
    pub fn own_keys(self, obj: Value) -> JsResult<Vec<Value>> {
        let mut keys = ptr::null_mut();
        call!(
            self,
            napi_get_all_property_names(
                self.0,
                obj,
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut keys
            )
        );
        let n = self.array_length(keys)?;
        (0..n).map(|i| self.get_element(keys, i)).collect()
    }

    /// Creates an ArrayBuffer of `len` bytes and returns it with its data pointer.
    pub fn arraybuffer(self, len: usize) -> JsResult<(Value, *mut u8)> {
        if len > LARGE_ARRAYBUFFER {
            return self.large_arraybuffer(len);
        }
        let mut v = ptr::null_mut();
        let mut data = ptr::null_mut();
        call!(self, napi_create_arraybuffer(self.0, len, &mut data, &mut v));
        Ok((v, data as *mut u8))
    }

    /// A large ArrayBuffer, made by `new ArrayBuffer(len)`: when the allocation fails, V8 throws
    /// a `RangeError` ("Array buffer allocation failed") there, where `napi_create_arraybuffer`
    /// ends the process (`v8::ArrayBuffer::New` calls `FatalProcessOutOfMemory`).
    #[cold]
    fn large_arraybuffer(self, len: usize) -> JsResult<(Value, *mut u8)> {
        let mut global = ptr::null_mut();
        call!(self, napi_get_global(self.0, &mut global));
        let ctor = self.get(global, "ArrayBuffer")?;
        let arg = self.double(len as f64)?;
        let mut v = ptr::null_mut();
        call!(self, napi_new_instance(self.0, ctor, 1, &arg, &mut v));
        let (mut data, mut got) = (ptr::null_mut::<c_void>(), 0usize);
        call!(self, napi_get_arraybuffer_info(self.0, v, &mut data, &mut got));
        if got != len {
            return Err(range_error(format!("Cannot allocate an ArrayBuffer of {len} bytes")));
        }
        Ok((v, data as *mut u8))
    }

    /// A TypedArray of `kind` over a new buffer holding a copy of `bytes`.
    pub fn typedarray_copy(self, kind: sys::napi_typedarray_type, bytes: &[u8]) -> JsResult<Value> {
        let (ab, data) = self.arraybuffer(bytes.len())?;
        if !bytes.is_empty() {
            // SAFETY: the new buffer has bytes.len() bytes.
            unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len()) };
        }
        let mut v = ptr::null_mut();
        call!(self, napi_create_typedarray(self.0, kind, bytes.len() / typed_elem_size(kind)?, ab, 0, &mut v));
        Ok(v)
    }
}

/// ArrayBuffers above this many bytes are made through the JS constructor, whose failure is a
/// catchable `RangeError` (see [`Env::arraybuffer`]); smaller ones take the direct call.
const LARGE_ARRAYBUFFER: usize = 16 << 20;
