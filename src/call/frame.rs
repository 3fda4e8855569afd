//! The call frame: the `#[repr(C)]` register image the assembly thunk reads and writes.
//!
//! Its layout is mirrored by `#define`s at the top of `asm/<abi>.S`; the `const` assertions
//! below stop the build if the two drift apart.

use crate::abi::{ArgLoc, Ext, Move, RetLoc, RetMove, RetReg, Slot};

/// Register counts of the native ABI's frame: integer argument registers, vector argument
/// registers, and vector result registers.
#[cfg(target_arch = "x86_64")]
mod counts {
    /// rdi rsi rdx rcx r8 r9.
    pub const NGPR: usize = 6;
    /// xmm0–xmm7.
    pub const NFPR: usize = 8;
    /// xmm0 xmm1.
    pub const NRET_FPR: usize = 2;
}

/// AAPCS64: x0–x7 plus x8 (the indirect result register) as `gpr[8]`; v0–v7 (low 64 bits); an
/// HFA result comes back in up to four vector registers.
#[cfg(target_arch = "aarch64")]
mod counts {
    /// x0–x7, x8.
    pub const NGPR: usize = 9;
    /// d0–d7.
    pub const NFPR: usize = 8;
    /// d0–d3.
    pub const NRET_FPR: usize = 4;
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod counts {
    /// Placeholder for targets without a thunk yet.
    pub const NGPR: usize = 8;
    /// Placeholder for targets without a thunk yet.
    pub const NFPR: usize = 8;
    /// Placeholder for targets without a thunk yet.
    pub const NRET_FPR: usize = 4;
}

pub use counts::{NFPR, NGPR, NRET_FPR};

/// Register image shared with the assembly thunk.
#[repr(C)]
#[derive(Debug)]
pub struct CallFrame {
    /// Integer argument registers, in the ABI's order.
    pub gpr: [u64; NGPR],
    /// Vector argument registers (low 64 bits).
    pub fpr: [u64; NFPR],
    /// Integer result registers after the call.
    pub ret_gpr: [u64; 2],
    /// Vector result registers after the call (low 64 bits).
    pub ret_fpr: [u64; NRET_FPR],
    /// Stack pointer for the callee; outgoing stack arguments start there.
    pub stack: *mut u8,
    /// `%al` on x86-64 System V: vector registers used by a variadic call.
    pub fpr_count: u64,
    /// Written by the forward thunk: its own stack pointer before it switched stacks, so that a
    /// callback reached during the call can run JS on the thread's stack just below it.
    pub caller_sp: u64,
}

#[cfg(target_arch = "x86_64")]
const _: () = {
    assert!(core::mem::offset_of!(CallFrame, gpr) == 0);
    assert!(core::mem::offset_of!(CallFrame, fpr) == 48);
    assert!(core::mem::offset_of!(CallFrame, ret_gpr) == 112);
    assert!(core::mem::offset_of!(CallFrame, ret_fpr) == 128);
    assert!(core::mem::offset_of!(CallFrame, stack) == 144);
    assert!(core::mem::offset_of!(CallFrame, fpr_count) == 152);
    assert!(core::mem::offset_of!(CallFrame, caller_sp) == 160);
    assert!(core::mem::size_of::<CallFrame>() == 168);
};

// asm/arm64.S: FRAME_GPR 0, FRAME_FPR 72, FRAME_RET_GPR 136, FRAME_RET_FPR 152, FRAME_STACK 184.
#[cfg(target_arch = "aarch64")]
const _: () = {
    assert!(core::mem::offset_of!(CallFrame, gpr) == 0);
    assert!(core::mem::offset_of!(CallFrame, fpr) == 72);
    assert!(core::mem::offset_of!(CallFrame, ret_gpr) == 136);
    assert!(core::mem::offset_of!(CallFrame, ret_fpr) == 152);
    assert!(core::mem::offset_of!(CallFrame, stack) == 184);
    assert!(core::mem::offset_of!(CallFrame, fpr_count) == 192);
    assert!(core::mem::offset_of!(CallFrame, caller_sp) == 200);
    assert!(core::mem::size_of::<CallFrame>() == 208);
};

impl Default for CallFrame {
    fn default() -> Self {
        CallFrame {
            gpr: [0; NGPR],
            fpr: [0; NFPR],
            ret_gpr: [0; 2],
            ret_fpr: [0; NRET_FPR],
            stack: std::ptr::null_mut(),
            fpr_count: 0,
            caller_sp: 0,
        }
    }
}

/// Widens the low `len` bytes of `bits` as `ext` says.
#[inline(always)]
pub fn extend(bits: u64, len: u32, ext: Ext) -> u64 {
    if len >= 8 {
        return bits;
    }
    let shift = 64 - 8 * len;
    match ext {
        Ext::Sign => (((bits << shift) as i64) >> shift) as u64,
        Ext::Zero | Ext::None => (bits << shift) >> shift,
    }
}

impl CallFrame {
    /// Stores a scalar (already widened if needed) into a register or 8-byte stack slot.
    ///
    /// # Safety
    /// For `Slot::Stack`, `self.stack + offset .. + 8` must be writable.
    #[inline(always)]
    pub unsafe fn put(&mut self, dst: Slot, bits: u64) {
        match dst {
            Slot::Gpr(i) => self.gpr[i as usize] = bits,
            Slot::Fpr(i) => self.fpr[i as usize] = bits,
            // SAFETY: the caller guarantees the stack area covers this slot.
            Slot::Stack(off) => unsafe { (self.stack.add(off as usize) as *mut u64).write_unaligned(bits) },
        }
    }

    /// Executes one move of the plan: copies `m.len` bytes at `value + m.src` to `m.dst`.
    ///
    /// # Safety
    /// `value + m.src .. + m.len` must be readable; stack destinations must be writable.
    #[inline]
    pub unsafe fn apply(&mut self, m: &Move, value: *const u8) {
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            let src = value.add(m.src as usize);
            if m.len <= 8 {
                let mut bits = 0u64;
                std::ptr::copy_nonoverlapping(src, &mut bits as *mut u64 as *mut u8, m.len as usize);
                let bits = u64::from_le(bits);
                self.put(m.dst, extend(bits, m.len, m.ext));
            } else if let Slot::Stack(off) = m.dst {
                std::ptr::copy_nonoverlapping(src, self.stack.add(off as usize), m.len as usize);
            }
        }
    }

    /// The raw bits of a result register.
    #[inline(always)]
    pub fn ret(&self, reg: RetReg) -> u64 {
        match reg {
            RetReg::Gpr(i) => self.ret_gpr[i as usize],
            RetReg::Fpr(i) => self.ret_fpr[i as usize],
        }
    }

    /// Copies result registers into the result's C bytes at `dst`.
    ///
    /// # Safety
    /// `dst + m.dst .. + m.len` must be writable for every move.
    #[inline]
    pub unsafe fn store_ret(&self, moves: &[RetMove], dst: *mut u8) {
        for m in moves {
            let bits = self.ret(m.reg).to_le_bytes();
            // SAFETY: forwarded from the caller's contract; len ≤ 8.
            unsafe { std::ptr::copy_nonoverlapping(bits.as_ptr(), dst.add(m.dst as usize), m.len.min(8) as usize) };
        }
    }
}

/// The callee side: a callback trampoline spills the registers C passed into a frame (`stack`
/// then points at C's stack arguments), and the relay reads arguments and writes the result
/// through the same plan a forward call uses.
impl CallFrame {
    /// The raw 64 bits of an argument slot.
    ///
    /// # Safety
    /// For `Slot::Stack`, `self.stack + offset .. + 8` must be readable.
    #[inline]
    pub unsafe fn slot(&self, s: Slot) -> u64 {
        match s {
            Slot::Gpr(i) => self.gpr[i as usize],
            Slot::Fpr(i) => self.fpr[i as usize],
            // SAFETY: forwarded from the caller.
            Slot::Stack(off) => unsafe { (self.stack.add(off as usize) as *const u64).read_unaligned() },
        }
    }

    /// Copies an argument's C bytes (`size` of them) to `dst`, following where the plan put it.
    ///
    /// # Safety
    /// The frame must have been filled by a trampoline for a call of the planned signature, and
    /// `dst` must have `size` writable bytes.
    pub unsafe fn load_arg(&self, loc: &ArgLoc, dst: *mut u8, size: usize) {
        // SAFETY: forwarded from the caller: the plan describes this frame.
        unsafe {
            match loc {
                ArgLoc::Moves(moves) => {
                    for m in moves {
                        let at = dst.add(m.src as usize);
                        match m.dst {
                            Slot::Stack(off) => {
                                std::ptr::copy_nonoverlapping(self.stack.add(off as usize), at, m.len as usize)
                            }
                            reg => {
                                let bits = self.slot(reg).to_le_bytes();
                                std::ptr::copy_nonoverlapping(bits.as_ptr(), at, (m.len as usize).min(8));
                            }
                        }
                    }
                }
                ArgLoc::Indirect { ptr } => {
                    let src = self.slot(*ptr) as usize as *const u8;
                    std::ptr::copy_nonoverlapping(src, dst, size);
                }
            }
        }
    }

    /// Stores a result's C bytes (`size` of them, at `src`) where the plan says the caller expects
    /// them. A scalar narrower than its register is widened by `ext` (callers may rely on it).
    ///
    /// # Safety
    /// As for [`CallFrame::load_arg`]; `src` must have `size` readable bytes.
    pub unsafe fn store_result(&mut self, ret: &RetLoc, src: *const u8, size: usize, ext: Ext) {
        // SAFETY: forwarded from the caller.
        unsafe {
            match ret {
                RetLoc::Void => {}
                RetLoc::Regs(moves) => {
                    for m in moves {
                        let mut bits = 0u64;
                        std::ptr::copy_nonoverlapping(
                            src.add(m.dst as usize),
                            &mut bits as *mut u64 as *mut u8,
                            (m.len as usize).min(8),
                        );
                        let bits = if moves.len() == 1 { extend(u64::from_le(bits), m.len, ext) } else { bits };
                        match m.reg {
                            RetReg::Gpr(i) => self.ret_gpr[i as usize] = bits,
                            RetReg::Fpr(i) => self.ret_fpr[i as usize] = bits,
                        }
                    }
                }
                RetLoc::Sret { ptr } => {
                    // The caller's result memory; x86-64 also wants its address back in %rax.
                    let dst = self.slot(*ptr) as usize as *mut u8;
                    std::ptr::copy_nonoverlapping(src, dst, size);
                    self.ret_gpr[0] = dst as u64;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_widens_by_sign_or_zero() {
        assert_eq!(extend(0xff, 1, Ext::Sign), u64::MAX);
        assert_eq!(extend(0xff, 1, Ext::Zero), 0xff);
        assert_eq!(extend(0xdead_8000, 2, Ext::Sign), 0xffff_ffff_ffff_8000);
        assert_eq!(extend(0x1_8000_0000, 4, Ext::Sign), 0xffff_ffff_8000_0000);
        assert_eq!(extend(0x1234, 8, Ext::Sign), 0x1234);
    }
}
