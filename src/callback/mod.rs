//! Callbacks (C → JS or C → Rust): the static trampoline pool of `asm/<abi>.S` and the relay.
//!
//! C calls trampoline `i`; the assembly spills the argument registers into a
//! [`CallFrame`](crate::call::CallFrame) and calls the relay with `(i, frame)`. The relay looks up
//! the [`Handler`] registered for slot `i` and lets it read the arguments through the prototype's
//! plan ([`CallFrame::load_arg`](crate::call::CallFrame::load_arg)) and leave a result in the frame
//! ([`CallFrame::store_result`](crate::call::CallFrame::store_result)). No memory is ever written
//! and made executable: the pool is plain code in the binary.

mod pool;
mod stack;

pub use pool::{address, in_use, index_of, register, release, replace, retired, PoolError, POOL_SIZE};
pub use stack::{js_stack, run_on_stack};

use crate::call::CallFrame;

/// What runs when C calls a trampoline. Called on whatever thread C called from.
pub trait Handler: Send + Sync {
    /// Reads the arguments from `frame` and stores the result into it.
    fn invoke(&self, frame: &mut CallFrame);
}

/// Dispatches one trampoline call to its handler. A slot without a handler returns zeros: the
/// trampoline entry cleared the result registers before calling us.
fn relay(index: u32, frame: *mut CallFrame) {
    // SAFETY: the trampoline passes its own stack frame, valid for the duration of this call.
    let frame = unsafe { &mut *frame };
    pool::with_handler(index, |handler| {
        // A panic must not unwind into C: the callback then returns zeros.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.invoke(frame)));
    });
}

/// The relay entry of `asm/x64_sysv.S`.
///
/// # Safety
/// Called only by the trampoline entry, with a frame on its stack.
#[cfg(all(kffi_asm, target_arch = "x86_64", not(windows)))]
#[no_mangle]
pub unsafe extern "C" fn kffi_relay_x64_sysv(index: u32, frame: *mut CallFrame) {
    relay(index, frame)
}

/// The relay entry of `asm/arm64.S`.
///
/// # Safety
/// Called only by the trampoline entry, with a frame on its stack.
#[cfg(all(kffi_asm, target_arch = "aarch64", not(windows)))]
#[no_mangle]
pub unsafe extern "C" fn kffi_relay_arm64(index: u32, frame: *mut CallFrame) {
    relay(index, frame)
}

/// The relay entry of `asm/arm32.S`.
///
/// # Safety
/// Called only by the trampoline entry, with a frame on its stack.
#[cfg(all(kffi_asm, target_arch = "arm", not(windows)))]
#[no_mangle]
pub unsafe extern "C" fn kffi_relay_arm32(index: u32, frame: *mut CallFrame) {
    relay(index, frame)
}

/// The relay entry of `asm/riscv64.S`.
///
/// # Safety
/// Called only by the trampoline entry, with a frame on its stack.
#[cfg(all(kffi_asm, target_arch = "riscv64", not(windows)))]
#[no_mangle]
pub unsafe extern "C" fn kffi_relay_riscv64(index: u32, frame: *mut CallFrame) {
    relay(index, frame)
}
