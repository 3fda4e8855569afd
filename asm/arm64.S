/*
 * Forward-call thunk for the Arm 64-bit Procedure Call Standard (Linux, the BSDs, macOS).
 *
 * ABI: Procedure Call Standard for the Arm 64-bit Architecture (AAPCS64), release 2024Q3,
 *      §6 The Base Procedure Call Standard (section numbers below are of that release).
 *      https://github.com/ARM-software/abi-aa/blob/main/aapcs64/aapcs64.rst
 *      Apple's variant (variadic arguments on the stack, packed stack slots) differs only in
 *      placement, which Rust decides: this file serves both.
 *
 * Entry points:
 *   kffi_call_arm64 — load the argument registers from a CallFrame, switch the stack pointer
 *                     to the frame's outgoing-argument area, call, store every result
 *                     register back into the frame.
 *
 * The thunk makes no decisions: src/abi/arm64.rs decided where every byte goes, and src/call
 * wrote them into the frame. CallFrame (src/call/frame.rs, mirrored below):
 *
 *        +0   gpr[9]      x0..x7, then x8 (indirect result location, §6.9)
 *       +72   fpr[8]      v0..v7 (low 64 bits: d0..d7; a float sits in the low 32, s0..s7)
 *      +136   ret_gpr[2]  x0 x1 after the call
 *      +152   ret_fpr[4]  d0..d3 after the call (an HFA/HVA result uses up to four, §6.9)
 *      +184   stack       stack pointer for the callee: outgoing stack arguments start here
 *      +192   fpr_count   unused on AAPCS64 (no %al-style register count)
 *      +200   caller_sp   written here: sp before the switch (callbacks run JS below it)
 *
 * Our frame, on the thread stack (sp on entry is 16-aligned):
 *
 *      x29 + 32   caller's sp on entry           <- CFA
 *      x29 + 24   padding (keeps sp 16-aligned)
 *      x29 + 16   saved x19
 *      x29 + 8    saved x30 (lr)
 *      x29 + 0    saved x29 (fp)                 <- x29, and sp until the switch
 *
 * Stack while the C function runs (the call memory's stack block, growing down):
 *
 *      frame.stack + N   ... stack argument at NSAA offset N (§6.8.2 stage C)
 *      frame.stack + 0   first stack argument     <- sp at `blr`, 16-aligned (§6.4.5)
 *      below             the callee's own frames
 *
 * The return address is in x30, not on the stack; the callee pushes its own frame record
 * below frame.stack. Unwinding goes through x29, which the stack switch does not touch.
 */

#include "macros.h"

#define FRAME_GPR        0
#define FRAME_FPR        72
#define FRAME_RET_GPR    136
#define FRAME_RET_FPR    152
#define FRAME_STACK      184
#define FRAME_FPR_COUNT  192
#define FRAME_CALLER_SP  200

    .text

/*
 * extern "C" fn kffi_call_arm64(x0: fn_ptr: *const c_void, x1: frame: *mut CallFrame)
 *
 * On entry:
 *   x0   address of the C function to call
 *   x1   the CallFrame, already filled; frame.stack is 16-aligned
 *   x30  return address
 */
FUNC_BEGIN(kffi_call_arm64)
    .cfi_startproc                              /* CFA = sp, return address in x30          */
    hint    #34                                 /* bti c: a valid indirect-call target when */
                                                /* BTI is on; a NOP on cores without it     */
    stp     x29, x30, [sp, #-32]!               /* frame record + a slot for x19 + padding  */
    .cfi_def_cfa_offset 32                      /* CFA = sp + 32                            */
    .cfi_offset x29, -32                        /* x29 saved at CFA - 32                    */
    .cfi_offset x30, -24                        /* x30 saved at CFA - 24                    */
    mov     x29, sp                             /* CFA is x29-based from here on, so the    */
    .cfi_def_cfa x29, 32                        /* stack switch below keeps unwinding valid */
    str     x19, [sp, #16]                      /* x19 is callee-saved (§6.1.1): it holds   */
    .cfi_offset x19, -16                        /* the frame; saved at CFA - 16             */

    mov     x19, x1                             /* x19 = frame, survives the call           */
    mov     x16, x0                             /* x16 (IP0) = target: not an argument reg  */

    ldp     d0, d1, [x19, #FRAME_FPR+8*0]       /* SIMD/FP argument registers (§6.8.2);     */
    ldp     d2, d3, [x19, #FRAME_FPR+8*2]       /* writing d<n> zeroes the rest of v<n>,    */
    ldp     d4, d5, [x19, #FRAME_FPR+8*4]       /* and a float is the low half (s<n>)       */
    ldp     d6, d7, [x19, #FRAME_FPR+8*6]       /* d8..d15 are callee-saved: left alone     */

    mov     x9, sp                              /* record where a callback may run JS       */
    str     x9, [x19, #FRAME_CALLER_SP]         /* while C runs on the other stack          */
    ldr     x9, [x19, #FRAME_STACK]             /* switch to the call memory's stack: the   */
    mov     sp, x9                              /* stack arguments are already in place     */

    ldp     x0, x1, [x19, #FRAME_GPR+8*0]       /* integer argument registers (§6.8.2)      */
    ldp     x2, x3, [x19, #FRAME_GPR+8*2]       /* x2 x3                                    */
    ldp     x4, x5, [x19, #FRAME_GPR+8*4]       /* x4 x5                                    */
    ldp     x6, x7, [x19, #FRAME_GPR+8*6]       /* x6 x7                                    */
    ldr     x8, [x19, #FRAME_GPR+8*8]           /* x8 = indirect result location (§6.9)     */

    blr     x16                                 /* call; x30 = the next instruction         */

    stp     x0, x1, [x19, #FRAME_RET_GPR+8*0]   /* store every result register; the plan    */
    stp     d0, d1, [x19, #FRAME_RET_FPR+8*0]   /* says which ones mean something (§6.9)    */
    stp     d2, d3, [x19, #FRAME_RET_FPR+8*2]   /* d2 d3: the rest of an HFA of four        */

    mov     sp, x29                             /* back to our own stack, at the frame rec. */
    ldr     x19, [sp, #16]                      /* restore the caller's x19                 */
    .cfi_restore x19                            /* x19 holds its entry value again          */
    ldp     x29, x30, [sp], #32                 /* restore fp and lr, pop our frame         */
    .cfi_def_cfa sp, 0                          /* CFA = sp, as on entry                    */
    .cfi_restore x29                            /* x29 holds its entry value again          */
    .cfi_restore x30                            /* x30 holds its entry value again          */
    ret                                         /* return through x30                       */
    .cfi_endproc
FUNC_END(kffi_call_arm64)

/*
 * Callbacks: C calls one of KFFI_TRAMPOLINES static entry points; each loads its own index into
 * w17 (IP1, a scratch register no argument uses) and branches to the common entry, which
 * spills the argument registers into a CallFrame and calls the Rust relay with (index, frame).
 * The relay leaves the results in the frame; the entry loads them and returns to C. Nothing is
 * written or made executable at run time.
 *
 * One trampoline (16 bytes, so that Rust finds entry i at kffi_trampolines_arm64 + 16 * i):
 *
 *      bti   c                                 valid target of C's indirect call (NOP pre-BTI)
 *      mov   w17, #i
 *      b     kffi_callback_arm64
 *      (padding to 16 bytes)
 */
#define KFFI_TRAMPOLINES 8192
#define CB_FRAME_SIZE    208                    /* sizeof(CallFrame), a multiple of 16 */

    .p2align 4
    .globl SYMBOL(kffi_trampolines_arm64)
#if !defined(__APPLE__)
    .hidden SYMBOL(kffi_trampolines_arm64)
#endif
SYMBOL(kffi_trampolines_arm64):
    .set kffi_index, 0
    .rept KFFI_TRAMPOLINES
    hint    #34
    mov     w17, #kffi_index
    b       SYMBOL(kffi_callback_arm64)
    .p2align 4
    .set kffi_index, kffi_index + 1
    .endr
    .globl SYMBOL(kffi_trampolines_end_arm64)
#if !defined(__APPLE__)
    .hidden SYMBOL(kffi_trampolines_end_arm64)
#endif
SYMBOL(kffi_trampolines_end_arm64):

/*
 * The common callback entry, reached by `b` from a trampoline with C's registers intact.
 *
 * On entry:
 *   x0..x7, d0..d7  the C caller's argument registers; x8 the indirect result location
 *   w17             the trampoline index
 *   sp              C's stack arguments start here (§6.8.2 stage C)
 *   x30             return address into C
 */
FUNC_BEGIN(kffi_callback_arm64)
    .cfi_startproc
    stp     x29, x30, [sp, #-16]!               /* frame record                             */
    .cfi_def_cfa_offset 16
    .cfi_offset x29, -16
    .cfi_offset x30, -8
    mov     x29, sp                             /* CFA = x29 + 16                           */
    .cfi_def_cfa x29, 16
    sub     sp, sp, #CB_FRAME_SIZE              /* CallFrame at sp, 16-aligned              */

    stp     x0, x1, [sp, #FRAME_GPR+8*0]        /* spill the integer argument registers     */
    stp     x2, x3, [sp, #FRAME_GPR+8*2]
    stp     x4, x5, [sp, #FRAME_GPR+8*4]
    stp     x6, x7, [sp, #FRAME_GPR+8*6]
    str     x8, [sp, #FRAME_GPR+8*8]            /* x8: where an sret result goes            */
    stp     d0, d1, [sp, #FRAME_FPR+8*0]        /* and the SIMD/FP ones (low 64 bits)       */
    stp     d2, d3, [sp, #FRAME_FPR+8*2]
    stp     d4, d5, [sp, #FRAME_FPR+8*4]
    stp     d6, d7, [sp, #FRAME_FPR+8*6]
    add     x9, x29, #16                        /* C's sp at the call: its stack arguments  */
    str     x9, [sp, #FRAME_STACK]
    stp     xzr, xzr, [sp, #FRAME_RET_GPR]      /* zero results unless the relay sets them  */
    stp     xzr, xzr, [sp, #FRAME_RET_FPR+8*0]
    stp     xzr, xzr, [sp, #FRAME_RET_FPR+8*2]

    mov     w0, w17                             /* relay(index, frame)                      */
    mov     x1, sp
    bl      SYMBOL(kffi_relay_arm64)

    ldp     x0, x1, [sp, #FRAME_RET_GPR]        /* load every result register; the relay    */
    ldp     d0, d1, [sp, #FRAME_RET_FPR+8*0]    /* filled the ones the prototype uses       */
    ldp     d2, d3, [sp, #FRAME_RET_FPR+8*2]
    mov     sp, x29                             /* drop the CallFrame                       */
    ldp     x29, x30, [sp], #16                 /* restore fp and lr                        */
    .cfi_def_cfa sp, 0
    .cfi_restore x29
    .cfi_restore x30
    ret
    .cfi_endproc
FUNC_END(kffi_callback_arm64)

/*
 * extern "C" fn kffi_switch_arm64(x0: arg: *mut c_void, x1: f: extern "C" fn(*mut c_void),
 *                                 x2: sp: *mut u8)
 *
 * Calls f(arg) with sp = x2 (16-aligned), then comes back to this stack. The relay uses it to
 * run JS on the thread's own stack while C runs on the call memory's stack. f must not unwind.
 */
FUNC_BEGIN(kffi_switch_arm64)
    .cfi_startproc
    hint    #34                                 /* bti c                                    */
    stp     x29, x30, [sp, #-16]!
    .cfi_def_cfa_offset 16
    .cfi_offset x29, -16
    .cfi_offset x30, -8
    mov     x29, sp                             /* x29-based CFA survives the switch        */
    .cfi_def_cfa x29, 16
    mov     sp, x2                              /* the other stack                          */
    blr     x1                                  /* f(arg): x0 is still arg                  */
    mov     sp, x29                             /* back to this one                         */
    ldp     x29, x30, [sp], #16
    .cfi_def_cfa sp, 0
    .cfi_restore x29
    .cfi_restore x30
    ret
    .cfi_endproc
FUNC_END(kffi_switch_arm64)

GNU_STACK_NOTE                                  /* no executable stack (ELF only)           */
