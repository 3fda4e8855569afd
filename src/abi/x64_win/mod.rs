//! Argument and result classification for the Microsoft x64 calling convention (Windows on
//! x86-64, MSVC and MinGW alike).
//!
//! Follows Microsoft's *x64 calling convention* (part of "x64 software conventions"), sections
//! "Calling convention defaults", "Parameter passing", "Varargs", "Unprototyped functions",
//! "Return values" and "Stack allocation":
//! <https://learn.microsoft.com/en-us/cpp/build/x64-calling-convention> and
//! <https://learn.microsoft.com/en-us/cpp/build/stack-usage>.
//!
//! ```text
//!   argument positions   0      1      2      3      4 ..
//!     integer, pointer,  %rcx   %rdx   %r8    %r9    stack   -> Slot::Gpr(0..4)
//!     aggregate of 1/2/4/8 bytes, address of any other aggregate
//!     float, double      %xmm0  %xmm1  %xmm2  %xmm3  stack   -> Slot::Fpr(0..4)
//!   stack at the call    rsp+0 .. rsp+32: home space of positions 0..3 (always reserved)
//!                        rsp+8·p: position p >= 4, one 8-byte slot each  -> Slot::Stack(8·p)
//!   hidden result ptr    position 0 (%rcx); every argument moves one position right
//!   result registers     %rax (integers, pointers, small aggregates)    -> RetReg::Gpr(0)
//!                        %xmm0 (float, double)                          -> RetReg::Fpr(0)
//!   variadic calls       a float in positions 0..3 is in both registers of its position
//! ```
//!
//! Unlike System V, an argument's registers are fixed by its position alone: a `double` in the
//! second position goes in %xmm1 even if %rcx and %xmm0 are free, and the integer register of
//! that position is left unused. An argument is never split. Aggregates are classified by their
//! size only (their members do not matter), so this file never reads [`Aggregate::leaves`].
//! MSVC's `long double` is `double`, and our [`Scalar`]s have neither `__m128` nor `__m64`, so
//! the rules about vector types are left out.
//!
//! Where MinGW gcc and Microsoft's page part ways (empty structs, which C does not have and MSVC
//! rejects in C), this file does what `x86_64-w64-mingw32-gcc -O2` does, and the test that pins
//! the choice says so. "Unprototyped functions" asks the same float duplication as "Varargs";
//! every [`Signature`] here is a prototype, so that rule never applies (MinGW gcc does not
//! duplicate for unprototyped calls anyway).
//!
//! [`Aggregate::leaves`]: super::Aggregate::leaves

#[cfg(test)]
mod tests;

use smallvec::{smallvec, SmallVec};

use super::{AbiError, AbiType, ArgLoc, CallPlan, Ext, Limits, Move, RetLoc, RetMove, RetReg, Scalar, Signature, Slot};

/// The file stem, used in errors.
const ABI: &str = "x64_win";

/// Overflow and unsupported-shape errors, named for this ABI.
const LIMITS: Limits = Limits { abi: ABI };

/// Integer argument registers, one per register position.
const ARG_GPRS: [Slot; 4] = [
    Slot::Gpr(0), // %rcx
    Slot::Gpr(1), // %rdx
    Slot::Gpr(2), // %r8
    Slot::Gpr(3), // %r9
];

/// Floating-point argument registers, one per register position.
const ARG_FPRS: [Slot; 4] = [
    Slot::Fpr(0), // %xmm0
    Slot::Fpr(1), // %xmm1
    Slot::Fpr(2), // %xmm2
    Slot::Fpr(3), // %xmm3
];

/// Where the hidden result pointer goes: position 0, %rcx.
const HIDDEN_RESULT: Slot = ARG_GPRS[0];

/// Integer result register: %rax.
const RET_GPR: RetReg = RetReg::Gpr(0);

/// Floating-point result register: %xmm0.
const RET_FPR: RetReg = RetReg::Fpr(0);

/// The size of one argument position on the stack, and the largest value passed by value.
const SLOT: usize = 8;

/// The home (shadow) space: one stack slot for each register position, always reserved.
const HOME_SPACE: usize = ARG_GPRS.len() * SLOT;

/// Alignment of rsp at the call, hence of the end of the argument area.
const STACK_ALIGN: usize = 16;

/// How an argument or result travels, by "Parameter passing" and "Return values".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// An integer or pointer: the integer register of its position.
    Integer(Scalar),
    /// A `float` or `double`: the floating-point register of its position.
    Float(Scalar),
    /// A struct or union of 1, 2, 4 or 8 bytes, passed as an integer of that size.
    AsInteger(usize),
    /// Any other struct or union: the address of a caller-made copy (arguments), or a hidden
    /// result pointer (results).
    Reference,
}

/// Classifies a signature for the Microsoft x64 calling convention.
pub fn classify(sig: &Signature) -> Result<CallPlan, AbiError> {
    let ret = classify_result(&sig.ret)?;

    // x64 calling convention, "Return values": the hidden result pointer is passed "as the first
    // argument. Subsequent arguments are then shifted one argument to the right."
    let first = usize::from(matches!(ret, RetLoc::Sret { .. }));

    let args = sig.params.iter().enumerate().map(|(i, ty)| {
        let position = first.checked_add(i).ok_or_else(|| LIMITS.unsupported("this many arguments"))?;
        assign(classify_type(ty)?, position, sig.variadic)
    });
    let args = args.collect::<Result<Vec<_>, _>>()?;

    // x64 calling convention, "Calling convention defaults" and "Stack allocation": the caller
    // always allocates the home space of the four register positions, "even if the callee
    // doesn't have that many parameters"; positions from the fifth on follow it, one 8-byte slot
    // each, and rsp is 16-aligned at the call.
    let positions = first.checked_add(sig.params.len()).ok_or_else(|| LIMITS.unsupported("this many arguments"))?;
    let end = positions.checked_mul(SLOT).ok_or_else(|| LIMITS.unsupported("a stack area this large"))?;
    let stack_size = LIMITS.bytes(LIMITS.align_up(end.max(HOME_SPACE), STACK_ALIGN)?)?;

    // No %al count and no callee-popped bytes: the caller cleans the stack ("Stack allocation").
    Ok(CallPlan { args, ret, stack_size, fpr_count: 0, callee_pops: 0 })
}

/// x64 calling convention, "Return values".
fn classify_result(ty: &AbiType) -> Result<RetLoc, AbiError> {
    let one = |reg, len: usize, ext| -> Result<RetLoc, AbiError> {
        Ok(RetLoc::Regs(smallvec![RetMove { reg, dst: 0, len: LIMITS.bytes(len)?, ext }]))
    };
    match ty {
        AbiType::Void => Ok(RetLoc::Void),
        // MinGW gcc: a function returning an empty struct (a GNU C extension) returns nothing and
        // takes no hidden pointer: its first argument stays in %rcx. Microsoft's rule would ask
        // for a hidden pointer (0 is not one of the sizes below), but MSVC has no empty C
        // structs. See the test `empty_struct_is_passed_by_reference_and_returned_in_nothing`.
        AbiType::Aggregate(a) if a.size == 0 => Ok(RetLoc::Regs(SmallVec::new())),
        _ => match classify_type(ty)? {
            // "A scalar return value that can fit into 64 bits, including the __m64 type, is
            // returned through RAX." Callers ignore the upper bits ("Parameter passing": values
            // are right-justified), but gcc and clang callers of a `char` function may read all
            // of %eax (spec ABI-13), so a callback widens like an argument.
            Class::Integer(s) => one(RET_GPR, s.size(), s.ext()),
            // "Non-scalar types including floats, doubles, and vector types [...] are returned
            // in XMM0."
            Class::Float(s) => one(RET_FPR, s.size(), Ext::None),
            // "To return a user-defined type by value in RAX, it must have a length of 1, 2, 4,
            // 8, 16, 32, or 64 bits" (and be a C-like type, which every C struct is). A struct of
            // one `float` or `double` is such a type: it comes back in %rax, not %xmm0 (MinGW gcc
            // agrees: see the tests).
            Class::AsInteger(size) => one(RET_GPR, size, Ext::None),
            // "Otherwise, the caller must allocate memory for the return value and pass a
            // pointer to it as the first argument. [...] The same pointer must be returned by the
            // callee in RAX" (the call engine relies on its own pointer instead).
            Class::Reference => Ok(RetLoc::Sret { ptr: HIDDEN_RESULT }),
        },
    }
}

/// Places an argument of class `class` at argument position `position`.
fn assign(class: Class, position: usize, variadic: bool) -> Result<ArgLoc, AbiError> {
    let gpr = ARG_GPRS.get(position).copied();
    // x64 calling convention, "Parameter passing": "The first four integer arguments are passed
    // in registers. [...] Arguments five and higher are passed on the stack." The fifth goes just
    // above the home space ("Stack allocation"), so position p is at rsp + 8·p: every position
    // owns one 8-byte stack slot, the first four being the home space the callee may spill to.
    let stack = || -> Result<Slot, AbiError> {
        let offset = position.checked_mul(SLOT).ok_or_else(|| LIMITS.unsupported("a stack area this large"))?;
        Ok(Slot::Stack(LIMITS.bytes(offset)?))
    };
    let one = |dst, len: usize, ext| -> Result<ArgLoc, AbiError> {
        Ok(ArgLoc::Moves(smallvec![Move { src: 0, len: LIMITS.bytes(len)?, dst, ext }]))
    };
    match class {
        // "Integer-valued arguments in the leftmost four positions are passed in left-to-right
        // order in RCX, RDX, R8, and R9, respectively." Values are right-justified and the callee
        // ignores the upper bits; widening them is harmless and matches the other modules.
        Class::Integer(s) => one(gpr.map_or_else(stack, Ok)?, s.size(), s.ext()),
        // "Any floating-point and double-precision arguments in the first four parameters are
        // passed in XMM0 - XMM3, depending on position", and the integer register of that
        // position is not used.
        Class::Float(s) => {
            let (Some(fpr), Some(gpr)) = (ARG_FPRS.get(position).copied(), gpr) else {
                return one(stack()?, s.size(), Ext::None);
            };
            // "Varargs": "For floating-point values only, both the integer register and the
            // floating-point register must contain the value, in case the callee expects the
            // value in the integer registers." Whether this covers the named arguments of a
            // variadic function is not said there; "Parameter passing" places floating-point
            // values in RCX, RDX, R8, R9 "when there are varargs arguments", and the older
            // "Overview of x64 Calling Conventions" (Visual Studio 2013) duplicates them "for
            // vararg or unprototyped functions": a property of the call. So every float in a
            // register position of a call to a variadic function is in both registers, named ones
            // too, as LLVM's X86 call lowering does for a Win64 varargs callee (read in its
            // source, not compiled here); MinGW gcc duplicates only the variadic ones (see the
            // tests). The callee reads the one it expects, so the extra copy is harmless.
            //
            // A `float` at a variadic position reaches us already promoted to `double` by C's
            // default argument promotions, which are the caller's job; one that is not is copied
            // as it is, 4 bytes in both registers. Callbacks are never variadic, so no relay
            // reads a duplicated argument.
            let len = LIMITS.bytes(s.size())?;
            let fpr_move = Move { src: 0, len, dst: fpr, ext: Ext::None };
            if variadic {
                return Ok(ArgLoc::Moves(smallvec![fpr_move, Move { src: 0, len, dst: gpr, ext: Ext::None }]));
            }
            Ok(ArgLoc::Moves(smallvec![fpr_move]))
        }
        // "Structs and unions of size 8, 16, 32, or 64 bits, and __m64 types, are passed as if
        // they were integers of the same size", even a struct of one `float` or `double` (MinGW
        // gcc: %rcx, not %xmm0). Not duplicated when variadic: it is not a floating-point value.
        Class::AsInteger(size) => one(gpr.map_or_else(stack, Ok)?, size, Ext::None),
        // "Structs or unions of other sizes are passed as a pointer to memory allocated by the
        // caller. For these aggregate types passed as a pointer, including __m128, the
        // caller-allocated temporary memory must be 16-byte aligned." The pointer takes the
        // position like an integer (the call engine makes the aligned copy).
        Class::Reference => Ok(ArgLoc::Indirect { ptr: gpr.map_or_else(stack, Ok)? }),
    }
}

/// x64 calling convention, "Parameter passing" and "Return values": scalars by kind, aggregates
/// by size alone.
fn classify_type(ty: &AbiType) -> Result<Class, AbiError> {
    match ty {
        AbiType::Void => Err(LIMITS.unsupported("void as a parameter type")),
        AbiType::Scalar(s) if s.is_float() => Ok(Class::Float(*s)),
        AbiType::Scalar(s) => Ok(Class::Integer(*s)),
        // "Any argument that doesn't fit in 8 bytes, or isn't 1, 2, 4, or 8 bytes, must be passed
        // by reference." Size 0 (GNU C's empty struct) is none of these, and MinGW gcc indeed
        // passes the address of a copy.
        AbiType::Aggregate(a) => match a.size {
            1 | 2 | 4 | 8 => Ok(Class::AsInteger(a.size)),
            _ => Ok(Class::Reference),
        },
    }
}
