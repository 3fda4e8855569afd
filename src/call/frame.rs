//! The call frame: the `#[repr(C)]` register image the assembly thunk reads and writes.
//!
//! Its layout is mirrored by `#define`s at the top of `asm/<abi>.S`; the `const` assertions
//! below stop the build if the two drift apart.

use crate::abi::{Ext, Move, RetMove, RetReg, Slot};

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
}

#[cfg(target_arch = "x86_64")]
const _: () = {
    assert!(core::mem::offset_of!(CallFrame, gpr) == 0);
    assert!(core::mem::offset_of!(CallFrame, fpr) == 48);
    assert!(core::mem::offset_of!(CallFrame, ret_gpr) == 112);
    assert!(core::mem::offset_of!(CallFrame, ret_fpr) == 128);
    assert!(core::mem::offset_of!(CallFrame, stack) == 144);
    assert!(core::mem::offset_of!(CallFrame, fpr_count) == 152);
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
