//! Argument and result classification for 32-bit Arm: the Arm procedure call standard with the
//! VFP hard-float variant, as Linux uses it (`armv7-unknown-linux-gnueabihf`).
//!
//! Follows *Procedure Call Standard for the Arm Architecture*, AAPCS32 2022Q1:
//! §5.3.5 "Homogeneous Aggregates", §6.1.2.1 "VFP register usage conventions", §6.4 "Result
//! Return", §6.5 "Parameter Passing" (stages A, B and C) and §7.1.2 "Procedure Calling" of the VFP
//! variant (§7.1.2.1 "VFP co-processor register candidates", §7.1.2.2 "Result return",
//! §7.1.2.3 "Parameter passing"): <https://github.com/ARM-software/abi-aa/blob/main/aapcs32/aapcs32.rst>.
//!
//! ```text
//!   argument registers   core  r0 .. r3                              -> Slot::Gpr(0..4)
//!                        VFP   s0 .. s15 (d_k is s_2k low : s_2k+1)  -> Slot::Fpr(0..16)
//!   indirect result      r0; the arguments then start at r1         -> Slot::Gpr(0)
//!   result registers     core  r0 r1                                 -> RetReg::Gpr(0..2)
//!                        VFP   s0 .. s7 (d0 .. d3)                   -> RetReg::Fpr(0..8)
//!   stack arguments      upwards from SP at the call, in 4-byte units; the area is a multiple of 8
//! ```
//!
//! Every piece that goes to a register is one 32-bit word at most: a `double` in d_k is two
//! moves (s_2k, then s_2k+1) and a 64-bit integer in a core register pair is two moves (low word
//! in the lower register). A stack piece may be longer.
//!
//! §7 "The Standard Variants": "For a variadic function the base standard is always used both for
//! argument passing and result return." So a variadic function passes and returns everything,
//! named arguments included, in core registers and on the stack: `float` as a word, `double` as an
//! 8-byte-aligned pair, and no aggregate is a VFP candidate: `classify_type` then makes none.
//!
//! There is no half precision, containerized vector or `long double` type (which is `double`
//! here) among our [`Scalar`]s, so the rules about those never fire and are left out. Pointers
//! are 4 bytes: `abi::lower` gives them as [`Scalar::U32`], and an 8-byte [`Scalar::Ptr`] is
//! refused as a sign that the type registry was built for another target.

#[cfg(test)]
mod tests;

use smallvec::{smallvec, SmallVec};

use super::{
    AbiError, AbiType, ArgLoc, CallPlan, Ext, Leaf, Limits, Move, RetLoc, RetMove, RetReg, Scalar, Signature, Slot,
};

/// The file stem, used in errors.
const ABI: &str = "arm32";

/// Overflow and unsupported-shape errors, named for this ABI.
const LIMITS: Limits = Limits { abi: ABI };

/// Core argument registers: r0 to r3, counted by the NCRN.
const NUM_ARG_GPRS: usize = 4;

/// VFP argument registers: s0 to s15, which are d0 to d7 (§7.1.2.3).
const NUM_ARG_SREGS: usize = 16;

/// Every VFP argument register, as a `State::vfp_taken` mask.
const ALL_SREGS: u16 = u16::MAX;

/// The indirect result location: r0 (rule A.4).
const INDIRECT_RESULT: Slot = Slot::Gpr(0);

/// Core result registers: r0, then r1.
const RET_GPRS: [RetReg; 2] = [RetReg::Gpr(0), RetReg::Gpr(1)];

/// VFP result registers: s0 to s7, enough for an HFA of four doubles (d0 to d3).
const NUM_RET_SREGS: usize = 8;

/// The unit of register pieces and of stack slots: a core register or an s register.
const WORD: usize = 4;

/// The size and alignment of a double-word type; the alignment of SP at a public interface.
const DOUBLEWORD: usize = 8;

/// The largest composite returned in r0 (§6.4).
const MAX_REGISTER_COMPOSITE_RESULT: usize = 4;

/// The most elements an HFA that is a VFP candidate can have (§7.1.2.1).
const MAX_HFA_MEMBERS: usize = 4;

/// What stage B makes of an argument or result type, and which rules of stage C apply to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// A VFP co-processor register candidate (§7.1.2.1): a `float`, a `double`, or a homogeneous
    /// aggregate of one to four of them. A lone `float` or `double` is one member.
    Cprc {
        /// `F32` or `F64`.
        base: Scalar,
        /// 1 to 4.
        members: usize,
        /// Natural alignment (more than the base type's only if a member is over-aligned).
        align: usize,
    },
    /// A Fundamental Data Type passed in core registers: an integer or a 4-byte pointer, and under
    /// the base standard also a `float` or `double`.
    Fundamental(Scalar),
    /// Any other composite type, passed in core registers and/or on the stack.
    Composite {
        /// `sizeof`.
        size: usize,
        /// Natural alignment: the largest member alignment (what `abi::lower` gives).
        align: usize,
    },
    /// A composite of size 0 (a GNU C empty struct): gcc passes nothing and uses no register.
    Empty,
}

/// Registers and stack used so far, under the names stage A of §6.5 gives them.
struct State {
    /// Next Core Register Number.
    ncrn: usize,
    /// The s registers allocated so far or marked unavailable (bit i is s_i): rule A.2.vfp
    /// starts with none, C.1.vfp allocates, C.2.vfp marks all.
    vfp_taken: u16,
    /// Next Stacked Argument Address, as an offset from SP at the call.
    nsaa: usize,
}

/// Classifies a signature for AAPCS32 with the VFP variant (base standard if variadic).
pub fn classify(sig: &Signature) -> Result<CallPlan, AbiError> {
    // §7: "This section applies only to non-variadic functions. For a variadic function the base
    // standard is always used both for argument passing and result return."
    let vfp = !sig.variadic;

    // A.1: NCRN = r0. A.2.vfp: the VFP argument registers are unallocated. A.3: NSAA = SP.
    let mut state = State { ncrn: 0, vfp_taken: 0, nsaa: 0 };

    // A.4: a function that returns its result in memory takes the result's address in r0, and the
    // NCRN is set to r1.
    let ret = classify_result(&sig.ret, vfp)?;
    if let RetLoc::Sret { .. } = ret {
        state.ncrn = 1;
    }

    let mut args = Vec::with_capacity(sig.params.len());
    for ty in &sig.params {
        let class = classify_type(ty, vfp)?;
        args.push(state.assign(class)?);
    }

    // §6.2.1.2 "Stack constraints at a public interface": SP mod 8 = 0, so the argument area is
    // padded to a multiple of 8.
    let stack_size = LIMITS.bytes(LIMITS.align_up(state.nsaa, DOUBLEWORD)?)?;

    Ok(CallPlan { args, ret, stack_size, fpr_count: 0, callee_pops: 0 })
}

/// §6.4 Result Return (base standard) and §7.1.2.2 (VFP variant).
fn classify_result(ty: &AbiType, vfp: bool) -> Result<RetLoc, AbiError> {
    if *ty == AbiType::Void {
        return Ok(RetLoc::Void);
    }
    let moves = match classify_type(ty, vfp)? {
        // §7.1.2.2: a result that would be a VFP candidate comes back in consecutive VFP registers
        // from s0 (d0 for doubles), as if loaded with VLDR: one word per s register.
        Class::Cprc { base, members, .. } => {
            let words = members * base.size() / WORD;
            if words > NUM_RET_SREGS {
                return Err(LIMITS.unsupported("VFP result register accounting"));
            }
            (0..words)
                .map(|i| {
                    let reg = RetReg::Fpr(u8::try_from(i).map_err(|_| LIMITS.unsupported("an s register"))?);
                    Ok(RetMove { reg, dst: LIMITS.bytes(i * WORD)?, len: LIMITS.bytes(WORD)?, ext: Ext::None })
                })
                .collect::<Result<_, AbiError>>()?
        }
        // §6.4: "A Fundamental Data Type that is smaller than 4 bytes is zero- or sign-extended to
        // a word and returned in r0"; a word-sized one is in r0; "a double-word sized Fundamental
        // Data Type (e.g., long long, double ...) is returned in r0 and r1" (the low word in r0,
        // as if loaded with LDM, §6.1.1.1).
        Class::Fundamental(s) => {
            let size = s.size();
            let pieces = RET_GPRS.iter().take(size.div_ceil(WORD)).enumerate();
            let piece = |(i, &reg): (usize, &RetReg)| {
                let (dst, len) = word_span(i, size);
                Ok(RetMove { reg, dst: LIMITS.bytes(dst)?, len: LIMITS.bytes(len)?, ext: word_ext(s) })
            };
            pieces.map(piece).collect::<Result<_, AbiError>>()?
        }
        // §6.4: "A Composite Type not larger than 4 bytes is returned in r0", as if loaded with
        // LDR (bits beyond the result are unspecified).
        Class::Composite { size, .. } if size <= MAX_REGISTER_COMPOSITE_RESULT => {
            smallvec![RetMove { reg: RET_GPRS[0], dst: 0, len: LIMITS.bytes(size)?, ext: Ext::None }]
        }
        // An empty struct (size 0) is such a composite: nothing to read (gcc, see the tests).
        Class::Empty => SmallVec::new(),
        // §6.4: "A Composite Type larger than 4 bytes ... is stored in memory at an address passed
        // as an extra argument" (r0, rule A.4).
        Class::Composite { .. } => return Ok(RetLoc::Sret { ptr: INDIRECT_RESULT }),
    };
    Ok(RetLoc::Regs(moves))
}

impl State {
    /// §6.5 stage C, with the VFP rules C.1.vfp and C.2.vfp of §7.1.2.3.
    fn assign(&mut self, class: Class) -> Result<ArgLoc, AbiError> {
        match class {
            Class::Cprc { base, members, align } => self.assign_cprc(base, members, align),
            Class::Fundamental(s) => {
                // B.2: an integral type smaller than a word is extended to a word (4 bytes); the
                // call engine widens the piece by `ext`.
                let size = s.size().max(WORD);
                let dw = s.size() >= DOUBLEWORD;
                let ext = word_ext(s);
                self.assign_core(s.size(), size, dw, ext)
            }
            // B.4: a composite's size is rounded up to a multiple of 4. B.5: its copy is 8-aligned
            // if its natural alignment is 8 or more, else 4-aligned.
            Class::Composite { size, align } => {
                let rounded = LIMITS.align_up(size, WORD)?;
                self.assign_core(size, rounded, align >= DOUBLEWORD, Ext::None)
            }
            // gcc (GNU C gives an empty struct size 0): no register and no stack, the NCRN and the
            // NSAA are unchanged. See the tests.
            Class::Empty => Ok(ArgLoc::Moves(SmallVec::new())),
        }
    }

    /// C.1.vfp and C.2.vfp for a candidate of `members` values of type `base`.
    fn assign_cprc(&mut self, base: Scalar, members: usize, align: usize) -> Result<ArgLoc, AbiError> {
        let size = members * base.size();
        let words = size / WORD;
        // C.1.vfp: "If the argument is a VFP CPRC and there are sufficient consecutive VFP
        // registers of the appropriate type unallocated then the argument is allocated to the
        // lowest-numbered sequence of such registers." The type is s for floats and d for
        // doubles (an even-aligned pair of s). Taking the lowest free sequence back-fills an s
        // register skipped earlier to align a d register.
        let step = base.size() / WORD;
        let mask = u16::try_from((1u32 << words) - 1).map_err(|_| LIMITS.unsupported("an HFA this large"))?;
        let mut starts = (0..NUM_ARG_SREGS).step_by(step).take_while(|&s| s + words <= NUM_ARG_SREGS);
        let first = starts.find(|&s| self.vfp_taken & (mask << s) == 0);
        if let Some(first) = first {
            self.vfp_taken |= mask << first;
            let moves = (0..words).map(|i| {
                Ok(Move {
                    src: LIMITS.bytes(i * WORD)?,
                    len: LIMITS.bytes(WORD)?,
                    dst: sreg(first + i)?,
                    ext: Ext::None,
                })
            });
            return Ok(ArgLoc::Moves(moves.collect::<Result<_, AbiError>>()?));
        }
        // C.2.vfp: "any VFP registers that are unallocated are marked as unavailable" (so no
        // later argument back-fills). "The NSAA is rounded up to the next multiple of 4 if the
        // natural alignment of the argument is ≤ 4 or the next multiple of 8 if its natural
        // alignment is ≥ 8 and the argument is copied to the stack at the adjusted NSAA." The
        // NSAA is no longer SP, so no later composite is split (C.5).
        self.vfp_taken = ALL_SREGS;
        let offset = self.reserve(size, align >= DOUBLEWORD)?;
        on_stack(size, offset, Ext::None)
    }

    /// C.3 to C.8: `len` bytes of the value, `size` bytes after stage B (a multiple of 4), in core
    /// registers, split between r3 and the stack, or on the stack. `dw`: the argument requires
    /// double-word alignment.
    fn assign_core(&mut self, len: usize, size: usize, dw: bool, ext: Ext) -> Result<ArgLoc, AbiError> {
        // C.3: "If the argument requires double-word alignment (8-byte), the NCRN is rounded up
        // to the next even register number."
        if dw {
            self.ncrn = self.ncrn.next_multiple_of(2);
        }
        let words = size / WORD;
        let free = NUM_ARG_GPRS.saturating_sub(self.ncrn);
        // C.4: "If the size in words of the argument is not more than r4 minus NCRN, the argument
        // is copied into core registers, starting at the NCRN", as if loaded with LDM: word i in
        // register NCRN + i, the low word of a 64-bit value first.
        if words <= free {
            let moves = (0..words).map(|i| self.core_piece(i, len, ext));
            let moves = moves.collect::<Result<_, AbiError>>()?;
            self.ncrn += words;
            return Ok(ArgLoc::Moves(moves));
        }
        // C.5: "If the NCRN is less than r4 and the NSAA is equal to the SP, the argument is split
        // between core registers and the stack": the first words go up to r3 and the rest at the
        // NSAA (here SP). Only a composite gets here (a fundamental type of one word fits if any
        // register is free, and a double-word one does after C.3). The NSAA is not SP once a VFP
        // candidate has gone on the stack (C.2.vfp): "An argument may only be split between core
        // registers and the stack if all preceding CPRCs have been allocated to co-processor
        // registers." gcc agrees (tests).
        if free > 0 && self.nsaa == 0 {
            let mut moves: SmallVec<[Move; 2]> =
                (0..free).map(|i| self.core_piece(i, len, ext)).collect::<Result<_, AbiError>>()?;
            let in_regs = free * WORD;
            let rest = len.saturating_sub(in_regs);
            let offset = self.reserve(size - in_regs, false)?;
            let (src, dst) = (LIMITS.bytes(in_regs)?, Slot::Stack(LIMITS.bytes(offset)?));
            moves.push(Move { src, len: LIMITS.bytes(rest)?, dst, ext: Ext::None });
            self.ncrn = NUM_ARG_GPRS;
            return Ok(ArgLoc::Moves(moves));
        }
        // C.6: "The NCRN is set to r4." C.7: a double-word-aligned argument is at a multiple of 8.
        // C.8: "The argument is copied to memory at the NSAA. The NSAA is incremented by the size
        // of the argument" (a multiple of 4 after stage B).
        self.ncrn = NUM_ARG_GPRS;
        let offset = self.reserve(size, dw)?;
        on_stack(len, offset, ext)
    }

    /// Word `i` of a value of `len` bytes, into core register NCRN + `i`. Only a value narrower
    /// than a word is widened.
    fn core_piece(&self, i: usize, len: usize, ext: Ext) -> Result<Move, AbiError> {
        let (src, piece) = word_span(i, len);
        let ext = if len < WORD { ext } else { Ext::None };
        Ok(Move { src: LIMITS.bytes(src)?, len: LIMITS.bytes(piece)?, dst: gpr(self.ncrn + i)?, ext })
    }

    /// Rounds the NSAA up to 8 (if `dw`) or 4, takes `size` bytes there (rounded up to 4), and
    /// returns their offset.
    fn reserve(&mut self, size: usize, dw: bool) -> Result<usize, AbiError> {
        let offset = LIMITS.align_up(self.nsaa, if dw { DOUBLEWORD } else { WORD })?;
        let end = offset.checked_add(size).ok_or_else(|| LIMITS.unsupported("a stack area this large"))?;
        self.nsaa = LIMITS.align_up(end, WORD)?;
        Ok(offset)
    }
}

/// §6.5 stage B, §5.3.5 and §7.1.2.1: what kind of argument `ty` is. `vfp`: the VFP variant
/// applies (under the base standard there are no VFP candidates).
fn classify_type(ty: &AbiType, vfp: bool) -> Result<Class, AbiError> {
    match ty {
        AbiType::Void => Err(LIMITS.unsupported("void as a parameter type")),
        AbiType::Scalar(Scalar::Ptr) => Err(LIMITS.unsupported("an 8-byte pointer on a 4-byte-pointer target")),
        // §7.1.2.1: single- and double-precision floating-point types are VFP candidates.
        AbiType::Scalar(s) if vfp && s.is_float() => Ok(Class::Cprc { base: *s, members: 1, align: s.size() }),
        AbiType::Scalar(s) => Ok(Class::Fundamental(*s)),
        AbiType::Aggregate(a) => {
            let inside = |l: &Leaf| l.offset.checked_add(l.scalar.size()).is_some_and(|end| end <= a.size);
            if !a.leaves.iter().all(inside) {
                return Err(LIMITS.unsupported("a member outside its struct"));
            }
            if a.leaves.iter().any(|l| l.scalar == Scalar::Ptr) {
                return Err(LIMITS.unsupported("an 8-byte pointer on a 4-byte-pointer target"));
            }
            if a.size == 0 {
                return Ok(Class::Empty);
            }
            // §7.1.2.1: "A Homogeneous Aggregate with a Base Type of a single- or double-precision
            // floating-point type with one to four Elements" is a VFP candidate.
            if vfp {
                if let Some((base, members)) = a.homogeneous_float(MAX_HFA_MEMBERS) {
                    return Ok(Class::Cprc { base, members, align: a.align });
                }
            }
            Ok(Class::Composite { size: a.size, align: a.align })
        }
    }
}

/// How an integer narrower than a word is widened: B.2 for arguments ("zero- or sign-extended to a
/// full word"), §6.4 for results (the same words; a callback widens before returning). Wider types,
/// floats and pointers (`U32`, a full word) are copied as they are.
fn word_ext(s: Scalar) -> Ext {
    match s {
        Scalar::I8 | Scalar::I16 => Ext::Sign,
        Scalar::U8 | Scalar::U16 => Ext::Zero,
        _ => Ext::None,
    }
}

/// A single move of the whole value to the stack at `offset`.
fn on_stack(len: usize, offset: usize, ext: Ext) -> Result<ArgLoc, AbiError> {
    let dst = Slot::Stack(LIMITS.bytes(offset)?);
    Ok(ArgLoc::Moves(smallvec![Move { src: 0, len: LIMITS.bytes(len)?, dst, ext }]))
}

/// Core register r`i` (0 to 3).
fn gpr(i: usize) -> Result<Slot, AbiError> {
    LIMITS.register(i, NUM_ARG_GPRS, Slot::Gpr, "core register accounting")
}

/// VFP register s`i` (0 to 15).
fn sreg(i: usize) -> Result<Slot, AbiError> {
    LIMITS.register(i, NUM_ARG_SREGS, Slot::Fpr, "VFP register accounting")
}

/// Offset and length of word `i` of a value of `size` bytes (the last one may be short).
fn word_span(i: usize, size: usize) -> (usize, usize) {
    super::piece_span(i, WORD, size)
}
