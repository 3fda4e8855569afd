//! The calling thread's `errno`: saved after every call and restored around what runs before
//! the next JS statement (spec CALL-11).

/// The calling thread's errno slot.
#[inline(always)]
pub fn errno_slot() -> *mut i32 {
    // SAFETY: errno_location has no preconditions.
    unsafe { errno_location() }
}

/// The calling thread's `errno`.
pub fn errno() -> i32 {
    // SAFETY: errno_location returns the thread's errno slot.
    unsafe { *errno_location() }
}

/// Sets the calling thread's `errno`.
pub fn set_errno(v: i32) {
    // SAFETY: as above.
    unsafe { *errno_location() = v }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn errno_location() -> *mut i32 {
    // SAFETY: no preconditions.
    unsafe { libc::__errno_location() }
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
unsafe fn errno_location() -> *mut i32 {
    // SAFETY: no preconditions.
    unsafe { libc::__error() }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
)))]
unsafe fn errno_location() -> *mut i32 {
    // SAFETY: no preconditions.
    unsafe { libc::__errno() }
}
