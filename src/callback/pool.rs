//! The process-wide trampoline pool (spec CB-05): slot allocation and handler lookup.
//!
//! Slots are handed out least-recently-freed first, so that a stale function pointer kept by C
//! after `unregister` is unlikely to reach a new callback at once. Handlers are `Arc`s: a relay
//! running on another thread keeps its handler alive even if the slot is released meanwhile.
//!
//! A handler swapped out of its slot is freed by the first change to the pool (a register or a
//! release) made once no relay of *that slot* is running. Counting
//! relays per slot (not process-wide) matters for programs whose C main loop is itself inside a
//! callback (GTK, SDL): some relay is then always running, yet the handlers JS replaces from
//! inside it must not pile up.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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

/// Slot allocation state, touched only by `register` and `release`.
struct Slots {
    live: Vec<bool>,
    free: VecDeque<u32>,
    in_use: usize,
    /// Handlers swapped out while a relay of their slot was running, with that slot: freed once
    /// none is.
    graveyard: Vec<(u32, HandlerPtr)>,
}

/// A leaked `Box<Arc<dyn Handler>>`, as stored in a slot.
struct HandlerPtr(*mut Arc<dyn Handler>);

// SAFETY: the pointee is an `Arc<dyn Handler>`, which is Send + Sync.
unsafe impl Send for HandlerPtr {}

static SLOTS: Mutex<Option<Slots>> = Mutex::new(None);

/// One trampoline's entry: its handler, read without a lock by the relay (a hot path: a lock
/// here costed more than the rest of a callback), and the relays running it now, on any thread.
/// A handler swapped out of a slot is freed only when that slot's count is zero: a relay that
/// loaded the old pointer before the swap is then done with it. Side by side, one bounds check
/// and one cache line serve both.
struct Entry {
    handler: AtomicPtr<Arc<dyn Handler>>,
    in_flight: AtomicU32,
}

static ENTRIES: [Entry; POOL_SIZE] =
    [const { Entry { handler: AtomicPtr::new(std::ptr::null_mut()), in_flight: AtomicU32::new(0) } }; POOL_SIZE];

/// Length of the graveyard, for `retired()`.
static RETIRED: AtomicUsize = AtomicUsize::new(0);

fn with_slots<R>(f: impl FnOnce(&mut Slots) -> R) -> R {
    let mut guard = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
    let slots = guard.get_or_insert_with(new_slots);
    f(slots)
}

fn new_slots() -> Slots {
    Slots { live: vec![false; POOL_SIZE], free: (0..POOL_SIZE as u32).collect(), in_use: 0, graveyard: Vec::new() }
}

/// Runs `f` with the handler of slot `index` (live or tombstone), if any.
pub(super) fn with_handler(index: u32, f: impl FnOnce(&dyn Handler)) {
    let Some(entry) = ENTRIES.get(index as usize) else { return };
    // Sequentially consistent with the swap and the check in `put`: either `put` sees this relay
    // in flight and keeps the old handler alive, or this load sees the new pointer.
    entry.in_flight.fetch_add(1, Ordering::SeqCst);
    let p = entry.handler.load(Ordering::SeqCst);
    if !p.is_null() {
        // SAFETY: a pointer from `put`, not freed while this slot's relay is in flight.
        f(unsafe { &**p });
    }
    // The graveyard is swept by the next `put`, not here: this is every callback's path.
    entry.in_flight.fetch_sub(1, Ordering::SeqCst);
}

/// Frees the retired handlers whose slot has no relay running.
fn sweep(slots: &mut Slots) {
    slots.graveyard.retain(|(index, HandlerPtr(p))| {
        if ENTRIES[*index as usize].in_flight.load(Ordering::SeqCst) != 0 {
            return true;
        }
        // SAFETY: swapped out of its slot, and no relay of that slot is running: nobody holds it.
        drop(unsafe { Box::from_raw(*p) });
        false
    });
    RETIRED.store(slots.graveyard.len(), Ordering::Relaxed);
}

/// Stores a handler in a slot (NULL for none) and retires the previous one.
fn put(slots: &mut Slots, index: u32, handler: Option<Arc<dyn Handler>>) {
    let new = handler.map(|h| Box::into_raw(Box::new(h))).unwrap_or(std::ptr::null_mut());
    let old = ENTRIES[index as usize].handler.swap(new, Ordering::SeqCst);
    if !old.is_null() {
        slots.graveyard.push((index, HandlerPtr(old)));
    }
    sweep(slots);
}

/// Handlers swapped out of their slot and not yet freed (`koffi.implementation.retiredCallbacks()`).
pub fn retired() -> usize {
    RETIRED.load(Ordering::Relaxed)
}

/// Takes a free slot for `handler`: its index and the C function pointer that reaches it.
pub fn register(handler: Arc<dyn Handler>) -> Result<(u32, *const c_void), PoolError> {
    if !trampolines_linked() {
        return Err(PoolError);
    }
    with_slots(|slots| {
        let index = slots.free.pop_front().ok_or(PoolError)?;
        put(slots, index, Some(handler));
        slots.live[index as usize] = true;
        slots.in_use += 1;
        Ok((index, address(index)))
    })
}

/// Frees slot `index`, leaving `tombstone` to answer late calls (spec CB-02). Returns false if
/// the slot was not in use.
pub fn release(index: u32, tombstone: Option<Arc<dyn Handler>>) -> bool {
    with_slots(|slots| {
        let i = index as usize;
        if i >= POOL_SIZE || !slots.live[i] {
            return false;
        }
        slots.live[i] = false;
        put(slots, index, tombstone);
        slots.in_use -= 1;
        slots.free.push_back(index);
        true
    })
}

/// Replaces the handler of a slot in use (returns false if it is not in use).
pub fn replace(index: u32, handler: Arc<dyn Handler>) -> bool {
    with_slots(|slots| {
        let i = index as usize;
        if i >= POOL_SIZE || !slots.live[i] {
            return false;
        }
        put(slots, index, Some(handler));
        true
    })
}

/// Slots in use (`stats().callbacks`).
pub fn in_use() -> usize {
    with_slots(|slots| slots.in_use)
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

#[cfg(all(kffi_asm, target_arch = "arm", not(windows)))]
extern "C" {
    static kffi_trampolines_arm32: u8;
    static kffi_trampolines_end_arm32: u8;
}

#[cfg(all(kffi_asm, target_arch = "riscv64", not(windows)))]
extern "C" {
    static kffi_trampolines_riscv64: u8;
    static kffi_trampolines_end_riscv64: u8;
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
    #[cfg(all(kffi_asm, target_arch = "arm", not(windows)))]
    return Some((
        std::ptr::addr_of!(kffi_trampolines_arm32) as usize,
        std::ptr::addr_of!(kffi_trampolines_end_arm32) as usize,
    ));
    #[cfg(all(kffi_asm, target_arch = "riscv64", not(windows)))]
    return Some((
        std::ptr::addr_of!(kffi_trampolines_riscv64) as usize,
        std::ptr::addr_of!(kffi_trampolines_end_riscv64) as usize,
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
        if cfg!(kffi_asm) && crate::call::invoke::SUPPORTED {
            assert!(trampolines_linked(), "the assembly pool must hold POOL_SIZE entries of STRIDE bytes");
            assert_eq!(index_of(address(5) as usize), Some(5));
            assert_eq!(index_of(address(5) as usize + 1), None);
        }
    }

    struct Counted(Arc<AtomicUsize>);

    impl Handler for Counted {
        fn invoke(&self, _frame: &mut crate::call::CallFrame) {}
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_running_relay_delays_only_its_own_slot() {
        if !trampolines_linked() {
            return;
        }
        let dropped = Arc::new(AtomicUsize::new(0));
        let handler = || Arc::new(Counted(dropped.clone())) as Arc<dyn Handler>;
        let (outer, _) = register(handler()).unwrap();
        let mut freed_inside = 0;
        // While a relay of `outer` runs (a C main loop inside a callback), other slots come and
        // go, and each replaced handler is freed at once.
        with_handler(outer, |_| {
            for _ in 0..100 {
                let (i, _) = register(handler()).unwrap();
                assert!(release(i, None));
            }
            freed_inside = dropped.load(Ordering::SeqCst);
            // The running handler itself waits for its relay to end.
            assert!(release(outer, None));
            assert_eq!(dropped.load(Ordering::SeqCst), freed_inside);
        });
        assert_eq!(freed_inside, 100);
        // The next change to the pool frees it.
        let (i, _) = register(handler()).unwrap();
        assert!(release(i, None));
        assert_eq!(dropped.load(Ordering::SeqCst), 102);
    }
}
