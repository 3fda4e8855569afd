//! Numbers, booleans and ASCII strings read straight from V8's tagged values, and small integer
//! results handed back the same way, for the lean call path.
//!
//! A `napi_value` in Node.js is the address of a slot holding one of V8's tagged words. On a
//! 64-bit build without pointer compression (Node.js's own builds for x64 and arm64) the word
//! is either a *Smi*, a 32-bit integer in the upper half with the low bit clear, or a pointer to
//! a heap object, tagged with `01` in its low bits, whose first word is its *map* (its type).
//! A `HeapNumber` keeps its double right after the map; a sequential one-byte string keeps a
//! 32-bit hash, a 32-bit length, then its Latin-1 bytes. (V8: `include/v8-internal.h` for the
//! Smi and tag constants, `src/objects/heap-number.h` and `src/objects/string.h` for the object
//! layouts.)
//!
//! Reading those words costs a few instructions where the Node-API getters cost 30 to 200 (an
//! environment check, a type check through V8's API, clearing the last error). Nothing here is
//! assumed: [`Tagged::probe`] makes values of every kind through Node-API when an environment
//! is set up and checks that each reads back exactly as expected; the lean path then uses these
//! reads only where the probe succeeded and falls back to Node-API for any word it does not
//! recognise (a value of another type, a string that is not sequential one-byte ASCII, a number
//! in a representation not probed). A map is a type: an object whose map word equals the probed
//! `HeapNumber` map *is* a `HeapNumber`, so a recognised word is never misread.

use std::cell::Cell;

use napi::sys;

use super::napi::{Env, Value};

/// The tag bits of a heap object pointer (`kHeapObjectTag`, under `kHeapObjectTagMask`).
const HEAP_OBJECT_TAG: usize = 1;
const HEAP_OBJECT_TAG_MASK: usize = 3;
/// A Smi's tag: the low bit clear (`kSmiTag` under `kSmiTagMask`).
const SMI_TAG_MASK: usize = 1;
/// Where a Smi's 32-bit value sits without pointer compression (`kSmiTagSize + kSmiShiftSize`).
const SMI_SHIFT: u32 = 32;
/// Byte offsets inside a heap object, from its untagged address.
const HEAP_NUMBER_VALUE: usize = 8;
const STRING_LENGTH: usize = 12;
const SEQ_STRING_CHARS: usize = 16;

/// What the probe confirmed about this environment's tagged values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tagged {
    heap_number_map: usize,
    /// The maps of sequential one-byte strings seen by the probe (internalized and not); a
    /// second slot not seen repeats the first.
    one_byte_maps: [usize; 2],
    /// The words of `true` and `false` (read-only roots: they never move).
    true_word: usize,
    false_word: usize,
}

/// The tagged word a `napi_value` refers to.
///
/// # Safety
/// `v` must be a live `napi_value` of a Node.js environment (a pointer to a tagged slot).
#[inline(always)]
unsafe fn word(v: Value) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { *(v as *const usize) }
}

/// The map word of the heap object `w` points to, if `w` is a heap object pointer.
///
/// # Safety
/// `w` must be a tagged word read from a live value.
#[inline(always)]
unsafe fn map_of(w: usize) -> Option<usize> {
    if w & HEAP_OBJECT_TAG_MASK != HEAP_OBJECT_TAG {
        return None;
    }
    // SAFETY: a tagged heap pointer addresses an object whose first word is its map.
    Some(unsafe { *((w - HEAP_OBJECT_TAG) as *const usize) })
}

impl Tagged {
    /// A JS integer that V8 holds as a Smi.
    ///
    /// # Safety
    /// `v` must be a live value of the environment this was probed in.
    #[inline(always)]
    pub unsafe fn smi(self, v: Value) -> Option<i32> {
        // SAFETY: forwarded from the caller.
        let w = unsafe { word(v) };
        (w & SMI_TAG_MASK == 0).then_some(((w as i64) >> SMI_SHIFT) as i32)
    }

    /// A JS Number, held as a Smi or a `HeapNumber`.
    ///
    /// # Safety
    /// As [`Tagged::smi`].
    #[inline(always)]
    pub unsafe fn number(self, v: Value) -> Option<f64> {
        // SAFETY: forwarded from the caller.
        let w = unsafe { word(v) };
        if w & SMI_TAG_MASK == 0 {
            return Some(((w as i64) >> SMI_SHIFT) as i32 as f64);
        }
        // SAFETY: `w` was read from a live value.
        if unsafe { map_of(w) } == Some(self.heap_number_map) {
            // SAFETY: the map says this is a HeapNumber, whose double follows the map.
            return Some(unsafe { ((w - HEAP_OBJECT_TAG + HEAP_NUMBER_VALUE) as *const f64).read_unaligned() });
        }
        None
    }

    /// A JS boolean.
    ///
    /// # Safety
    /// As [`Tagged::smi`].
    #[inline(always)]
    pub unsafe fn boolean(self, v: Value) -> Option<bool> {
        // SAFETY: forwarded from the caller.
        let w = unsafe { word(v) };
        if w == self.true_word {
            Some(true)
        } else if w == self.false_word {
            Some(false)
        } else {
            None
        }
    }

    /// Copies a sequential one-byte string made only of ASCII (whose UTF-8 is its bytes) to
    /// `dst` with a terminating NUL, and returns its length; `None`, with `dst` possibly
    /// written, for any other value or when `cap` bytes cannot hold it.
    ///
    /// # Safety
    /// As [`Tagged::smi`]; `dst` writable for `cap` bytes. Nothing may run JS or allocate on
    /// the JS heap meanwhile (the string could move).
    #[inline(always)]
    pub unsafe fn copy_ascii(self, v: Value, dst: *mut u8, cap: usize) -> Option<usize> {
        // SAFETY: forwarded from the caller.
        let bytes = unsafe { self.seq_one_byte(v) }?;
        let len = bytes.len();
        if len >= cap || !bytes.is_ascii() {
            return None;
        }
        // SAFETY: as above; a JS string and the call memory never overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, len);
            *dst.add(len) = 0;
        }
        Some(len)
    }

    /// Runs `f` on the text of a sequential one-byte ASCII string, read in place; `None` for
    /// any other value.
    ///
    /// # Safety
    /// As [`Tagged::smi`]; `f` must not run JS or allocate on the JS heap (the string could
    /// move).
    #[inline]
    pub unsafe fn with_ascii<R>(self, v: Value, f: impl FnOnce(&str) -> R) -> Option<R> {
        // SAFETY: forwarded from the caller.
        let bytes = unsafe { self.seq_one_byte(v) }?;
        // ASCII is UTF-8.
        bytes.is_ascii().then(|| f(std::str::from_utf8(bytes).unwrap_or_default()))
    }

    /// The bytes of a sequential one-byte string, in place.
    ///
    /// # Safety
    /// As [`Tagged::with_ascii`]; the slice is only valid until something runs JS.
    #[inline(always)]
    unsafe fn seq_one_byte<'a>(self, v: Value) -> Option<&'a [u8]> {
        // SAFETY: forwarded from the caller.
        let w = unsafe { word(v) };
        // SAFETY: `w` was read from a live value.
        let map = unsafe { map_of(w) }?;
        if map != self.one_byte_maps[0] && map != self.one_byte_maps[1] {
            return None;
        }
        let obj = w - HEAP_OBJECT_TAG;
        // SAFETY: the map says this is a sequential one-byte string: length, then the bytes.
        unsafe {
            let len = ((obj + STRING_LENGTH) as *const u32).read() as usize;
            Some(std::slice::from_raw_parts((obj + SEQ_STRING_CHARS) as *const u8, len))
        }
    }

    /// `i` as a JS Number without a Node-API call: its Smi word, written to `slot`, which
    /// serves as the value's handle. Only for a value V8 reads at once: a result returned
    /// straight to Node from a Node-API callback (Node copies the word out before anything
    /// else runs), or an argument of `napi_call_function` (V8 copies the arguments onto the
    /// JS stack when the call starts). `slot` must stay put until then; a Smi is not a heap
    /// pointer, so the garbage collector has nothing to trace or move in it.
    #[inline(always)]
    pub fn smi_result(self, slot: &Cell<usize>, i: i32) -> Value {
        slot.set(((i as i64) << SMI_SHIFT) as usize);
        slot.as_ptr() as Value
    }

    /// Checks the layout on values made through Node-API in `env`; `None` if anything differs
    /// from what the reads above expect. `literals` are JS string literals (internalized
    /// strings) given by index.js; `slot` is where [`Tagged::smi_result`] will write.
    pub fn probe(env: Env, literals: &[Value], slot: &Cell<usize>) -> Option<Tagged> {
        if cfg!(not(target_pointer_width = "64")) {
            return None;
        }
        for i in [0, 1, -1, 42, -123_456_789, i32::MIN, i32::MAX] {
            let v = env.int32(i).ok()?;
            // SAFETY: a value just made in this environment.
            if unsafe { word(v) } != ((i as i64) << SMI_SHIFT) as usize {
                return None;
            }
        }
        let mut heap_number_map = None;
        for d in [0.5, -1.25e300, 4_294_967_296.0, f64::INFINITY, -0.0] {
            let v = env.double(d).ok()?;
            // SAFETY: as above.
            let w = unsafe { word(v) };
            // SAFETY: as above.
            let map = unsafe { map_of(w) }?;
            // SAFETY: a heap object; the map is compared before the value is trusted.
            let value = unsafe { ((w - HEAP_OBJECT_TAG + HEAP_NUMBER_VALUE) as *const f64).read_unaligned() };
            if *heap_number_map.get_or_insert(map) != map || value.to_bits() != d.to_bits() {
                return None;
            }
        }
        let heap_number_map = heap_number_map?;
        let words = |v: Value| -> Option<usize> {
            // SAFETY: as above.
            let w = unsafe { word(v) };
            // SAFETY: as above.
            (unsafe { map_of(w) }.is_some()).then_some(w)
        };
        let true_word = words(env.boolean(true).ok()?)?;
        let false_word = words(env.boolean(false).ok()?)?;
        let one_byte_maps = probe_strings(env, literals)?;
        let tagged = Tagged { heap_number_map, one_byte_maps, true_word, false_word };
        // No other kind of value may share those words.
        for other in [env.object().ok()?, env.undefined().ok()?, env.null().ok()?, env.string("\u{e9}t\u{e9}").ok()?] {
            let w = words(other)?;
            // SAFETY: as above.
            let map = unsafe { map_of(w) }?;
            if map == heap_number_map || w == true_word || w == false_word {
                return None;
            }
        }
        probe_smi_result(env, tagged, slot).then_some(tagged)
    }
}

/// The maps of the probe strings that read back as sequential one-byte strings (their length,
/// then their bytes). A string held another way is left out, and its map with it, unless a
/// string that did read back has the same map (then the layout is not what the reads expect):
/// V8 keeps one internalized string per text, made by whoever internalized it first, so a
/// literal may be a two-byte string (Node 18 internalizes `'koffi-rs'`, the package name, as
/// two-byte before any module runs). Reads of strings with a map left out go through Node-API.
fn probe_strings(env: Env, literals: &[Value]) -> Option<[usize; 2]> {
    let mut made = Vec::new();
    for s in ["koffi-rs", "12345", "probe string, longer than sixteen bytes"] {
        let mut v = std::ptr::null_mut();
        // SAFETY: JS thread, valid env; `s` is ASCII (Latin-1 and UTF-8 alike).
        let status = unsafe { sys::napi_create_string_latin1(env.0, s.as_ptr() as *const _, s.len() as isize, &mut v) };
        if status != sys::Status::napi_ok {
            return None;
        }
        made.push((v, s.to_owned()));
    }
    for &v in literals {
        let s = env.get_string(v).ok()?;
        if s.len() < 2 || !s.is_ascii() {
            return None;
        }
        made.push((v, s));
    }
    let mut good: Vec<usize> = Vec::new();
    let mut bad: Vec<usize> = Vec::new();
    for (v, s) in &made {
        // SAFETY: a live value of this environment.
        let w = unsafe { word(*v) };
        // SAFETY: as above.
        let map = unsafe { map_of(w) }?;
        let obj = w - HEAP_OBJECT_TAG;
        // SAFETY: read only to compare with what the string holds. The length is checked
        // first, and the bytes one at a time up to the first difference, so that a string
        // held another way (two-byte, thin, cons: all at least 16 bytes and 8-byte aligned)
        // is read no further than its first word after the length.
        let reads_back = unsafe {
            ((obj + STRING_LENGTH) as *const u32).read() as usize == s.len()
                && s.bytes().enumerate().all(|(i, b)| ((obj + SEQ_STRING_CHARS + i) as *const u8).read() == b)
        };
        let list = if reads_back { &mut good } else { &mut bad };
        if !list.contains(&map) {
            list.push(map);
        }
    }
    if good.iter().any(|m| bad.contains(m)) {
        return None;
    }
    match good.as_slice() {
        [a] => Some([*a, *a]),
        [a, b] => Some([*a, *b]),
        _ => None,
    }
}

/// Whether a callback that returns [`Tagged::smi_result`]'s value gives JS that number.
fn probe_smi_result(env: Env, tagged: Tagged, slot: &Cell<usize>) -> bool {
    struct Probe<'a> {
        tagged: Tagged,
        slot: &'a Cell<usize>,
        value: i32,
    }
    unsafe extern "C" fn callback(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
        // SAFETY: called by Node with a valid env and callback info.
        let data = unsafe { super::napi::callback_data(env, info) };
        if data.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: the Probe below, alive for the whole call.
        let probe = unsafe { &*(data as *const Probe<'_>) };
        probe.tagged.smi_result(probe.slot, probe.value)
    }
    [-7, 0, 1_000_000_007, i32::MIN].into_iter().all(|value| {
        let probe = Probe { tagged, slot, value };
        let Ok(f) = env.function("probe", Some(callback), &probe as *const Probe<'_> as *mut _) else { return false };
        let Ok(undefined) = env.undefined() else { return false };
        let Ok(result) = env.call_function(undefined, f, &[]) else { return false };
        env.get_f64(result).is_ok_and(|d| d == value as f64)
    })
}
