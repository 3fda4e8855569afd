//! Running code on another stack: JS must run on the thread's own stack (V8 checks its limits),
//! while a callback is reached from C running on the call memory's stack.

use crate::call::CallFrame;

/// Bytes left untouched below the thunk's stack pointer (a red zone for its frame).
const RED_ZONE: usize = 128;

/// Where JS may run while `frame`'s call is in progress: just below the forward thunk's stack
/// pointer (which the thunk records in `caller_sp`), on the thread's own stack. `None` when the
/// frame is NULL or its thunk has not run.
///
/// # Safety
/// `frame` must be NULL or the frame of a call in progress on this thread.
pub unsafe fn js_stack(frame: *const CallFrame) -> Option<usize> {
    if frame.is_null() {
        return None;
    }
    // SAFETY: forwarded from the caller; the thunk wrote the field before calling C.
    let sp = unsafe { std::ptr::read_volatile(std::ptr::addr_of!((*frame).caller_sp)) };
    Some(sp).filter(|sp| *sp != 0).map(|sp| sp - RED_ZONE)
}

#[cfg(all(kffi_asm, target_arch = "x86_64", not(windows)))]
extern "C" {
    fn kffi_switch_x64_sysv(arg: *mut std::ffi::c_void, f: unsafe extern "C" fn(*mut std::ffi::c_void), sp: *mut u8);
}

#[cfg(all(kffi_asm, target_arch = "aarch64", not(windows)))]
extern "C" {
    fn kffi_switch_arm64(arg: *mut std::ffi::c_void, f: unsafe extern "C" fn(*mut std::ffi::c_void), sp: *mut u8);
}

#[cfg(all(kffi_asm, target_arch = "arm", not(windows)))]
extern "C" {
    fn kffi_switch_arm32(arg: *mut std::ffi::c_void, f: unsafe extern "C" fn(*mut std::ffi::c_void), sp: *mut u8);
}

#[cfg(all(kffi_asm, target_arch = "riscv64", not(windows)))]
extern "C" {
    fn kffi_switch_riscv64(arg: *mut std::ffi::c_void, f: unsafe extern "C" fn(*mut std::ffi::c_void), sp: *mut u8);
}

/// Bytes below this function's own frame that the stack switch itself may use.
const SWITCH_FRAMES: usize = 256;

/// Runs `f` with the stack pointer at `sp` (aligned down to 16), then returns to this stack.
/// `f` receives the lowest address this (the old) stack may use meanwhile: anything placed
/// on that stack while `f` runs must stay below it.
///
/// # Safety
/// `sp` must be the top of stack memory that is unused while `f` runs and large enough for it.
pub unsafe fn run_on_stack(sp: usize, f: &mut dyn FnMut(usize)) {
    struct Call<'a> {
        f: &'a mut dyn FnMut(usize),
        low: usize,
    }
    unsafe extern "C" fn trampoline(arg: *mut std::ffi::c_void) {
        // SAFETY: `arg` is the `Call` below, alive for this call.
        let call = unsafe { &mut *(arg as *mut Call<'_>) };
        // Unwinding through the stack switch is not possible: stop panics here.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (call.f)(call.low)));
    }
    // This frame is the deepest one of the old stack's Rust code; only the switch's own few
    // bytes go below it (however large debug builds make the frames above).
    let mut call = Call { f, low: 0 };
    call.low = (&call as *const Call<'_> as usize).saturating_sub(SWITCH_FRAMES);
    let arg = &mut call as *mut Call<'_> as *mut std::ffi::c_void;
    let sp = (sp & !15) as *mut u8;
    #[cfg(all(kffi_asm, target_arch = "x86_64", not(windows)))]
    // SAFETY: forwarded from the caller.
    unsafe {
        kffi_switch_x64_sysv(arg, trampoline, sp)
    };
    #[cfg(all(kffi_asm, target_arch = "aarch64", not(windows)))]
    // SAFETY: forwarded from the caller.
    unsafe {
        kffi_switch_arm64(arg, trampoline, sp)
    };
    #[cfg(all(kffi_asm, target_arch = "arm", not(windows)))]
    // SAFETY: forwarded from the caller.
    unsafe {
        kffi_switch_arm32(arg, trampoline, sp)
    };
    #[cfg(all(kffi_asm, target_arch = "riscv64", not(windows)))]
    // SAFETY: forwarded from the caller.
    unsafe {
        kffi_switch_riscv64(arg, trampoline, sp)
    };
    #[cfg(not(all(
        kffi_asm,
        any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm", target_arch = "riscv64"),
        not(windows)
    )))]
    {
        let _ = (arg, sp);
        // SAFETY: no stack switch available: run in place.
        unsafe { trampoline(arg) };
    }
}
