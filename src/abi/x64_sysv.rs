//! Argument and result classification for x86-64 System V (Linux, the BSDs, macOS on Intel).
//!
//! Follows *System V Application Binary Interface, AMD64 Architecture Processor Supplement*,
//! version 1.0, §3.2.3 "Parameter Passing": <https://gitlab.com/x86-psABIs/x86-64-ABI>.
//!
//! ```text
//!   argument registers   INTEGER  %rdi %rsi %rdx %rcx %r8 %r9     -> Slot::Gpr(0..6)
//!                        SSE      %xmm0 .. %xmm7                  -> Slot::Fpr(0..8)
//!   result registers     INTEGER  %rax %rdx                       -> RetReg::Gpr(0..2)
//!                        SSE      %xmm0 %xmm1                     -> RetReg::Fpr(0..2)
//!   hidden sret pointer  %rdi, taken before any argument
//!   variadic calls       %al = upper bound of vector registers used (CallPlan::fpr_count)
//! ```
//!
//! Only the classes our [`Scalar`]s can produce occur: INTEGER, SSE, NO_CLASS and MEMORY.
//! There is no `long double` (X87), `__int128` or vector type (SSEUP) to classify. Where the
//! document leaves a choice, this file does what `gcc -O2` does on x86-64 Linux, and the test
//! that pins the choice says so.

use smallvec::{smallvec, SmallVec};

use super::{
    AbiError, AbiType, Aggregate, ArgLoc, CallPlan, Ext, Limits, Move, RetLoc, RetMove, RetReg, Scalar, Signature, Slot,
};

/// The file stem, used in errors.
const ABI: &str = "x64_sysv";

/// Overflow and unsupported-shape errors, named for this ABI.
const LIMITS: Limits = Limits { abi: ABI };

/// INTEGER argument registers, in the order §3.2.3 assigns them.
const ARG_GPRS: [Slot; 6] = [
    Slot::Gpr(0), // %rdi
    Slot::Gpr(1), // %rsi
    Slot::Gpr(2), // %rdx
    Slot::Gpr(3), // %rcx
    Slot::Gpr(4), // %r8
    Slot::Gpr(5), // %r9
];

/// SSE argument registers, in the order §3.2.3 assigns them.
const ARG_SSES: [Slot; 8] = [
    Slot::Fpr(0), // %xmm0
    Slot::Fpr(1), // %xmm1
    Slot::Fpr(2), // %xmm2
    Slot::Fpr(3), // %xmm3
    Slot::Fpr(4), // %xmm4
    Slot::Fpr(5), // %xmm5
    Slot::Fpr(6), // %xmm6
    Slot::Fpr(7), // %xmm7
];

/// INTEGER result registers: `%rax`, then `%rdx`.
const RET_GPRS: [RetReg; 2] = [RetReg::Gpr(0), RetReg::Gpr(1)];

/// SSE result registers: `%xmm0`, then `%xmm1`.
const RET_SSES: [RetReg; 2] = [RetReg::Fpr(0), RetReg::Fpr(1)];

/// The unit of classification and of stack slots.
const EIGHTBYTE: usize = 8;

/// The largest aggregate that can travel in registers: two eightbytes. Anything larger would
/// need SSEUP eightbytes, which only vector types have.
const MAX_REGISTER_AGGREGATE: usize = 2 * EIGHTBYTE;

/// Alignment of the end of the outgoing argument area at the call.
const STACK_ALIGN: usize = 16;

/// The classes of §3.2.3 that an eightbyte can have here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names, reason = "NO_CLASS is the psABI's name")]
enum Class {
    /// Nothing in this eightbyte yet (or ever: padding).
    NoClass,
    /// Goes in a general-purpose register.
    Integer,
    /// Goes in a vector register.
    Sse,
}

/// How a whole value travels.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Passing {
    /// Class MEMORY: on the stack as an argument, through a hidden pointer as a result.
    Memory,
    /// One class per eightbyte.
    Eightbytes(SmallVec<[Class; 2]>),
}

/// Registers and stack used so far, as §3.2.3 assigns them left to right.
#[derive(Default)]
struct State {
    /// Index in [`ARG_GPRS`] of the next free INTEGER register.
    next_gpr: usize,
    /// Index in [`ARG_SSES`] of the next free SSE register.
    next_sse: usize,
    /// Bytes of the outgoing stack argument area used so far (the psABI's "overflow area").
    stack_offset: usize,
}

/// Classifies a signature for x86-64 System V.
pub fn classify(sig: &Signature) -> Result<CallPlan, AbiError> {
    let mut state = State::default();

    // The result is classified first: a MEMORY result takes %rdi before any argument does.
    let ret = state.classify_result(&sig.ret)?;

    // System V AMD64 psABI 1.0, §3.2.3 Parameter Passing: the variadic part of an argument list
    // is classified exactly like the fixed part, so `sig.fixed` changes nothing here.
    let args = sig.params.iter().map(|p| state.classify_arg(p)).collect::<Result<Vec<_>, _>>()?;

    // System V AMD64 psABI 1.0, §3.2.3 Parameter Passing: a call to a variadic function passes
    // in %al an upper bound (0 to 8) on the vector registers it used. Computing it for every
    // call is harmless; only variadic calls read it.
    let fpr_count = u8::try_from(state.next_sse).map_err(|_| LIMITS.unsupported("vector register count"))?;

    // System V AMD64 psABI 1.0, §3.2.2 The Stack Frame: the end of the argument area is
    // aligned on 16 bytes at the call.
    let stack_size = LIMITS.bytes(LIMITS.align_up(state.stack_offset, STACK_ALIGN)?)?;

    Ok(CallPlan { args, ret, stack_size, fpr_count, callee_pops: 0 })
}

impl State {
    fn classify_result(&mut self, ty: &AbiType) -> Result<RetLoc, AbiError> {
        let (classes, size, ext) = match ty {
            AbiType::Void => return Ok(RetLoc::Void),
            AbiType::Scalar(s) => (smallvec![scalar_class(*s)], s.size(), s.ext()),
            AbiType::Aggregate(a) => match classify_aggregate(a)? {
                // System V AMD64 psABI 1.0, §3.2.3 Returning of Values, rule 2: for a MEMORY
                // result the caller provides the storage and passes its address in %rdi, as a
                // hidden first argument (the callee hands it back in %rax).
                Passing::Memory => {
                    self.next_gpr = 1;
                    return Ok(RetLoc::Sret { ptr: ARG_GPRS[0] });
                }
                Passing::Eightbytes(classes) => (classes, a.size, Ext::None),
            },
        };
        // System V AMD64 psABI 1.0, §3.2.3 Returning of Values, rules 3 and 4: an INTEGER
        // eightbyte takes the next of %rax, %rdx; an SSE eightbyte the next of %xmm0, %xmm1.
        let mut gprs = RET_GPRS.iter();
        let mut sses = RET_SSES.iter();
        let mut moves = SmallVec::new();
        for (i, class) in classes.iter().enumerate() {
            let reg = match class {
                Class::NoClass => continue,
                Class::Integer => gprs.next(),
                Class::Sse => sses.next(),
            };
            let reg = *reg.ok_or_else(|| LIMITS.unsupported("a result of more than two eightbytes"))?;
            let (src, len) = eightbyte_span(i, size);
            // Not required by the psABI for results, but gcc and clang callers of a `char`
            // function may read all of %eax (ABI-13): a callback widens like an argument.
            moves.push(RetMove { reg, dst: LIMITS.bytes(src)?, len: LIMITS.bytes(len)?, ext });
        }
        Ok(RetLoc::Regs(moves))
    }

    fn classify_arg(&mut self, ty: &AbiType) -> Result<ArgLoc, AbiError> {
        match ty {
            AbiType::Void => Err(LIMITS.unsupported("void as a parameter type")),
            AbiType::Scalar(s) => self.assign(&[scalar_class(*s)], s.size(), s.size(), s.ext()),
            AbiType::Aggregate(a) => match classify_aggregate(a)? {
                // System V AMD64 psABI 1.0, §3.2.3 Parameter Passing, rule 1: a MEMORY argument
                // is passed on the stack.
                Passing::Memory => self.on_stack(a.size, a.align, Ext::None),
                Passing::Eightbytes(classes) => self.assign(&classes, a.size, a.align, Ext::None),
            },
        }
    }

    /// Gives each eightbyte the next register of its class, or puts the whole value on the stack.
    fn assign(&mut self, classes: &[Class], size: usize, align: usize, ext: Ext) -> Result<ArgLoc, AbiError> {
        // System V AMD64 psABI 1.0, §3.2.3 Parameter Passing: if any eightbyte finds no register
        // left, the whole argument goes on the stack and the registers it would have taken stay
        // free for the arguments after it.
        let gprs = classes.iter().filter(|c| **c == Class::Integer).count();
        let sses = classes.iter().filter(|c| **c == Class::Sse).count();
        if self.next_gpr + gprs > ARG_GPRS.len() || self.next_sse + sses > ARG_SSES.len() {
            return self.on_stack(size, align, ext);
        }
        // Rules 2 and 3: INTEGER takes the next of %rdi, %rsi, %rdx, %rcx, %r8, %r9; SSE the
        // next of %xmm0 to %xmm7. A NO_CLASS eightbyte (all padding) takes nothing, as gcc does.
        let mut moves = SmallVec::new();
        for (i, class) in classes.iter().enumerate() {
            let dst = match class {
                Class::NoClass => continue,
                Class::Integer => take(&ARG_GPRS, &mut self.next_gpr),
                Class::Sse => take(&ARG_SSES, &mut self.next_sse),
            };
            let dst = dst.ok_or_else(|| LIMITS.unsupported("register accounting"))?;
            let (src, len) = eightbyte_span(i, size);
            moves.push(Move { src: LIMITS.bytes(src)?, len: LIMITS.bytes(len)?, dst, ext });
        }
        Ok(ArgLoc::Moves(moves))
    }

    /// Copies the whole value into the outgoing stack area.
    fn on_stack(&mut self, size: usize, align: usize, ext: Ext) -> Result<ArgLoc, AbiError> {
        // System V AMD64 psABI 1.0, §3.2.3 Parameter Passing, rule 1: a stack argument sits at
        // an address respecting its alignment. §3.2.2 (Figure 3.3) lays memory arguments out in
        // eightbytes, so each one starts on an eightbyte and takes a whole number of them.
        let offset = LIMITS.align_up(self.stack_offset, align.max(EIGHTBYTE))?;
        let end = offset.checked_add(LIMITS.align_up(size, EIGHTBYTE)?);
        self.stack_offset = end.ok_or_else(|| LIMITS.unsupported("a stack area this large"))?;
        let dst = Slot::Stack(LIMITS.bytes(offset)?);
        Ok(ArgLoc::Moves(smallvec![Move { src: 0, len: LIMITS.bytes(size)?, dst, ext }]))
    }
}

/// System V AMD64 psABI 1.0, §3.2.3 Parameter Passing, "Classification": `_Bool`, the integer
/// types and pointers are INTEGER; `float` and `double` are SSE.
fn scalar_class(s: Scalar) -> Class {
    if s.is_float() {
        Class::Sse
    } else {
        Class::Integer
    }
}

/// Classifies a struct, union or array eightbyte by eightbyte.
fn classify_aggregate(a: &Aggregate) -> Result<Passing, AbiError> {
    // C has no empty aggregates (gcc's extension gives them size 0 and passes nothing); Koffi's
    // type model should never produce one, so refuse rather than guess.
    if a.size == 0 {
        return Err(LIMITS.unsupported("an empty struct or union"));
    }
    // System V AMD64 psABI 1.0, §3.2.3 Classification, rule 1 with post-merger rule 5(c): an
    // aggregate of more than two eightbytes whose eightbytes are not SSE followed by SSEUP is
    // MEMORY. No type here is SSEUP, so every aggregate over 16 bytes is MEMORY.
    if a.size > MAX_REGISTER_AGGREGATE {
        return Ok(Passing::Memory);
    }
    // Rule 1: an aggregate with unaligned fields (packed structs) is MEMORY.
    if a.has_misaligned_leaf() {
        return Ok(Passing::Memory);
    }
    // Rule 3: each eightbyte is classified separately, starting as NO_CLASS.
    let mut classes: SmallVec<[Class; 2]> = smallvec![Class::NoClass; a.size.div_ceil(EIGHTBYTE)];
    // Rule 4: every field (here every flattened scalar, so nested structs, arrays and union
    // members are already recursed into) is merged into the class of its eightbyte. An aligned
    // scalar of at most eight bytes never straddles two eightbytes.
    for leaf in &a.leaves {
        let fits = leaf.offset.checked_add(leaf.scalar.size()).is_some_and(|end| end <= a.size);
        let slot = classes.get_mut(leaf.offset / EIGHTBYTE).filter(|_| fits);
        let slot = slot.ok_or_else(|| LIMITS.unsupported("a member outside its struct"))?;
        *slot = merge_classes(*slot, scalar_class(leaf.scalar));
    }
    // Rule 5, post-merger cleanup: (a) no eightbyte can be MEMORY, as no scalar is; (b) and (d)
    // concern X87UP and SSEUP, which do not occur; (c) was applied above.
    Ok(Passing::Eightbytes(classes))
}

/// System V AMD64 psABI 1.0, §3.2.3 Classification, rule 4: the class of two fields sharing an
/// eightbyte.
fn merge_classes(a: Class, b: Class) -> Class {
    // (a) Equal classes give that class.
    if a == b {
        return a;
    }
    // (b) NO_CLASS with anything gives the other class.
    if a == Class::NoClass {
        return b;
    }
    if b == Class::NoClass {
        return a;
    }
    // (c) MEMORY wins: cannot happen, no scalar is MEMORY.
    // (d) INTEGER wins over what is left.
    if a == Class::Integer || b == Class::Integer {
        return Class::Integer;
    }
    // (e) X87, X87UP or COMPLEX_X87 give MEMORY: cannot happen, there is no long double.
    // (f) Otherwise SSE.
    Class::Sse
}

/// Takes the next free register of a list, if any.
fn take(regs: &[Slot], next: &mut usize) -> Option<Slot> {
    let reg = regs.get(*next).copied()?;
    *next += 1;
    Some(reg)
}

/// Offset and length of eightbyte `i` of a value of `size` bytes (the last one may be short).
fn eightbyte_span(i: usize, size: usize) -> (usize, usize) {
    super::piece_span(i, EIGHTBYTE, size)
}

#[cfg(test)]
mod tests {
    //! Evidence: the psABI clause named in each test, or `gcc -O2 -S` (GCC on x86-64 Linux) on
    //! the C shown, read by hand. In gcc's listings the callee sees stack argument offset `k` at
    //! `8+k(%rsp)`, past its return address.

    use super::*;
    use crate::abi::testing::{agg, fpr as xmm, gpr, moves, mv, ret1, rets, sc, sig, stack, strukt, times};
    use Ext::{None as N, Sign as S, Zero as Z};
    use Scalar::*;

    const RDI: Slot = Slot::Gpr(0);
    const RSI: Slot = Slot::Gpr(1);
    const XMM0: Slot = Slot::Fpr(0);
    const XMM1: Slot = Slot::Fpr(1);
    const RAX: RetReg = RetReg::Gpr(0);
    const RDX: RetReg = RetReg::Gpr(1);
    const RXMM0: RetReg = RetReg::Fpr(0);
    const RXMM1: RetReg = RetReg::Fpr(1);
    const SRET: RetLoc = RetLoc::Sret { ptr: RDI };

    fn plan(ret: AbiType, params: Vec<AbiType>) -> CallPlan {
        classify(&sig(ret, params)).expect("classifies")
    }
    /// The plan of a `void` function.
    fn call(params: Vec<AbiType>) -> CallPlan {
        plan(AbiType::Void, params)
    }
    fn ret(ty: AbiType) -> RetLoc {
        plan(ty, vec![]).ret
    }
    fn l2() -> AbiType {
        strukt(&[(0, I64), (8, I64)])
    }
    fn di() -> AbiType {
        strukt(&[(0, F64), (8, I32)])
    }

    #[test]
    fn scalars_take_gprs_or_xmms_and_small_integers_are_extended() {
        // §3.2.3 Classification and rules 2-3. gcc, `sc(-1, 200, -3, 60000, -5, 7u)`:
        // movl $-1,%edi; movl $200,%esi; …: callers widen char and short by their signedness.
        let p = call(vec![sc(I8), sc(U8), sc(I16), sc(U16), sc(I32), sc(U32)]).args;
        let want = [gpr(0, 1, S), gpr(1, 1, Z), gpr(2, 2, S), gpr(3, 2, Z), gpr(4, 4, S), gpr(5, 4, Z)];
        assert_eq!(p, want);
        let p = call(vec![sc(I64), sc(U64), sc(Ptr), sc(F32), sc(F64)]).args;
        assert_eq!(p, [gpr(0, 8, N), gpr(1, 8, N), gpr(2, 8, N), xmm(0, 4), xmm(1, 8)]);
    }

    #[test]
    fn seventh_integer_goes_on_the_stack() {
        // gcc, `i7(1,…,7)`: %rdi..%r9, then subq $16 + pushq $7: offset 0 of a 16-byte area.
        let p = call(times(7, I32));
        assert_eq!(p.args[5..], [gpr(5, 4, S), stack(0, 4, S)]);
        assert_eq!((p.stack_size, p.fpr_count), (16, 0));
    }

    #[test]
    fn ninth_double_goes_on_the_stack() {
        // gcc, `d9(1,…,9)`: %xmm0..%xmm7 loaded, then subq $16 + pushq of 9.0.
        let p = call(times(9, F64));
        assert_eq!(p.args[7..], [xmm(7, 8), stack(0, 8, N)]);
        assert_eq!((p.stack_size, p.fpr_count), (16, 8));
    }

    #[test]
    fn integers_and_doubles_count_registers_separately() {
        // gcc, `mix(1, 2.0, 3, 4.0)`: 1 in %edi, 2.0 in %xmm0, 3 in %esi, 4.0 in %xmm1.
        let p = call(vec![sc(I32), sc(F64), sc(I32), sc(F64)]).args;
        assert_eq!(p, [gpr(0, 4, S), xmm(0, 8), gpr(1, 4, S), xmm(1, 8)]);
    }

    #[test]
    fn struct_of_one_or_two_integer_eightbytes_takes_gprs() {
        // gcc, `t_l2(struct {long a, b;} s, long x)`: leaq (%rdx,%rsi): s.b in %rsi, x in %rdx.
        assert_eq!(call(vec![strukt(&[(0, I64)]), sc(I64)]).args, [gpr(0, 8, N), gpr(1, 8, N)]);
        let s = moves(&[mv(0, 8, RDI, N), mv(8, 8, RSI, N)]);
        assert_eq!(call(vec![l2(), sc(I64)]).args, [s, gpr(2, 8, N)]);
    }

    #[test]
    fn struct_of_three_or_four_eightbytes_is_memory() {
        // §3.2.3 rule 5(c). gcc, `t_l3(struct {long a, b, c;} s, long x)`: s.c at 24(%rsp)
        // (offset 16), x in %rdi; with four longs s.d is at 32(%rsp) (offset 24).
        let p = call(vec![strukt(&[(0, I64), (8, I64), (16, I64)]), sc(I64)]);
        assert_eq!((p.args, p.stack_size), (vec![stack(0, 24, N), gpr(0, 8, N)], 32));
        let p = call(vec![strukt(&[(0, I64), (8, I64), (16, I64), (24, I64)])]);
        assert_eq!((p.args, p.stack_size), (vec![stack(0, 32, N)], 32));
    }

    #[test]
    fn struct_int_float_shares_one_gpr() {
        // §3.2.3 rule 4(d). gcc, `t_if(struct {int i; float f;} s, long x)`: f from %rdi >> 32,
        // x in %rsi.
        let p = call(vec![strukt(&[(0, I32), (4, F32)]), sc(I64)]);
        assert_eq!(p.args, [gpr(0, 8, N), gpr(1, 8, N)]);
    }

    #[test]
    fn struct_float_float_shares_one_xmm() {
        // §3.2.3 rule 4(a). gcc, `t_ff(struct {float a, b;} s, double x)`: b from %xmm0 >> 32,
        // x in %xmm1.
        let p = call(vec![strukt(&[(0, F32), (4, F32)]), sc(F64)]);
        assert_eq!((p.args, p.fpr_count), (vec![xmm(0, 8), xmm(1, 8)], 2));
    }

    #[test]
    fn struct_double_int_splits_into_sse_and_gpr() {
        // gcc, `t_di(struct {double d; int i;} s, long x, double y)`: d in %xmm0, i in %edi,
        // x in %rsi, y in %xmm1.
        let s = moves(&[mv(0, 8, XMM0, N), mv(8, 8, RDI, N)]);
        assert_eq!(call(vec![di(), sc(I64), sc(F64)]).args, [s, gpr(1, 8, N), xmm(1, 8)]);
    }

    #[test]
    fn struct_float_array_and_double_uses_two_xmms() {
        // gcc, `t_f2d(struct {float f[2]; double d;} s, double x)`: f[1] from %xmm0 >> 32, d in
        // %xmm1, x in %xmm2.
        let s = moves(&[mv(0, 8, XMM0, N), mv(8, 8, XMM1, N)]);
        let p = call(vec![strukt(&[(0, F32), (4, F32), (8, F64)]), sc(F64)]);
        assert_eq!(p.args, [s, xmm(2, 8)]);
    }

    #[test]
    fn int_array_in_struct_fills_two_gprs_with_a_short_tail() {
        // gcc, `t_a3(struct {int a[3];} s, long x)`: leal (%rsi,%rdx): a[2] in %rsi, x in %rdx.
        let s = moves(&[mv(0, 8, RDI, N), mv(8, 4, RSI, N)]);
        let p = call(vec![strukt(&[(0, I32), (4, I32), (8, I32)]), sc(I64)]);
        assert_eq!(p.args, [s, gpr(2, 8, N)]);
    }

    #[test]
    fn union_of_int_and_float_is_integer() {
        // §3.2.3 rule 4(d). gcc, `t_u(union {int i; float f;} u, double x)`: f from %edi, x in
        // %xmm0. `struct {union {int i; float f;} u; float g;}` passes g in %rdi >> 32 and
        // returns it in %rax >> 32.
        let u = agg(4, 4, &[(0, I32), (0, F32)]);
        assert_eq!(call(vec![u, sc(F64)]).args, [gpr(0, 4, N), xmm(0, 8)]);
        let uw = strukt(&[(0, I32), (0, F32), (4, F32)]);
        assert_eq!(call(vec![uw.clone()]).args, [gpr(0, 8, N)]);
        assert_eq!(ret(uw), rets(&[(RAX, 0, 8)]));
    }

    #[test]
    fn scalar_results_use_rax_or_xmm0() {
        // §3.2.3 Returning of Values, rules 3 and 4.
        assert_eq!(ret(AbiType::Void), RetLoc::Void);
        assert_eq!(ret(sc(I8)), ret1(RAX, 1, S));
        assert_eq!(ret(sc(U16)), ret1(RAX, 2, Z));
        assert_eq!(ret(sc(Ptr)), rets(&[(RAX, 0, 8)]));
        assert_eq!(ret(sc(F32)), rets(&[(RXMM0, 0, 4)]));
        assert_eq!(ret(sc(F64)), rets(&[(RXMM0, 0, 8)]));
    }

    #[test]
    fn struct_int_double_returns_in_rax_and_xmm0() {
        // §3.2.3 Returning of Values, rules 3 and 4. gcc, caller of `struct {int i; double d;}
        // r_id(void)`: i read from %eax, d from %xmm0.
        assert_eq!(ret(strukt(&[(0, I32), (8, F64)])), rets(&[(RAX, 0, 8), (RXMM0, 8, 8)]));
    }

    #[test]
    fn two_eightbyte_results_take_the_next_register_of_each_class() {
        // gcc callers: `struct {long a, b;}` b from %rdx; `struct {double d; int i;}` i from %eax;
        // `struct {float a, b, c;}` c from %xmm1; `struct {float a, b;}` b from %xmm0 >> 32.
        assert_eq!(ret(l2()), rets(&[(RAX, 0, 8), (RDX, 8, 8)]));
        assert_eq!(ret(di()), rets(&[(RXMM0, 0, 8), (RAX, 8, 8)]));
        let f3 = strukt(&[(0, F32), (4, F32), (8, F32)]);
        assert_eq!(ret(f3), rets(&[(RXMM0, 0, 8), (RXMM1, 8, 4)]));
        assert_eq!(ret(strukt(&[(0, F32), (4, F32)])), rets(&[(RXMM0, 0, 8)]));
    }

    #[test]
    fn packed_struct_with_misaligned_field_is_memory() {
        // §3.2.3 rule 1. gcc, `t_pk(struct __attribute__((packed)) {char c; int i;} s, long x)`:
        // i at 9(%rsp) (offset 1 of a copy at offset 0), x in %rdi.
        let p = call(vec![agg(5, 1, &[(0, I8), (1, I32)]), sc(I64)]);
        assert_eq!((p.args, p.stack_size), (vec![stack(0, 5, N), gpr(0, 8, N)], 16));
    }

    #[test]
    fn packed_struct_with_aligned_fields_stays_in_registers() {
        // gcc, `t_pa(struct __attribute__((packed)) {int a; int b;} s, long x)`: b from
        // %rdi >> 32, x in %rsi.
        let p = call(vec![agg(8, 1, &[(0, I32), (4, I32)]), sc(I64)]);
        assert_eq!(p.args, [gpr(0, 8, N), gpr(1, 8, N)]);
    }

    #[test]
    fn aggregate_without_enough_gprs_goes_wholly_on_stack() {
        // §3.2.3: no partial assignment. gcc, `t_nofit(5 longs, struct {long a, b;} s, long f)`:
        // s.b at 16(%rsp) (s at offset 0), f still in %r9.
        let p = call([times(5, I64), vec![l2(), sc(I64)]].concat());
        assert_eq!(p.args[5..], [stack(0, 16, N), gpr(5, 8, N)]);
        assert_eq!(p.stack_size, 16);
    }

    #[test]
    fn aggregate_without_a_free_xmm_goes_wholly_on_stack() {
        // gcc, `t_nofit_sse(8 doubles, struct {double d; int i;} s, double h, long k)`: s.d at
        // 8(%rsp), s.i at 16(%rsp), h at 24(%rsp), k in %rdi (the GPR s did not take).
        let p = call([times(8, F64), vec![di(), sc(F64), sc(I64)]].concat());
        assert_eq!(p.args[8..], [stack(0, 16, N), stack(16, 8, N), gpr(0, 8, N)]);
        assert_eq!(p.stack_size, 32);
    }

    #[test]
    fn memory_result_takes_rdi_and_shifts_arguments() {
        // §3.2.3 Returning of Values, rule 2. gcc, `struct {long a, b, c;} r6(long a, …, f)`:
        // stores through %rdi, a in %rsi … e in %r9, f at 8(%rsp).
        let p = plan(strukt(&[(0, I64), (8, I64), (16, I64)]), times(6, I64));
        assert_eq!(p.ret, SRET);
        assert_eq!(p.args[0], gpr(1, 8, N));
        assert_eq!(p.args[4..], [gpr(5, 8, N), stack(0, 8, N)]);
        assert_eq!(p.stack_size, 16);
    }

    #[test]
    fn memory_aggregate_is_aligned_on_the_stack() {
        // §3.2.3 rule 1. gcc, `t_a16(7 longs, struct {_Alignas(16) long a; long b, c;} s)`: g at
        // 8(%rsp) (offset 0), s.c at 40(%rsp) (s at offset 16). With `_Alignas(32)` and two
        // longs, s.b is at 48(%rsp): s at offset 32.
        let a16 = agg(32, 16, &[(0, I64), (8, I64), (16, I64)]);
        let p = call([times(7, I64), vec![a16]].concat());
        assert_eq!(p.args[6..], [stack(0, 8, N), stack(16, 32, N)]);
        assert_eq!(p.stack_size, 48);
        let p = call([times(7, I64), vec![agg(32, 32, &[(0, I64), (8, I64)])]].concat());
        assert_eq!((p.args[7].clone(), p.stack_size), (stack(32, 32, N), 64));
    }

    #[test]
    fn padding_eightbyte_takes_no_register() {
        // gcc, `struct P {_Alignas(16) char a;}` (its second eightbyte is all padding):
        // `f_p(p, 2, 3.0)` loads %edi, %esi, %xmm0; `struct {_Alignas(16) float a;}` loads %xmm0,
        // %edi, %xmm1. `take6(6 longs, struct P p, long g)` reads p at 8(%rsp), g at 24(%rsp).
        let p16 = agg(16, 16, &[(0, I8)]);
        let p = call(vec![p16.clone(), sc(I64), sc(F64)]);
        assert_eq!(p.args, [gpr(0, 8, N), gpr(1, 8, N), xmm(0, 8)]);
        let p = call(vec![agg(16, 16, &[(0, F32)]), sc(I64), sc(F64)]);
        assert_eq!(p.args, [xmm(0, 8), gpr(0, 8, N), xmm(1, 8)]);
        assert_eq!(ret(p16.clone()), rets(&[(RAX, 0, 8)]));
        let p = call([times(6, I64), vec![p16, sc(I64)]].concat());
        assert_eq!(p.args[6..], [stack(0, 16, N), stack(16, 8, N)]);
    }

    #[test]
    fn variadic_calls_count_xmm_registers_in_al() {
        // §3.2.3: %al bounds the vector registers used. gcc, `vf("x", 1.0, 2, 3.0)`: movl $2,%eax
        // with 2 in %esi; `vf("x", 1, 2)`: xorl %eax,%eax.
        let mut s = sig(sc(I32), vec![sc(Ptr), sc(F64), sc(I32), sc(F64)]);
        (s.fixed, s.variadic) = (1, true);
        let p = classify(&s).expect("classifies");
        assert_eq!(p.args, [gpr(0, 8, N), xmm(0, 8), gpr(1, 4, S), xmm(1, 8)]);
        assert_eq!(p.fpr_count, 2);
        s.params = vec![sc(Ptr), sc(I32), sc(I32)];
        assert_eq!(classify(&s).expect("classifies").fpr_count, 0);
    }

    #[test]
    fn stack_size_is_rounded_up_to_16() {
        // §3.2.2. gcc, `stk2(1,…,8)`: subq $8 and two pushq before the call: 16 bytes of
        // arguments; with seven arguments, subq $16 and one pushq: 8 bytes padded to 16.
        let size = |n| call(times(n, I64)).stack_size;
        assert_eq!([size(6), size(7), size(8), size(9)], [0, 16, 16, 32]);
        assert_eq!(call(vec![]).callee_pops, 0);
    }

    #[test]
    fn large_unflattened_aggregate_is_memory() {
        // §3.2.3 rule 1; `abi::lower` leaves aggregates over 64 bytes without leaves.
        let p = plan(agg(100, 4, &[]), vec![agg(100, 4, &[])]);
        assert_eq!((p.ret, p.args, p.stack_size), (SRET, vec![stack(0, 100, N)], 112));
    }

    #[test]
    fn unsupported_shapes_are_errors() {
        let err = |ret, params| classify(&sig(ret, params)).is_err();
        assert!(err(AbiType::Void, vec![AbiType::Void]));
        assert!(err(agg(0, 1, &[]), vec![]));
        assert!(err(AbiType::Void, vec![agg(4, 4, &[(4, I32)])]));
        assert!(err(AbiType::Void, vec![agg(usize::MAX, 8, &[])]));
        // 8 GiB does not fit the plan's u32 byte counts (a 32-bit host cannot even say it).
        if let Some(big) = 1usize.checked_shl(33) {
            assert!(err(AbiType::Void, vec![agg(big, 8, &[])]));
        }
    }

    #[test]
    fn odd_aggregates_never_panic() {
        // Every size up to a little past the register limit, odd alignments and leaf positions.
        for size in 0..=20 {
            for align in [0, 1, 3, 8, 16, 64, usize::MAX] {
                for offset in [0, 1, 4, 8, 12, 16, 24, usize::MAX] {
                    for s in [I8, U16, I32, F32, F64, Ptr] {
                        let a = agg(size, align, &[(offset, s), (0, F32)]);
                        let _ = classify(&sig(a.clone(), vec![a.clone(), sc(I8), a]));
                    }
                }
            }
        }
    }
}
