//! Call memory: the stack block the C function runs on and the heap block that holds the call's
//! temporaries (strings, struct copies, output buffers), per spec CALL-13.
//!
//! Both blocks are mapped once. A call takes a [`Mark`], bump-allocates, and releases back to
//! the mark when it returns, so nested calls (a callback calling C again) simply stack on top.
//! The stack block has a guard page at its low end: a C function that overflows it faults
//! instead of silently writing over other memory.

use std::io;

use memmap2::{MmapMut, MmapOptions};

use super::CallFrame;

/// Bytes kept free below the outgoing arguments, as upstream does (spec CALL-13).
pub const RED_ZONE: usize = 512;
/// Temporaries larger than this always come from the system allocator (spec CALL-13).
pub const MAX_BLOCK_ALLOC: usize = 4096;
/// Stack bytes a [`CallFrame`] takes at the top of the free stack (keeps 16-byte alignment).
pub const FRAME_SLOT: usize = std::mem::size_of::<CallFrame>().next_multiple_of(16);

/// The outgoing stack area of `stack_size` bytes of stack arguments: a multiple of 16 (the
/// callee's stack pointer stays aligned, System V AMD64 psABI §3.2.2 / AAPCS64 §6.4.5.1).
pub const fn stack_area(stack_size: usize) -> usize {
    stack_size.next_multiple_of(16)
}

/// Errors of the call engine.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError {
    /// The outgoing arguments do not fit in the stack block.
    StackExhausted,
    /// The memory blocks could not be mapped.
    Map(String),
    /// A temporary could not be allocated.
    OutOfMemory,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::StackExhausted => f.write_str("FFI call is taking up too much memory"),
            CallError::Map(e) => write!(f, "Failed to allocate call memory: {e}"),
            CallError::OutOfMemory => f.write_str("Failed to allocate memory for a temporary value"),
        }
    }
}

impl std::error::Error for CallError {}

/// A point to release the call memory back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    sp: usize,
    heap: usize,
    spilled: usize,
}

/// The stack and heap blocks of one thread of calls.
#[derive(Debug)]
pub struct CallMemory {
    _stack: MmapMut,
    stack_low: usize,
    /// `stack_low` plus the red zone and room for the callee: no stack pointer handed to C
    /// goes below it.
    limit: usize,
    top: usize,
    sp: usize,
    heap: MmapMut,
    heap_used: usize,
    spilled: Vec<Box<[u64]>>,
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as usize
    } else {
        4096
    }
}

impl CallMemory {
    /// Maps a stack block of `stack_size` bytes (plus a guard page) and a heap block.
    pub fn new(stack_size: usize, heap_size: usize) -> Result<CallMemory, CallError> {
        let page = page_size();
        let stack_size = stack_size.div_ceil(page) * page;
        let map_err = |e: io::Error| CallError::Map(e.to_string());
        let mut stack = MmapOptions::new().len(stack_size + page).stack().map_anon().map_err(map_err)?;
        let low = stack.as_mut_ptr() as usize;
        // SAFETY: the first page lies inside the mapping we own; making it inaccessible turns a
        // stack overflow in C into a fault rather than a write over unrelated memory.
        let rc = unsafe { libc::mprotect(low as *mut libc::c_void, page, libc::PROT_NONE) };
        if rc != 0 {
            return Err(CallError::Map(io::Error::last_os_error().to_string()));
        }
        let heap = MmapOptions::new().len(heap_size.max(page)).map_anon().map_err(map_err)?;
        let top = low + page + stack_size;
        Ok(CallMemory {
            _stack: stack,
            stack_low: low + page,
            limit: low + page + RED_ZONE * 2,
            top: top & !15,
            sp: top & !15,
            heap,
            heap_used: 0,
            spilled: Vec::new(),
        })
    }

    /// The current position, to release back to with [`CallMemory::release`].
    #[inline(always)]
    pub fn mark(&self) -> Mark {
        Mark { sp: self.sp, heap: self.heap_used, spilled: self.spilled.len() }
    }

    /// Frees everything taken since `mark`.
    #[inline(always)]
    pub fn release(&mut self, mark: Mark) {
        self.sp = mark.sp;
        self.heap_used = mark.heap;
        if self.spilled.len() > mark.spilled {
            self.spilled.truncate(mark.spilled);
        }
    }

    /// Frees everything: the block set is as new (the async pool reuses block sets).
    pub fn reset(&mut self) {
        self.sp = self.top;
        self.heap_used = 0;
        self.spilled.clear();
    }

    /// The current top of free stack (where a nested call's arguments would go).
    pub fn stack_pointer(&self) -> usize {
        self.sp
    }

    /// Moves the top of free stack down to `sp` (a callback entered from C running on this
    /// block must not let nested calls overwrite that C code's frames).
    pub fn lower_stack_pointer(&mut self, sp: usize) {
        if sp < self.sp && sp > self.stack_low {
            self.sp = sp & !15;
        }
    }

    /// Reserves `size` bytes of outgoing stack arguments and returns the callee's stack
    /// pointer (16-byte aligned, the arguments start there). At least [`RED_ZONE`] bytes and
    /// room for the callee must remain below.
    pub fn stack_args(&mut self, size: usize) -> Result<*mut u8, CallError> {
        let sp = (self.sp.checked_sub(size).ok_or(CallError::StackExhausted)?) & !15;
        if sp < self.limit {
            return Err(CallError::StackExhausted);
        }
        self.sp = sp;
        Ok(sp as *mut u8)
    }

    /// A call frame at the top of the free stack with `stack_area` bytes of outgoing stack
    /// arguments below it (a multiple of 16, see [`stack_area`]): returns the frame and the
    /// callee's stack pointer (16-byte aligned, the arguments start there). At least
    /// [`RED_ZONE`] bytes and room for the callee must remain below.
    ///
    /// The frame's memory holds whatever an earlier call left (the thunk loads every register
    /// image, so nothing needs zeroing: a callee only reads the registers it was passed). With
    /// `reserve`, the top of free stack moves below both, for calls that may run JS (and so
    /// nested calls) before C is called; otherwise it stays, which is enough when nothing runs
    /// between now and the call (callbacks during the call move it below the C frames).
    #[inline(always)]
    pub fn top_frame(&mut self, stack_area: usize, reserve: bool) -> Result<(*mut CallFrame, *mut u8), CallError> {
        debug_assert!(stack_area % 16 == 0 && self.sp % 16 == 0);
        // `sp` stays 16-aligned and above `limit`, so the frame needs no rounding and only the
        // stack arguments can run out of room.
        let frame = self.sp - FRAME_SLOT;
        let stack = match frame.checked_sub(stack_area) {
            Some(stack) if stack >= self.limit => stack,
            _ => return Err(CallError::StackExhausted),
        };
        if reserve {
            self.sp = stack;
        }
        Ok((frame as *mut CallFrame, stack as *mut u8))
    }

    /// Allocates `size` bytes aligned to `align` (≤ 16) for the duration of the call: from the
    /// heap block when it fits, else from the system allocator (spec CALL-13). The memory is
    /// *not* zeroed. Returns NULL only when the system allocator cannot provide `size` bytes
    /// (a JS value asking for an absurd temporary must give an error, not abort the process).
    #[inline]
    pub fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        let align = align.clamp(1, 16);
        let start = (self.heap_used + align - 1) & !(align - 1);
        if size <= MAX_BLOCK_ALLOC && start + size <= self.heap.len() {
            self.heap_used = start + size;
            // SAFETY: start + size lies within the heap mapping.
            return unsafe { self.heap.as_mut_ptr().add(start) };
        }
        spill_into(&mut self.spilled, size)
    }

    /// Like [`CallMemory::alloc`], zero-filled.
    #[inline]
    pub fn alloc_zeroed(&mut self, size: usize, align: usize) -> *mut u8 {
        let ptr = self.alloc(size, align);
        if !ptr.is_null() {
            // SAFETY: alloc returned `size` writable bytes.
            unsafe { std::ptr::write_bytes(ptr, 0, size) };
        }
        ptr
    }

    /// Bytes left in the heap block (for callers that try to encode in place first).
    #[inline(always)]
    pub fn heap_remaining(&self) -> usize {
        self.heap.len() - self.heap_used
    }

    /// The next free byte of the heap block (8-aligned), for in-place encoding of up to
    /// [`CallMemory::heap_remaining`] bytes; commit with [`CallMemory::commit`].
    #[inline(always)]
    pub fn heap_cursor(&mut self) -> *mut u8 {
        self.heap_used = (self.heap_used + 7) & !7;
        // SAFETY: heap_used ≤ len (alignment never passes len since len is a page multiple).
        unsafe { self.heap.as_mut_ptr().add(self.heap_used.min(self.heap.len())) }
    }

    /// Takes `size` bytes at [`CallMemory::heap_cursor`].
    #[inline(always)]
    pub fn commit(&mut self, size: usize) {
        self.heap_used = (self.heap_used + size).min(self.heap.len());
    }
}

/// Allocates a zeroed, 16-byte-aligned block of at least `size` bytes from the system allocator,
/// hands it to `keep` (which owns it from then on) and returns its address; null when it cannot
/// be had.
pub fn spill_into(keep: &mut Vec<Box<[u64]>>, size: usize) -> *mut u8 {
    let Some(words) = size.checked_add(15).map(|n| n / 8) else {
        return std::ptr::null_mut();
    };
    let mut v: Vec<u64> = Vec::new();
    if v.try_reserve_exact(words).is_err() {
        return std::ptr::null_mut();
    }
    v.resize(words, 0);
    let mut block = v.into_boxed_slice();
    let ptr = block.as_mut_ptr() as *mut u8;
    keep.push(block);
    ptr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_allocation_releases_to_the_mark() {
        let mut mem = CallMemory::new(64 << 10, 64 << 10).unwrap();
        let m = mem.mark();
        let a = mem.alloc(10, 8) as usize;
        let b = mem.alloc(10, 8) as usize;
        assert_eq!(b - a, 16);
        mem.release(m);
        assert_eq!(mem.alloc(10, 8) as usize, a);
    }

    #[test]
    fn big_temporaries_spill_to_the_system_allocator() {
        let mut mem = CallMemory::new(64 << 10, 8 << 10).unwrap();
        let m = mem.mark();
        let big = mem.alloc_zeroed(1 << 20, 8);
        // SAFETY: alloc_zeroed returned 1 MiB of writable memory.
        unsafe { big.add((1 << 20) - 1).write(7) };
        assert_eq!(mem.spilled.len(), 1);
        mem.release(m);
        assert!(mem.spilled.is_empty());
    }

    #[test]
    fn stack_arguments_are_aligned_and_bounded() {
        let mut mem = CallMemory::new(64 << 10, 4096).unwrap();
        let sp = mem.stack_args(24).unwrap() as usize;
        assert_eq!(sp % 16, 0);
        assert_eq!(mem.stack_args(1 << 20), Err(CallError::StackExhausted));
    }

    #[test]
    fn top_frames_sit_below_the_free_stack_and_stop_at_the_red_zone() {
        let mut mem = CallMemory::new(64 << 10, 4096).unwrap();
        let top = mem.stack_pointer();
        let (frame, stack) = mem.top_frame(stack_area(40), false).unwrap();
        assert_eq!(frame as usize, top - FRAME_SLOT);
        assert_eq!(stack as usize, frame as usize - 48);
        assert_eq!(stack as usize % 16, 0);
        assert_eq!(mem.stack_pointer(), top, "not reserved");
        let (_, stack) = mem.top_frame(0, true).unwrap();
        assert_eq!(mem.stack_pointer(), stack as usize, "reserved");
        assert_eq!(mem.top_frame(stack_area(64 << 10), false), Err(CallError::StackExhausted));
        let room = mem.stack_pointer() - FRAME_SLOT - mem.limit;
        assert!(mem.top_frame(room, false).is_ok());
        assert_eq!(mem.top_frame(room + 16, false), Err(CallError::StackExhausted));
    }
}
