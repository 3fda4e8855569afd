//! The call engine: executes a [`CallPlan`](crate::abi::CallPlan) through the assembly thunk.
//!
//! [`frame`] is the register image shared with `asm/<abi>.S`, [`memory`] the stack and heap
//! blocks calls run on, [`invoke`] the thunk declarations. [`call_bytes`] is the whole call path
//! for callers that hold arguments as C bytes (the engine tests and abi-tests); the N-API binding
//! uses the same pieces directly so that values go straight from JS into the frame.

pub mod errno;
pub mod frame;
pub mod invoke;
pub mod memory;
pub mod workers;

use std::ffi::c_void;

use crate::abi::{ArgLoc, CallPlan, RetLoc};
pub use frame::CallFrame;
pub use memory::{stack_area, CallError, CallMemory, Mark};

/// Calls `f` following `plan`, with each argument given as its C bytes, and writes the result's
/// C bytes into `ret` (which must be at least the result's size).
///
/// # Safety
/// `f` must really have the signature `plan` was classified from, each `args[i]` must hold
/// that argument's full C representation, and pointer arguments must be valid for `f`.
pub unsafe fn call_bytes(
    mem: &mut CallMemory,
    f: *const c_void,
    plan: &CallPlan,
    args: &[&[u8]],
    ret: &mut [u8],
) -> Result<(), CallError> {
    let mark = mem.mark();
    let result = (|| {
        let mut frame = CallFrame::default();
        let mut sret = std::ptr::null_mut();
        if let RetLoc::Sret { ptr } = plan.ret {
            sret = mem.alloc_zeroed(ret.len().max(1), 16);
            if sret.is_null() {
                return Err(CallError::OutOfMemory);
            }
            // SAFETY: register slot, no stack access.
            unsafe { frame.put(ptr, sret as u64) };
        }
        // Indirect copies go to the heap block before the stack is reserved.
        let mut indirect = Vec::with_capacity(args.len());
        for (loc, bytes) in plan.args.iter().zip(args) {
            indirect.push(match loc {
                ArgLoc::Indirect { .. } => {
                    let copy = mem.alloc(bytes.len().max(1), 16);
                    if copy.is_null() {
                        return Err(CallError::OutOfMemory);
                    }
                    // SAFETY: copy has bytes.len() writable bytes.
                    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), copy, bytes.len()) };
                    copy
                }
                ArgLoc::Moves(_) => std::ptr::null_mut(),
            });
        }
        frame.stack = mem.stack_args(plan.stack_size as usize)?;
        frame.fpr_count = plan.fpr_count as usize;
        for ((loc, bytes), copy) in plan.args.iter().zip(args).zip(indirect) {
            match loc {
                ArgLoc::Moves(moves) => {
                    for m in moves {
                        debug_assert!((m.src + m.len) as usize <= bytes.len());
                        // SAFETY: the plan's moves stay within the argument's bytes and the
                        // reserved stack area.
                        unsafe { frame.apply(m, bytes.as_ptr()) };
                    }
                }
                // SAFETY: as above.
                ArgLoc::Indirect { ptr } => unsafe { frame.put(*ptr, copy as u64) },
            }
        }
        // SAFETY: forwarded from the caller's contract.
        unsafe { invoke::invoke(f, &mut frame) };
        match &plan.ret {
            RetLoc::Void => {}
            // SAFETY: the caller sized `ret` for the result.
            RetLoc::Regs(moves) => unsafe { frame.store_ret(moves, ret.as_mut_ptr()) },
            // SAFETY: sret has ret.len() bytes.
            RetLoc::Sret { .. } => unsafe { std::ptr::copy_nonoverlapping(sret, ret.as_mut_ptr(), ret.len()) },
        }
        Ok(())
    })();
    mem.release(mark);
    result
}
