//! A JS value as a C number, boolean or string: the one place that decides between reading V8's
//! tagged value in place (`tagged`, when the environment's probe allowed it) and asking
//! Node-API.
//!
//! From the cheapest to the most general: [`int_bits`], [`number`] and [`with_string`] try the
//! tagged read first; [`fast_int_bits`] and [`fast_f64`] make one Node-API call for a Number;
//! [`any_int_bits`] and [`float_value`] take BigInts too. Each falls back to the next, so
//! they all accept the same values and give the same answers.

use super::error::{type_error, JsResult};
use super::napi::{Env, JsType, Value};
use super::tagged::Tagged;

/// An integer's bits (sign-extended from 32 bits when `size` ≤ 4): a Smi read directly,
/// anything else through Node-API and the general integer rules ([`fast_int_bits`]).
/// `v` must be a live value of the environment `tagged` was probed in.
#[inline(always)]
pub fn int_bits(env: Env, tagged: Option<Tagged>, v: Value, size: usize) -> JsResult<u64> {
    // SAFETY: `v` is live (the caller's contract).
    match tagged.and_then(|t| unsafe { t.smi(v) }) {
        Some(i) => Ok(i as i64 as u64),
        None => fast_int_bits(env, v, size),
    }
}

/// A Number: a Smi or HeapNumber read directly, anything else through Node-API
/// ([`fast_f64`]). `v` as for [`int_bits`].
#[inline(always)]
pub fn number(env: Env, tagged: Option<Tagged>, v: Value) -> JsResult<f64> {
    // SAFETY: as above.
    match tagged.and_then(|t| unsafe { t.number(v) }) {
        Some(d) => Ok(d),
        None => fast_f64(env, v),
    }
}

/// Runs `f` on the text of `v` if it is a string (`None` otherwise): read in place when the
/// environment's probe allows and the string is sequential ASCII, else through Node-API
/// ([`Env::with_string`]). `f` must not run JS.
#[inline]
pub fn with_string<R>(env: Env, tagged: Option<Tagged>, v: Value, f: impl FnOnce(&str) -> R) -> JsResult<Option<R>> {
    let mut f = Some(f);
    // SAFETY: `v` is a live value of the environment `tagged` was probed in; `f` runs no JS.
    if let Some(r) = tagged.and_then(|t| unsafe { t.with_ascii(v, |s| f.take().map(|f| f(s))) }) {
        return Ok(r);
    }
    match f {
        Some(f) => env.with_string(v, f),
        None => Ok(None),
    }
}

/// Number → integer bits: truncation toward zero, then wrapping modulo 2^64; NaN and ±∞ give 0
/// (spec PRIM-03, §18-Q1). The caller keeps the low bits it needs.
#[inline]
pub fn f64_to_bits(d: f64) -> u64 {
    if !d.is_finite() {
        return 0;
    }
    let t = d.trunc();
    if t.abs() < 9.2e18 {
        t as i64 as u64
    } else {
        t.rem_euclid(18446744073709551616.0) as u64
    }
}

/// A JS Number or BigInt as integer bits (spec PRIM-03, PRIM-04).
#[inline]
pub fn any_int_bits(env: Env, v: Value) -> JsResult<u64> {
    match env.type_of(v)? {
        JsType::Number => Ok(f64_to_bits(env.get_f64(v)?)),
        JsType::BigInt => env.get_bigint_bits(v),
        _ => Err(type_error(format!("Unexpected {} value, expected number", env.type_name(v)))),
    }
}

/// A JS Number or BigInt as a double (spec PRIM-05).
#[inline]
pub fn float_value(env: Env, v: Value) -> JsResult<f64> {
    match env.type_of(v)? {
        JsType::Number => env.get_f64(v),
        JsType::BigInt => env.get_bigint_f64(v),
        _ => Err(type_error(format!("Unexpected {} value, expected number", env.type_name(v)))),
    }
}

/// A JS Number as integer bits in one Node-API call when it is one (the common case); BigInts
/// and errors take the general path. ≤ 32-bit kinds: `napi_get_value_int32` truncates and
/// wraps modulo 2^32 and gives 0 for NaN/±∞, as spec §18-Q1 asks. 64-bit kinds: exact below
/// 2^63 in magnitude; the saturated ends go through the double path, which wraps.
#[inline(always)]
pub fn fast_int_bits(env: Env, v: Value, size: usize) -> JsResult<u64> {
    if size <= 4 {
        let mut i = 0i32;
        // SAFETY: JS thread, valid env and value.
        if unsafe { napi::sys::napi_get_value_int32(env.0, v, &mut i) } == napi::sys::Status::napi_ok {
            return Ok(i as i64 as u64);
        }
    } else {
        let mut i = 0i64;
        // SAFETY: as above.
        if unsafe { napi::sys::napi_get_value_int64(env.0, v, &mut i) } == napi::sys::Status::napi_ok
            && i != i64::MAX
            && i != i64::MIN
        {
            return Ok(i as u64);
        }
    }
    any_int_bits(env, v)
}

/// A JS Number as a double in one call; BigInts and errors take the general path.
#[inline(always)]
pub fn fast_f64(env: Env, v: Value) -> JsResult<f64> {
    let mut d = 0.0;
    // SAFETY: JS thread, valid env and value.
    if unsafe { napi::sys::napi_get_value_double(env.0, v, &mut d) } == napi::sys::Status::napi_ok {
        return Ok(d);
    }
    float_value(env, v)
}

/// A JS boolean (spec PRIM-08: nothing else is accepted).
#[inline]
pub fn bool_value(env: Env, v: Value) -> JsResult<bool> {
    if env.type_of(v)? != JsType::Boolean {
        return Err(type_error(format!("Unexpected {} value, expected boolean", env.type_name(v))));
    }
    env.get_bool(v)
}
