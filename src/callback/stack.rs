//! Running code on another stack: JS must run on the thread's own stack (V8 checks its limits),
//! while a callback is reached from C running on the call memory's stack.

use std::cell::Cell;

use crate::call::CallFrame;

thread_local! {
    /// The frame of the innermost synchronous call on this thread (NULL: not in a call).
    static CURRENT_FRAME: Cell<*const CallFrame> = const { Cell::new(std::ptr::null()) };
}

/// Bytes left untouched below the thunk's stack pointer (a red zone for its frame).
const RED_ZONE: usize = 128;

/// Records the frame of the call about to run, whose thunk will save its stack pointer in
/// `caller_sp`; returns the previous one, to restore when the call returns (calls nest).
pub fn set_current_frame(frame: *const CallFrame) -> *const CallFrame {
    CURRENT_FRAME.with(|c| c.replace(frame))
}

/// Where JS may run during the current call on this thread: just below the forward thunk's
/// stack pointer, on the thread's own stack. `None` outside a call.
pub fn js_stack() -> Option<usize> {
    let frame = CURRENT_FRAME.with(|c| c.get());
    if frame.is_null() {
        return None;
    }
    // SAFETY: the frame outlives the call during which it is current; C running that call is
    // what reaches us here.
    let sp = unsafe { std::ptr::read_volatile(std::ptr::addr_of!((*frame).caller_sp)) } as usize;
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

/// Runs `f` with the stack pointer at `sp` (aligned down to 16), then returns to this stack.
///
/// # Safety
/// `sp` must be the top of stack memory that is unused while `f` runs and large enough for it.
pub unsafe fn run_on_stack(sp: usize, f: &mut dyn FnMut()) {
    unsafe extern "C" fn trampoline(arg: *mut std::ffi::c_void) {
        // SAFETY: `arg` is the `&mut &mut dyn FnMut()` below, alive for this call.
        let f = unsafe { &mut *(arg as *mut &mut dyn FnMut()) };
        // Unwinding through the stack switch is not possible: stop panics here.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    }
    let mut f = f;
    let arg = &mut f as *mut &mut dyn FnMut() as *mut std::ffi::c_void;
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
    #[cfg(not(all(kffi_asm, any(target_arch = "x86_64", target_arch = "aarch64"), not(windows))))]
    {
        let _ = (arg, sp);
        // SAFETY: no stack switch available: run in place.
        unsafe { trampoline(arg) };
    }
}
