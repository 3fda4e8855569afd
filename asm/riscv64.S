/*
 * Forward-call thunk, callback trampolines and stack switch for RISC-V 64, LP64D (Linux).
 *
 * ABI: RISC-V ELF psABI specification, version 1.0, "RISC-V Calling Conventions": "Integer
 *      Calling Convention", "Hardware Floating-point Calling Convention", "ABI: LP64D".
 *      https://github.com/riscv-non-isa/riscv-elf-psabi-doc/blob/master/riscv-cc.adoc
 *
 * Entry points:
 *   kffi_call_riscv64     — load the argument registers from a CallFrame, switch the stack
 *                           pointer to the frame's outgoing-argument area, call, store every
 *                           result register back into the frame.
 *   kffi_trampolines_riscv64 .. kffi_trampolines_end_riscv64 — the callback pool.
 *   kffi_callback_riscv64 — the common callback entry.
 *   kffi_switch_riscv64   — run a function on another stack.
 *
 * The thunk makes no decisions: src/abi/riscv64 decided where every byte goes, and src/call
 * wrote them into the frame (a float bound for an f register already NaN-boxed: its upper 32
 * bits set, as the ISA requires of a single-precision value in a 64-bit register).
 * CallFrame (src/call/frame.rs, mirrored below):
 *
 *        +0   gpr[8]      a0..a7
 *       +64   fpr[8]      fa0..fa7 (all 64 bits)
 *      +128   ret_gpr[2]  a0 a1 after the call
 *      +144   ret_fpr[2]  fa0 fa1 after the call
 *      +160   stack       stack pointer for the callee: outgoing stack arguments start here
 *      +168   fpr_count   unused on RISC-V
 *      +176   caller_sp   written here: sp before the switch (callbacks run JS below it)
 *
 * Our frame, on the thread stack (sp on entry is 16-aligned, psABI "Integer Calling
 * Convention": "the stack pointer shall be aligned to a 128-bit boundary upon procedure entry"):
 *
 *      s0 - 0     caller's sp on entry        <- CFA = s0
 *      s0 - 8     saved ra
 *      s0 - 16    saved s0
 *      s0 - 24    saved s1
 *      s0 - 32    padding                     <- sp until the switch
 *
 * Stack while the C function runs: sp = frame.stack, 16-aligned, the first stack argument
 * there. The return address is in ra; the callee saves it below frame.stack.
 *
 * No linker relaxation: the trampolines must keep their fixed size.
 */

#include "macros.h"

#define FRAME_GPR        0
#define FRAME_FPR        64
#define FRAME_RET_GPR    128
#define FRAME_RET_FPR    144
#define FRAME_STACK      160
#define FRAME_FPR_COUNT  168
#define FRAME_CALLER_SP  176

    .option norelax
    .text

/*
 * extern "C" fn kffi_call_riscv64(a0: fn_ptr: *const c_void, a1: frame: *mut CallFrame)
 *
 * On entry:
 *   a0   address of the C function to call
 *   a1   the CallFrame, already filled; frame.stack is 16-aligned
 *   ra   return address
 */
FUNC_BEGIN(kffi_call_riscv64)
    .cfi_startproc                              /* CFA = sp                                 */
    addi    sp, sp, -32
    .cfi_def_cfa_offset 32
    sd      ra, 24(sp)
    sd      s0, 16(sp)                          /* s0 s1 are callee-saved                   */
    sd      s1, 8(sp)
    .cfi_offset ra, -8
    .cfi_offset s0, -16
    .cfi_offset s1, -24
    addi    s0, sp, 32                          /* s0-based CFA survives the stack switch   */
    .cfi_def_cfa s0, 0

    mv      s1, a1                              /* s1 = frame, survives the call            */
    mv      t1, a0                              /* t1 = target: not an argument register    */

    .irp i, 0, 1, 2, 3, 4, 5, 6, 7              /* floating-point argument registers        */
    fld     fa\i, FRAME_FPR+8*\i(s1)
    .endr

    sd      sp, FRAME_CALLER_SP(s1)             /* where a callback may run JS meanwhile    */
    ld      sp, FRAME_STACK(s1)                 /* switch to the call memory's stack: the   */
                                                /* stack arguments are already in place     */
    .irp i, 0, 1, 2, 3, 4, 5, 6, 7              /* integer argument registers               */
    ld      a\i, FRAME_GPR+8*\i(s1)
    .endr

    jalr    t1                                  /* call; ra = the next instruction          */

    sd      a0, FRAME_RET_GPR+8*0(s1)           /* store every result register; the plan    */
    sd      a1, FRAME_RET_GPR+8*1(s1)           /* says which ones mean something           */
    fsd     fa0, FRAME_RET_FPR+8*0(s1)
    fsd     fa1, FRAME_RET_FPR+8*1(s1)

    addi    sp, s0, -32                         /* back to our own stack                    */
    ld      ra, 24(sp)
    ld      s0, 16(sp)
    ld      s1, 8(sp)
    .cfi_def_cfa sp, 32
    .cfi_restore ra
    .cfi_restore s0
    .cfi_restore s1
    addi    sp, sp, 32
    .cfi_def_cfa_offset 0
    ret
    .cfi_endproc
FUNC_END(kffi_call_riscv64)

/*
 * Callbacks: C calls one of KFFI_TRAMPOLINES static entry points; each loads its own index into
 * t0 (a temporary no argument uses) and jumps to the common entry, which spills the argument
 * registers into a CallFrame and calls the Rust relay with (index, frame). The relay leaves the
 * results in the frame; the entry loads them and returns to C. Nothing is written or made
 * executable at run time.
 *
 * One trampoline (16 bytes, so that Rust finds entry i at kffi_trampolines_riscv64 + 16 * i):
 *
 *      li    t0, i                             (one or two instructions)
 *      j     kffi_callback_riscv64
 *      (padding to 16 bytes)
 */
#define KFFI_TRAMPOLINES 8192
#define CB_FRAME_SIZE    192                    /* sizeof(CallFrame) = 184, rounded to 16   */

    .p2align 4
    .globl SYMBOL(kffi_trampolines_riscv64)
    .hidden SYMBOL(kffi_trampolines_riscv64)
SYMBOL(kffi_trampolines_riscv64):
    .set kffi_index, 0
    .rept KFFI_TRAMPOLINES
    li      t0, kffi_index
    j       SYMBOL(kffi_callback_riscv64)
    .p2align 4
    .set kffi_index, kffi_index + 1
    .endr
    .globl SYMBOL(kffi_trampolines_end_riscv64)
    .hidden SYMBOL(kffi_trampolines_end_riscv64)
SYMBOL(kffi_trampolines_end_riscv64):

/*
 * The common callback entry, reached by `j` from a trampoline with C's registers intact.
 *
 * On entry:
 *   a0..a7, fa0..fa7  the C caller's argument registers
 *   t0                the trampoline index
 *   sp                C's stack arguments start here
 *   ra                return address into C
 */
FUNC_BEGIN(kffi_callback_riscv64)
    .cfi_startproc
    addi    sp, sp, -16
    .cfi_def_cfa_offset 16
    sd      ra, 8(sp)
    sd      s0, 0(sp)
    .cfi_offset ra, -8
    .cfi_offset s0, -16
    addi    s0, sp, 16                          /* CFA = s0 = C's sp at the call            */
    .cfi_def_cfa s0, 0
    addi    sp, sp, -CB_FRAME_SIZE              /* CallFrame at sp, 16-aligned              */

    .irp i, 0, 1, 2, 3, 4, 5, 6, 7              /* spill the integer argument registers     */
    sd      a\i, FRAME_GPR+8*\i(sp)
    .endr
    .irp i, 0, 1, 2, 3, 4, 5, 6, 7              /* and the floating-point ones              */
    fsd     fa\i, FRAME_FPR+8*\i(sp)
    .endr
    sd      s0, FRAME_STACK(sp)                 /* C's sp at the call: its stack arguments  */
    sd      zero, FRAME_RET_GPR+8*0(sp)         /* zero results unless the relay sets them  */
    sd      zero, FRAME_RET_GPR+8*1(sp)
    sd      zero, FRAME_RET_FPR+8*0(sp)
    sd      zero, FRAME_RET_FPR+8*1(sp)

    mv      a0, t0                              /* relay(index, frame)                      */
    mv      a1, sp
    call    SYMBOL(kffi_relay_riscv64)

    ld      a0, FRAME_RET_GPR+8*0(sp)           /* load every result register; the relay    */
    ld      a1, FRAME_RET_GPR+8*1(sp)           /* filled the ones the prototype uses       */
    fld     fa0, FRAME_RET_FPR+8*0(sp)
    fld     fa1, FRAME_RET_FPR+8*1(sp)
    addi    sp, s0, -16                         /* drop the CallFrame                       */
    ld      ra, 8(sp)
    ld      s0, 0(sp)
    .cfi_def_cfa sp, 16
    .cfi_restore ra
    .cfi_restore s0
    addi    sp, sp, 16
    .cfi_def_cfa_offset 0
    ret
    .cfi_endproc
FUNC_END(kffi_callback_riscv64)

/*
 * extern "C" fn kffi_switch_riscv64(a0: arg: *mut c_void, a1: f: extern "C" fn(*mut c_void),
 *                                   a2: sp: *mut u8)
 *
 * Calls f(arg) with sp = a2 (16-aligned), then comes back to this stack. The relay uses it to
 * run JS on the thread's own stack while C runs on the call memory's stack. f must not unwind.
 */
FUNC_BEGIN(kffi_switch_riscv64)
    .cfi_startproc
    addi    sp, sp, -16
    .cfi_def_cfa_offset 16
    sd      ra, 8(sp)
    sd      s0, 0(sp)
    .cfi_offset ra, -8
    .cfi_offset s0, -16
    addi    s0, sp, 16                          /* s0-based CFA survives the switch         */
    .cfi_def_cfa s0, 0
    mv      sp, a2                              /* the other stack                          */
    jalr    a1                                  /* f(arg): a0 is still arg                  */
    addi    sp, s0, -16                         /* back to this one                         */
    ld      ra, 8(sp)
    ld      s0, 0(sp)
    .cfi_def_cfa sp, 16
    .cfi_restore ra
    .cfi_restore s0
    addi    sp, sp, 16
    .cfi_def_cfa_offset 0
    ret
    .cfi_endproc
FUNC_END(kffi_switch_riscv64)

GNU_STACK_NOTE                                  /* no executable stack (ELF only)           */
