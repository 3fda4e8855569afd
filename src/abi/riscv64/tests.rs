//! Evidence: the riscv-cc.adoc section named in each test, and the assembly that
//! `riscv64-linux-gnu-gcc -O2 -S` (GCC 12.2, Debian; LP64D by default) emits for the caller of
//! the C shown, read by hand. "gcc" below means that compiler; the callee sees stack argument
//! offset `k` at `k(sp)` on entry. Struct names: `FF {float a, b;}`, `DD {double a, b;}`,
//! `FI {float f; int i;}`, `IF {char c; float f;}`, `FL {float f; long l;}`,
//! `FU {float f; unsigned u;}`, `F3 {float a, b, c;}`, `I2 {int a, b;}`, `L2 {long a, b;}`,
//! `L3 {long a, b, c;}`, `I3 {int a, b, c;}`, `A16 {_Alignas(16) long a; long b;}`,
//! `FB {float a; _Alignas(32) float b;}` (64 bytes), `E {}`.
//!
//! Spec item: ABI-11 (RISC-V 64, LP64D).

use super::*;
use crate::abi::testing::{agg, array, gpr as a, moves, mv, ret1, rets, sc, sig, stack, strukt, times, union};
use Ext::{NanBox as B, None as N, Sign as S, Zero as Z};
use Scalar::*;

const A0: RetReg = RetReg::Gpr(0);
const A1: RetReg = RetReg::Gpr(1);
const FA0: RetReg = RetReg::Fpr(0);
const FA1: RetReg = RetReg::Fpr(1);

/// A `float` in fa`i`, NaN-boxed.
fn fs(i: u8) -> ArgLoc {
    moves(&[mv(0, 4, Slot::Fpr(i), B)])
}
/// A `double` in fa`i`.
fn fd(i: u8) -> ArgLoc {
    moves(&[mv(0, 8, Slot::Fpr(i), N)])
}
fn ff() -> AbiType {
    array(2, F32)
}
fn fi() -> AbiType {
    strukt(&[(0, F32), (4, I32)])
}
fn l2() -> AbiType {
    array(2, I64)
}
fn l3() -> AbiType {
    array(3, I64)
}
fn a16() -> AbiType {
    agg(16, 16, &[(0, I64), (8, I64)])
}
fn fb() -> AbiType {
    agg(64, 32, &[(0, F32), (32, F32)])
}
fn empty() -> AbiType {
    agg(0, 1, &[])
}
/// An aggregate of `size` bytes in consecutive a registers from `first`.
fn words(first: u8, size: u32) -> ArgLoc {
    let piece = |i: u32| mv(8 * i, (size - 8 * i).min(8), Slot::Gpr(first + i as u8), N);
    moves(&(0..size.div_ceil(8)).map(piece).collect::<Vec<_>>())
}
fn byref(ptr: Slot) -> ArgLoc {
    ArgLoc::Indirect { ptr }
}
fn plan(ret: AbiType, params: Vec<AbiType>) -> CallPlan {
    classify(&sig(ret, params)).expect("classifies")
}
/// The plan of a `void` function.
fn call(params: Vec<AbiType>) -> CallPlan {
    plan(AbiType::Void, params)
}
/// The plan of a call to a `void` variadic function with `fixed` named parameters.
fn vcall(fixed: usize, params: Vec<AbiType>) -> CallPlan {
    classify(&Signature { fixed, ret: AbiType::Void, params, variadic: true }).expect("classifies")
}
fn ret(ty: AbiType) -> RetLoc {
    plan(ty, vec![]).ret
}
fn ret_moves(m: &[(RetReg, u32, u32, Ext)]) -> RetLoc {
    RetLoc::Regs(m.iter().map(|&(reg, dst, len, ext)| RetMove { reg, dst, len, ext }).collect())
}

#[test]
fn integers_take_a0_to_a7_then_8_byte_stack_slots() {
    // Integer Calling Convention: "passed in a single argument register, or on the stack by
    // value if none is available". gcc, `c9(long ×8, char, short, int, unsigned char, long)`
    // called with -9, -10, -11, 200, 13: one `sd` each at 0, 8, 16, 24 and 32(sp).
    let p = call([times(8, I64), vec![sc(I8), sc(I16), sc(I32), sc(U8), sc(I64)]].concat());
    assert_eq!(p.args[7], a(7, 8, N));
    let want = [stack(0, 1, S), stack(8, 2, S), stack(16, 4, S), stack(24, 1, Z), stack(32, 8, N)];
    assert_eq!((&p.args[8..], p.stack_size), (&want[..], 48));
}

#[test]
fn narrow_integers_are_widened_and_unsigned_int_is_sign_extended() {
    // Integer Calling Convention: "integer scalars narrower than XLEN bits are widened according
    // to the sign of their type up to 32 bits, then sign-extended to XLEN bits", in registers and
    // on the stack. gcc, `f_ints(-1, 255, -2, 65535, -3, 0x80000000u, 4, 0)`: a1 = 255,
    // a3 = 65535, a5 = -2147483648; `f_fst(long ×8, double ×8, 9.0f, 10.0, 0x80000000u)`: the
    // unsigned is stored with `sd` of -2147483648 at 16(sp).
    let p = call(vec![sc(I8), sc(U8), sc(I16), sc(U16), sc(I32), sc(U32), sc(I64), sc(Ptr)]).args;
    let want = [a(0, 1, S), a(1, 1, Z), a(2, 2, S), a(3, 2, Z), a(4, 4, S), a(5, 4, S), a(6, 8, N), a(7, 8, N)];
    assert_eq!(p, want);
    let p = call([times(8, I64), vec![sc(U32), sc(U16)]].concat());
    assert_eq!(p.args[8..], [stack(0, 4, S), stack(8, 2, Z)]);
}

#[test]
fn reals_take_fa0_to_fa7_and_floats_are_nan_boxed() {
    // Hardware FP convention: "A real floating-point argument is passed in a floating-point
    // argument register if [...] at least one floating-point argument register is available";
    // "narrower than FLEN bits [...] it is 1-extended (NaN-boxed)". The two register files are
    // counted separately: gcc, `f_mixc(1, 2.0f, 3, 4.0f, 5.0)`: a0, fa0, a1, fa1, fa2.
    let p = call(vec![sc(I32), sc(F32), sc(I32), sc(F32), sc(F64)]).args;
    assert_eq!(p, [a(0, 4, S), fs(0), a(1, 4, S), fs(1), fd(2)]);
}

#[test]
fn reals_past_fa7_take_integer_registers_then_the_stack() {
    // Hardware FP convention: "Otherwise, it is passed according to the integer calling
    // convention", where floats narrower than XLEN have "the upper bits undefined". gcc,
    // `f_fspill(double ×8, 9.0f, 10.0, 11.0f)`: fa0..fa7, then a0 (lw), a1 (ld), a2 (lw).
    // `f_fst(long ×8, double ×8, 9.0f, 10.0, ...)`: fsw at 0(sp), fsd at 8(sp).
    let p = call([times(8, F64), vec![sc(F32), sc(F64), sc(F32)]].concat());
    assert_eq!(p.args[7..], [fd(7), a(0, 4, N), a(1, 8, N), a(2, 4, N)]);
    let p = call([times(8, I64), times(8, F64), vec![sc(F32), sc(F64), sc(U32)]].concat());
    assert_eq!(p.args[16..], [stack(0, 4, N), stack(8, 8, N), stack(16, 4, S)]);
    assert_eq!(p.stack_size, 32);
}

#[test]
fn structs_of_one_or_two_reals_take_fa_registers() {
    // Hardware FP convention: "A struct containing just one floating-point real is passed as
    // though it were a standalone floating-point real. A struct containing two floating-point
    // reals is passed in two floating-point registers [...] assigned to the two reals in memory
    // order"; arrays count as their elements. gcc, `f_mix(9, FF, 8.0, struct {float f;},
    // struct {float f[2];}, DD)`: a0; fa0, fa1; fa2; fa3; fa4, fa5; fa6, fa7.
    let params = vec![sc(I32), ff(), sc(F64), array(1, F32), agg(8, 4, &[(0, F32), (4, F32)]), array(2, F64)];
    let p = call(params).args;
    let pair = |i: u8| moves(&[mv(0, 4, Slot::Fpr(i), B), mv(4, 4, Slot::Fpr(i + 1), B)]);
    let dd = moves(&[mv(0, 8, Slot::Fpr(6), N), mv(8, 8, Slot::Fpr(7), N)]);
    assert_eq!(p, [a(0, 4, S), pair(0), fd(2), fs(3), pair(4), dd]);
    // `struct {double d; float f;}`: fa0 and fa1, reals of different widths.
    let df = call(vec![strukt(&[(0, F64), (8, F32)])]).args;
    assert_eq!(df, [moves(&[mv(0, 8, Slot::Fpr(0), N), mv(8, 4, Slot::Fpr(1), B)])]);
}

#[test]
fn struct_of_a_real_and_an_integer_takes_one_fa_and_one_a_register() {
    // Hardware FP convention: "A struct containing one floating-point real and one integer [...],
    // in either order, is passed in a floating-point register and an integer register [...] If
    // the struct is passed in this manner, and the integer is narrower than XLEN bits, the
    // remaining bits are unspecified." gcc, `f_fi(FI, IF, FL, FU)`: fa0 + a0, a1 + fa1,
    // fa2 + a2, fa3 + a3 (a3 = 0x80000000 zero-extended by `srli`: no widening).
    let fu = strukt(&[(0, F32), (4, U32)]);
    let p = call(vec![fi(), strukt(&[(0, I8), (4, F32)]), strukt(&[(0, F32), (8, I64)]), fu]).args;
    let want = [
        moves(&[mv(0, 4, Slot::Fpr(0), B), mv(4, 4, Slot::Gpr(0), N)]),
        moves(&[mv(0, 1, Slot::Gpr(1), N), mv(4, 4, Slot::Fpr(1), B)]),
        moves(&[mv(0, 4, Slot::Fpr(2), B), mv(8, 8, Slot::Gpr(2), N)]),
        moves(&[mv(0, 4, Slot::Fpr(3), B), mv(4, 4, Slot::Gpr(3), N)]),
    ];
    assert_eq!(p, want);
}

#[test]
fn a_pointer_is_not_an_integer_for_the_fp_convention() {
    // gcc flattens only integral and real members (`riscv_flatten_aggregate_field`):
    // `struct { void *p; float f; }` takes two a registers. gcc, `g()` calling `use_pf(PF)` with
    // `{(void *)1, 2.0f}`: a0 = 1, a1 = the float's word (`fsw` + `ld`), no fa register; the same
    // struct with a `long` goes in a0 + fa0. (Found by the generated ABI tests on qemu: the
    // callee read its float from a1.)
    let pf = strukt(&[(0, Ptr), (8, F32)]);
    assert_eq!(call(vec![pf.clone()]).args, [words(0, 16)]);
    let lf = strukt(&[(0, I64), (8, F32)]);
    assert_eq!(call(vec![lf]).args, [moves(&[mv(0, 8, Slot::Gpr(0), N), mv(8, 4, Slot::Fpr(0), B)])]);
    assert_eq!(ret(pf), rets(&[(RetReg::Gpr(0), 0, 8), (RetReg::Gpr(1), 8, 8)]));
}

#[test]
fn packed_nested_and_zero_length_members_still_flatten() {
    // Hardware FP convention: "Fields containing empty structs or unions are ignored while
    // flattening [...] zero-length arrays are ignored [...] Attributes such as `aligned` or
    // `packed` do not interfere". gcc, `f_p(packed {int i; double d;}, packed {char c; float f;},
    // packed {char c; double d;})`: a0 + fa0, a1 + fa1, a2 + fa2. `f_ef(struct {struct E e;
    // float f;}, struct {int z[0]; float f;})`: fa0, fa1 (`abi::lower` leaves no leaf for the
    // empty member or the zero-length array).
    let pid = agg(12, 1, &[(0, I32), (4, F64)]);
    let pcf = agg(5, 1, &[(0, I8), (1, F32)]);
    let pcd = agg(9, 1, &[(0, I8), (1, F64)]);
    let p = call(vec![pid, pcf, pcd]).args;
    let want = [
        moves(&[mv(0, 4, Slot::Gpr(0), N), mv(4, 8, Slot::Fpr(0), N)]),
        moves(&[mv(0, 1, Slot::Gpr(1), N), mv(1, 4, Slot::Fpr(1), B)]),
        moves(&[mv(0, 1, Slot::Gpr(2), N), mv(1, 8, Slot::Fpr(2), N)]),
    ];
    assert_eq!(p, want);
    assert_eq!(call(vec![array(1, F32), array(1, F32)]).args, [fs(0), fs(1)]);
}

#[test]
fn unions_and_other_shapes_use_the_integer_convention() {
    // Hardware FP convention: "Unions are never flattened and are always passed according to the
    // integer calling convention." gcc, `f_u(union {float f;}, struct {union {float f;} u;
    // float g;})`: a0 (0x3f800000), a1. A struct of three reals or of integers only is no
    // candidate either: gcc, `f_f3(F3, I2, 6.0f)`: F3 in a0 and a1, I2 in a2, 6.0f in fa0.
    let uf = union(4, 4, &[(0, F32)]);
    let su = union(8, 4, &[(0, F32), (4, F32)]);
    assert_eq!(call(vec![uf, su]).args, [a(0, 4, N), a(1, 8, N)]);
    let p = call(vec![array(3, F32), array(2, I32), sc(F32)]).args;
    assert_eq!(p, [words(0, 12), a(2, 8, N), fs(0)]);
    // One integer alone is no candidate: `struct {int i;}` goes in a0 unwidened.
    assert_eq!(call(vec![array(1, I32)]).args, [a(0, 4, N)]);
}

#[test]
fn fp_struct_falls_back_to_the_integer_convention_when_registers_run_out() {
    // Hardware FP convention: "If the struct is not passed in this manner, then it is passed
    // according to the integer calling convention." gcc, `f_ff7(double ×7, FF, 9.0f)`: FF in a0
    // (one `ld`), 9.0f in fa7. `f_fi8(long ×8, FI, 9.0f)`: FI at 0(sp) (one `sd`), 9.0f in fa0.
    let p = call([times(7, F64), vec![ff(), sc(F32)]].concat());
    assert_eq!(p.args[7..], [a(0, 8, N), fs(7)]);
    let p = call([times(8, I64), vec![fi(), sc(F32)]].concat());
    assert_eq!((&p.args[8..], p.stack_size), (&[stack(0, 8, N), fs(0)][..], 16));
}

#[test]
fn one_real_struct_wider_than_a_register_falls_back_as_an_aggregate() {
    // `struct AF {_Alignas(16) float f;}` (16 bytes). With fa free, gcc `f_af2(1, AF, 9)`:
    // fa0, then 9 in a1. With fa0..fa7 taken, `f_af(1, double ×8, AF, 9)`: AF in a1 and a2 (a1 =
    // the float's bits, a2 = 0), 9 in a3: gcc passes the 16-byte aggregate, not "a standalone
    // floating-point real" (which would take one register).
    let af = agg(16, 16, &[(0, F32)]);
    assert_eq!(call(vec![sc(I32), af.clone(), sc(I32)]).args, [a(0, 4, S), fs(0), a(1, 4, S)]);
    let p = call([vec![sc(I32)], times(8, F64), vec![af, sc(I32)]].concat());
    assert_eq!(p.args[9..], [words(1, 16), a(3, 4, S)]);
}

#[test]
fn aggregates_take_one_or_two_a_registers() {
    // Integer Calling Convention: "Aggregates whose total size is no more than 2×XLEN bits are
    // passed in a pair of registers". Named aggregates need no aligned pair: gcc,
    // `f_a16(1, A16, 9)`: a1 and a2, then 9 in a3.
    assert_eq!(call(vec![array(3, I32), l2(), sc(I64)]).args, [words(0, 12), words(2, 16), a(4, 8, N)]);
    assert_eq!(call(vec![sc(I32), a16(), sc(I64)]).args, [a(0, 4, S), words(1, 16), a(3, 8, N)]);
}

#[test]
fn aggregate_is_split_between_a7_and_the_stack() {
    // Integer Calling Convention: "if only one register is available, the first XLEN bits are
    // passed in a register and the remaining bits are passed on the stack". gcc,
    // `f_split(long ×7, L2, 9)`: a7 = 100, 200 at 0(sp), 9 at 8(sp). `f_split3(long ×7, I3, 9)`:
    // a7 = the first two ints, `sw` 300 at 0(sp), 9 at 8(sp). `f_a16s(long ×7, A16, 9)`: as L2.
    for (s, size) in [(l2(), 16), (array(3, I32), 12), (a16(), 16)] {
        let p = call([times(7, I64), vec![s, sc(I64)]].concat());
        let split = moves(&[mv(0, 8, Slot::Gpr(7), N), mv(8, size - 8, Slot::Stack(0), N)]);
        assert_eq!(p.args[7..], [split, stack(8, 8, N)]);
        assert_eq!(p.stack_size, 16);
    }
}

#[test]
fn aggregates_on_the_stack_are_8_or_16_aligned() {
    // Integer Calling Convention: "Aggregates or scalars passed on the stack are aligned to the
    // greater of the type alignment and XLEN bits, but never more than the stack alignment."
    // gcc, `f_a16st(long ×8, char, A16, char)`: 9 at 0(sp), A16 at 16(sp), 10 at 32(sp).
    // `f_c5(long ×8, char, struct {char c[5];}, char)`: 9 at 0, the struct at 8 (`sw`, `sb`),
    // 10 at 16.
    let p = call([times(8, I64), vec![sc(I8), a16(), sc(I8)]].concat());
    assert_eq!((&p.args[8..], p.stack_size), (&[stack(0, 1, S), stack(16, 16, N), stack(32, 1, S)][..], 48));
    let c5 = agg(5, 1, &[(0, I8), (1, I8), (2, I8), (3, I8), (4, I8)]);
    let p = call([times(8, I64), vec![sc(I8), c5, sc(I8)]].concat());
    assert_eq!((&p.args[8..], p.stack_size), (&[stack(0, 1, S), stack(8, 5, N), stack(16, 1, S)][..], 32));
}

#[test]
fn aggregates_over_16_bytes_are_passed_by_reference() {
    // Integer Calling Convention: "Aggregates larger than 2×XLEN bits are passed by reference
    // and are replaced in the argument list with the address". gcc, `f_l3(L3, long ×7, L3,
    // char)`: a copy's address in a0, 2..8 in a1..a7, the other copy's address at 0(sp), 10 at
    // 8(sp). Aggregates over 64 bytes come without leaves from `abi::lower`.
    let p = call([vec![l3()], times(7, I64), vec![l3(), sc(I8)]].concat());
    assert_eq!((p.args[0].clone(), p.args[7].clone()), (byref(Slot::Gpr(0)), a(7, 8, N)));
    assert_eq!((&p.args[8..], p.stack_size), (&[byref(Slot::Stack(0)), stack(8, 1, S)][..], 16));
    let p = plan(agg(100, 4, &[]), vec![agg(100, 4, &[]), agg(usize::MAX, 8, &[])]);
    assert_eq!((p.ret, p.args), (RetLoc::Sret { ptr: Slot::Gpr(0) }, vec![byref(Slot::Gpr(1)), byref(Slot::Gpr(2))]));
}

#[test]
fn fp_structs_over_16_bytes_still_take_fa_registers() {
    // The hardware FP section sets no size limit, and gcc applies none. gcc, `f_fb(FB, struct
    // {float a; _Alignas(32) int b;}, 5)`: FB in fa0 and fa1, the other in fa2 + a0, 5 in a1.
    // With one fa register left, `f_fb7(double ×7, FB, 5)`: a copy's address in a0, 5 in a1.
    // Variadic, `va("x", FB, 9)`: the address in a1, 9 in a2.
    let fbi = agg(64, 32, &[(0, F32), (32, I32)]);
    let p = call(vec![fb(), fbi, sc(I32)]).args;
    let want = [
        moves(&[mv(0, 4, Slot::Fpr(0), B), mv(32, 4, Slot::Fpr(1), B)]),
        moves(&[mv(0, 4, Slot::Fpr(2), B), mv(32, 4, Slot::Gpr(0), N)]),
        a(1, 4, S),
    ];
    assert_eq!(p, want);
    let p = call([times(7, F64), vec![fb(), sc(I32)]].concat());
    assert_eq!(p.args[7..], [byref(Slot::Gpr(0)), a(1, 4, S)]);
    let p = vcall(1, vec![sc(Ptr), fb(), sc(I32)]);
    assert_eq!(p.args[1..], [byref(Slot::Gpr(1)), a(2, 4, S)]);
}

#[test]
fn variadic_arguments_follow_the_integer_convention() {
    // Hardware FP convention: "Variadic arguments are passed according to the integer calling
    // convention." gcc, `va("x", 1, 2.0, 3L)`: a1, a2 (the double's bits), a3.
    // `va("x", FF, L2, L3, 2.5)`: FF in a1, L2 in a2 and a3, the L3 copy's address in a4, 2.5
    // in a5. A variadic float (not possible in C, which promotes it) goes in an a register too.
    let p = vcall(1, vec![sc(Ptr), sc(I32), sc(F64), sc(I64), sc(F32)]);
    assert_eq!(p.args, [a(0, 8, N), a(1, 4, S), a(2, 8, N), a(3, 8, N), a(4, 4, N)]);
    let p = vcall(1, vec![sc(Ptr), ff(), l2(), l3(), sc(F64)]);
    assert_eq!(p.args[1..], [a(1, 8, N), words(2, 16), byref(Slot::Gpr(4)), a(5, 8, N)]);
    // A variadic function's named arguments still use the fa registers.
    assert_eq!(vcall(2, vec![sc(Ptr), sc(F64), sc(F64)]).args, [a(0, 8, N), fd(0), a(1, 8, N)]);
}

#[test]
fn variadic_16_aligned_aggregate_takes_an_even_register_pair_or_the_stack() {
    // Integer Calling Convention: "Variadic arguments with 2×XLEN-bit alignment and size at most
    // 2×XLEN bits are passed in an *aligned* register pair [...] or on the stack by value if none
    // is available. After a variadic argument has been passed on the stack, all future arguments
    // will also be passed on the stack". gcc: `va("x", 1, A16, 3)`: A16 in a2 and a3, 3 in a4.
    // `va("x", 1, 2, 3, 4, 5, 6, A16, 7)`: A16 at 0(sp), 7 at 16(sp), a7 unused.
    // `va("x", 1, ..., 8, 9, A16, 10)`: 8 at 0, 9 at 8, A16 at 16, 10 at 32.
    let p = vcall(1, vec![sc(Ptr), sc(I32), a16(), sc(I32)]);
    assert_eq!(p.args[1..], [a(1, 4, S), words(2, 16), a(4, 4, S)]);
    let p = vcall(1, [vec![sc(Ptr)], times(6, I32), vec![a16(), sc(I32)]].concat());
    assert_eq!((&p.args[6..], p.stack_size), (&[a(6, 4, S), stack(0, 16, N), stack(16, 4, S)][..], 32));
    let p = vcall(1, [vec![sc(Ptr)], times(9, I32), vec![a16(), sc(I32)]].concat());
    assert_eq!(p.args[8..], [stack(0, 4, S), stack(8, 4, S), stack(16, 16, N), stack(32, 4, S)]);
    assert_eq!(p.stack_size, 48);
    // An 8-aligned variadic aggregate may still be split: gcc, `va("x", 1, ..., 6, L2, 7)`:
    // a7 = 100, 200 at 0(sp), 7 at 8(sp).
    let p = vcall(1, [vec![sc(Ptr)], times(6, I32), vec![l2(), sc(I32)]].concat());
    let split = moves(&[mv(0, 8, Slot::Gpr(7), N), mv(8, 8, Slot::Stack(0), N)]);
    assert_eq!(p.args[7..], [split, stack(8, 4, S)]);
}

#[test]
fn empty_aggregates_take_nothing() {
    // Integer Calling Convention: "Empty structs or union arguments or return values are ignored
    // by C compilers which support them as a non-standard extension." gcc, `f_e(E, 1, E, 2.0f)`:
    // 1 in a0, 2.0f in fa0. `f_e(long ×8, 9, E, 10, struct {_Alignas(16) char c[0];}, 11)`:
    // 9, 10, 11 at 0, 8, 16(sp): no slot and no padding, even for the aligned one. Variadic,
    // `va("x", 1, E, 2, EA, 3)`: a1, a2, a3. `struct E r_e(int)` called as `r_e(5)`: 5 in a0.
    let nothing = moves(&[]);
    let p = call(vec![empty(), sc(I32), empty(), sc(F32)]).args;
    assert_eq!(p, [nothing.clone(), a(0, 4, S), nothing.clone(), fs(0)]);
    let ea = agg(0, 16, &[]);
    let p = call([times(8, I64), vec![sc(I8), empty(), sc(I8), ea.clone(), sc(I8)]].concat());
    let want = [stack(0, 1, S), nothing.clone(), stack(8, 1, S), nothing.clone(), stack(16, 1, S)];
    assert_eq!((&p.args[8..], p.stack_size), (&want[..], 32));
    let p = vcall(1, vec![sc(Ptr), sc(I32), empty(), sc(I32), ea, sc(I32)]);
    assert_eq!(p.args[1..], [a(1, 4, S), nothing.clone(), a(2, 4, S), nothing, a(3, 4, S)]);
    let p = plan(empty(), vec![sc(I32)]);
    assert_eq!((p.ret, p.args), (RetLoc::Regs(SmallVec::new()), vec![a(0, 4, S)]));
}

#[test]
fn scalar_results_use_a0_or_fa0_widened_as_arguments_are() {
    // "Values are returned in the same manner as a first named argument of the same type would
    // be passed": a callback widens its result as a caller widens an argument. gcc,
    // `unsigned d_u(unsigned a, unsigned b) { return a + b; }`: `addw`, which sign-extends.
    assert_eq!(ret(AbiType::Void), RetLoc::Void);
    assert_eq!(ret(sc(I8)), ret1(A0, 1, S));
    assert_eq!(ret(sc(U8)), ret1(A0, 1, Z));
    assert_eq!(ret(sc(U16)), ret1(A0, 2, Z));
    assert_eq!(ret(sc(I32)), ret1(A0, 4, S));
    assert_eq!(ret(sc(U32)), ret1(A0, 4, S));
    assert_eq!(ret(sc(Ptr)), rets(&[(A0, 0, 8)]));
    assert_eq!(ret(sc(F32)), ret1(FA0, 4, B));
    assert_eq!(ret(sc(F64)), rets(&[(FA0, 0, 8)]));
}

#[test]
fn fp_struct_results_use_fa0_fa1_and_a0() {
    // As a first named argument. gcc: the caller of `FF r_ff(void)` reads b from fa1; of
    // `FI r_fi(void)`, i from a0 (then `sext.w`: it assumes no widening); of `IF r_if(void)`, c
    // from a0 (`andi 0xff`); of `struct {double d; float f;} r_df(void)`, f from fa1; of
    // `FB r_fb(void)`, a and b from fa0 and fa1 (64 bytes, still in registers).
    assert_eq!(ret(ff()), ret_moves(&[(FA0, 0, 4, B), (FA1, 4, 4, B)]));
    assert_eq!(ret(fi()), ret_moves(&[(FA0, 0, 4, B), (A0, 4, 4, N)]));
    assert_eq!(ret(strukt(&[(0, I8), (4, F32)])), ret_moves(&[(A0, 0, 1, N), (FA0, 4, 4, B)]));
    assert_eq!(ret(strukt(&[(0, F64), (8, F32)])), ret_moves(&[(FA0, 0, 8, N), (FA1, 8, 4, B)]));
    assert_eq!(ret(fb()), ret_moves(&[(FA0, 0, 4, B), (FA1, 32, 4, B)]));
    assert_eq!(ret(array(2, F64)), rets(&[(FA0, 0, 8), (FA1, 8, 8)]));
}

#[test]
fn aggregate_results_of_up_to_16_bytes_use_a0_and_a1() {
    // Integer Calling Convention, as a first argument. gcc: the caller of `I3 r_i3(void)` reads c
    // from a1. Unions and three-real structs are no FP candidates.
    assert_eq!(ret(array(3, I32)), rets(&[(A0, 0, 8), (A1, 8, 4)]));
    assert_eq!(ret(l2()), rets(&[(A0, 0, 8), (A1, 8, 8)]));
    assert_eq!(ret(a16()), rets(&[(A0, 0, 8), (A1, 8, 8)]));
    assert_eq!(ret(array(3, F32)), rets(&[(A0, 0, 8), (A1, 8, 4)]));
    assert_eq!(ret(union(4, 4, &[(0, F32)])), rets(&[(A0, 0, 4)]));
}

#[test]
fn large_result_goes_through_a0_and_arguments_start_at_a1() {
    // Integer Calling Convention: "the caller allocates memory for the return value, and passes
    // the address as an implicit first parameter". gcc, `L3 r_l3(long)` called with 7: the
    // buffer's address in a0, 7 in a1.
    let p = plan(l3(), times(8, I64));
    assert_eq!(p.ret, RetLoc::Sret { ptr: Slot::Gpr(0) });
    assert_eq!((p.args[0].clone(), p.args[6].clone()), (a(1, 8, N), a(7, 8, N)));
    assert_eq!((p.args[7].clone(), p.stack_size), (stack(0, 8, N), 16));
}

#[test]
fn stack_size_is_a_multiple_of_16_and_the_x86_fields_stay_zero() {
    // Integer Calling Convention: "the stack pointer shall be aligned to a 128-bit boundary upon
    // procedure entry".
    let size = |n| call(times(n, I64)).stack_size;
    assert_eq!([size(8), size(9), size(10), size(11)], [0, 16, 16, 32]);
    let p = call(times(20, F64));
    assert_eq!((p.stack_size, p.fpr_count, p.callee_pops), (32, 0, 0));
}

#[test]
fn unsupported_shapes_are_errors() {
    let err = |ret, params| classify(&sig(ret, params)).is_err();
    assert!(err(AbiType::Void, vec![AbiType::Void]));
    assert!(err(AbiType::Void, vec![agg(4, 4, &[(4, F32)])]));
    assert!(err(AbiType::Void, vec![agg(0, 1, &[(0, I8)])]));
    assert!(err(agg(8, 4, &[(usize::MAX, F32)]), vec![]));
}

#[test]
fn no_input_panics() {
    // Every size up to a little past the FP-candidate range, odd alignments and leaf positions,
    // unions, as named and variadic arguments and as results, after registers of both kinds are
    // nearly used up.
    for size in 0..=72 {
        for align in [0, 1, 3, 8, 16, 32, usize::MAX] {
            for offset in [0, 1, 4, 8, 12, 16, 32, 64, usize::MAX] {
                for s in [I8, U16, U32, F32, F64, Ptr] {
                    for leaves in [&[(offset, s)][..], &[(offset, s), (0, F32)], &[(0, F64), (offset, s), (4, I8)]] {
                        for ty in [agg(size, align, leaves), union(size, align, leaves)] {
                            let params = [times(7, I64), times(7, F64), vec![ty.clone(), sc(I8), ty.clone()]].concat();
                            let _ = classify(&sig(ty.clone(), params.clone()));
                            let _ = classify(&Signature { fixed: 3, ret: ty, params, variadic: true });
                        }
                    }
                }
            }
        }
    }
    // Many arguments; aggregates of absurd size (passed by reference).
    let p = call([times(100, I64), times(100, F64), times(100, F32)].concat());
    assert_eq!(p.stack_size, 8 * (92 + 92 + 100));
    let huge = agg(usize::MAX / 2, 8, &[]);
    assert_eq!(call(vec![huge; 10]).args[8..], [byref(Slot::Stack(0)), byref(Slot::Stack(8))]);
}
