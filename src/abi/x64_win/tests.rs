//! Evidence: the section of Microsoft's *x64 calling convention* named in each test, and the
//! assembly that `x86_64-w64-mingw32-gcc -O2 -S` (GCC 12, MinGW-w64, Debian) emits for the caller
//! of the C shown, read by hand. "gcc" below means that compiler. The caller's rsp at the call is
//! the base of `Slot::Stack`: gcc writes the fifth argument at `32(%rsp)`. Struct names: `Sn`
//! is `n` bytes of `char` (`S2 {short}`, `S4 {int}`, `S8 {long long}`, `S12 {int a[3];}`,
//! `S16 {long long a, b;}`), `SF {float}`, `SD {double}`, `FF {float a, b;}`, `SE {}` (empty).

use super::*;
use crate::abi::testing::{agg, array, fpr as xmm, gpr, moves, mv, ret1, rets, sc, sig, stack, strukt, times, union};
use Ext::{None as N, Sign as S, Zero as Z};
use Scalar::*;

const RCX: Slot = Slot::Gpr(0);
const RDX: Slot = Slot::Gpr(1);
const R8: Slot = Slot::Gpr(2);
const R9: Slot = Slot::Gpr(3);
const XMM1: Slot = Slot::Fpr(1);
const RAX: RetReg = RetReg::Gpr(0);
const RXMM0: RetReg = RetReg::Fpr(0);
const SRET: RetLoc = RetLoc::Sret { ptr: RCX };

fn plan(ret: AbiType, params: Vec<AbiType>) -> CallPlan {
    classify(&sig(ret, params)).expect("classifies")
}
/// The plan of a `void` function.
fn call(params: Vec<AbiType>) -> CallPlan {
    plan(AbiType::Void, params)
}
/// The plan of a call to a variadic function with `fixed` named parameters.
fn vplan(ret: AbiType, fixed: usize, params: Vec<AbiType>) -> CallPlan {
    classify(&Signature { fixed, ret, params, variadic: true }).expect("classifies")
}
fn ret(ty: AbiType) -> RetLoc {
    plan(ty, vec![]).ret
}
fn byref(ptr: Slot) -> ArgLoc {
    ArgLoc::Indirect { ptr }
}
/// A struct of `n` chars.
fn chars(n: usize) -> AbiType {
    array(n, I8)
}
/// A floating-point value of `len` bytes in both registers of register position `i`.
fn both(i: u8, len: u32) -> ArgLoc {
    moves(&[mv(0, len, Slot::Fpr(i), N), mv(0, len, Slot::Gpr(i), N)])
}

#[test]
fn integers_take_rcx_rdx_r8_r9_and_narrow_ones_are_extended() {
    // "Parameter passing": "Integer-valued arguments in the leftmost four positions are passed in
    // left-to-right order in RCX, RDX, R8, and R9". gcc, `fc(-1, 200, -3, 60000)` with
    // `(signed char, unsigned char, short, unsigned short)`: movl $-1,%ecx; movl $200,%edx;
    // movl $-3,%r8d; movl $60000,%r9d: widened by their signedness.
    let p = call(vec![sc(I8), sc(U8), sc(I16), sc(U16)]);
    assert_eq!(p.args, [gpr(0, 1, S), gpr(1, 1, Z), gpr(2, 2, S), gpr(3, 2, Z)]);
    let p = call(vec![sc(I32), sc(U32), sc(I64), sc(Ptr)]);
    assert_eq!(p.args, [gpr(0, 4, S), gpr(1, 4, Z), gpr(2, 8, N), gpr(3, 8, N)]);
}

#[test]
fn floats_take_xmm0_to_xmm3_and_the_fifth_goes_on_the_stack() {
    // "Parameter passing", `func2(float a, double b, float c, double d, float e)`: "a in XMM0,
    // b in XMM1, c in XMM2, d in XMM3, e pushed on stack". gcc, `ff(1.0f, 2.0f, 3.0, 4.0f,
    // 5.0f)`: %xmm0..%xmm3, then movl $0x40a00000,32(%rsp): a 4-byte store into its 8-byte slot.
    let p = call(vec![sc(F32), sc(F32), sc(F64), sc(F32), sc(F32)]);
    assert_eq!(p.args, [xmm(0, 4), xmm(1, 4), xmm(2, 8), xmm(3, 4), stack(32, 4, N)]);
    assert_eq!((p.stack_size, p.fpr_count), (48, 0));
}

#[test]
fn integer_and_float_arguments_share_positions() {
    // "Parameter passing", `func3(int a, double b, int c, float d, int e, float f)`: "a in RCX, b
    // in XMM1, c in R8, d in XMM3, f then e pushed on stack". gcc, `fm(1, 2.0, 3, 4.0)`:
    // movl $1,%ecx; movsd …,%xmm1; movl $3,%r8d; movsd …,%xmm3.
    let p = call(vec![sc(I32), sc(F64), sc(I32), sc(F64)]);
    assert_eq!(p.args, [gpr(0, 4, S), xmm(1, 8), gpr(2, 4, S), xmm(3, 8)]);
    let p = call(vec![sc(I32), sc(F64), sc(I32), sc(F32), sc(I32), sc(F32)]);
    assert_eq!(p.args[4..], [stack(32, 4, S), stack(40, 4, N)]);
}

#[test]
fn fifth_and_later_arguments_go_above_the_home_space() {
    // "Stack allocation": the home space of the four register arguments comes first, the fifth
    // argument just above it. gcc, `f5(1, 2, 3, 4, 5, 6)` (long long): %rcx, %rdx, %r8, %r9, then
    // movq $5,32(%rsp); movq $6,40(%rsp) after subq $56 (48 bytes plus the return address's
    // realignment). `f6(1, 2, 3, 4, 5, 6.0)`: movl $5,32(%rsp), the double at 40(%rsp).
    let p = call(times(6, I64));
    assert_eq!(p.args[3..], [gpr(3, 8, N), stack(32, 8, N), stack(40, 8, N)]);
    assert_eq!(p.stack_size, 48);
    let p = call([times(5, I32), vec![sc(F64)]].concat());
    assert_eq!(p.args[4..], [stack(32, 4, S), stack(40, 8, N)]);
}

#[test]
fn stack_size_always_includes_the_home_space() {
    // "Calling convention defaults": the caller "must always allocate sufficient space to store
    // four register parameters, even if the callee doesn't take that many"; "Stack allocation":
    // rsp is 16-aligned at the call. gcc, `none()` called through `subq $40`: 32 bytes plus the
    // realignment; `f5(…)` with six arguments, `subq $56`.
    let size = |n| call(times(n, I64)).stack_size;
    assert_eq!([size(0), size(1), size(4), size(5), size(6), size(7)], [32, 32, 32, 48, 48, 64]);
    let p = call(vec![]);
    assert_eq!((p.fpr_count, p.callee_pops), (0, 0));
}

#[test]
fn aggregates_of_1_2_4_8_bytes_go_as_integers_and_others_by_reference() {
    // "Parameter passing": "Structs and unions of size 8, 16, 32, or 64 bits [...] are passed as
    // if they were integers of the same size. Structs or unions of other sizes are passed as a
    // pointer to memory allocated by the caller." gcc, `a1(S1, S2, S3, S4)`: movzbl into %ecx,
    // movzwl into %edx, leaq 32(%rsp),%r8 (a copy), movl into %r9d. `a2(S5, S8, S12, S16)`:
    // leaq into %rcx, movq into %rdx, leaq into %r8 and %r9.
    let p = call(vec![chars(1), array(1, I16), chars(3), array(1, I32)]);
    assert_eq!(p.args, [gpr(0, 1, N), gpr(1, 2, N), byref(R8), gpr(3, 4, N)]);
    let p = call(vec![chars(5), array(1, I64), array(3, I32), array(2, I64)]);
    assert_eq!(p.args, [byref(RCX), gpr(1, 8, N), byref(R8), byref(R9)]);
    // 6- and 7-byte structs are by reference too (no such integer).
    let p = call(vec![array(3, I16), chars(7)]);
    assert_eq!(p.args, [byref(RCX), byref(RDX)]);
}

#[test]
fn struct_of_one_float_or_double_goes_in_an_integer_register() {
    // "Parameter passing": only the size counts. gcc, `a3(SF, SD, 7.0, FF)`: movl into %ecx,
    // movq into %rdx, 7.0 in %xmm2, movq into %r9.
    let ff = strukt(&[(0, F32), (4, F32)]);
    let p = call(vec![strukt(&[(0, F32)]), strukt(&[(0, F64)]), sc(F64), ff]);
    assert_eq!(p.args, [gpr(0, 4, N), gpr(1, 8, N), xmm(2, 8), gpr(3, 8, N)]);
}

#[test]
fn packed_structs_and_unions_are_classified_by_size() {
    // gcc, `a(P8, P5, U, 1.0)` with `P8 __attribute__((packed)) {char c; int i; short s; char
    // d;}`, `P5 __attribute__((packed)) {char c; int i;}`, `U {int i; float f;}`: movq into
    // %rcx, leaq into %rdx, movl into %r8d, 1.0 in %xmm3.
    let p8 = agg(8, 1, &[(0, I8), (1, I32), (5, I16), (7, I8)]);
    let p5 = agg(5, 1, &[(0, I8), (1, I32)]);
    let u = union(4, 4, &[(0, I32), (0, F32)]);
    let p = call(vec![p8, p5, u, sc(F64)]);
    assert_eq!(p.args, [gpr(0, 8, N), byref(RDX), gpr(2, 4, N), xmm(3, 8)]);
}

#[test]
fn aggregates_on_the_stack_take_one_slot_each() {
    // "Parameter passing": the fifth and later positions are on the stack whatever the kind; a
    // pointer to a copy takes the slot of a by-reference aggregate. gcc, `a5(1, 2, 3, 4, S12, S8,
    // S3)`: the address of the S12 copy at 32(%rsp), S8 at 40(%rsp), the address of the S3 copy
    // at 48(%rsp).
    let p = call([times(4, I64), vec![array(3, I32), array(1, I64), chars(3)]].concat());
    assert_eq!(p.args[4..], [byref(Slot::Stack(32)), stack(40, 8, N), byref(Slot::Stack(48))]);
    assert_eq!(p.stack_size, 64);
}

#[test]
fn empty_struct_is_passed_by_reference_and_returned_in_nothing() {
    // MinGW gcc, not Microsoft's page (MSVC has no empty C structs). `a4(1, SE, 2)`: movl
    // $1,%ecx; leaq 32(%rsp),%rdx; movl $2,%r8d: size 0 is not 1, 2, 4 or 8, so by reference.
    // `SE re2(int x, int y)` (the callee) stores y from %edx and sets nothing: no hidden pointer,
    // no result register.
    assert_eq!(call(vec![sc(I32), agg(0, 1, &[]), sc(I32)]).args, [gpr(0, 4, S), byref(RDX), gpr(2, 4, S)]);
    let p = plan(agg(0, 1, &[]), times(2, I32));
    assert_eq!((p.ret, p.args), (RetLoc::Regs(SmallVec::new()), vec![gpr(0, 4, S), gpr(1, 4, S)]));
}

#[test]
fn scalar_results_use_rax_or_xmm0() {
    // "Return values": "A scalar return value that can fit into 64 bits [...] is returned through
    // RAX"; "floats, doubles [...] are returned in XMM0". gcc callers: `rc()` read with movsbq
    // %al, `rus()` with movzwl %ax, `rfl()` from %xmm0.
    assert_eq!(ret(AbiType::Void), RetLoc::Void);
    assert_eq!(ret(sc(I8)), ret1(RAX, 1, S));
    assert_eq!(ret(sc(U16)), ret1(RAX, 2, Z));
    assert_eq!(ret(sc(I32)), ret1(RAX, 4, S));
    assert_eq!(ret(sc(Ptr)), rets(&[(RAX, 0, 8)]));
    assert_eq!(ret(sc(F32)), rets(&[(RXMM0, 0, 4)]));
    assert_eq!(ret(sc(F64)), rets(&[(RXMM0, 0, 8)]));
}

#[test]
fn small_aggregate_results_come_back_in_rax_even_of_floats() {
    // "Return values": user-defined types of 1, 2, 4 or 8 bytes are returned in RAX. gcc
    // callers: `r1()` reads %al; `rf()` (SF) movd %eax,%xmm1; `rd()` (SD) movq %rax,%xmm0;
    // `rff()` (FF) shrq $32,%rax for b: all in %rax, none in %xmm0.
    assert_eq!(ret(chars(1)), rets(&[(RAX, 0, 1)]));
    assert_eq!(ret(array(1, I16)), rets(&[(RAX, 0, 2)]));
    assert_eq!(ret(strukt(&[(0, F32)])), rets(&[(RAX, 0, 4)]));
    assert_eq!(ret(strukt(&[(0, F64)])), rets(&[(RAX, 0, 8)]));
    assert_eq!(ret(strukt(&[(0, F32), (4, F32)])), rets(&[(RAX, 0, 8)]));
}

#[test]
fn other_aggregate_results_go_through_a_hidden_pointer_in_rcx() {
    // "Return values": otherwise "the caller must allocate memory for the return value and pass a
    // pointer to it as the first argument". gcc callers: `r3()` and `r5()` leaq into %rcx,
    // `r16()` leaq 32(%rsp),%rcx.
    for ty in [chars(3), chars(5), array(3, I16), chars(7), array(3, I32), array(2, I64), agg(100, 4, &[])] {
        assert_eq!(ret(ty), SRET);
    }
}

#[test]
fn hidden_result_pointer_shifts_every_argument_one_position() {
    // "Return values": "Subsequent arguments are then shifted one argument to the right." gcc,
    // `S12 r12(int, double, int, double, int)` called as `r12(1, 2.0, 3, 4.0, 5)`: leaq into
    // %rcx, 1 in %edx, 2.0 in %xmm2, 3 in %r9d, 4.0 at 32(%rsp), 5 at 40(%rsp).
    let p = plan(array(3, I32), vec![sc(I32), sc(F64), sc(I32), sc(F64), sc(I32)]);
    assert_eq!(p.ret, SRET);
    assert_eq!(p.args, [gpr(1, 4, S), xmm(2, 8), gpr(3, 4, S), stack(32, 8, N), stack(40, 4, S)]);
    assert_eq!(p.stack_size, 48);
    // The hidden pointer counts toward the stack area: three arguments fill four positions.
    assert_eq!(plan(array(3, I32), times(3, I64)).stack_size, 32);
    assert_eq!(plan(array(3, I32), times(4, I64)).stack_size, 48);
}

#[test]
fn variadic_floats_are_in_both_registers_of_their_position() {
    // "Varargs": "both the integer register and the floating-point register must contain the
    // value". gcc, `vf("x", 1.0, 2, 3.0, 4.0, 5.0)` for `int vf(const char *, ...)`: "x" in
    // %rcx, 1.0 in %rdx and %xmm1, 2 in %r8d, 3.0 in %r9 and %xmm3, 4.0 at 32(%rsp) and 5.0 at
    // 40(%rsp), each once.
    let p = vplan(sc(I32), 1, vec![sc(Ptr), sc(F64), sc(I32), sc(F64), sc(F64), sc(F64)]);
    let want = [gpr(0, 8, N), both(1, 8), gpr(2, 4, S), both(3, 8), stack(32, 8, N), stack(40, 8, N)];
    assert_eq!(p.args, want);
    assert_eq!((p.stack_size, p.fpr_count), (48, 0));
    assert_eq!(p.args[1], moves(&[mv(0, 8, XMM1, N), mv(0, 8, RDX, N)]));
    // With a hidden result pointer, the shifted position's pair is used.
    let p = vplan(array(4, I32), 1, vec![sc(Ptr), sc(F64)]);
    assert_eq!((p.ret, p.args), (SRET, vec![gpr(1, 8, N), both(2, 8)]));
}

#[test]
fn named_floats_of_a_variadic_function_are_duplicated_too() {
    // Our choice, from "Parameter passing" ("Floating-point values are only placed in the integer
    // registers [...] when there are varargs arguments") and the overview's "for vararg [...]
    // functions": a property of the call. gcc, `vd(1.0, 2.0, 3)` for `void vd(double, ...)`:
    // 1.0 in %xmm0 only, 2.0 in %rdx and %xmm1, 3 in %r8d; LLVM's lowering copies every XMM
    // argument of a Win64 varargs call to its GPR. The callee reads the register it expects; the copy in
    // %rcx is harmless.
    let p = vplan(AbiType::Void, 1, vec![sc(F64), sc(F64), sc(I32)]);
    assert_eq!(p.args, [both(0, 8), both(1, 8), gpr(2, 4, S)]);
    // A variadic function called with no variadic argument still duplicates.
    assert_eq!(vplan(AbiType::Void, 1, vec![sc(F64)]).args, [both(0, 8)]);
}

#[test]
fn variadic_float_is_the_callers_to_promote() {
    // C's default argument promotions make a variadic `float` a `double` before the call: gcc,
    // `vf("x", 1.5f)` loads the double 1.5 into %rdx and %xmm1. A float that reaches the
    // classifier unpromoted is passed as it is, 4 bytes in both registers.
    let p = vplan(AbiType::Void, 1, vec![sc(Ptr), sc(F32), sc(F32), sc(F32), sc(F32)]);
    assert_eq!(p.args, [gpr(0, 8, N), both(1, 4), both(2, 4), both(3, 4), stack(32, 4, N)]);
}

#[test]
fn variadic_aggregates_are_not_duplicated() {
    // "Varargs": "For floating-point values only". A struct of one double is an 8-byte integer
    // here. gcc, `vf("x", SD, S12)`: SD in %rdx (it also copies it to %xmm1, which no callee
    // reads: va_arg reads the home space %rdx is spilled to), the S12 copy's address in %r8.
    let p = vplan(AbiType::Void, 1, vec![sc(Ptr), strukt(&[(0, F64)]), array(3, I32), strukt(&[(0, F32)])]);
    assert_eq!(p.args, [gpr(0, 8, N), gpr(1, 8, N), byref(R8), gpr(3, 4, N)]);
}

#[test]
fn huge_and_many_arguments_never_panic() {
    // A hundred arguments: position p at 8·p.
    let p = call(times(100, I64));
    assert_eq!((p.args[99].clone(), p.stack_size), (stack(792, 8, N), 800));
    let p = vplan(array(3, I32), 0, times(100, F64));
    assert_eq!((p.args[99].clone(), p.stack_size), (stack(800, 8, N), 816));
    // Huge aggregates are by reference: their size never reaches the plan.
    let p = plan(agg(usize::MAX, 8, &[]), vec![agg(usize::MAX, 8, &[]), agg(usize::MAX / 3, 16, &[])]);
    assert_eq!((p.ret, p.args), (SRET, vec![byref(RDX), byref(R8)]));
    // Void is not a parameter type.
    assert!(classify(&sig(AbiType::Void, vec![AbiType::Void])).is_err());
}

#[test]
fn odd_aggregates_never_panic() {
    // Every size up to a little past 16, odd alignments and leaf positions, as named and
    // variadic arguments, in register and stack positions, and as results.
    for size in 0..=20 {
        for align in [0, 1, 3, 8, 16, 64, usize::MAX] {
            for offset in [0, 1, 4, 8, 12, 16, usize::MAX] {
                for s in [I8, U16, I32, F32, F64, Ptr] {
                    let a = agg(size, align, &[(offset, s), (0, F32)]);
                    let params = [vec![a.clone(), sc(F32)], times(3, F64), vec![a.clone(), sc(I8), a.clone()]].concat();
                    let _ = classify(&sig(a.clone(), params.clone()));
                    let _ = classify(&Signature { fixed: 1, ret: a, params, variadic: true });
                }
            }
        }
    }
}
