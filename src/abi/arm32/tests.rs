//! Evidence: the AAPCS32 clause named in each test, and the assembly that
//! `arm-linux-gnueabihf-gcc -O2 -S` (GCC 12.2, Debian; armv7-a, vfpv3-d16, hard float) emits for
//! the caller of the C shown, read by hand. "gcc" below means that compiler. The callee sees stack
//! argument offset `k` at `[sp, k]` on entry. Struct names: `F2 {float a, b;}`, `F3 {float a, b,
//! c;}`, `D2 {double a, b;}`, `D4 {double a, b, c, d;}`, `I3 {int a, b, c;}`, `L2 {long long a,
//! b;}`, `C3 {char c[3];}`, `ID {int a; double d;}`, `E {}` (GNU C, size 0).
//!
//! Spec item: ABI-07 (AAPCS32 with the VFP hard-float variant).

use super::*;
use crate::abi::testing::{agg, array, fpr, gpr as r, moves, mv, ret1, rets, sc, sig, stack, strukt, times, union};
use Ext::{None as N, Sign as S, Zero as Z};
use Scalar::*;

const R0: RetReg = RetReg::Gpr(0);
const R1: RetReg = RetReg::Gpr(1);

fn f3() -> AbiType {
    array(3, F32)
}
fn d2() -> AbiType {
    array(2, F64)
}
fn i3() -> AbiType {
    array(3, I32)
}
fn l2() -> AbiType {
    array(2, I64)
}
fn c3() -> AbiType {
    agg(3, 1, &[(0, I8), (1, I8), (2, I8)])
}
fn id() -> AbiType {
    strukt(&[(0, I32), (8, F64)])
}
fn empty() -> AbiType {
    agg(0, 1, &[])
}
/// A float in s register `i`.
fn s(i: u8) -> ArgLoc {
    fpr(i, 4)
}
/// `words` consecutive s registers from `first`, one word of the value each: a double in d_k is
/// `ss(2 * k, 2)`, an HFA of `n` floats `ss(first, n)`, of `n` doubles `ss(2 * k, 2 * n)`.
fn ss(first: u8, words: u8) -> ArgLoc {
    moves(&(0..words).map(|i| mv(4 * u32::from(i), 4, Slot::Fpr(first + i), N)).collect::<Vec<_>>())
}
/// A value of `size` bytes in consecutive core registers from `first`, word by word.
fn rs(first: u8, size: u32) -> ArgLoc {
    moves(&rs_moves(first, size))
}
fn rs_moves(first: u8, size: u32) -> Vec<Move> {
    let piece = |i: u32| mv(4 * i, (size - 4 * i).min(4), Slot::Gpr(first + i as u8), N);
    (0..size.div_ceil(4)).map(piece).collect()
}
/// A composite of `size` bytes split by C.5: registers `first` to r3, the rest at `[sp]`.
fn split(first: u8, size: u32) -> ArgLoc {
    let in_regs = 4 * (4 - u32::from(first));
    let mut m = rs_moves(first, in_regs);
    m.push(mv(in_regs, size - in_regs, Slot::Stack(0), N));
    moves(&m)
}
fn plan(ret: AbiType, params: Vec<AbiType>) -> CallPlan {
    classify(&sig(ret, params)).expect("classifies")
}
/// The plan of a `void` function.
fn call(params: Vec<AbiType>) -> CallPlan {
    plan(AbiType::Void, params)
}
/// The plan of a call to a variadic function returning `ret`, with `fixed` named parameters.
fn vplan(ret: AbiType, fixed: usize, params: Vec<AbiType>) -> CallPlan {
    classify(&Signature { fixed, ret, params, variadic: true }).expect("classifies")
}
fn vcall(fixed: usize, params: Vec<AbiType>) -> CallPlan {
    vplan(AbiType::Void, fixed, params)
}
fn ret(ty: AbiType) -> RetLoc {
    plan(ty, vec![]).ret
}
fn fprs(words: u8) -> RetLoc {
    rets(&(0..words).map(|i| (RetReg::Fpr(i), 4 * u32::from(i), 4)).collect::<Vec<_>>())
}

#[test]
fn integers_take_r0_to_r3_then_the_stack() {
    // C.4, C.6, C.8: one word each, 4-byte stack slots.
    let p = call([times(5, I32), vec![sc(I16), sc(U32)]].concat());
    assert_eq!(p.args[3..], [r(3, 4, N), stack(0, 4, N), stack(4, 2, S), stack(8, 4, N)]);
    assert_eq!(p.stack_size, 16);
}

#[test]
fn small_integers_are_widened_to_a_word() {
    // B.2: an integral type smaller than a word is zero- or sign-extended to a full word. gcc,
    // `f8(signed char, unsigned char, short, unsigned short, _Bool)`: sxtb r0, uxtb r1, sxth r2,
    // uxth r3, the bool as a zero-extended word at [sp]. Words are copied as they are.
    let p = call(vec![sc(I8), sc(U8), sc(I16), sc(U16), sc(U8)]).args;
    assert_eq!(p, [r(0, 1, S), r(1, 1, Z), r(2, 2, S), r(3, 2, Z), stack(0, 1, Z)]);
    assert_eq!(call(vec![sc(I32), sc(U32)]).args, [r(0, 4, N), r(1, 4, N)]);
}

#[test]
fn long_long_starts_at_an_even_register() {
    // C.3, §6.1.1.1 (low word first). gcc, `f1(int, long long, int, int)`: 1 in r0, 2LL in
    // r2:r3 (r1 unused), 3 at [sp], 4 at [sp, 4].
    let p = call(vec![sc(I32), sc(I64), sc(I32), sc(I32)]);
    assert_eq!(p.args, [r(0, 4, N), rs(2, 8), stack(0, 4, N), stack(4, 4, N)]);
    assert_eq!(p.stack_size, 8);
}

#[test]
fn long_long_that_does_not_fit_goes_on_the_stack_8_aligned() {
    // C.3 (NCRN 3 -> 4), C.6, C.7, C.8. gcc, `f2(int, int, int, long long, int)`: r0..r2, 4LL at
    // [sp] (vstr.64), 5 at [sp, 8] although r3 is free. After `int ×4, int`, a u64 skips [sp, 4].
    let p = call([times(3, I32), vec![sc(U64), sc(I32)]].concat());
    assert_eq!((&p.args[2..], p.stack_size), (&[r(2, 4, N), stack(0, 8, N), stack(8, 4, N)][..], 16));
    let p = call([times(5, I32), vec![sc(U64)]].concat());
    assert_eq!((&p.args[4..], p.stack_size), (&[stack(0, 4, N), stack(8, 8, N)][..], 16));
}

#[test]
fn floats_and_doubles_take_s_and_d_registers_and_back_fill() {
    // C.1.vfp: the lowest-numbered free registers of the type, so a float back-fills the s
    // register a double skipped. gcc, `f1(float, double, float)`: s0, d1, s1. `f2(float, double,
    // F2, float)`: s0, d1, F2 in s4 and s5 (s1 alone is too short), 3.0f in s1.
    assert_eq!(call(vec![sc(F32), sc(F64), sc(F32)]).args, [s(0), ss(2, 2), s(1)]);
    let p = call(vec![sc(F32), sc(F64), array(2, F32), sc(F32)]).args;
    assert_eq!(p, [s(0), ss(2, 2), ss(4, 2), s(1)]);
}

#[test]
fn core_and_vfp_registers_are_counted_separately() {
    // §7.1.2.3: one VFP register class beside the core registers.
    let p = call(vec![sc(I32), sc(F64), sc(I64), sc(F32)]).args;
    assert_eq!(p, [r(0, 4, N), ss(0, 2), rs(2, 8), s(2)]);
}

#[test]
fn doubles_take_d0_to_d7_then_the_stack() {
    // C.2.vfp: 8-aligned for a double, 4 for a float. gcc, `f3(double ×9, float)`: d0..d7,
    // 9.0 at [sp] (strd), 10.0f at [sp, 8].
    let p = call([times(9, F64), vec![sc(F32)]].concat());
    assert_eq!(p.args[7..], [ss(14, 2), stack(0, 8, N), stack(8, 4, N)]);
    assert_eq!(p.stack_size, 16);
}

#[test]
fn no_back_filling_after_a_vfp_candidate_went_on_the_stack() {
    // C.2.vfp marks every free VFP register unavailable; §7.1.2.3: "The back-filling continues
    // only so long as no VFP CPRC has been allocated to a slot on the stack." gcc,
    // `f4(float, double ×7, D2, float)`: s0, d1..d7, D2 at [sp], 9.0f at [sp, 16] although s1 is
    // free. `f6(double ×7, float, F3, float)`: 7.5f in s14, F3 at [sp] (s15 alone is too short),
    // 13.0f at [sp, 12] although s15 is free.
    let p = call([vec![sc(F32)], times(7, F64), vec![d2(), sc(F32)]].concat());
    assert_eq!((&p.args[7..], p.stack_size), (&[ss(14, 2), stack(0, 16, N), stack(16, 4, N)][..], 24));
    let p = call([times(7, F64), vec![sc(F32), f3(), sc(F32)]].concat());
    assert_eq!((&p.args[7..], p.stack_size), (&[s(14), stack(0, 12, N), stack(12, 4, N)][..], 16));
}

#[test]
fn float_hfa_takes_any_consecutive_s_registers_and_double_hfa_whole_d_registers() {
    // C.1.vfp: "consecutive VFP registers of the appropriate type". gcc, `f7(float, F3, double)`:
    // s0, F3 in s1..s3, 2.0 in d2. `f8(float, D2, float)`: s0, D2 in d1 and d2, 2.0f back-filled
    // in s1.
    assert_eq!(call(vec![sc(F32), f3(), sc(F64)]).args, [s(0), ss(1, 3), ss(4, 2)]);
    assert_eq!(call(vec![sc(F32), d2(), sc(F32)]).args, [s(0), ss(2, 4), s(1)]);
}

#[test]
fn hfas_of_one_to_four_members_are_vfp_candidates() {
    // §5.3.5, §7.1.2.1: one to four elements. gcc, `f1(F5, float)` with `F5 {float a, b, c, d,
    // e;}`: F5 in r0..r3 and [sp] (C.5), 6.0f in s0.
    for n in 1..=4u8 {
        let p = call(vec![array(n.into(), F32), sc(F32)]).args;
        assert_eq!(p, [ss(0, n), s(n)], "{n} floats");
        let p = call(vec![array(n.into(), F64), sc(F64)]).args;
        assert_eq!(p, [ss(0, 2 * n), ss(2 * n, 2)], "{n} doubles");
    }
    assert_eq!(call(vec![array(5, F32), sc(F32)]).args, [split(0, 20), s(0)]);
}

#[test]
fn hfa_needs_identical_members_and_no_padding() {
    // §5.3.5. gcc, `f2(struct {float a; double b;}, float)`: the struct in r0..r3 (8-aligned),
    // 6.0f in s0. A struct {int; float} goes in r0 and r1.
    let fd = strukt(&[(0, F32), (8, F64)]);
    assert_eq!(call(vec![fd, sc(F32)]).args, [rs(0, 16), s(0)]);
    assert_eq!(call(vec![strukt(&[(0, I32), (4, F32)]), sc(F32)]).args, [rs(0, 8), s(0)]);
}

#[test]
fn unions_of_one_float_type_are_hfas() {
    // §5.3.5 tests homogeneity after layout. gcc, `f3(float, union {float a; float b[2];},
    // union {int i; float f;}, float)`: s0, the first union in s1 and s2, the second in r0,
    // 4.0f in s3.
    let uf2 = union(8, 4, &[(0, F32), (0, F32), (4, F32)]);
    let uif = union(4, 4, &[(0, I32), (0, F32)]);
    assert_eq!(call(vec![sc(F32), uf2, uif, sc(F32)]).args, [s(0), ss(1, 2), r(0, 4, N), s(3)]);
}

#[test]
fn composite_is_split_between_r3_and_the_stack() {
    // C.5. gcc, `f3(int, int, I3, int)`: r0, r1, I3 in r2, r3 and [sp], 5 at [sp, 4].
    let p = call(vec![sc(I32), sc(I32), i3(), sc(I32)]);
    assert_eq!(p.args, [r(0, 4, N), r(1, 4, N), split(2, 12), stack(4, 4, N)]);
    assert_eq!(p.stack_size, 8);
}

#[test]
fn double_word_aligned_composite_starts_at_an_even_register_and_may_split() {
    // B.5, C.3, C.5. gcc, `f4(int, L2, int)`: r0, L2 in r2, r3 and [sp] (8 bytes), 5 at [sp, 8].
    // `f6(C3, ID, int)`: C3 in r0 (ldr), ID in r2, r3 and [sp], 6 at [sp, 8]. `f1(int, struct
    // {_Alignas(8) int a; int b;}, int)`: r0, the struct in r2 and r3, 2 at [sp].
    let p = call(vec![sc(I32), l2(), sc(I32)]);
    assert_eq!((p.args, p.stack_size), (vec![r(0, 4, N), split(2, 16), stack(8, 4, N)], 16));
    let p = call(vec![c3(), id(), sc(I32)]);
    assert_eq!((p.args, p.stack_size), (vec![rs(0, 3), split(2, 16), stack(8, 4, N)], 16));
    let a8 = agg(8, 8, &[(0, I32), (4, I32)]);
    assert_eq!(call(vec![sc(I32), a8, sc(I32)]).args, [r(0, 4, N), rs(2, 8), stack(0, 4, N)]);
}

#[test]
fn no_split_after_a_vfp_candidate_went_on_the_stack() {
    // C.5 splits only while the NSAA equals SP; §6.5: "An argument may only be split between core
    // registers and the stack if all preceding CPRCs have been allocated to co-processor
    // registers." gcc agrees, `f5(double ×9, int, int, I3, int)`: 9.0 at [sp], 20 and 21 in r0 and
    // r1, I3 wholly at [sp, 8] although r2 and r3 are free, 22 at [sp, 20].
    let p = call([times(9, F64), vec![sc(I32), sc(I32), i3(), sc(I32)]].concat());
    let want = [stack(0, 8, N), r(0, 4, N), r(1, 4, N), stack(8, 12, N), stack(20, 4, N)];
    assert_eq!((&p.args[8..], p.stack_size), (&want[..], 24));
}

#[test]
fn composite_on_the_stack_is_4_aligned_or_8_if_double_word_aligned() {
    // B.4, B.5, C.7, C.8. gcc, `f4(int ×5, ID, C3, long long)`: 5 at [sp], ID at [sp, 8], C3 at
    // [sp, 24], 6LL at [sp, 32]. With `PD`, a packed `{char c; double d;}` (9 bytes, 1-aligned):
    // `f5(int ×5, PD, int)`: 5 at [sp], PD at [sp, 4], 6 at [sp, 16]; `f4(int, PD, int)`: PD in
    // r1..r3 (the last word holds 1 byte), 2 at [sp].
    let p = call([times(5, I32), vec![id(), c3(), sc(I64)]].concat());
    let want = [stack(0, 4, N), stack(8, 16, N), stack(24, 3, N), stack(32, 8, N)];
    assert_eq!((&p.args[4..], p.stack_size), (&want[..], 40));
    let pd = agg(9, 1, &[(0, I8), (1, F64)]);
    let p = call([times(5, I32), vec![pd.clone(), sc(I32)]].concat());
    assert_eq!((&p.args[4..], p.stack_size), (&[stack(0, 4, N), stack(4, 9, N), stack(16, 4, N)][..], 24));
    assert_eq!(call(vec![sc(I32), pd, sc(I32)]).args, [r(0, 4, N), rs(1, 9), stack(0, 4, N)]);
}

#[test]
fn over_aligned_hfa_on_the_stack_is_8_aligned() {
    // C.2.vfp: 8-aligned if the natural alignment is 8 or more. gcc, `f2(double ×8, float,
    // struct {_Alignas(8) float a; float b;}, float)`: 9.0f at [sp], the struct at [sp, 8],
    // 12.0f at [sp, 16].
    let ha8 = agg(8, 8, &[(0, F32), (4, F32)]);
    let p = call([times(8, F64), vec![sc(F32), ha8, sc(F32)]].concat());
    assert_eq!((&p.args[8..], p.stack_size), (&[stack(0, 4, N), stack(8, 8, N), stack(16, 4, N)][..], 24));
}

#[test]
fn variadic_calls_use_the_base_standard_for_every_argument() {
    // §7: "For a variadic function the base standard is always used"; §7.1.2.1: "There are no VFP
    // CPRCs in a variadic procedure." gcc, `v1("x", 1.0f, 2.0, 3)` (the float promoted): "x" in
    // r0, 1.0 in r2:r3, 2.0 at [sp], 3 at [sp, 8]. `v1("x", F2, D2, 5)`: F2 in r1 and r2, D2 at
    // [sp] (C.3 makes the NCRN 4, no split), 5 at [sp, 16]. `v1("x", 1, 2, D2, 5.0)`: r1, r2,
    // D2 at [sp], 5.0 at [sp, 16].
    let p = vcall(1, vec![sc(U32), sc(F64), sc(F64), sc(I32)]);
    let want = vec![r(0, 4, N), rs(2, 8), stack(0, 8, N), stack(8, 4, N)];
    assert_eq!((p.args, p.stack_size), (want, 16));
    let p = vcall(1, vec![sc(U32), array(2, F32), d2(), sc(I32)]);
    assert_eq!((p.args, p.stack_size), (vec![r(0, 4, N), rs(1, 8), stack(0, 16, N), stack(16, 4, N)], 24));
    let p = vcall(1, vec![sc(U32), sc(I32), sc(I32), d2(), sc(F64)]);
    assert_eq!(p.args[3..], [stack(0, 16, N), stack(16, 8, N)]);
}

#[test]
fn named_arguments_of_a_variadic_function_use_core_registers_too() {
    // §7 applies to the function, not to the argument. gcc, `v7(double, ...)` called with 2.0:
    // 1.0 in r0:r1, 2.0 in r2:r3; `v3(float, ...)` called with 2: 1.0f in r0, 2 in r1.
    assert_eq!(vcall(1, vec![sc(F64), sc(F64)]).args, [rs(0, 8), rs(2, 8)]);
    assert_eq!(vcall(1, vec![sc(F32), sc(I32)]).args, [r(0, 4, N), r(1, 4, N)]);
    // Even with no variadic argument passed.
    assert_eq!(vcall(2, vec![sc(F32), array(2, F32)]).args, [r(0, 4, N), rs(1, 8)]);
}

#[test]
fn variadic_results_use_core_registers_or_memory() {
    // §6.4 (base standard). gcc: the caller of `double vd(int, ...)` reads r0:r1; of `F1 vf1(int,
    // ...)` (`F1 {float a;}`), r0; of `F2 vf2(int, ...)`, memory whose address it passes in r0,
    // with 1 in r1 and 2 in r2.
    assert_eq!(vplan(sc(F64), 1, vec![sc(I32)]).ret, rets(&[(R0, 0, 4), (R1, 4, 4)]));
    assert_eq!(vplan(sc(F32), 1, vec![sc(I32)]).ret, rets(&[(R0, 0, 4)]));
    assert_eq!(vplan(array(1, F32), 1, vec![sc(I32)]).ret, rets(&[(R0, 0, 4)]));
    let p = vplan(array(2, F32), 1, vec![sc(I32), sc(I32)]);
    assert_eq!((p.ret, p.args), (RetLoc::Sret { ptr: Slot::Gpr(0) }, vec![r(1, 4, N), r(2, 4, N)]));
}

#[test]
fn scalar_results() {
    // §6.4, §7.1.2.2. gcc: the caller of `double rd(void)` stores d0; `float rf(void)`, s0;
    // `long long rl(void)`, r0:r1. A callback widens a narrow integer (gcc, `signed char cb1(void)`
    // ends with sxtb r0; `unsigned short cb2(void)` with uxth r0).
    assert_eq!(ret(AbiType::Void), RetLoc::Void);
    assert_eq!(ret(sc(F64)), fprs(2));
    assert_eq!(ret(sc(F32)), fprs(1));
    assert_eq!(ret(sc(I64)), rets(&[(R0, 0, 4), (R1, 4, 4)]));
    assert_eq!(ret(sc(I8)), ret1(R0, 1, S));
    assert_eq!(ret(sc(U16)), ret1(R0, 2, Z));
    assert_eq!(ret(sc(U8)), ret1(R0, 1, Z));
    assert_eq!(ret(sc(I32)), ret1(R0, 4, N));
    assert_eq!(ret(sc(U32)), ret1(R0, 4, N));
}

#[test]
fn hfa_results_come_back_in_s0_to_s7() {
    // §7.1.2.2: in consecutive VFP registers from s0 (d0). gcc: the caller of `D4 rd4(void)`
    // stores d0..d3; of `F2 rf2(void)`, s0 and s1; of `F1 rf1(void)`, s0.
    assert_eq!(ret(array(4, F64)), fprs(8));
    assert_eq!(ret(array(2, F32)), fprs(2));
    assert_eq!(ret(array(1, F32)), fprs(1));
    assert_eq!(ret(f3()), fprs(3));
}

#[test]
fn composite_results_of_up_to_4_bytes_come_back_in_r0() {
    // §6.4: as if loaded with LDR. gcc: the caller of `C3 rc3(void)` stores three bytes of r0;
    // of `struct {short a, b;} rs2(void)`, r0.
    assert_eq!(ret(c3()), rets(&[(R0, 0, 3)]));
    assert_eq!(ret(array(2, I16)), rets(&[(R0, 0, 4)]));
    assert_eq!(ret(strukt(&[(0, F32), (4, I32)])), RetLoc::Sret { ptr: Slot::Gpr(0) });
}

#[test]
fn larger_composite_results_go_through_memory_and_arguments_start_at_r1() {
    // §6.4, A.4. gcc, `struct {int a, b;} r4(int, long long)`: the buffer's address in r0, 1 in
    // r1, 2LL in r2:r3.
    let p = plan(array(2, I32), vec![sc(I32), sc(I64)]);
    assert_eq!((p.ret, p.args), (RetLoc::Sret { ptr: Slot::Gpr(0) }, vec![r(1, 4, N), rs(2, 8)]));
    let p = plan(array(3, I64), times(4, I32));
    assert_eq!((&p.args[2..], p.stack_size), (&[r(3, 4, N), stack(0, 4, N)][..], 8));
}

#[test]
fn empty_struct_takes_no_register() {
    // GNU C gives `E {}` size 0. gcc, `f5(int, E, int)`: 1 in r0, 2 in r1; `E re(void)`: the
    // caller reads nothing (a tail call).
    let p = call(vec![sc(I32), empty(), sc(I32)]);
    assert_eq!((p.args, p.stack_size), (vec![r(0, 4, N), moves(&[]), r(1, 4, N)], 0));
    assert_eq!(ret(empty()), RetLoc::Regs(SmallVec::new()));
    assert_eq!(call(vec![sc(F32), empty(), sc(F32)]).args, [s(0), moves(&[]), s(1)]);
}

#[test]
fn stack_size_is_a_multiple_of_8_and_the_x86_fields_stay_zero() {
    // §6.2.1.2: SP mod 8 = 0 at a public interface.
    let size = |n| call(times(n, I32)).stack_size;
    assert_eq!([size(4), size(5), size(6), size(7)], [0, 8, 8, 16]);
    let p = call(times(20, F64));
    assert_eq!((p.stack_size, p.fpr_count, p.callee_pops), (96, 0, 0));
}

#[test]
fn large_composites_are_passed_by_value() {
    // AAPCS32 has no by-reference rule: an aggregate over 64 bytes (which `abi::lower` leaves
    // without leaves) is split between r0..r3 and the stack like any composite, and returned
    // through memory.
    let p = plan(agg(100, 4, &[]), vec![agg(100, 4, &[]), sc(I32)]);
    assert_eq!(p.ret, RetLoc::Sret { ptr: Slot::Gpr(0) });
    assert_eq!((p.args, p.stack_size), (vec![split(1, 100), stack(88, 4, N)], 96));
}

#[test]
fn unsupported_shapes_are_errors() {
    let err = |ret, params| classify(&sig(ret, params)).is_err();
    assert!(err(AbiType::Void, vec![AbiType::Void]));
    assert!(err(AbiType::Void, vec![sc(Ptr)]));
    assert!(err(sc(Ptr), vec![]));
    assert!(err(AbiType::Void, vec![agg(8, 4, &[(0, Ptr)])]));
    assert!(err(AbiType::Void, vec![agg(4, 4, &[(4, F32)])]));
    assert!(err(AbiType::Void, vec![agg(8, 4, &[(usize::MAX, F32)])]));
    assert!(err(AbiType::Void, vec![agg(usize::MAX, 8, &[])]));
    // A 4 GiB stack argument: only a 64-bit host can even describe it (these tests also run on
    // the 32-bit target).
    if let Ok(four_gib) = usize::try_from(1u64 << 32) {
        assert!(err(AbiType::Void, [times(4, I32), vec![agg(four_gib, 4, &[])]].concat()));
    }
}

#[test]
fn odd_aggregates_never_panic() {
    // Every size up to a little past the HFA limit, odd alignments and leaf positions, as named
    // and variadic arguments and as results, after registers of both kinds are partly used.
    for size in 0..=36 {
        for align in [0, 1, 3, 8, 16, 64, usize::MAX] {
            for offset in [0, 1, 4, 8, 12, 16, 24, 32, usize::MAX] {
                for s in [I8, U16, I32, F32, F64, I64, Ptr] {
                    let a = agg(size, align, &[(offset, s), (0, F32)]);
                    let params = [times(3, I32), times(7, F64), vec![sc(F32), a.clone(), sc(I8), a.clone()]].concat();
                    let _ = classify(&sig(a.clone(), params.clone()));
                    let _ = classify(&Signature { fixed: 3, ret: a, params, variadic: true });
                }
            }
        }
    }
}

#[test]
fn a_hundred_arguments_and_huge_sizes_never_panic() {
    let mixed: Vec<AbiType> =
        (0..100).map(|i| [sc(I8), sc(F32), sc(F64), sc(I64), d2(), i3(), c3(), empty()][i % 8].clone()).collect();
    let p = call(mixed.clone());
    assert_eq!(p.args.len(), 100);
    assert_eq!(p.stack_size % 8, 0);
    assert!(classify(&Signature { fixed: 0, ret: AbiType::Void, params: mixed, variadic: true }).is_ok());
    for size in [usize::MAX, usize::MAX - 3, u32::MAX as usize, u32::MAX as usize - 8, 1 << 31] {
        for align in [1, 8, usize::MAX] {
            let big = agg(size, align, &[]);
            let _ = classify(&sig(big.clone(), vec![big.clone(), big.clone()]));
            let _ = classify(&sig(AbiType::Void, [times(9, F64), vec![big.clone(), big]].concat()));
        }
    }
}
