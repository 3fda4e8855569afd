//! The AAPCS64 thunk (`asm/arm64.S`) on its own: frames filled by hand, without the classifier,
//! calling real C-ABI functions through `invoke`. Each test names the AAPCS64 rule it pins
//! (section numbers of the 2024Q3 release). Run on x86-64 hosts by `ci/cross.sh aarch64`.

#![cfg(all(target_arch = "aarch64", target_os = "linux"))]

use std::cell::RefCell;
use std::ffi::{c_int, c_long, c_void};

use koffi_rs::call::invoke::invoke;
use koffi_rs::call::{CallFrame, CallMemory};

extern "C" {
    fn ldexp(x: f64, exp: c_int) -> f64;
    fn ldiv(numer: c_long, denom: c_long) -> LDiv;
}

/// glibc's `ldiv_t`.
#[repr(C)]
struct LDiv {
    quot: c_long,
    rem: c_long,
}

// Leaf functions that report a register as the callee sees it on entry.
std::arch::global_asm!(
    ".text",
    ".p2align 2",
    ".globl kffi_test_entry_sp",
    ".hidden kffi_test_entry_sp",
    "kffi_test_entry_sp:",
    "    mov x0, sp", // sp at the callee's first instruction
    "    ret",
    ".globl kffi_test_entry_x8",
    ".hidden kffi_test_entry_x8",
    "kffi_test_entry_x8:",
    "    mov x0, x8", // x8 at the callee's first instruction
    "    ret",
);

extern "C" {
    fn kffi_test_entry_sp() -> u64;
    fn kffi_test_entry_x8() -> u64;
}

/// Call memory plus a frame whose stack pointer has room for `stack_bytes` of arguments.
fn setup(stack_bytes: usize) -> (CallMemory, CallFrame) {
    let mut mem = CallMemory::new(64 << 10, 4096).expect("call memory");
    let frame = CallFrame { stack: mem.stack_args(stack_bytes).expect("stack"), ..CallFrame::default() };
    (mem, frame)
}

/// Writes the 8-byte stack slot at `frame.stack + 8 * slot`.
fn put_stack(frame: &mut CallFrame, slot: usize, bits: u64) {
    // SAFETY: every test reserves the slots it writes with `setup`.
    unsafe { (frame.stack as *mut u64).add(slot).write(bits) };
}

/// Calls `f` through the thunk.
///
/// # Safety
/// The frame must hold `f`'s arguments where AAPCS64 puts them.
unsafe fn call(f: *const c_void, frame: &mut CallFrame) {
    // SAFETY: forwarded; `setup` gives a 16-aligned stack with room below it.
    unsafe { invoke(f, frame) }
}

#[allow(clippy::too_many_arguments, reason = "the point is one argument past the eight registers")]
extern "C" fn ten_longs(a: i64, b: i64, c: i64, d: i64, e: i64, f: i64, g: i64, h: i64, i: i64, j: i64) -> i64 {
    [a, b, c, d, e, f, g, h, i, j].iter().fold(0, |acc, v| acc * 16 + v)
}

#[test]
fn c9_c13_c17_integer_arguments_fill_x0_to_x7_then_stack_slots_from_nsaa() {
    // §6.8.2 C.9: an integral argument goes to x[NGRN] while NGRN < 8; C.13: then NGRN = 8 and
    // C.16/C.17 copy it to an 8-byte slot at NSAA, which starts at sp on entry (A.4).
    let (_mem, mut frame) = setup(16);
    for (i, r) in frame.gpr.iter_mut().take(8).enumerate() {
        *r = i as u64 + 1;
    }
    put_stack(&mut frame, 0, 9);
    put_stack(&mut frame, 1, 10);
    // SAFETY: ten_longs takes ten i64: x0–x7, [sp], [sp + 8].
    unsafe { call(ten_longs as *const c_void, &mut frame) };
    assert_eq!(frame.ret_gpr[0], 0x12_3456_789a);
}

#[allow(clippy::too_many_arguments, reason = "the point is one argument past the eight registers")]
extern "C" fn nine_doubles(a: f64, b: f64, c: f64, d: f64, e: f64, f: f64, g: f64, h: f64, i: f64) -> f64 {
    [a, b, c, d, e, f, g, h, i].iter().rev().fold(0.0, |acc, v| acc * 10.0 + v)
}

#[test]
fn c1_c6_fp_arguments_fill_v0_to_v7_then_the_stack() {
    // §6.8.2 C.1: a floating-point argument goes to v[NSRN] while NSRN < 8; then C.6 copies it
    // to memory at NSAA. A double result comes back in d0 (§6.9: as if it were an argument).
    let (_mem, mut frame) = setup(8);
    for (i, r) in frame.fpr.iter_mut().enumerate() {
        *r = (i as f64 + 1.0).to_bits();
    }
    put_stack(&mut frame, 0, 9.0f64.to_bits());
    // SAFETY: nine_doubles takes nine f64: d0–d7, [sp].
    unsafe { call(nine_doubles as *const c_void, &mut frame) };
    assert_eq!(f64::from_bits(frame.ret_fpr[0]), 987_654_321.0);
}

#[test]
fn a1_a2_fp_and_integer_registers_are_counted_separately() {
    // §6.8.2 A.1/A.2: NGRN and NSRN are separate counters, so `double ldexp(double, int)` takes
    // d0 and w0 (C.1, C.9); its result is in d0 (§6.9). Stage C: unused bits of a register are
    // unspecified, so garbage above the int must not matter.
    let (_mem, mut frame) = setup(0);
    frame.fpr[0] = 3.0f64.to_bits();
    frame.gpr[0] = 0xdead_beef_0000_0004;
    // SAFETY: ldexp(double, int).
    unsafe { call(ldexp as *const c_void, &mut frame) };
    assert_eq!(f64::from_bits(frame.ret_fpr[0]), 48.0);
}

#[test]
fn result_composite_of_16_bytes_comes_back_in_x0_x1() {
    // §6.9: a result goes where it would go as the only argument; for ldiv_t {long, long}, a
    // 16-byte composite that is not an HFA, C.12 says x0 and x1.
    let (_mem, mut frame) = setup(0);
    frame.gpr[0] = (-47i64) as u64;
    frame.gpr[1] = 5;
    // SAFETY: ldiv(long, long) returning ldiv_t.
    unsafe { call(ldiv as *const c_void, &mut frame) };
    // Keep the declared return type honest: LDiv is what the registers hold.
    let r = LDiv { quot: frame.ret_gpr[0] as c_long, rem: frame.ret_gpr[1] as c_long };
    assert_eq!((r.quot, r.rem), (-9, -2));
}

#[repr(C)]
#[derive(Debug, PartialEq)]
struct Float4 {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
}

extern "C" fn float4(x: f32, y: f32, z: f32, w: f32) -> Float4 {
    Float4 { a: w, b: z, c: y, d: x }
}

#[test]
fn hfa_of_four_floats_comes_back_in_s0_to_s3() {
    // §6.9 with §6.8.2 C.2: a Homogeneous Floating-point Aggregate result comes back one member
    // per register, s0–s3 (the low bits of v0–v3, C.1); unused bits are unspecified (stage C),
    // so the upper halves of the float arguments hold garbage here.
    let (_mem, mut frame) = setup(0);
    for (i, r) in frame.fpr.iter_mut().take(4).enumerate() {
        *r = u64::from((i as f32 + 0.5).to_bits()) | 0xffff_ffff_0000_0000;
    }
    // SAFETY: float4(float, float, float, float) returning an HFA of four floats.
    unsafe { call(float4 as *const c_void, &mut frame) };
    let s = |i: usize| f32::from_bits(frame.ret_fpr[i] as u32);
    assert_eq!(Float4 { a: s(0), b: s(1), c: s(2), d: s(3) }, Float4 { a: 3.5, b: 2.5, c: 1.5, d: 0.5 });
}

#[repr(C)]
struct Double4 {
    v: [f64; 4],
}

extern "C" fn double4(x: f64) -> Double4 {
    Double4 { v: [x, x * 2.0, x * 3.0, x * 4.0] }
}

#[test]
fn hfa_of_four_doubles_comes_back_in_d0_to_d3() {
    // §6.9 with §6.8.2 B.3/C.2: an HFA of four doubles (32 bytes, yet exempt from B.4's copy
    // to memory) comes back in d0–d3.
    let (_mem, mut frame) = setup(0);
    frame.fpr[0] = 1.25f64.to_bits();
    // SAFETY: double4(double) returning an HFA of four doubles.
    unsafe { call(double4 as *const c_void, &mut frame) };
    let d: Vec<f64> = frame.ret_fpr.iter().map(|&b| f64::from_bits(b)).collect();
    assert_eq!(d, [1.25, 2.5, 3.75, 5.0]);
}

#[repr(C)]
struct Big {
    v: [i64; 3],
}

extern "C" fn big(x: i64) -> Big {
    Big { v: [x, x + 1, x + 2] }
}

#[test]
fn result_larger_than_16_bytes_goes_to_the_memory_x8_points_to() {
    // §6.9: a result that would not go in registers as an argument (B.4: a composite over 16
    // bytes, not an HFA) is written to memory whose address the caller passes in x8; the
    // arguments still start at x0.
    let (_mem, mut frame) = setup(0);
    let mut out = Big { v: [0; 3] };
    frame.gpr[8] = &mut out as *mut Big as u64;
    frame.gpr[0] = 40;
    // SAFETY: big(int64_t) returning a 24-byte struct through x8; `out` outlives the call.
    unsafe { call(big as *const c_void, &mut frame) };
    assert_eq!(out.v, [40, 41, 42]);
}

#[test]
fn x8_reaches_the_callee() {
    // §6.1.1: x8 is the indirect result location register; the thunk loads it from gpr[8].
    let (_mem, mut frame) = setup(0);
    frame.gpr[8] = 0x0123_4567_89ab_cdef;
    // SAFETY: a leaf that only reads x8.
    unsafe { call(kffi_test_entry_x8 as *const c_void, &mut frame) };
    assert_eq!(frame.ret_gpr[0], 0x0123_4567_89ab_cdef);
}

#[test]
fn callee_runs_on_frame_stack_which_is_16_aligned() {
    // §6.4.5.2: sp mod 16 = 0 at a public interface; §6.8.2 A.4: stack arguments start at sp
    // on entry, so the callee's sp must be exactly frame.stack.
    let (mut mem, mut frame) = setup(24);
    for _ in 0..3 {
        // SAFETY: a leaf that only reads sp.
        unsafe { call(kffi_test_entry_sp as *const c_void, &mut frame) };
        assert_eq!(frame.ret_gpr[0], frame.stack as u64);
        assert_eq!(frame.ret_gpr[0] % 16, 0);
        // A nested call's arguments go lower; the thunk must follow.
        frame.stack = mem.stack_args(40).expect("stack");
    }
}

thread_local! {
    static TRACE: RefCell<String> = const { RefCell::new(String::new()) };
}

extern "C" fn capture_backtrace() {
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    TRACE.with(|t| *t.borrow_mut() = trace);
}

#[test]
#[inline(never)]
fn unwinder_walks_from_the_callee_back_through_the_thunk() {
    // §6.4.6: x29 points to the frame record. The thunk's CFI makes x29 + 32 the CFA, so an
    // unwinder starting on the call memory's stack finds its way back to the caller's frames.
    let (_mem, mut frame) = setup(0);
    // SAFETY: capture_backtrace() takes no arguments.
    unsafe { call(capture_backtrace as *const c_void, &mut frame) };
    let trace = TRACE.with(|t| t.borrow().clone());
    let thunk = trace.find("kffi_call_arm64").unwrap_or_else(|| panic!("no thunk frame in:\n{trace}"));
    let caller = trace.find("unwinder_walks_from_the_callee_back_through_the_thunk");
    assert!(caller.is_some_and(|c| c > thunk), "the caller is not above the thunk in:\n{trace}");
}
