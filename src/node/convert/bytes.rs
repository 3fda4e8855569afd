//! C integers in memory: fixed-width little-endian loads and stores, byte-swapped kinds, and
//! sign or zero extension.

use crate::abi::Ext;
use crate::call::frame::extend;
use crate::types::Primitive;

/// The in-memory bits of an integer value of kind `p` (byte-swapped kinds swapped).
#[inline]
pub fn int_store_bits(p: Primitive, bits: u64) -> u64 {
    match p.int_width() {
        Some((2, _, true)) => (bits as u16).swap_bytes() as u64,
        Some((4, _, true)) => (bits as u32).swap_bytes() as u64,
        Some((8, _, true)) => bits.swap_bytes(),
        _ => bits,
    }
}

/// The `width` (1, 2, 4 or 8) little-endian bytes at `src`, zero-extended. Fixed-size loads:
/// a copy of variable length would be a `memcpy` call per integer.
///
/// # Safety
/// `src` must be readable for `width` bytes.
#[inline(always)]
pub unsafe fn load_le(src: *const u8, width: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        match width {
            1 => *src as u64,
            2 => u16::from_le((src as *const u16).read_unaligned()) as u64,
            4 => u32::from_le((src as *const u32).read_unaligned()) as u64,
            _ => u64::from_le((src as *const u64).read_unaligned()),
        }
    }
}

/// Stores the low `width` (1, 2, 4 or 8) bytes of `bits` at `dst`, little-endian.
///
/// # Safety
/// `dst` must be writable for `width` bytes.
#[inline(always)]
pub unsafe fn store_le(dst: *mut u8, bits: u64, width: usize) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match width {
            1 => *dst = bits as u8,
            2 => (dst as *mut u16).write_unaligned((bits as u16).to_le()),
            4 => (dst as *mut u32).write_unaligned((bits as u32).to_le()),
            _ => (dst as *mut u64).write_unaligned(bits.to_le()),
        }
    }
}

/// Reads an integer of kind `p` from `src` as a sign- or zero-extended i128-free pair.
///
/// # Safety
/// `src` must be readable for the kind's width.
#[inline]
pub unsafe fn read_int(src: *const u8, p: Primitive) -> (u64, bool) {
    let Some((w, signed, swapped)) = p.int_width() else {
        return (0, false);
    };
    // SAFETY: forwarded from the caller.
    let bits = unsafe { load_le(src, w) };
    let bits = if swapped { int_store_bits(p, bits) } else { bits };
    (extend(bits, w as u32, if signed { Ext::Sign } else { Ext::Zero }), signed)
}
