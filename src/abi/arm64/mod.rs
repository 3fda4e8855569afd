//! Argument and result classification for AArch64: the Arm procedure call standard (Linux, the
//! BSDs) and Apple's variant of it (macOS, iOS).
//!
//! Follows *Procedure Call Standard for the Arm 64-bit Architecture (AArch64)*, AAPCS64 2024Q3:
//! §5.9.5 "Homogeneous Aggregates", §6.8.2 "Parameter passing rules" (stages A, B and C) and
//! §6.9 "Result return": <https://github.com/ARM-software/abi-aa/blob/main/aapcs64/aapcs64.rst>.
//! On Apple platforms, *Writing ARM64 code for Apple platforms*:
//! <https://developer.apple.com/documentation/xcode/writing-arm64-code-for-apple-platforms>.
//!
//! ```text
//!   argument registers   integer  x0 .. x7                      -> Slot::Gpr(0..8)
//!                        SIMD/FP  v0 .. v7 (as s or d)          -> Slot::Fpr(0..8)
//!   indirect result      x8, not one of the argument registers -> Slot::Gpr(8)
//!   result registers     integer  x0 x1                         -> RetReg::Gpr(0..2)
//!                        SIMD/FP  v0 .. v3 (an HFA's members)   -> RetReg::Fpr(0..4)
//!   stack arguments      upwards from SP at the call; the area is a multiple of 16 bytes
//! ```
//!
//! There is no `__int128`, `long double` (quad precision), half precision, short vector or SVE
//! type among our [`Scalar`]s, so the rules about those never fire and are left out.
//!
//! Apple's variant differs where marked `// Apple:` below: scalar stack arguments are packed at
//! their natural size and alignment instead of taking 8-byte slots, and so are HFAs; a
//! 16-byte-aligned composite may start in an odd x register; and every variadic argument goes on
//! the stack. (Apple also makes the caller widen arguments narrower than 32 bits; the plans here
//! always widen to the full register, which satisfies both variants.) Where Apple's page is
//! silent (HFAs on the stack, variadic composites), this file does what
//! `clang --target=arm64-apple-macos -O2` does, and the test that pins it says so.

#[cfg(test)]
mod tests;

use smallvec::smallvec;

use super::{
    AbiError, AbiType, ArgLoc, CallPlan, Ext, Leaf, Limits, Move, RetLoc, RetMove, RetReg, Scalar, Signature, Slot,
};

/// The file stem, used in errors.
const ABI: &str = "arm64";

/// Overflow and unsupported-shape errors, named for this ABI.
const LIMITS: Limits = Limits { abi: ABI };

/// General-purpose argument registers: x0 to x7, counted by NGRN.
const NUM_ARG_GPRS: usize = 8;

/// SIMD and floating-point argument registers: v0 to v7, counted by NSRN.
const NUM_ARG_FPRS: usize = 8;

/// The indirect result location register, x8.
const INDIRECT_RESULT: Slot = Slot::Gpr(8);

/// Integer result registers: x0, then x1.
const RET_GPRS: [RetReg; 2] = [RetReg::Gpr(0), RetReg::Gpr(1)];

/// Floating-point result registers: v0 to v3, one per HFA member.
const RET_FPRS: [RetReg; 4] = [RetReg::Fpr(0), RetReg::Fpr(1), RetReg::Fpr(2), RetReg::Fpr(3)];

/// The unit of register pieces and of AAPCS64 stack slots.
const DOUBLEWORD: usize = 8;

/// The largest composite that is passed by value in x registers (stage B.4).
const MAX_REGISTER_COMPOSITE: usize = 16;

/// The most members an HFA can have (§5.9.5).
const MAX_HFA_MEMBERS: usize = 4;

/// Alignment of SP at the call, hence of the end of the argument area.
const STACK_ALIGN: usize = 16;

/// Platform variants of AAPCS64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The Arm procedure call standard as Linux and the BSDs use it.
    Aapcs64,
    /// Apple's arm64 variant (macOS, iOS, tvOS).
    Apple,
}

/// What stage B (pre-padding and extension) makes of an argument or result type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// An integral or pointer type of at most 8 bytes.
    Integral(Scalar),
    /// A single or double precision floating-point type.
    Float(Scalar),
    /// A homogeneous floating-point aggregate of `members` values of type `base`.
    Hfa {
        /// `F32` or `F64`.
        base: Scalar,
        /// 1 to 4.
        members: usize,
        /// `alignof` (more than the base type's only if over-aligned).
        align: usize,
    },
    /// Any other composite of at most 16 bytes.
    Composite {
        /// `sizeof`.
        size: usize,
        /// `alignof`.
        align: usize,
    },
    /// A composite of more than 16 bytes that is not an HFA: replaced by a pointer to a copy.
    Reference,
}

/// Registers and stack used so far, under the names stage A of §6.8.2 gives them.
struct State {
    /// Which platform's rules apply.
    variant: Variant,
    /// Next General-purpose Register Number.
    ngrn: usize,
    /// Next SIMD and Floating-point Register Number.
    nsrn: usize,
    /// Next Stacked Argument Address, as an offset from SP at the call.
    nsaa: usize,
    /// One past the last stack byte the call engine writes (see [`State::reserve`]).
    written: usize,
}

/// Classifies a signature for AAPCS64 or Apple's variant of it.
pub fn classify(sig: &Signature, variant: Variant) -> Result<CallPlan, AbiError> {
    // AAPCS64 §6.9 Result return: a result that would not travel in registers as an argument is
    // written to memory the caller provides, whose address goes in x8. x8 is not an argument
    // register, so the arguments are assigned from x0 as usual.
    let ret = classify_result(&sig.ret)?;

    // AAPCS64 §6.8.2 stage A: NGRN = 0, NSRN = 0, NSAA = SP.
    let mut state = State { variant, ngrn: 0, nsrn: 0, nsaa: 0, written: 0 };
    let mut args = Vec::with_capacity(sig.params.len());
    for (i, ty) in sig.params.iter().enumerate() {
        let class = classify_type(ty)?;
        // AAPCS64 §6.8.2: the stage C rules make no exception for variadic arguments (only the
        // callee's va_arg differs). Apple: from the first variadic argument on, everything goes
        // on the stack, each in a slot of a multiple of 8 bytes, 8-aligned.
        let loc = if variant == Variant::Apple && i >= sig.fixed {
            state.assign_variadic_apple(class)?
        } else {
            state.assign(class)?
        };
        args.push(loc);
    }

    // AAPCS64, "Universal stack constraints": SP is 16-aligned at a public interface, so the
    // argument area is padded to a multiple of 16.
    let end = state.nsaa.max(state.written);
    let stack_size = LIMITS.bytes(LIMITS.align_up(end, STACK_ALIGN)?)?;

    Ok(CallPlan { args, ret, stack_size, fpr_count: 0, callee_pops: 0 })
}

/// AAPCS64 §6.9 Result return: a result comes back in the registers `void f(T arg)` would pass
/// `arg` in (with NGRN = NSRN = 0); otherwise the caller passes a result buffer in x8.
fn classify_result(ty: &AbiType) -> Result<RetLoc, AbiError> {
    if *ty == AbiType::Void {
        return Ok(RetLoc::Void);
    }
    let moves = match classify_type(ty)? {
        Class::Integral(s) => {
            smallvec![RetMove { reg: RET_GPRS[0], dst: 0, len: LIMITS.bytes(s.size())?, ext: s.ext() }]
        }
        Class::Float(s) => {
            smallvec![RetMove { reg: RET_FPRS[0], dst: 0, len: LIMITS.bytes(s.size())?, ext: Ext::None }]
        }
        // C.2: an HFA is in v0 .. v[n-1], one member per register.
        Class::Hfa { base, members, .. } => {
            let size = base.size();
            let regs = RET_FPRS.iter().take(members).enumerate();
            regs.map(|(i, &reg)| {
                Ok(RetMove { reg, dst: LIMITS.bytes(i * size)?, len: LIMITS.bytes(size)?, ext: Ext::None })
            })
            .collect::<Result<_, _>>()?
        }
        // C.12: a composite of at most 16 bytes is in x0 (and x1), as if loaded with LDR.
        Class::Composite { size, .. } => {
            let pieces = RET_GPRS.iter().take(size.div_ceil(DOUBLEWORD)).enumerate();
            let piece = |(i, &reg): (usize, &RetReg)| {
                let (dst, len) = doubleword_span(i, size);
                Ok(RetMove { reg, dst: LIMITS.bytes(dst)?, len: LIMITS.bytes(len)?, ext: Ext::None })
            };
            pieces.map(piece).collect::<Result<_, _>>()?
        }
        Class::Reference => return Ok(RetLoc::Sret { ptr: INDIRECT_RESULT }),
    };
    Ok(RetLoc::Regs(moves))
}

impl State {
    /// AAPCS64 §6.8.2 stage C, applied to a named argument (and to every argument off Apple).
    fn assign(&mut self, class: Class) -> Result<ArgLoc, AbiError> {
        let apple = self.variant == Variant::Apple;
        match class {
            Class::Float(s) => {
                // C.1: the next v register, if one is left.
                if self.nsrn < NUM_ARG_FPRS {
                    let dst = fpr(self.nsrn)?;
                    self.nsrn += 1;
                    return one_move(s.size(), dst, Ext::None);
                }
                // C.5: a single takes 8 bytes as if loaded into a register; C.6: at the NSAA.
                // Apple: stack arguments take their natural size and alignment.
                let (slot, align) = if apple { (s.size(), s.size()) } else { (DOUBLEWORD, DOUBLEWORD) };
                self.on_stack(s.size(), slot, align, Ext::None)
            }
            Class::Hfa { base, members, align } => {
                // C.2: one v register per member, if that many are left.
                if self.nsrn + members <= NUM_ARG_FPRS {
                    let size = base.size();
                    let moves = (0..members).map(|i| {
                        Ok(Move {
                            src: LIMITS.bytes(i * size)?,
                            len: LIMITS.bytes(size)?,
                            dst: fpr(self.nsrn + i)?,
                            ext: Ext::None,
                        })
                    });
                    let moves = moves.collect::<Result<_, AbiError>>()?;
                    self.nsrn += members;
                    return Ok(ArgLoc::Moves(moves));
                }
                // C.3: no v register is used by this or any later argument, and the size is
                // rounded up to 8. C.4: the NSAA is rounded up to 8, or to 16 if the HFA is
                // 16-byte-aligned (only an over-aligned one is). C.6: the HFA is copied there.
                // Apple: the HFA is stored like its members, at the alignment of one member and
                // not rounded up (clang, see the tests).
                self.nsrn = NUM_ARG_FPRS;
                let size = members * base.size();
                let (slot, align) =
                    if apple { (size, base.size()) } else { (round_up8(size)?, composite_stack_align(align)) };
                self.on_stack(size, slot, align, Ext::None)
            }
            Class::Integral(s) => {
                // C.9: the next x register, if one is left.
                if self.ngrn < NUM_ARG_GPRS {
                    let dst = gpr(self.ngrn)?;
                    self.ngrn += 1;
                    return one_move(s.size(), dst, s.ext());
                }
                // C.13 (NGRN is already 8), C.14: NSAA rounded up to max(8, alignment); C.16:
                // a value under 8 bytes takes 8; C.17: copied at the NSAA.
                // Apple: natural size and alignment ("function arguments may consume slots on the
                // stack that are not multiples of 8 bytes").
                let (slot, align) = if apple { (s.size(), s.size()) } else { (DOUBLEWORD, DOUBLEWORD) };
                self.on_stack(s.size(), slot, align, s.ext())
            }
            Class::Composite { size, align } => {
                // C.10: a 16-byte-aligned argument starts at an even x register.
                // Apple: it may start at an odd one.
                if align >= 16 && !apple {
                    self.ngrn = self.ngrn.next_multiple_of(2);
                }
                // C.12: if enough x registers are left, the composite is copied into consecutive
                // ones, as if loaded doubleword by doubleword (B.5 rounded its size up to 8).
                let dwords = size.div_ceil(DOUBLEWORD);
                if self.ngrn + dwords <= NUM_ARG_GPRS {
                    let moves = (0..dwords).map(|i| {
                        let (src, len) = doubleword_span(i, size);
                        Ok(Move {
                            src: LIMITS.bytes(src)?,
                            len: LIMITS.bytes(len)?,
                            dst: gpr(self.ngrn + i)?,
                            ext: Ext::None,
                        })
                    });
                    let moves = moves.collect::<Result<_, AbiError>>()?;
                    self.ngrn += dwords;
                    return Ok(ArgLoc::Moves(moves));
                }
                // C.13: otherwise no x register is used by this or any later argument (a
                // composite is never split between registers and stack). C.14: the NSAA is
                // rounded up to max(8, alignment) (16 at most: the composite is at most 16
                // bytes). C.15: the composite is copied there, in its size rounded up to 8 (B.5).
                // Apple: the same (clang passes these composites as 8-byte integers).
                self.ngrn = NUM_ARG_GPRS;
                self.on_stack(size, round_up8(size)?, composite_stack_align(align), Ext::None)
            }
            // B.4: the caller copies the composite to memory and passes a pointer instead, which
            // C.9 to C.17 then treat as any pointer (an 8-byte slot on the stack in both variants).
            Class::Reference => {
                if self.ngrn < NUM_ARG_GPRS {
                    let ptr = gpr(self.ngrn)?;
                    self.ngrn += 1;
                    return Ok(ArgLoc::Indirect { ptr });
                }
                let offset = self.reserve(DOUBLEWORD, DOUBLEWORD)?;
                Ok(ArgLoc::Indirect { ptr: Slot::Stack(LIMITS.bytes(offset)?) })
            }
        }
    }

    /// Apple: a variadic argument never takes a register. Scalars take an 8-byte slot (the
    /// callee's va_arg reads 8-byte units); composites and HFAs take their size rounded up to 8,
    /// 8-aligned, except a 16-byte-aligned composite, which is 16-aligned (clang, see the tests).
    fn assign_variadic_apple(&mut self, class: Class) -> Result<ArgLoc, AbiError> {
        match class {
            Class::Integral(s) => self.on_stack(s.size(), DOUBLEWORD, DOUBLEWORD, s.ext()),
            Class::Float(s) => self.on_stack(s.size(), DOUBLEWORD, DOUBLEWORD, Ext::None),
            Class::Hfa { base, members, .. } => {
                let size = members * base.size();
                self.on_stack(size, round_up8(size)?, DOUBLEWORD, Ext::None)
            }
            Class::Composite { size, align } => {
                self.on_stack(size, round_up8(size)?, composite_stack_align(align), Ext::None)
            }
            Class::Reference => {
                let offset = self.reserve(DOUBLEWORD, DOUBLEWORD)?;
                Ok(ArgLoc::Indirect { ptr: Slot::Stack(LIMITS.bytes(offset)?) })
            }
        }
    }

    /// Copies `len` bytes of the value to a new stack slot of `slot` bytes.
    fn on_stack(&mut self, len: usize, slot: usize, align: usize, ext: Ext) -> Result<ArgLoc, AbiError> {
        let offset = self.reserve(slot, align)?;
        let dst = Slot::Stack(LIMITS.bytes(offset)?);
        Ok(ArgLoc::Moves(smallvec![Move { src: 0, len: LIMITS.bytes(len)?, dst, ext }]))
    }

    /// Rounds the NSAA up to `align`, takes `slot` bytes there, and returns their offset.
    fn reserve(&mut self, slot: usize, align: usize) -> Result<usize, AbiError> {
        let offset = LIMITS.align_up(self.nsaa, align)?;
        self.nsaa = offset.checked_add(slot).ok_or_else(|| LIMITS.unsupported("a stack area this large"))?;
        // The call engine stores a piece of at most 8 bytes as a whole 8-byte word
        // (`CallFrame::put` in src/call/frame.rs), in argument order. Apple's packed slots are
        // narrower than that, so the area must reach 8 bytes past the last slot's start; the
        // extra bytes only ever land on padding or on a slot written after them.
        let word_end = offset.checked_add(DOUBLEWORD).ok_or_else(|| LIMITS.unsupported("a stack area this large"))?;
        self.written = self.written.max(word_end);
        Ok(offset)
    }
}

/// AAPCS64 §6.8.2 stage B, and the type categories stage C distinguishes.
fn classify_type(ty: &AbiType) -> Result<Class, AbiError> {
    match ty {
        AbiType::Void => Err(LIMITS.unsupported("void as a parameter type")),
        AbiType::Scalar(s) if s.is_float() => Ok(Class::Float(*s)),
        AbiType::Scalar(s) => Ok(Class::Integral(*s)),
        AbiType::Aggregate(a) => {
            // C has no empty aggregates (GNU C gives them size 0; Apple's page says callees may
            // ignore such parameters). Koffi's type model should never produce one: refuse.
            if a.size == 0 {
                return Err(LIMITS.unsupported("an empty struct or union"));
            }
            let inside = |l: &Leaf| l.offset.checked_add(l.scalar.size()).is_some_and(|end| end <= a.size);
            if !a.leaves.iter().all(inside) {
                return Err(LIMITS.unsupported("a member outside its struct"));
            }
            // B.3: an HFA is used unmodified, whatever its size.
            if let Some((base, members)) = a.homogeneous_float(MAX_HFA_MEMBERS) {
                return Ok(Class::Hfa { base, members, align: a.align });
            }
            // B.4: any other composite over 16 bytes is replaced by a pointer to a copy.
            if a.size > MAX_REGISTER_COMPOSITE {
                return Ok(Class::Reference);
            }
            Ok(Class::Composite { size: a.size, align: a.align })
        }
    }
}

/// AAPCS64 C.14 with B.6: a composite's stack slot is 8-aligned, or 16-aligned when the
/// composite is (a composite passed by value is at most 16 bytes, so at most 16-aligned).
fn composite_stack_align(align: usize) -> usize {
    if align >= 16 {
        16
    } else {
        DOUBLEWORD
    }
}

/// A single move of the whole value into a register.
fn one_move(len: usize, dst: Slot, ext: Ext) -> Result<ArgLoc, AbiError> {
    Ok(ArgLoc::Moves(smallvec![Move { src: 0, len: LIMITS.bytes(len)?, dst, ext }]))
}

/// x register `i` (0 to 7).
fn gpr(i: usize) -> Result<Slot, AbiError> {
    LIMITS.register(i, NUM_ARG_GPRS, Slot::Gpr, "x register accounting")
}

/// v register `i` (0 to 7).
fn fpr(i: usize) -> Result<Slot, AbiError> {
    LIMITS.register(i, NUM_ARG_FPRS, Slot::Fpr, "v register accounting")
}

/// Offset and length of doubleword `i` of a value of `size` bytes (the last one may be short).
fn doubleword_span(i: usize, size: usize) -> (usize, usize) {
    super::piece_span(i, DOUBLEWORD, size)
}

/// Rounds a size up to a multiple of 8 (stage B.5, C.3).
fn round_up8(size: usize) -> Result<usize, AbiError> {
    LIMITS.align_up(size, DOUBLEWORD)
}
