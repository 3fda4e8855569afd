//! Strings across the boundary: JS strings encoded into NUL-terminated UTF-8, UTF-16 or UTF-32
//! temporaries (spec J2C-02), and C strings decoded back (spec C2J-03).

use super::ctx::Ctx;
use crate::node::js::{Env, JsResult, Value};

/// Encodes `v` (a JS string) as a NUL-terminated string of `width`-byte units in call memory
/// and returns its address and its length in units (without the NUL). The full length is always honoured (spec §18-Q12): the text is
/// first written straight into the heap block, and only when it may not have fit is its length
/// queried and a large enough block taken.
pub fn encode_temp(ctx: &mut Ctx<'_>, v: Value, width: usize) -> JsResult<(*mut u8, usize)> {
    let env = ctx.env;
    match width {
        1 => {
            if let Some((cursor, cap)) = ctx.in_place(1) {
                let n = env.string_utf8_into(v, cursor, cap)?;
                if n + 1 < cap {
                    ctx.commit(n + 1);
                    return Ok((cursor, n));
                }
            }
            let len = env.string_utf8_len(v)?;
            let ptr = ctx.alloc(len + 1, 1)?;
            let n = env.string_utf8_into(v, ptr, len + 1)?;
            Ok((ptr, n))
        }
        2 => {
            let len = env.string_utf16_len(v)?;
            let ptr = ctx.alloc(2 * (len + 1), 2)?;
            let n = env.string_utf16_into(v, ptr as *mut u16, len + 1)?;
            Ok((ptr, n))
        }
        _ => {
            let units = utf16_of(env, v)?;
            let chars = utf16_to_utf32(&units);
            let ptr = ctx.alloc(4 * (chars.len() + 1), 4)?;
            // SAFETY: ptr has room for chars.len() + 1 u32 values.
            unsafe {
                std::ptr::copy_nonoverlapping(chars.as_ptr(), ptr as *mut u32, chars.len());
                (ptr as *mut u32).add(chars.len()).write_unaligned(0);
            }
            Ok((ptr, chars.len()))
        }
    }
}

/// The UTF-16 code units of a JS string.
pub fn utf16_of(env: Env, v: Value) -> JsResult<Vec<u16>> {
    let len = env.string_utf16_len(v)?;
    let mut units = vec![0u16; len + 1];
    let n = env.string_utf16_into(v, units.as_mut_ptr(), len + 1)?;
    units.truncate(n);
    Ok(units)
}

/// UTF-16 to UTF-32: valid surrogate pairs are combined, lone surrogates become U+FFFD.
pub fn utf16_to_utf32(units: &[u16]) -> Vec<u32> {
    char::decode_utf16(units.iter().copied()).map(|r| r.map(|c| c as u32).unwrap_or(0xFFFD)).collect()
}

/// UTF-32 to UTF-16: values above U+10FFFF or in the surrogate range become U+FFFD.
pub fn utf32_to_utf16(chars: &[u32]) -> Vec<u16> {
    let mut out = Vec::with_capacity(chars.len());
    for &c in chars {
        let ch = char::from_u32(c).unwrap_or('\u{FFFD}');
        let mut buf = [0u16; 2];
        out.extend_from_slice(ch.encode_utf16(&mut buf));
    }
    out
}

/// Decodes a NUL-terminated string of `width`-byte units at `ptr` (at most `max` units when
/// given). NULL gives `null`.
///
/// # Safety
/// `ptr` must be NULL or point to readable memory holding a NUL within `max` units.
pub unsafe fn decode(env: Env, ptr: *const u8, width: usize, max: Option<usize>) -> JsResult<Value> {
    if ptr.is_null() {
        return env.null();
    }
    let limit = max.unwrap_or(usize::MAX);
    // SAFETY: the caller guarantees readable memory up to the NUL or `limit` units.
    unsafe {
        match width {
            1 => {
                let len = count_units(ptr, 1, limit);
                env.string_utf8(std::slice::from_raw_parts(ptr, len))
            }
            2 => {
                let len = count_units(ptr, 2, limit);
                let units: Vec<u16> = (0..len).map(|i| (ptr as *const u16).add(i).read_unaligned()).collect();
                env.string_utf16(&units)
            }
            _ => {
                let len = count_units(ptr, 4, limit);
                let chars: Vec<u32> = (0..len).map(|i| (ptr as *const u32).add(i).read_unaligned()).collect();
                env.string_utf16(&utf32_to_utf16(&chars))
            }
        }
    }
}

/// Counts units before the first zero unit, up to `limit`.
///
/// # Safety
/// Memory must be readable up to the first zero unit or `limit` units.
unsafe fn count_units(ptr: *const u8, width: usize, limit: usize) -> usize {
    let mut n = 0;
    while n < limit {
        // SAFETY: forwarded from the caller.
        let zero = unsafe {
            match width {
                1 => *ptr.add(n) == 0,
                2 => (ptr as *const u16).add(n).read_unaligned() == 0,
                _ => (ptr as *const u32).add(n).read_unaligned() == 0,
            }
        };
        if zero {
            break;
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf32_round_trip_and_replacement() {
        let units: Vec<u16> = "a😀".encode_utf16().chain([0xD800]).collect();
        assert_eq!(utf16_to_utf32(&units), vec![0x61, 0x1F600, 0xFFFD]);
        assert_eq!(utf32_to_utf16(&[0x61, 0x110000, 0xD800]), vec![0x61, 0xFFFD, 0xFFFD]);
    }
}
