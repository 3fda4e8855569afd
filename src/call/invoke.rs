//! The assembly thunks, declared for Rust.

use std::ffi::c_void;

use super::frame::CallFrame;

#[cfg(all(kffi_asm, target_arch = "x86_64", not(windows)))]
extern "C" {
    /// `asm/x64_sysv.S`: loads the registers from `frame`, switches to `frame.stack`, calls
    /// `f`, stores the result registers into `frame`.
    fn kffi_call_x64_sysv(f: *const c_void, frame: *mut CallFrame);
}

#[cfg(all(kffi_asm, target_arch = "aarch64", not(windows)))]
extern "C" {
    /// `asm/arm64.S`: same contract as the x86-64 thunk, for AAPCS64.
    fn kffi_call_arm64(f: *const c_void, frame: *mut CallFrame);
}

#[cfg(all(kffi_asm, target_arch = "arm", not(windows)))]
extern "C" {
    /// `asm/arm32.S`: same contract, for AAPCS32 with VFP (32-bit frame words).
    fn kffi_call_arm32(f: *const c_void, frame: *mut CallFrame);
}

#[cfg(all(kffi_asm, target_arch = "riscv64", not(windows)))]
extern "C" {
    /// `asm/riscv64.S`: same contract, for the RISC-V LP64D convention.
    fn kffi_call_riscv64(f: *const c_void, frame: *mut CallFrame);
}

/// Whether this build has a forward-call thunk for its target.
pub const SUPPORTED: bool = cfg!(all(
    kffi_asm,
    any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm", target_arch = "riscv64"),
    not(windows)
));

/// Calls `f` with the registers and stack arguments described by `frame`.
///
/// # Safety
/// `f` must be a function whose real signature matches the plan that filled `frame`;
/// `frame.stack` must point into a stack block with room below it for `f` to run, 16-aligned.
#[inline(always)]
pub unsafe fn invoke(f: *const c_void, frame: &mut CallFrame) {
    #[cfg(all(kffi_asm, target_arch = "x86_64", not(windows)))]
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        kffi_call_x64_sysv(f, frame)
    }
    #[cfg(all(kffi_asm, target_arch = "aarch64", not(windows)))]
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        kffi_call_arm64(f, frame)
    }
    #[cfg(all(kffi_asm, target_arch = "arm", not(windows)))]
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        kffi_call_arm32(f, frame)
    }
    #[cfg(all(kffi_asm, target_arch = "riscv64", not(windows)))]
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        kffi_call_riscv64(f, frame)
    }
    #[cfg(not(all(
        kffi_asm,
        any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm", target_arch = "riscv64"),
        not(windows)
    )))]
    {
        let _ = (f, frame);
        unreachable!("callers check SUPPORTED before building a call");
    }
}
