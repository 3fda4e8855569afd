//! Argument and result classification for 64-bit RISC-V with the LP64D ABI
//! (riscv64gc-unknown-linux-gnu): the integer calling convention, augmented by the hardware
//! floating-point calling convention with ABI_FLEN = 64.
//!
//! Follows *RISC-V ABIs Specification*, "RISC-V Calling Conventions" (riscv-cc.adoc): sections
//! "Integer Calling Convention", "Hardware Floating-Point Calling Convention" and "Named ABIs"
//! (LP64D): <https://github.com/riscv-non-isa/riscv-elf-psabi-doc/blob/master/riscv-cc.adoc>.
//! The NaN-boxing of a `float` in a 64-bit register: *The RISC-V Instruction Set Manual,
//! Volume I*, "NaN Boxing of Narrower Values".
//!
//! ```text
//!   argument registers   integer  a0 .. a7  (x10 .. x17)         -> Slot::Gpr(0..8)
//!                        FP       fa0 .. fa7 (f10 .. f17)        -> Slot::Fpr(0..8)
//!   indirect result      a0, as an implicit first argument       -> Slot::Gpr(0)
//!   result registers     integer  a0 a1                          -> RetReg::Gpr(0..2)
//!                        FP       fa0 fa1                        -> RetReg::Fpr(0..2)
//!   stack arguments      upwards from sp at the call, in 8-byte slots (16-aligned for
//!                        16-aligned aggregates); the area is a multiple of 16 bytes
//! ```
//!
//! There is no `__int128`, `long double`, `_Complex`, half precision, bit-field or vector type
//! among our [`Scalar`]s, so the rules about those never fire and are left out. The document
//! names no counters; `State` keeps the two register counts and the stack offset that gcc's
//! `riscv_arg_info` keeps. Where the document leaves a case open (empty aggregates,
//! floating-point-eligible structs over 16 bytes, a one-float struct wider than a register),
//! this file does what `riscv64-linux-gnu-gcc -O2` (GCC 12.2) does, and the test that pins it
//! says so.

#[cfg(test)]
mod tests;

use smallvec::{smallvec, SmallVec};

use super::{
    AbiError, AbiType, Aggregate, ArgLoc, CallPlan, Ext, Leaf, Limits, Move, RetLoc, RetMove, RetReg, Scalar,
    Signature, Slot,
};

/// The file stem, used in errors.
const ABI: &str = "riscv64";

/// Overflow and unsupported-shape errors, named for this ABI.
const LIMITS: Limits = Limits { abi: ABI };

/// Integer argument registers: a0 to a7.
const NUM_ARG_GPRS: usize = 8;

/// Floating-point argument registers: fa0 to fa7.
const NUM_ARG_FPRS: usize = 8;

/// Where the address of result memory goes: a0, as an implicit first argument.
const INDIRECT_RESULT: Slot = Slot::Gpr(0);

/// Integer result registers: a0, then a1.
const RET_GPRS: [RetReg; 2] = [RetReg::Gpr(0), RetReg::Gpr(1)];

/// Floating-point result registers: fa0, then fa1.
const RET_FPRS: [RetReg; 2] = [RetReg::Fpr(0), RetReg::Fpr(1)];

/// XLEN in bytes: the width of an integer register, of a register piece and of a stack slot.
const XLEN: usize = 8;

/// 2×XLEN in bytes: the largest aggregate the integer convention passes by value, and the
/// alignment that makes a variadic aggregate take an aligned register pair.
const TWO_XLEN: usize = 16;

/// Alignment of sp at the call ("aligned to a 128-bit boundary upon procedure entry"), hence the
/// largest stack slot alignment and the granule of the argument area.
const STACK_ALIGN: usize = 16;

/// What the calling conventions make of an argument or result type.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Class {
    /// An integer scalar or pointer (at most XLEN bits).
    Integer(Scalar),
    /// A `float` or `double` (at most ABI_FLEN bits).
    Float(Scalar),
    /// A struct that flattens to one real, two reals, or one real and one integer: the
    /// hardware floating-point convention's candidates. `fields` are in memory order.
    FpStruct {
        /// The one or two fields.
        fields: Fields,
        /// `sizeof`, for the integer-convention fallback.
        size: usize,
        /// `alignof`, for the integer-convention fallback.
        align: usize,
    },
    /// Any other aggregate of 1 to 16 bytes.
    Aggregate {
        /// `sizeof`.
        size: usize,
        /// `alignof`.
        align: usize,
    },
    /// An aggregate of more than 16 bytes: replaced by the address of a copy.
    Reference,
    /// An aggregate of size 0 (a GNU C extension): ignored.
    Empty,
}

/// The one or two scalars a struct flattens to, in memory order.
type Fields = SmallVec<[Leaf; 2]>;

/// Registers and stack used so far.
struct State {
    /// Integer argument registers taken: the next one is `a{gprs}`.
    gprs: usize,
    /// Floating-point argument registers taken: the next one is `fa{fprs}`.
    fprs: usize,
    /// The next free byte of the stack argument area, as an offset from sp at the call.
    stack: usize,
}

/// Classifies a signature for RISC-V 64, LP64D.
pub fn classify(sig: &Signature) -> Result<CallPlan, AbiError> {
    let ret = classify_result(&sig.ret)?;
    // Integer Calling Convention: "If such an argument would have been passed by reference, the
    // caller allocates memory for the return value, and passes the address as an implicit first
    // parameter." The real arguments then start at a1.
    let gprs = usize::from(matches!(ret, RetLoc::Sret { .. }));
    let mut state = State { gprs, fprs: 0, stack: 0 };

    let mut args = Vec::with_capacity(sig.params.len());
    for (i, ty) in sig.params.iter().enumerate() {
        // Hardware Floating-Point Calling Convention: "The remainder of this section applies only
        // to named arguments. Variadic arguments are passed according to the integer calling
        // convention."
        let named = i < sig.fixed;
        args.push(state.assign(classify_type(ty)?, named)?);
    }

    // Integer Calling Convention: "the stack pointer shall be aligned to a 128-bit boundary upon
    // procedure entry", so the argument area is padded to a multiple of 16.
    let stack_size = LIMITS.bytes(LIMITS.align_up(state.stack, STACK_ALIGN)?)?;
    Ok(CallPlan { args, ret, stack_size, fpr_count: 0, callee_pops: 0 })
}

/// Both conventions: "Values are returned in the same manner as a first named argument of the
/// same type would be passed." A first argument always finds its registers free, so a result
/// never falls back from the floating-point rules, and only an aggregate over 16 bytes that is
/// not a floating-point candidate comes back in memory.
fn classify_result(ty: &AbiType) -> Result<RetLoc, AbiError> {
    if *ty == AbiType::Void {
        return Ok(RetLoc::Void);
    }
    let moves = match classify_type(ty)? {
        Class::Integer(s) => smallvec![RetMove { reg: RET_GPRS[0], dst: 0, len: len(s)?, ext: int_ext(s) }],
        Class::Float(s) => smallvec![RetMove { reg: RET_FPRS[0], dst: 0, len: len(s)?, ext: fpr_ext(s) }],
        // A real comes back in fa0 (then fa1), an integer in a0, each field on its own.
        Class::FpStruct { fields, .. } => {
            let (mut gprs, mut fprs) = (RET_GPRS.iter(), RET_FPRS.iter());
            let mut moves = SmallVec::new();
            for leaf in fields {
                let (regs, ext) =
                    if leaf.scalar.is_float() { (&mut fprs, fpr_ext(leaf.scalar)) } else { (&mut gprs, Ext::None) };
                let reg = *regs.next().ok_or_else(|| LIMITS.unsupported("result register accounting"))?;
                moves.push(RetMove { reg, dst: LIMITS.bytes(leaf.offset)?, len: len(leaf.scalar)?, ext });
            }
            moves
        }
        // Integer Calling Convention: an aggregate of at most 2×XLEN bits is in a0 (and a1),
        // "with the fields laid out as though they were passed in memory".
        Class::Aggregate { size, .. } => {
            let pieces = RET_GPRS.iter().take(size.div_ceil(XLEN)).enumerate();
            let piece = |(i, &reg): (usize, &RetReg)| {
                let (dst, len) = word_span(i, size);
                Ok(RetMove { reg, dst: LIMITS.bytes(dst)?, len: LIMITS.bytes(len)?, ext: Ext::None })
            };
            pieces.map(piece).collect::<Result<_, AbiError>>()?
        }
        Class::Reference => return Ok(RetLoc::Sret { ptr: INDIRECT_RESULT }),
        // "Empty structs or union arguments or return values are ignored by C compilers": no
        // register carries anything, but the result is still a (zero-byte) struct.
        Class::Empty => SmallVec::new(),
    };
    Ok(RetLoc::Regs(moves))
}

impl State {
    /// Places one argument; `named` is false for variadic arguments.
    fn assign(&mut self, class: Class, named: bool) -> Result<ArgLoc, AbiError> {
        match class {
            // Integer Calling Convention: "Scalars that are at most XLEN bits wide are passed in
            // a single argument register, or on the stack by value if none is available."
            Class::Integer(s) => self.scalar_in_gpr_or_stack(s, int_ext(s)),
            Class::Float(s) => {
                // Hardware FP convention: "A real floating-point argument is passed in a
                // floating-point argument register if it is no more than ABI_FLEN bits wide and
                // at least one floating-point argument register is available", NaN-boxed if
                // narrower than FLEN.
                if named && self.fprs < NUM_ARG_FPRS {
                    let dst = fpr(self.fprs)?;
                    self.fprs += 1;
                    return one_move(0, len(s)?, dst, fpr_ext(s));
                }
                // "Otherwise, it is passed according to the integer calling convention", where
                // "floating-point types narrower than XLEN bits are widened to XLEN bits, with
                // the upper bits undefined".
                self.scalar_in_gpr_or_stack(s, Ext::None)
            }
            Class::FpStruct { fields, size, align } => {
                if named {
                    if let Some(loc) = self.fp_struct(&fields)? {
                        return Ok(loc);
                    }
                }
                // "If the struct is not passed in this manner, then it is passed according to the
                // integer calling convention." gcc also applies the size rule of that convention
                // then: a struct over 16 bytes goes by reference (see the tests).
                if size > TWO_XLEN {
                    return self.reference();
                }
                self.aggregate(size, align, named)
            }
            Class::Aggregate { size, align } => self.aggregate(size, align, named),
            Class::Reference => self.reference(),
            // "Empty structs or union arguments or return values are ignored by C compilers":
            // gcc gives them no register and no stack slot, named or variadic, whatever their
            // alignment (see the tests).
            Class::Empty => Ok(ArgLoc::Moves(SmallVec::new())),
        }
    }

    /// Hardware FP convention: "A struct containing just one floating-point real is passed as
    /// though it were a standalone floating-point real. A struct containing two floating-point
    /// reals is passed in two floating-point registers, if [...] at least two floating-point
    /// argument registers are available. (The registers need not be an aligned pair and are
    /// assigned to the two reals in memory order.) [...] A struct containing one floating-point
    /// real and one integer (or bitfield), in either order, is passed in a floating-point
    /// register and an integer register, provided [...] at least one floating-point argument
    /// register and at least one integer argument register is available. If the struct is passed
    /// in this manner, and the integer is narrower than XLEN bits, the remaining bits are
    /// unspecified." Returns `None` when the registers are not available.
    fn fp_struct(&mut self, fields: &[Leaf]) -> Result<Option<ArgLoc>, AbiError> {
        let reals = fields.iter().filter(|l| l.scalar.is_float()).count();
        let integers = fields.len() - reals;
        if self.fprs + reals > NUM_ARG_FPRS || self.gprs + integers > NUM_ARG_GPRS {
            return Ok(None);
        }
        let mut moves = SmallVec::new();
        for leaf in fields {
            let (dst, ext) = if leaf.scalar.is_float() {
                self.fprs += 1;
                (fpr(self.fprs - 1)?, fpr_ext(leaf.scalar))
            } else {
                self.gprs += 1;
                (gpr(self.gprs - 1)?, Ext::None)
            };
            moves.push(Move { src: LIMITS.bytes(leaf.offset)?, len: len(leaf.scalar)?, dst, ext });
        }
        Ok(Some(ArgLoc::Moves(moves)))
    }

    /// Integer Calling Convention, for an aggregate of 1 to 16 bytes: "Aggregates whose total
    /// size is no more than XLEN bits are passed in a register, with the fields laid out as
    /// though they were passed in memory. If no register is available, the aggregate is passed
    /// on the stack. Aggregates whose total size is no more than 2×XLEN bits are passed in a pair
    /// of registers; if only one register is available, the first XLEN bits are passed in a
    /// register and the remaining bits are passed on the stack."
    fn aggregate(&mut self, size: usize, align: usize, named: bool) -> Result<ArgLoc, AbiError> {
        // "Variadic arguments with 2×XLEN-bit alignment and size at most 2×XLEN bits are passed
        // in an *aligned* register pair (i.e., the first register in the pair is even-numbered),
        // or on the stack by value if none is available. After a variadic argument has been
        // passed on the stack, all future arguments will also be passed on the stack (i.e. the
        // last argument register may be left unused due to the aligned register pair rule)."
        // Rounding the count up from 7 to 8 does both.
        if !named && align >= TWO_XLEN {
            self.gprs = self.gprs.next_multiple_of(2);
        }
        let words = size.div_ceil(XLEN);
        let in_regs = words.min(NUM_ARG_GPRS.saturating_sub(self.gprs));
        if in_regs == 0 {
            return self.on_stack(0, size, stack_align(align), Ext::None);
        }
        let mut moves: SmallVec<[Move; 2]> = SmallVec::new();
        for i in 0..in_regs {
            let (src, len) = word_span(i, size);
            let dst = gpr(self.gprs + i)?;
            moves.push(Move { src: LIMITS.bytes(src)?, len: LIMITS.bytes(len)?, dst, ext: Ext::None });
        }
        self.gprs += in_regs;
        if in_regs < words {
            // The split case: a7 has the first XLEN bits, the stack the rest. Only a7 can be the
            // last register left, and the stack is still empty then (nothing goes on the stack
            // while an integer register is free), so the rest lands at sp + 0 (gcc, tests).
            let src = in_regs * XLEN;
            let rest = self.reserve(size - src, XLEN)?;
            moves.push(Move { src: LIMITS.bytes(src)?, len: LIMITS.bytes(size - src)?, dst: rest, ext: Ext::None });
        }
        Ok(ArgLoc::Moves(moves))
    }

    /// Integer Calling Convention: "Aggregates larger than 2×XLEN bits are passed by reference
    /// and are replaced in the argument list with the address"; the address is then placed like
    /// any pointer.
    fn reference(&mut self) -> Result<ArgLoc, AbiError> {
        if self.gprs < NUM_ARG_GPRS {
            let ptr = gpr(self.gprs)?;
            self.gprs += 1;
            return Ok(ArgLoc::Indirect { ptr });
        }
        Ok(ArgLoc::Indirect { ptr: self.reserve(XLEN, XLEN)? })
    }

    /// A scalar of at most XLEN bits under the integer convention: the next integer register,
    /// else an 8-byte stack slot; "when passed in registers or on the stack", an integer is
    /// widened by `ext` either way.
    fn scalar_in_gpr_or_stack(&mut self, s: Scalar, ext: Ext) -> Result<ArgLoc, AbiError> {
        if self.gprs < NUM_ARG_GPRS {
            let dst = gpr(self.gprs)?;
            self.gprs += 1;
            return one_move(0, len(s)?, dst, ext);
        }
        self.on_stack(0, s.size(), XLEN, ext)
    }

    /// Copies `len` bytes of the value from offset `src` to a new stack slot aligned to `align`.
    fn on_stack(&mut self, src: usize, len: usize, align: usize, ext: Ext) -> Result<ArgLoc, AbiError> {
        let dst = self.reserve(len, align)?;
        one_move(LIMITS.bytes(src)?, LIMITS.bytes(len)?, dst, ext)
    }

    /// Integer Calling Convention: "The first argument passed on the stack is located at offset
    /// zero of the stack pointer on function entry; following arguments are stored at
    /// correspondingly higher addresses." Takes a slot of `len` bytes rounded up to XLEN (a value
    /// narrower than XLEN is widened to it), aligned to `align`, and returns it.
    fn reserve(&mut self, len: usize, align: usize) -> Result<Slot, AbiError> {
        let offset = LIMITS.align_up(self.stack, align)?;
        let slot = LIMITS.align_up(len, XLEN)?;
        self.stack = offset.checked_add(slot).ok_or_else(|| LIMITS.unsupported("a stack area this large"))?;
        Ok(Slot::Stack(LIMITS.bytes(offset)?))
    }
}

/// Sorts a type into the cases the two conventions distinguish.
fn classify_type(ty: &AbiType) -> Result<Class, AbiError> {
    let a = match ty {
        AbiType::Void => return Err(LIMITS.unsupported("void as a parameter type")),
        AbiType::Scalar(s) if s.is_float() => return Ok(Class::Float(*s)),
        AbiType::Scalar(s) => return Ok(Class::Integer(*s)),
        AbiType::Aggregate(a) => a,
    };
    let inside = |l: &Leaf| l.offset.checked_add(l.scalar.size()).is_some_and(|end| end <= a.size);
    if !a.leaves.iter().all(inside) {
        return Err(LIMITS.unsupported("a member outside its struct"));
    }
    if a.size == 0 {
        return Ok(Class::Empty);
    }
    // The floating-point rules come first: gcc passes a candidate of any size in registers
    // (riscv_pass_by_reference returns false when FPRs are used), which the document's
    // hardware FP section, having no size limit, allows.
    if let Some(fields) = fp_fields(a) {
        return Ok(Class::FpStruct { fields, size: a.size, align: a.align });
    }
    if a.size > TWO_XLEN {
        return Ok(Class::Reference);
    }
    Ok(Class::Aggregate { size: a.size, align: a.align })
}

/// Hardware FP convention: "For the purposes of this section, "struct" refers to a C struct with
/// its hierarchy flattened, including any array fields. [...] Fields containing empty structs or
/// unions are ignored while flattening [...]. Fields containing zero-length bit-fields or
/// zero-length arrays are ignored while flattening. Attributes such as `aligned` or `packed` do
/// not interfere with a struct's eligibility" (so misaligned leaves are fine: gcc agrees, see
/// the tests). "Unions are never flattened and are always passed according to the integer
/// calling convention."
///
/// [`Aggregate::leaves`] is that flattening: empty and zero-length members leave no leaf.
/// Returns the fields of a struct of one real, two reals, or one real and one integer (every
/// [`Scalar`] fits ABI_FLEN or XLEN).
///
/// A pointer is not an "integer" here: gcc (`riscv_flatten_aggregate_field` accepts only
/// integral and real types) and LLVM (`isIntegralOrEnumerationType`) both pass
/// `struct { void *p; float f; }` in two integer registers, not in an integer and a
/// floating-point one (checked with gcc, see the tests).
fn fp_fields(a: &Aggregate) -> Option<Fields> {
    if a.has_union || a.leaves.iter().any(|l| l.scalar == Scalar::Ptr) {
        return None;
    }
    match a.leaves.as_slice() {
        [one] if one.scalar.is_float() => Some(smallvec![*one]),
        [first, second] if first.scalar.is_float() || second.scalar.is_float() => Some(smallvec![*first, *second]),
        _ => None,
    }
}

/// Integer Calling Convention: "integer scalars narrower than XLEN bits are widened according to
/// the sign of their type up to 32 bits, then sign-extended to XLEN bits": an `unsigned int` is
/// sign-extended from bit 31 (unlike [`Scalar::ext`]), unsigned 8- and 16-bit values are
/// zero-extended.
fn int_ext(s: Scalar) -> Ext {
    match s {
        Scalar::I8 | Scalar::I16 | Scalar::I32 | Scalar::U32 => Ext::Sign,
        Scalar::U8 | Scalar::U16 => Ext::Zero,
        _ => Ext::None,
    }
}

/// Hardware FP convention: "When a floating-point argument narrower than FLEN bits is passed in
/// a floating-point register, it is 1-extended (NaN-boxed) to FLEN bits."
fn fpr_ext(s: Scalar) -> Ext {
    if s == Scalar::F32 {
        Ext::NanBox
    } else {
        Ext::None
    }
}

/// Stack slot alignment: "Aggregates or scalars passed on the stack are aligned to the greater
/// of the type alignment and XLEN bits, but never more than the stack alignment."
/// (Alignments are powers of two, so one over XLEN is at least the stack alignment.)
fn stack_align(align: usize) -> usize {
    if align > XLEN {
        STACK_ALIGN
    } else {
        XLEN
    }
}

/// A single move.
fn one_move(src: u32, len: u32, dst: Slot, ext: Ext) -> Result<ArgLoc, AbiError> {
    Ok(ArgLoc::Moves(smallvec![Move { src, len, dst, ext }]))
}

/// A scalar's size as the plan stores it.
fn len(s: Scalar) -> Result<u32, AbiError> {
    LIMITS.bytes(s.size())
}

/// Integer argument register `a{i}` (i from 0 to 7).
fn gpr(i: usize) -> Result<Slot, AbiError> {
    LIMITS.register(i, NUM_ARG_GPRS, Slot::Gpr, "a-register accounting")
}

/// Floating-point argument register `fa{i}` (i from 0 to 7).
fn fpr(i: usize) -> Result<Slot, AbiError> {
    LIMITS.register(i, NUM_ARG_FPRS, Slot::Fpr, "fa register accounting")
}

/// Offset and length of word `i` of a value of `size` bytes (the last one may be short).
fn word_span(i: usize, size: usize) -> (usize, usize) {
    super::piece_span(i, XLEN, size)
}
