//! TypedArray kinds: the one table of their names and element sizes in the binding. A newer
//! V8 may report kinds that did not exist when this was written; guessing their size would read
//! or write past the end of the array, so an unknown kind is refused.

use super::error::{type_error, JsError, JsResult};

/// `napi_float16_array`: Node-API numbers `Float16Array` 11, after `napi_biguint64_array`
/// (Node's `js_native_api_types.h`, under `NODE_API_HAS_FLOAT16_ARRAY`); napi-sys 3 predates it.
pub const FLOAT16_ARRAY: napi::sys::napi_typedarray_type = 11;

/// Name and element size of each TypedArray kind Node-API reports, `None` for a kind this
/// build does not know. The one table of TypedArray element sizes in the binding: a newer V8
/// may report kinds that did not exist when this was written, and guessing their size would
/// read or write past the end of the array.
pub fn typed_kind(t: napi::sys::napi_typedarray_type) -> Option<(&'static str, usize)> {
    use napi::sys::TypedarrayType as T;
    Some(match t {
        T::int8_array => ("Int8Array", 1),
        T::uint8_array => ("Uint8Array", 1),
        T::uint8_clamped_array => ("Uint8ClampedArray", 1),
        T::int16_array => ("Int16Array", 2),
        T::uint16_array => ("Uint16Array", 2),
        T::int32_array => ("Int32Array", 4),
        T::uint32_array => ("Uint32Array", 4),
        T::float32_array => ("Float32Array", 4),
        T::float64_array => ("Float64Array", 8),
        T::bigint64_array => ("BigInt64Array", 8),
        T::biguint64_array => ("BigUint64Array", 8),
        FLOAT16_ARRAY => ("Float16Array", 2),
        _ => return None,
    })
}

/// Element size of a TypedArray kind; an unknown kind is refused with a `TypeError`, never
/// assumed to be 8 bytes (or any other size).
pub fn typed_elem_size(t: napi::sys::napi_typedarray_type) -> JsResult<usize> {
    typed_kind(t).map(|k| k.1).ok_or_else(|| unknown_typed_kind(t))
}

#[cold]
fn unknown_typed_kind(t: napi::sys::napi_typedarray_type) -> JsError {
    type_error(format!("Unsupported TypedArray kind (Node-API type {t}): its element size is unknown to koffi-rs"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::js::error::ErrorKind;

    #[test]
    fn every_typed_kind_has_its_true_size() {
        use napi::sys::TypedarrayType as T;
        let sizes = [
            (T::int8_array, 1),
            (T::uint8_array, 1),
            (T::uint8_clamped_array, 1),
            (T::int16_array, 2),
            (T::uint16_array, 2),
            (T::int32_array, 4),
            (T::uint32_array, 4),
            (T::float32_array, 4),
            (T::float64_array, 8),
            (T::bigint64_array, 8),
            (T::biguint64_array, 8),
            (FLOAT16_ARRAY, 2),
        ];
        for (t, size) in sizes {
            assert_eq!(typed_elem_size(t).unwrap(), size, "kind {t}");
        }
    }

    #[test]
    fn unknown_typed_kinds_are_refused() {
        for t in [12, 13, 99, -1, i32::MAX] {
            let err = typed_elem_size(t).unwrap_err();
            match err.kind() {
                ErrorKind::Type(m) => assert!(m.contains("Unsupported TypedArray kind"), "{m}"),
                other => panic!("kind {t}: expected a TypeError, got {other:?}"),
            }
        }
    }
}
