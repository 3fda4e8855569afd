//! Loaded libraries and when they may be unmapped (spec LIB-09, LIB-10).

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A loaded shared library (or the process image), shared by the library object and every
/// function declared from it.
///
/// The library is unmapped only by `lib.unload()` (spec LIB-10), and only once no call into it
/// is in flight; garbage collection and environment teardown never unmap it. C code
/// may have left pointers into it where nothing of ours can see them: libuv handles on Node's
/// loop, `atexit` handlers, threads. Unmapping under them crashes the process later, far from
/// the cause, so a library nobody unloads stays mapped until the process ends.
pub struct LibHandle {
    lib: Mutex<Option<libloading::os::unix::Library>>,
    /// False once `unload()` was called: no new call may start.
    loaded: AtomicBool,
    is_self: bool,
    /// Asynchronous calls into the library not yet completed: the last one to complete after
    /// `unload()` closes it.
    in_flight: AtomicUsize,
}

impl LibHandle {
    /// Whether the library may still be called (`unload()` not called).
    #[inline]
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Relaxed)
    }

    /// A handle on an open library (`is_self`: the process image, `koffi.load(null)`).
    pub fn new(lib: libloading::os::unix::Library, is_self: bool) -> LibHandle {
        LibHandle { lib: Mutex::new(Some(lib)), loaded: AtomicBool::new(true), is_self, in_flight: AtomicUsize::new(0) }
    }

    /// `unload()`: no new call may start. False for the process image (`koffi.load(null)`),
    /// which is never unloaded. Closing is the caller's next step (see `close_if_idle`).
    pub fn mark_unloaded(&self) -> bool {
        if self.is_self {
            return false;
        }
        self.loaded.store(false, Ordering::Relaxed);
        true
    }

    /// Closes the library if `unload()` was called and no asynchronous call into it is in
    /// flight. Synchronous calls are the caller's concern (see `unload`).
    pub fn close_if_idle(&self) {
        if !self.is_loaded() && self.in_flight.load(Ordering::Acquire) == 0 {
            self.close();
        }
    }

    /// `dlclose` (twice is harmless).
    fn close(&self) {
        let lib = self.lib.lock().ok().and_then(|mut lib| lib.take());
        drop(lib);
    }

    /// The address of symbol `name`, if the library is loaded and exports it.
    pub fn symbol(&self, name: &str) -> Option<*const c_void> {
        if !self.is_loaded() {
            return None;
        }
        let lib = self.lib.lock().ok()?;
        let lib = lib.as_ref()?;
        let mut cname = name.as_bytes().to_vec();
        cname.push(0);
        // SAFETY: we only read the symbol's address; nothing is called here.
        let sym = unsafe { lib.get::<*const c_void>(&cname) }.ok()?;
        Some(sym.into_raw() as *const c_void)
    }
}

/// An asynchronous call into a library, from before its arguments are converted until it is
/// completed or abandoned: while one exists, `unload()` leaves the library mapped, and the last
/// one to go after `unload()` closes it.
pub struct InFlight(Option<Arc<LibHandle>>);

impl InFlight {
    /// Counts a call into `lib` (JS thread, after checking that it is loaded).
    pub fn new(lib: Option<&Arc<LibHandle>>) -> InFlight {
        if let Some(lib) = lib {
            lib.in_flight.fetch_add(1, Ordering::AcqRel);
        }
        InFlight(lib.cloned())
    }
}

impl Drop for InFlight {
    /// The call is over (any thread).
    fn drop(&mut self) {
        if let Some(lib) = &self.0 {
            if lib.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 && !lib.is_loaded() {
                lib.close();
            }
        }
    }
}

impl Drop for LibHandle {
    /// The last reference went (garbage collection, teardown) without `unload()`: the library
    /// stays mapped (see [`LibHandle`]).
    fn drop(&mut self) {
        if let Some(lib) = self.lib.get_mut().ok().and_then(|lib| lib.take()) {
            std::mem::forget(lib);
        }
    }
}
