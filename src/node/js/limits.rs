//! Lengths from JS and from C memory, checked against what V8 and Node can make before any
//! Node-API call is asked to make it.
//!
//! Node-API does not fail cleanly everywhere: `napi_create_arraybuffer` ends in V8's
//! `FatalProcessOutOfMemory` when the allocation fails, and an ArrayBuffer or TypedArray longer
//! than V8's limit fails a `CHECK` inside V8 (both abort the process). Every length that comes
//! from outside is therefore turned into a `usize` here, and refused with a `RangeError` when
//! the value it would make is larger than the limits below.

use super::error::{range_error, JsError, JsResult};
use super::napi::Env;

/// The largest JS Array length: 2^32 − 1 (ECMA-262 §10.4.2, Array exotic objects).
pub const MAX_ARRAY_LENGTH: usize = u32::MAX as usize;

/// The largest integer a double holds exactly (2^53 − 1): beyond it a length has lost digits.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A length or count given as a JS number: finite and below 2^53 (larger doubles have lost
/// their low digits), with any fraction dropped as Koffi drops it (`view(p, 3.5)` is 3 bytes
/// there too). Negative values are the caller's to handle first (each API gives them its own
/// meaning); here they are refused like any other value that is no count.
pub fn count_from_f64(value: f64, what: &str) -> JsResult<usize> {
    if !value.is_finite() {
        // Spelled as JS spells them (Rust would say "inf").
        let js = if value.is_nan() {
            "NaN"
        } else if value > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        };
        return Err(range_error(format!("Invalid {what} {js}: expected a finite number")));
    }
    if value < 0.0 {
        return Err(range_error(format!("Invalid {what} {value}: expected a number >= 0")));
    }
    if value > MAX_SAFE_INTEGER {
        return Err(range_error(format!("Invalid {what} {value}: above 2^53 - 1")));
    }
    usize::try_from(value as u64).map_err(|_| range_error(format!("Invalid {what} {value}: above the address space")))
}

/// `count * size` in bytes, or a `RangeError` naming `what` when it does not fit a `usize`.
#[inline]
pub fn bytes_of(count: usize, size: usize, what: &str) -> JsResult<usize> {
    match count.checked_mul(size) {
        Some(bytes) => Ok(bytes),
        None => Err(overflow(count, size, what)),
    }
}

#[cold]
fn overflow(count: usize, size: usize, what: &str) -> JsError {
    range_error(format!("{what} of {count} × {size} bytes overflows"))
}

/// The largest ArrayBuffer or TypedArray, in bytes, that Node makes: `buffer.constants.MAX_LENGTH`.
///
/// Node 22 (V8 12.4) raised it to V8's `TypedArray::kMaxByteLength`, 2^53 − 1 on 64-bit hosts
/// and 2^31 − 1 on 32-bit ones; Node 15 to 21 allow 2^32 on 64-bit hosts (V8's
/// `TypedArray::kMaxLength`), and 2^30 − 1 (the largest Smi) on 32-bit ones. Sources: Node's
/// `buffer.constants.MAX_LENGTH` documentation (its version history), V8's
/// `include/v8-typed-array.h` and `src/objects/js-array-buffer.h`. Node 20 refuses a longer
/// external ArrayBuffer with "Cannot create a Buffer larger than…"; newer releases reach V8's
/// `CHECK_LE(byte_length, kMaxByteLength)`, which aborts.
pub fn max_buffer_bytes(env: Env) -> usize {
    let wide = usize::BITS >= 64;
    if node_major(env) >= 22 {
        if wide {
            MAX_SAFE_INTEGER as usize
        } else {
            i32::MAX as usize
        }
    } else if wide {
        usize::try_from(1u64 << 32).unwrap_or(usize::MAX)
    } else {
        (1usize << 30) - 1
    }
}

/// The largest TypedArray element count Node makes for `size`-byte elements. Before Node 22,
/// V8's `TypedArray::kMaxLength` bounds the element count (2^32 whatever the element size, on
/// 64-bit hosts) and its check in `<Type>Array::New` is fatal; from Node 22 the byte length is
/// bounded instead.
pub fn max_typed_elements(env: Env, size: usize) -> usize {
    let bytes = max_buffer_bytes(env);
    if node_major(env) >= 22 {
        bytes / size.max(1)
    } else {
        bytes
    }
}

/// Checks that a TypedArray of `count` elements of `size` bytes can be made, and returns its
/// byte length.
pub fn typed_array_bytes(env: Env, count: usize, size: usize) -> JsResult<usize> {
    let max = max_typed_elements(env, size);
    if count > max {
        return Err(range_error(format!("Array length {count} is too high for a TypedArray (max = {max})")));
    }
    bytes_of(count, size, "TypedArray")
}

/// Checks that a JS Array of `count` elements can be made.
#[allow(clippy::absurd_extreme_comparisons, reason = "on 32-bit targets no usize exceeds the limit")]
pub fn check_array_length(count: usize) -> JsResult<()> {
    if count > MAX_ARRAY_LENGTH {
        return Err(range_error(format!("Array length {count} is too high (max = {MAX_ARRAY_LENGTH})")));
    }
    Ok(())
}

/// The running Node's major version (0 when Node-API cannot tell, which picks the smaller
/// limits).
fn node_major(env: Env) -> u32 {
    // One Node per process: asked once (conversions of arrays check their length against it).
    static MAJOR: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let known = MAJOR.load(std::sync::atomic::Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    let major = ask_node_major(env);
    MAJOR.store(major, std::sync::atomic::Ordering::Relaxed);
    major
}

#[cold]
fn ask_node_major(env: Env) -> u32 {
    let mut version = std::ptr::null();
    // SAFETY: JS thread, valid env; Node returns a pointer to a static struct.
    let status = unsafe { napi::sys::napi_get_node_version(env.0, &mut version) };
    if status != napi::sys::Status::napi_ok || version.is_null() {
        return 0;
    }
    // SAFETY: non-null and static, as checked above.
    unsafe { (*version).major }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::js::error::ErrorKind;

    fn range_message(r: JsResult<usize>) -> String {
        match r.map_err(|e| e.kind()) {
            Err(ErrorKind::Error(m)) => m,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn counts_are_finite_safe_integers() {
        assert_eq!(count_from_f64(3.0, "length").unwrap(), 3);
        assert_eq!(count_from_f64(3.9, "length").unwrap(), 3, "fractions are dropped, as in Koffi");
        assert_eq!(count_from_f64(0.0, "length").unwrap(), 0);
        assert!(range_message(count_from_f64(f64::NAN, "length")).contains("finite"));
        assert!(range_message(count_from_f64(f64::INFINITY, "length")).contains("finite"));
        assert!(range_message(count_from_f64(-1.0, "length")).contains(">= 0"));
        assert!(range_message(count_from_f64(2f64.powi(53), "length")).contains("2^53"));
        assert_eq!(count_from_f64(MAX_SAFE_INTEGER, "length").unwrap() as u64, (1u64 << 53) - 1);
    }

    #[test]
    fn byte_products_are_checked() {
        assert_eq!(bytes_of(4, 8, "x").unwrap(), 32);
        assert!(range_message(bytes_of(usize::MAX / 2, 4, "x")).contains("overflows"));
        assert!(check_array_length(MAX_ARRAY_LENGTH).is_ok());
        assert!(check_array_length(MAX_ARRAY_LENGTH + 1).is_err());
    }
}
