//! The call frame: the `#[repr(C)]` register image the assembly thunk reads and writes.
//!
//! Its layout is mirrored by `#define`s at the top of `asm/<abi>.S`; the `const` assertions
//! below stop the build if the two drift apart.

use crate::abi::{ArgLoc, Ext, Move, RetLoc, RetMove, RetReg, Slot};

/// Register counts of the native ABI's frame: integer argument registers, floating-point
/// argument registers, and floating-point result registers, each a [`Word`].
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

/// AAPCS32 with VFP: r0–r3; the VFP argument registers as sixteen single-precision words
/// s0–s15 (d0–d7, with d*n* = s2*n* low : s2*n*+1 high); results in r0 r1 and s0–s7 (an HFA of
/// four doubles fills d0–d3).
#[cfg(target_arch = "arm")]
mod counts {
    /// r0–r3.
    pub const NGPR: usize = 4;
    /// s0–s15.
    pub const NFPR: usize = 16;
    /// s0–s7.
    pub const NRET_FPR: usize = 8;
}

/// RISC-V LP64D: a0–a7 and fa0–fa7; results in a0 a1 and fa0 fa1.
#[cfg(target_arch = "riscv64")]
mod counts {
    /// a0–a7.
    pub const NGPR: usize = 8;
    /// fa0–fa7.
    pub const NFPR: usize = 8;
    /// fa0 fa1.
    pub const NRET_FPR: usize = 2;
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm", target_arch = "riscv64")))]
mod counts {
    /// Placeholder for targets without a thunk yet.
    pub const NGPR: usize = 8;
    /// Placeholder for targets without a thunk yet.
    pub const NFPR: usize = 8;
    /// Placeholder for targets without a thunk yet.
    pub const NRET_FPR: usize = 4;
}

/// One register or stack slot of the frame: the width of the target's general registers, so
/// that the assembly loads each with one plain load. A plan's pieces never exceed it in a
/// register; wider values (64-bit integers and doubles on 32-bit targets) come as several moves.
#[cfg(target_pointer_width = "64")]
pub type Word = u64;
/// One register or stack slot of the frame (see the 64-bit definition).
#[cfg(target_pointer_width = "32")]
pub type Word = u32;

/// Bytes in a [`Word`].
pub const WORD: usize = std::mem::size_of::<Word>();

/// The one move of an argument placed in a single slot, if it fits a [`Word`]: what one
/// [`CallFrame::put`] stores and one [`CallFrame::slot`] reads. `None` for several moves, and
/// for one longer stack move (a double or 64-bit integer on a 32-bit target's stack), which only
/// [`CallFrame::apply`] and [`CallFrame::load_arg`] copy whole.
#[inline]
pub fn single_word(moves: &[Move]) -> Option<&Move> {
    match moves {
        [m] if m.len as usize <= WORD => Some(m),
        _ => None,
    }
}

/// A word as 64 bits (zero-extended on 32-bit targets).
#[inline(always)]
#[allow(clippy::unnecessary_cast, reason = "Word is u64 on 64-bit targets and u32 on 32-bit ones")]
fn bits_of(word: Word) -> u64 {
    word as u64
}

pub use counts::{NFPR, NGPR, NRET_FPR};

/// Register image shared with the assembly thunk.
#[repr(C)]
#[derive(Debug)]
pub struct CallFrame {
    /// Integer argument registers, in the ABI's order.
    pub gpr: [Word; NGPR],
    /// Floating-point argument registers (the low 64 bits of a vector register; single words
    /// on ARM32).
    pub fpr: [Word; NFPR],
    /// Integer result registers after the call.
    pub ret_gpr: [Word; 2],
    /// Floating-point result registers after the call.
    pub ret_fpr: [Word; NRET_FPR],
    /// Stack pointer for the callee; outgoing stack arguments start there.
    pub stack: *mut u8,
    /// `%al` on x86-64 System V: vector registers used by a variadic call.
    pub fpr_count: usize,
    /// Written by the forward thunk: its own stack pointer before it switched stacks, so that a
    /// callback reached during the call can run JS on the thread's stack just below it.
    pub caller_sp: usize,
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

// asm/arm32.S: FRAME_GPR 0, FRAME_FPR 16, FRAME_RET_GPR 80, FRAME_RET_FPR 88, FRAME_STACK 120.
#[cfg(target_arch = "arm")]
const _: () = {
    assert!(core::mem::offset_of!(CallFrame, gpr) == 0);
    assert!(core::mem::offset_of!(CallFrame, fpr) == 16);
    assert!(core::mem::offset_of!(CallFrame, ret_gpr) == 80);
    assert!(core::mem::offset_of!(CallFrame, ret_fpr) == 88);
    assert!(core::mem::offset_of!(CallFrame, stack) == 120);
    assert!(core::mem::offset_of!(CallFrame, fpr_count) == 124);
    assert!(core::mem::offset_of!(CallFrame, caller_sp) == 128);
    assert!(core::mem::size_of::<CallFrame>() == 132);
};

// asm/riscv64.S: FRAME_GPR 0, FRAME_FPR 64, FRAME_RET_GPR 128, FRAME_RET_FPR 144, FRAME_STACK 160.
#[cfg(target_arch = "riscv64")]
const _: () = {
    assert!(core::mem::offset_of!(CallFrame, gpr) == 0);
    assert!(core::mem::offset_of!(CallFrame, fpr) == 64);
    assert!(core::mem::offset_of!(CallFrame, ret_gpr) == 128);
    assert!(core::mem::offset_of!(CallFrame, ret_fpr) == 144);
    assert!(core::mem::offset_of!(CallFrame, stack) == 160);
    assert!(core::mem::offset_of!(CallFrame, fpr_count) == 168);
    assert!(core::mem::offset_of!(CallFrame, caller_sp) == 176);
    assert!(core::mem::size_of::<CallFrame>() == 184);
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
        Ext::NanBox => ((bits << shift) >> shift) | (u64::MAX << (8 * len)),
    }
}

impl CallFrame {
    /// Stores a scalar (already widened if needed) into a register or a [`Word`] stack slot.
    /// Bits above a word are dropped (the plan never puts more than a word in one slot).
    ///
    /// # Safety
    /// For `Slot::Stack`, `self.stack + offset .. + WORD` must be writable.
    #[inline(always)]
    pub unsafe fn put(&mut self, dst: Slot, bits: u64) {
        let word = bits as Word;
        match dst {
            Slot::Gpr(i) => self.gpr[i as usize] = word,
            Slot::Fpr(i) => self.fpr[i as usize] = word,
            // SAFETY: the caller guarantees the stack area covers this slot.
            Slot::Stack(off) => unsafe { (self.stack.add(off as usize) as *mut Word).write_unaligned(word) },
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
            debug_assert!(m.len as usize <= WORD || matches!(m.dst, Slot::Stack(_)), "{m:?} exceeds a register");
            if m.len as usize <= WORD {
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
            RetReg::Gpr(i) => bits_of(self.ret_gpr[i as usize]),
            RetReg::Fpr(i) => bits_of(self.ret_fpr[i as usize]),
        }
    }

    /// Sets a result register (a callback's result), keeping the low [`Word`] of `bits`.
    #[inline(always)]
    pub fn set_ret(&mut self, reg: RetReg, bits: u64) {
        match reg {
            RetReg::Gpr(i) => self.ret_gpr[i as usize] = bits as Word,
            RetReg::Fpr(i) => self.ret_fpr[i as usize] = bits as Word,
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
    /// The raw bits of an argument slot (one [`Word`]).
    ///
    /// # Safety
    /// For `Slot::Stack`, `self.stack + offset .. + WORD` must be readable.
    #[inline]
    pub unsafe fn slot(&self, s: Slot) -> u64 {
        match s {
            Slot::Gpr(i) => bits_of(self.gpr[i as usize]),
            Slot::Fpr(i) => bits_of(self.fpr[i as usize]),
            // SAFETY: forwarded from the caller.
            Slot::Stack(off) => unsafe { bits_of((self.stack.add(off as usize) as *const Word).read_unaligned()) },
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
    /// them. A piece narrower than its register is widened as the plan says (callers may rely on
    /// it).
    ///
    /// # Safety
    /// As for [`CallFrame::load_arg`]; `src` must have `size` readable bytes.
    pub unsafe fn store_result(&mut self, ret: &RetLoc, src: *const u8, size: usize) {
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
                        self.set_ret(m.reg, extend(u64::from_le(bits), m.len, m.ext));
                    }
                }
                RetLoc::Sret { ptr } => {
                    // The caller's result memory; x86-64 also wants its address back in %rax.
                    let dst = self.slot(*ptr) as usize as *mut u8;
                    std::ptr::copy_nonoverlapping(src, dst, size);
                    self.ret_gpr[0] = dst as usize as Word;
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

    #[test]
    fn nan_boxing_sets_the_upper_bits() {
        // RISC-V: a float in a 64-bit register is valid only with the upper half all ones.
        assert_eq!(extend(0x3f80_0000, 4, Ext::NanBox), 0xffff_ffff_3f80_0000);
        assert_eq!(extend(0xdead_beef_3f80_0000, 4, Ext::NanBox), 0xffff_ffff_3f80_0000);
        assert_eq!(extend(0x4000_0000_0000_0000, 8, Ext::NanBox), 0x4000_0000_0000_0000);
    }
}
