//! Evidence: the AAPCS64 clause or Apple page named in each test, and the assembly that
//! `aarch64-linux-gnu-gcc -O2 -S` (GCC 12.2, Debian) and `clang --target=arm64-apple-macos -O2 -S`
//! (clang 14) emit for the caller of the C shown, read by hand. The callee sees stack argument
//! offset `k` at `[sp, k]` after the call's `sub sp`. "gcc" below means the first, "clang" the
//! second. Struct names: `F3 {float a, b, c;}`, `D4 {double a, b, c, d;}`, `L2 {long a, b;}`,
//! `L3 {long a, b, c;}`, `I3 {int a, b, c;}`, `A16 {_Alignas(16) long a; long b;}`.
//!
//! Spec items: ABI-08 (AAPCS64, both variants' common rules and the Linux variant) and ABI-09
//! (the Apple variant's differences: packed stack arguments, variadic arguments on the stack,
//! caller-extended small integers).

use super::*;
use crate::abi::testing::{
    agg, array, fpr as v, gpr as x, moves, mv, ret1, rets, sc, sig, stack, strukt, times, union,
};
use Ext::{None as N, Sign as S, Zero as Z};
use Scalar::*;
use Variant::{Aapcs64, Apple};

const BOTH: [Variant; 2] = [Aapcs64, Apple];
const X0: RetReg = RetReg::Gpr(0);
const X1: RetReg = RetReg::Gpr(1);

fn f3() -> AbiType {
    array(3, F32)
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
/// A composite of `size` bytes in consecutive x registers from `first`.
fn xs(first: u8, size: u32) -> ArgLoc {
    let piece = |i: u32| mv(8 * i, (size - 8 * i).min(8), Slot::Gpr(first + i as u8), N);
    moves(&(0..size.div_ceil(8)).map(piece).collect::<Vec<_>>())
}
/// An HFA of `n` members of `len` bytes in consecutive v registers from `first`.
fn vs(first: u8, n: u8, len: u32) -> ArgLoc {
    moves(&(0..n).map(|i| mv(len * u32::from(i), len, Slot::Fpr(first + i), N)).collect::<Vec<_>>())
}
fn byref(ptr: Slot) -> ArgLoc {
    ArgLoc::Indirect { ptr }
}
fn plan(variant: Variant, ret: AbiType, params: Vec<AbiType>) -> CallPlan {
    classify(&sig(ret, params), variant).expect("classifies")
}
/// The plan of a `void` function.
fn call(variant: Variant, params: Vec<AbiType>) -> CallPlan {
    plan(variant, AbiType::Void, params)
}
/// The plan of a call to a `void` variadic function with `fixed` named parameters.
fn vcall(variant: Variant, fixed: usize, params: Vec<AbiType>) -> CallPlan {
    let s = Signature { fixed, ret: AbiType::Void, params, variadic: true };
    classify(&s, variant).expect("classifies")
}
fn ret(variant: Variant, ty: AbiType) -> RetLoc {
    plan(variant, ty, vec![]).ret
}

#[test]
fn integers_take_x0_to_x7_then_the_stack() {
    // C.9, C.16. gcc and clang, `i9(int ×9, long)`: w0..w7, then 9 at [sp] and 10L at [sp, 8].
    for variant in BOTH {
        let p = call(variant, [times(9, I32), vec![sc(I64)]].concat());
        assert_eq!(p.args[7..], [x(7, 4, S), stack(0, 4, S), stack(8, 8, N)]);
        assert_eq!(p.stack_size, 16);
    }
}

#[test]
fn small_integers_are_widened_by_their_signedness() {
    // C.9 leaves the bits above the value unspecified; Apple's page makes the caller extend
    // arguments under 32 bits by their signedness. Widening to 64 bits satisfies both.
    for variant in BOTH {
        let p = call(variant, vec![sc(I8), sc(U8), sc(I16), sc(U16), sc(I32), sc(U32), sc(I64), sc(Ptr)]).args;
        let want = [x(0, 1, S), x(1, 1, Z), x(2, 2, S), x(3, 2, Z), x(4, 4, S), x(5, 4, Z), x(6, 8, N), x(7, 8, N)];
        assert_eq!(p, want);
    }
}

#[test]
fn doubles_take_v0_to_v7_then_the_stack() {
    // C.1, C.5, C.6. gcc and clang, `d9(double ×9, float)`: d0..d7, 9.0 at [sp], 10.0f at
    // [sp, 8] (a 4-byte store).
    for variant in BOTH {
        let p = call(variant, [times(9, F64), vec![sc(F32)]].concat());
        assert_eq!(p.args[7..], [v(7, 8), stack(0, 8, N), stack(8, 4, N)]);
        assert_eq!(p.stack_size, 16);
    }
}

#[test]
fn integer_and_fp_registers_are_counted_separately() {
    // C.1 and C.9 keep separate counts (NSRN, NGRN).
    for variant in BOTH {
        let p = call(variant, vec![sc(I32), sc(F64), sc(I32), sc(F32)]).args;
        assert_eq!(p, [x(0, 4, S), v(0, 8), x(1, 4, S), v(1, 4)]);
    }
}

#[test]
fn spilled_integers_leave_v_registers_to_floats() {
    // gcc, `i8x(long ×8, char, int, char, float, char, double)`: 9 at [sp], 10 at [sp, 8],
    // 11 at [sp, 16], 12.0f in s0, 13 at [sp, 24], 14.0 in d1. clang: 9 at [sp], 10 at [sp, 4],
    // 11 and 13 at [sp, 8] and [sp, 9] (one strh), s0, d1.
    let params = [times(8, I64), vec![sc(I8), sc(I32), sc(I8), sc(F32), sc(I8), sc(F64)]].concat();
    let p = call(Aapcs64, params.clone());
    let want = [stack(0, 1, S), stack(8, 4, S), stack(16, 1, S), v(0, 4), stack(24, 1, S), v(1, 8)];
    assert_eq!((&p.args[8..], p.stack_size), (&want[..], 32));
    let p = call(Apple, params);
    let want = [stack(0, 1, S), stack(4, 4, S), stack(8, 1, S), v(0, 4), stack(9, 1, S), v(1, 8)];
    assert_eq!(p.args[8..], want);
}

#[test]
fn aapcs64_stack_slots_are_eight_bytes() {
    // C.14, C.16. gcc, `c9(char ×9, short, int, char, long)`: strb [sp], strh [sp, 8],
    // str w [sp, 16], strb [sp, 24], str x [sp, 32].
    let p = call(Aapcs64, [times(9, I8), vec![sc(I16), sc(I32), sc(I8), sc(I64)]].concat());
    let want = [stack(0, 1, S), stack(8, 2, S), stack(16, 4, S), stack(24, 1, S), stack(32, 8, N)];
    assert_eq!((&p.args[8..], p.stack_size), (&want[..], 48));
}

#[test]
fn apple_packs_stack_arguments_at_natural_alignment() {
    // Apple: "function arguments may consume slots on the stack that are not multiples of 8
    // bytes". clang, the same `c9`: strb [sp], strh [sp, 2], str w [sp, 4], strb [sp, 8],
    // str x [sp, 16].
    let p = call(Apple, [times(9, I8), vec![sc(I16), sc(I32), sc(I8), sc(I64)]].concat());
    let want = [stack(0, 1, S), stack(2, 2, S), stack(4, 4, S), stack(8, 1, S), stack(16, 8, N)];
    assert_eq!((&p.args[8..], p.stack_size), (&want[..], 32));
}

#[test]
fn hfa_of_one_to_four_floats_uses_s0_to_s3() {
    // §5.9.5, C.2: one v register per member; the next float takes the next one. gcc and clang,
    // `hf3(struct F3)`: ldp s0, s1; ldr s2.
    for variant in BOTH {
        for n in 1..=4u8 {
            let p = call(variant, vec![array(n.into(), F32), sc(F32)]).args;
            assert_eq!(p, [vs(0, n, 4), v(n, 4)], "{n} floats, {variant:?}");
        }
    }
}

#[test]
fn hfa_of_one_to_four_doubles_uses_d0_to_d3() {
    // §5.9.5, C.2.
    for variant in BOTH {
        for n in 1..=4u8 {
            let p = call(variant, vec![sc(F64), array(n.into(), F64), sc(F64)]).args;
            assert_eq!(p, [v(0, 8), vs(1, n, 8), v(n + 1, 8)], "{n} doubles, {variant:?}");
        }
    }
}

#[test]
fn hfa_that_does_not_fit_goes_on_stack_and_later_doubles_too() {
    // C.3: NSRN = 8. gcc and clang, `hfnofit(double ×6, struct F3, double, int)`: F3 at [sp]
    // (12 bytes), 7.0 at [sp, 16] although d6 and d7 are free, 8 in w0.
    for variant in BOTH {
        let p = call(variant, [times(6, F64), vec![f3(), sc(F64), sc(I32)]].concat());
        assert_eq!(p.args[6..], [stack(0, 12, N), stack(16, 8, N), x(0, 4, S)]);
        assert_eq!(p.stack_size, 32);
    }
    // gcc and clang, `d4st(double ×5, struct D4, double, struct {float a, b;})`: D4 at [sp]
    // (32 bytes), 6.0 at [sp, 32], the float pair at [sp, 40].
    for variant in BOTH {
        let p = call(variant, [times(5, F64), vec![array(4, F64), sc(F64), array(2, F32)]].concat());
        assert_eq!(p.args[5..], [stack(0, 32, N), stack(32, 8, N), stack(40, 8, N)]);
        assert_eq!(p.stack_size, 48);
    }
}

#[test]
fn aapcs64_hfa_on_stack_takes_a_slot_rounded_to_8() {
    // C.3, C.4. gcc, `f3f(double ×8, struct F3, float)`: F3 at [sp] and [sp, 8], 9.0f at
    // [sp, 16]. `hfpack(double ×8, float, float, struct F3, char, struct {double a, b;}, char,
    // struct {float a, b;})`: floats at [sp] and [sp, 8], F3 at 16, chars in w0 and w1, the
    // double pair at 32, the float pair at 48.
    let p = call(Aapcs64, [times(8, F64), vec![f3(), sc(F32)]].concat());
    assert_eq!(p.args[8..], [stack(0, 12, N), stack(16, 4, N)]);
    let rest = vec![sc(F32), sc(F32), f3(), sc(I8), array(2, F64), sc(I8), array(2, F32)];
    let p = call(Aapcs64, [times(8, F64), rest].concat());
    let want = [stack(0, 4, N), stack(8, 4, N), stack(16, 12, N), x(0, 1, S), stack(32, 16, N), x(1, 1, S)];
    assert_eq!(p.args[8..14], want);
    assert_eq!((p.args[14].clone(), p.stack_size), (stack(48, 8, N), 64));
}

#[test]
fn apple_hfa_on_stack_is_packed_at_member_alignment() {
    // clang, the same `f3f`: F3 at [sp] (12 bytes), 9.0f at [sp, 12]. `hfpack`: the floats at
    // [sp] and [sp, 4] (one stp), F3 at 8, the double pair at 24, the float pair at 40.
    let p = call(Apple, [times(8, F64), vec![f3(), sc(F32)]].concat());
    assert_eq!(p.args[8..], [stack(0, 12, N), stack(12, 4, N)]);
    let rest = vec![sc(F32), sc(F32), f3(), sc(I8), array(2, F64), sc(I8), array(2, F32)];
    let p = call(Apple, [times(8, F64), rest].concat());
    let want = [stack(0, 4, N), stack(4, 4, N), stack(8, 12, N), x(0, 1, S), stack(24, 16, N), x(1, 1, S)];
    assert_eq!(p.args[8..14], want);
    assert_eq!((p.args[14].clone(), p.stack_size), (stack(40, 8, N), 48));
}

#[test]
fn over_aligned_hfa_on_stack() {
    // `struct HA16 {_Alignas(16) float a; float b, c, d;}` after 8 doubles and a float. C.4:
    // 16-aligned; gcc: HA16 at [sp, 16]. Apple: clang stores it at [sp, 4], member-aligned.
    let ha16 = agg(16, 16, &[(0, F32), (4, F32), (8, F32), (12, F32)]);
    let p = call(Aapcs64, [times(8, F64), vec![sc(F32), ha16.clone()]].concat());
    assert_eq!(p.args[8..], [stack(0, 4, N), stack(16, 16, N)]);
    let p = call(Apple, [times(8, F64), vec![sc(F32), ha16]].concat());
    assert_eq!(p.args[8..], [stack(0, 4, N), stack(4, 16, N)]);
}

#[test]
fn struct_int_float_is_not_an_hfa_and_takes_one_x_register() {
    // §5.9.5: mixed members. gcc and clang, `ifs(struct {int i; float f;}, float)`: ldr x0, and
    // 2.0f in s0.
    for variant in BOTH {
        let p = call(variant, vec![strukt(&[(0, I32), (4, F32)]), sc(F32)]).args;
        assert_eq!(p, [x(0, 8, N), v(0, 4)]);
    }
}

#[test]
fn hfa_needs_identical_members_and_no_padding() {
    // §5.9.5. `z(int, struct {float a; double b;}, struct {_Alignas(16) float a;},
    // union {int i; float f;}, float)`: gcc: w0, x1/x2, x4/x5 (C.10), w6, s0; clang: w0, x1/x2,
    // x3/x4, w5, s0. `z5(struct {float a, b, c, d, e;}, float)`: a copy's address in x0, s0.
    let fd = strukt(&[(0, F32), (8, F64)]);
    let pf = agg(16, 16, &[(0, F32)]);
    let ui = union(4, 4, &[(0, I32), (0, F32)]);
    let params = vec![sc(I32), fd, pf, ui, sc(F32)];
    let p = call(Aapcs64, params.clone()).args;
    assert_eq!(p, [x(0, 4, S), xs(1, 16), xs(4, 16), x(6, 4, N), v(0, 4)]);
    let p = call(Apple, params).args;
    assert_eq!(p, [x(0, 4, S), xs(1, 16), xs(3, 16), x(5, 4, N), v(0, 4)]);
    for variant in BOTH {
        assert_eq!(call(variant, vec![array(5, F32), sc(F32)]).args, [byref(Slot::Gpr(0)), v(0, 4)]);
    }
}

#[test]
fn unions_of_one_float_type_are_hfas() {
    // §5.9.5 counts uniquely addressable members. gcc and clang, `uf(union {float a; float b;},
    // union {float a; float b[2];}, float)`: s0, then s1 and s2, then 3.0f in s3.
    let uf = union(4, 4, &[(0, F32), (0, F32)]);
    let uf2 = union(8, 4, &[(0, F32), (0, F32), (4, F32)]);
    for variant in BOTH {
        assert_eq!(call(variant, vec![uf.clone(), uf2.clone(), sc(F32)]).args, [v(0, 4), vs(1, 2, 4), v(3, 4)]);
    }
}

#[test]
fn composites_of_12_and_16_bytes_take_x_register_pairs() {
    // C.12. gcc and clang, `i3(struct I3, struct L2, long)`: I3 in x0 and w1, L2 in x2 and x3,
    // 5 in x4.
    for variant in BOTH {
        let p = call(variant, vec![array(3, I32), l2(), sc(I64)]).args;
        assert_eq!(p, [xs(0, 12), xs(2, 16), x(4, 8, N)]);
    }
}

#[test]
fn sixteen_byte_aligned_composite_starts_at_an_even_x_register() {
    // C.10. gcc, `a16(int, struct A16, long)`: 1 in w0, A16 in x2 and x3, 5 in x4 (x1 stays
    // unused).
    let p = call(Aapcs64, vec![sc(I32), a16(), sc(I64)]).args;
    assert_eq!(p, [x(0, 4, S), xs(2, 16), x(4, 8, N)]);
}

#[test]
fn apple_sixteen_byte_aligned_composite_may_start_at_an_odd_x_register() {
    // Apple's page: such an argument may start in an odd-numbered x register. clang, the same
    // `a16`: A16 in x1 and x2, 5 in w3.
    let p = call(Apple, vec![sc(I32), a16(), sc(I64)]).args;
    assert_eq!(p, [x(0, 4, S), xs(1, 16), x(3, 8, N)]);
}

#[test]
fn composite_that_does_not_fit_goes_wholly_on_stack_and_later_ints_too() {
    // C.12, C.13: no split, NGRN = 8. gcc and clang, `nofit(long ×7, struct L2, long)`: L2 at
    // [sp] and [sp, 8], 9 at [sp, 16] although x7 is free. `a16x7(long ×7, struct A16, long)`:
    // the same offsets (gcc rounds NGRN from 7 to 8 first).
    for variant in BOTH {
        for s in [l2(), a16()] {
            let p = call(variant, [times(7, I64), vec![s, sc(I64)]].concat());
            assert_eq!(p.args[7..], [stack(0, 16, N), stack(16, 8, N)]);
            assert_eq!(p.stack_size, 32);
        }
    }
}

#[test]
fn sixteen_byte_aligned_composite_is_16_aligned_on_the_stack() {
    // C.14. gcc and clang, `a16st(long ×8, char, struct A16, char)`: 9 at [sp], A16 at [sp, 16],
    // 10 at [sp, 32].
    for variant in BOTH {
        let p = call(variant, [times(8, I64), vec![sc(I8), a16(), sc(I8)]].concat());
        assert_eq!(p.args[8..], [stack(0, 1, S), stack(16, 16, N), stack(32, 1, S)]);
        assert_eq!(p.stack_size, 48);
    }
}

#[test]
fn small_composite_on_stack_takes_an_8_byte_slot() {
    // B.5, C.14, C.15. gcc and clang, `c5s(long ×8, char, struct {char c[5];}, char)`: 9 at
    // [sp], the struct at [sp, 8], 10 at [sp, 16] (clang too: composites are not packed).
    let c5 = agg(5, 1, &[(0, I8), (1, I8), (2, I8), (3, I8), (4, I8)]);
    for variant in BOTH {
        let p = call(variant, [times(8, I64), vec![sc(I8), c5.clone(), sc(I8)]].concat());
        assert_eq!(p.args[8..], [stack(0, 1, S), stack(8, 5, N), stack(16, 1, S)]);
        assert_eq!(p.stack_size, 32);
    }
}

#[test]
fn composite_over_16_bytes_is_passed_by_reference() {
    // B.4. gcc and clang, `big(struct L3, long ×7, struct L3)`: a copy's address in x0, 1..7 in
    // x1..x7, the other copy's address at [sp]. `ptrst(long ×8, char, struct L3, char)`: 9 at
    // [sp], the address at [sp, 8], 10 at [sp, 16].
    for variant in BOTH {
        let p = call(variant, [vec![l3()], times(7, I64), vec![l3()]].concat());
        assert_eq!((p.args[0].clone(), p.args[7].clone()), (byref(Slot::Gpr(0)), x(7, 8, N)));
        assert_eq!((p.args[8].clone(), p.stack_size), (byref(Slot::Stack(0)), 16));
        let p = call(variant, [times(8, I64), vec![sc(I8), l3(), sc(I8)]].concat());
        assert_eq!(p.args[8..], [stack(0, 1, S), byref(Slot::Stack(8)), stack(16, 1, S)]);
    }
}

#[test]
fn large_result_goes_through_x8_and_arguments_still_start_at_x0() {
    // §6.9: the result buffer's address goes in x8. gcc and clang, `struct L3 rbig(long)`:
    // add x8, sp, …; 4 in x0.
    for variant in BOTH {
        let p = plan(variant, l3(), times(8, I64));
        assert_eq!(p.ret, RetLoc::Sret { ptr: Slot::Gpr(8) });
        assert_eq!((p.args[0].clone(), p.args[7].clone(), p.stack_size), (x(0, 8, N), x(7, 8, N), 0));
    }
}

#[test]
fn hfa_results_come_back_in_v0_to_v3() {
    // §6.9 with C.2. gcc and clang: the caller of `struct D4 rd4(void)` reads d from d3; of
    // `struct F3 rf3(void)`, c from s2.
    for variant in BOTH {
        let d4 =
            rets(&[(RetReg::Fpr(0), 0, 8), (RetReg::Fpr(1), 8, 8), (RetReg::Fpr(2), 16, 8), (RetReg::Fpr(3), 24, 8)]);
        assert_eq!(ret(variant, array(4, F64)), d4);
        let f3r = rets(&[(RetReg::Fpr(0), 0, 4), (RetReg::Fpr(1), 4, 4), (RetReg::Fpr(2), 8, 4)]);
        assert_eq!(ret(variant, f3()), f3r);
    }
}

#[test]
fn composite_results_of_up_to_16_bytes_come_back_in_x0_and_x1() {
    // §6.9 with C.12. gcc and clang: the caller of `struct L2 rl2(void)` reads b from x1; of
    // `struct I3 ri3(void)`, c from w1.
    for variant in BOTH {
        assert_eq!(ret(variant, l2()), rets(&[(X0, 0, 8), (X1, 8, 8)]));
        assert_eq!(ret(variant, array(3, I32)), rets(&[(X0, 0, 8), (X1, 8, 4)]));
        assert_eq!(ret(variant, a16()), rets(&[(X0, 0, 8), (X1, 8, 8)]));
        assert_eq!(ret(variant, array(2, I16)), rets(&[(X0, 0, 4)]));
    }
}

#[test]
fn scalar_results_use_x0_or_v0() {
    // §6.9 with C.1 and C.9.
    for variant in BOTH {
        assert_eq!(ret(variant, AbiType::Void), RetLoc::Void);
        assert_eq!(ret(variant, sc(I8)), ret1(X0, 1, Ext::Sign));
        assert_eq!(ret(variant, sc(U16)), ret1(X0, 2, Ext::Zero));
        assert_eq!(ret(variant, sc(Ptr)), rets(&[(X0, 0, 8)]));
        assert_eq!(ret(variant, sc(F32)), rets(&[(RetReg::Fpr(0), 0, 4)]));
        assert_eq!(ret(variant, sc(F64)), rets(&[(RetReg::Fpr(0), 0, 8)]));
    }
}

#[test]
fn linux_variadic_arguments_follow_the_named_rules() {
    // §6.8.2 makes no difference for variadic arguments. gcc, `va("x", 1, 2.0, 3L)`: x0, w1, d0,
    // x2. `va("x", 1, f3, 2, a16, l2, 3, l3, 4.0)`: w1; s0..s2; w2; A16 in x4/x5 (C.10);
    // L2 in x6/x7; 3 at [sp]; the L3 copy's address at [sp, 8]; 4.0 in d3.
    let p = vcall(Aapcs64, 1, vec![sc(Ptr), sc(I32), sc(F64), sc(I64)]);
    assert_eq!((p.args, p.stack_size), (vec![x(0, 8, N), x(1, 4, S), v(0, 8), x(2, 8, N)], 0));
    let params = vec![sc(Ptr), sc(I32), f3(), sc(I32), a16(), l2(), sc(I32), l3(), sc(F64)];
    let p = vcall(Aapcs64, 1, params);
    let want = [x(0, 8, N), x(1, 4, S), vs(0, 3, 4), x(2, 4, S), xs(4, 16), xs(6, 16), stack(0, 4, S)];
    assert_eq!(p.args[..7], want);
    assert_eq!(p.args[7..], [byref(Slot::Stack(8)), v(3, 8)]);
    assert_eq!(p.stack_size, 16);
}

#[test]
fn apple_variadic_arguments_all_go_on_the_stack() {
    // Apple's page: variadic arguments are passed on the stack in 8-byte-aligned slots. clang,
    // `va("x", 1, 2.0, 3L)`: x0, then [sp], [sp, 8], [sp, 16]. `va("x", 1, f3, 2, a16, l2, 3,
    // l3, 4.0)`: 1 at [sp]; F3 at [sp, 8] (12 bytes); 2 at 24; A16 at 32; L2 at 48; 3 at 64;
    // the L3 copy's address at 72; 4.0 at 80.
    let p = vcall(Apple, 1, vec![sc(Ptr), sc(I32), sc(F64), sc(I64)]);
    assert_eq!(p.args, [x(0, 8, N), stack(0, 4, S), stack(8, 8, N), stack(16, 8, N)]);
    assert_eq!(p.stack_size, 32);
    let params = vec![sc(Ptr), sc(I32), f3(), sc(I32), a16(), l2(), sc(I32), l3(), sc(F64)];
    let p = vcall(Apple, 1, params);
    let want = [x(0, 8, N), stack(0, 4, S), stack(8, 12, N), stack(24, 4, S), stack(32, 16, N), stack(48, 16, N)];
    assert_eq!(p.args[..6], want);
    assert_eq!(p.args[6..], [stack(64, 4, S), byref(Slot::Stack(72)), stack(80, 8, N)]);
    assert_eq!(p.stack_size, 96);
}

#[test]
fn apple_variadic_composite_is_16_aligned_only_if_it_is_not_an_hfa() {
    // clang, `va("x", 1, a16)`: A16 at [sp, 16]; `va("x", 1, ha16)` with `struct HA16
    // {_Alignas(16) float a; float b, c, d;}`: HA16 at [sp, 8].
    let p = vcall(Apple, 1, vec![sc(Ptr), sc(I32), a16()]);
    assert_eq!(p.args[1..], [stack(0, 4, S), stack(16, 16, N)]);
    let ha16 = agg(16, 16, &[(0, F32), (4, F32), (8, F32), (12, F32)]);
    let p = vcall(Apple, 1, vec![sc(Ptr), sc(I32), ha16]);
    assert_eq!(p.args[1..], [stack(0, 4, S), stack(8, 16, N)]);
}

#[test]
fn named_stack_arguments_come_before_variadic_ones() {
    // gcc and clang, `vnamedst(long ×8, char, ...)` called with 10: the named 9 at [sp], the
    // variadic 10 at [sp, 8] (Apple: the packed char, then 8-aligned).
    for variant in BOTH {
        let p = vcall(variant, 9, [times(8, I64), vec![sc(I8), sc(I32)]].concat());
        assert_eq!(p.args[8..], [stack(0, 1, S), stack(8, 4, S)]);
        assert_eq!(p.stack_size, 16);
    }
}

#[test]
fn apple_variadic_function_called_without_variadic_arguments_uses_registers() {
    // Apple's rule applies from the first variadic argument; the named ones are as usual.
    let p = vcall(Apple, 2, vec![sc(Ptr), sc(F64)]);
    assert_eq!(p.args, [x(0, 8, N), v(0, 8)]);
}

#[test]
fn stack_area_covers_the_8_byte_store_of_the_last_packed_slot() {
    // The call engine stores every piece of up to 8 bytes as a whole word (CallFrame::put), so
    // Apple's int at [sp, 12] needs the area to reach byte 20: 32 bytes, not 16.
    let p = call(Apple, times(12, I32));
    assert_eq!(p.args[8..], [stack(0, 4, S), stack(4, 4, S), stack(8, 4, S), stack(12, 4, S)]);
    assert_eq!(p.stack_size, 32);
    assert_eq!(call(Apple, times(11, I32)).stack_size, 16);
    assert_eq!(call(Aapcs64, times(10, I32)).stack_size, 16);
}

#[test]
fn stack_size_is_a_multiple_of_16_and_the_x86_fields_stay_zero() {
    // "Universal stack constraints": SP is 16-aligned at the call.
    for variant in BOTH {
        let size = |n| call(variant, times(n, I64)).stack_size;
        assert_eq!([size(8), size(9), size(10), size(11)], [0, 16, 16, 32]);
        let p = call(variant, times(20, F64));
        assert_eq!((p.stack_size, p.fpr_count, p.callee_pops), (96, 0, 0));
    }
}

#[test]
fn large_unflattened_aggregate_is_passed_by_reference() {
    // B.4; `abi::lower` leaves aggregates over 64 bytes without leaves.
    for variant in BOTH {
        let p = plan(variant, agg(100, 4, &[]), vec![agg(100, 4, &[]), agg(usize::MAX, 8, &[])]);
        assert_eq!(p.ret, RetLoc::Sret { ptr: Slot::Gpr(8) });
        assert_eq!(p.args, [byref(Slot::Gpr(0)), byref(Slot::Gpr(1))]);
    }
}

#[test]
fn unsupported_shapes_are_errors() {
    for variant in BOTH {
        let err = |ret, params| classify(&sig(ret, params), variant).is_err();
        assert!(err(AbiType::Void, vec![AbiType::Void]));
        assert!(err(agg(0, 1, &[]), vec![]));
        assert!(err(AbiType::Void, vec![agg(0, 1, &[])]));
        assert!(err(AbiType::Void, vec![agg(4, 4, &[(4, F32)])]));
        assert!(err(AbiType::Void, vec![agg(8, 4, &[(usize::MAX, F32)])]));
    }
}

#[test]
fn odd_aggregates_never_panic() {
    // Every size up to a little past the HFA limit, odd alignments and leaf positions, as named
    // and variadic arguments and as results.
    for variant in BOTH {
        for size in 0..=36 {
            for align in [0, 1, 3, 8, 16, 64, usize::MAX] {
                for offset in [0, 1, 4, 8, 12, 16, 24, 32, usize::MAX] {
                    for s in [I8, U16, I32, F32, F64, Ptr] {
                        let a = agg(size, align, &[(offset, s), (0, F32)]);
                        let params = [times(7, I64), times(7, F64), vec![a.clone(), sc(I8), a.clone()]].concat();
                        let _ = classify(&sig(a.clone(), params.clone()), variant);
                        let s = Signature { fixed: 3, ret: a, params, variadic: true };
                        let _ = classify(&s, variant);
                    }
                }
            }
        }
    }
}
