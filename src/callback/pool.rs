//! The process-wide trampoline pool (spec CB-05): slot allocation and handler lookup.
//!
//! Slots are handed out least-recently-freed first, so that a stale function pointer kept by C
//! after `unregister` is unlikely to reach a new callback at once. Handlers are `Arc`s: a relay
//! running on another thread keeps its handler alive even if the slot is released meanwhile.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::{Arc, RwLock};

use super::Handler;

/// Trampolines in the pool (`KFFI_TRAMPOLINES` in `asm/<abi>.S`).
pub const POOL_SIZE: usize = 8192;

/// The pool is full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolError;

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Too many callbacks are in use (max = {POOL_SIZE})")
    }
}

impl std::error::Error for PoolError {}

struct Pool {
    slots: Vec<Option<Arc<dyn Handler>>>,
    live: Vec<bool>,
    free: VecDeque<u32>,
    in_use: usize,
}

static POOL: RwLock<Option<Pool>> = RwLock::new(None);

fn with_pool<R>(f: impl FnOnce(&mut Pool) -> R) -> R {
    let mut guard = POOL.write().unwrap_or_else(|e| e.into_inner());
    let pool = guard.get_or_insert_with(|| Pool {
        slots: (0..POOL_SIZE).map(|_| None).collect(),
        live: vec![false; POOL_SIZE],
        free: (0..POOL_SIZE as u32).collect(),
        in_use: 0,
    });
    f(pool)
}

/// The handler of slot `index`, if any (live or tombstone).
pub(super) fn get(index: u32) -> Option<Arc<dyn Handler>> {
    let guard = POOL.read().unwrap_or_else(|e| e.into_inner());
    guard.as_ref()?.slots.get(index as usize)?.clone()
}

/// Takes a free slot for `handler`: its index and the C function pointer that reaches it.
pub fn register(handler: Arc<dyn Handler>) -> Result<(u32, *const c_void), PoolError> {
    if !trampolines_linked() {
        return Err(PoolError);
    }
    with_pool(|pool| {
        let index = pool.free.pop_front().ok_or(PoolError)?;
        pool.slots[index as usize] = Some(handler);
        pool.live[index as usize] = true;
        pool.in_use += 1;
        Ok((index, address(index)))
    })
}

/// Frees slot `index`, leaving `tombstone` to answer late calls (spec CB-02). Returns false if
/// the slot was not in use.
pub fn release(index: u32, tombstone: Option<Arc<dyn Handler>>) -> bool {
    with_pool(|pool| {
        let i = index as usize;
        if i >= POOL_SIZE || !pool.live[i] {
            return false;
        }
        pool.live[i] = false;
        pool.slots[i] = tombstone;
        pool.in_use -= 1;
        pool.free.push_back(index);
        true
    })
}

/// Replaces the handler of a slot in use (returns false if it is not in use).
pub fn replace(index: u32, handler: Arc<dyn Handler>) -> bool {
    with_pool(|pool| {
        let i = index as usize;
        if i >= POOL_SIZE || !pool.live[i] {
            return false;
        }
        pool.slots[i] = Some(handler);
        true
    })
}

/// Slots in use (`stats().callbacks`).
pub fn in_use() -> usize {
    with_pool(|pool| pool.in_use)
}

#[cfg(all(kffi_asm, target_arch = "x86_64", not(windows)))]
extern "C" {
    static kffi_trampolines_x64_sysv: u8;
    static kffi_trampolines_end_x64_sysv: u8;
}

#[cfg(all(kffi_asm, target_arch = "aarch64", not(windows)))]
extern "C" {
    static kffi_trampolines_arm64: u8;
    static kffi_trampolines_end_arm64: u8;
}

/// Bytes per trampoline in `asm/<abi>.S`.
const STRIDE: usize = 16;

fn bounds() -> Option<(usize, usize)> {
    // Only the symbols' addresses are taken (addr_of! on an extern static needs no unsafe).
    #[cfg(all(kffi_asm, target_arch = "x86_64", not(windows)))]
    return Some((
        std::ptr::addr_of!(kffi_trampolines_x64_sysv) as usize,
        std::ptr::addr_of!(kffi_trampolines_end_x64_sysv) as usize,
    ));
    #[cfg(all(kffi_asm, target_arch = "aarch64", not(windows)))]
    return Some((
        std::ptr::addr_of!(kffi_trampolines_arm64) as usize,
        std::ptr::addr_of!(kffi_trampolines_end_arm64) as usize,
    ));
    #[allow(unreachable_code, reason = "targets without trampolines reach this")]
    None
}

fn trampolines_linked() -> bool {
    bounds().is_some_and(|(start, end)| end - start == POOL_SIZE * STRIDE)
}

/// The C function pointer of trampoline `index`.
pub fn address(index: u32) -> *const c_void {
    match bounds() {
        Some((start, _)) => (start + STRIDE * index as usize) as *const c_void,
        None => std::ptr::null(),
    }
}

/// The slot a trampoline address belongs to.
pub fn index_of(addr: usize) -> Option<u32> {
    let (start, end) = bounds()?;
    if addr < start || addr >= end || (addr - start) % STRIDE != 0 {
        return None;
    }
    Some(((addr - start) / STRIDE) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_has_8192_trampolines_of_16_bytes() {
        if cfg!(kffi_asm) && cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            assert!(trampolines_linked(), "the assembly pool must hold POOL_SIZE entries of STRIDE bytes");
            assert_eq!(index_of(address(5) as usize), Some(5));
            assert_eq!(index_of(address(5) as usize + 1), None);
        }
    }
}
