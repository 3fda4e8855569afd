/*
 * Forward-call thunk, callback trampolines and stack switch for 32-bit Arm: the Procedure Call
 * Standard for the Arm Architecture with the VFP (hard-float) variant, as Linux gnueabihf uses it.
 *
 * ABI: Procedure Call Standard for the Arm Architecture (AAPCS32), release 2024Q3, §6 "The Base
 *      Procedure Call Standard" and §6.1.2 / §6.5 with the VFP co-processor rules (section
 *      numbers below are of that release).
 *      https://github.com/ARM-software/abi-aa/blob/main/aapcs32/aapcs32.rst
 *
 * Entry points:
 *   kffi_call_arm32     — load the argument registers from a CallFrame, switch the stack pointer
 *                         to the frame's outgoing-argument area, call, store every result
 *                         register back into the frame.
 *   kffi_trampolines_arm32 .. kffi_trampolines_end_arm32 — the callback pool.
 *   kffi_callback_arm32 — the common callback entry.
 *   kffi_switch_arm32   — run a function on another stack.
 *
 * The thunk makes no decisions: src/abi/arm32 decided where every byte goes (one 32-bit word
 * per register; a double is the two words of its d register), and src/call wrote them into the
 * frame. CallFrame (src/call/frame.rs, mirrored below), every field a 32-bit word:
 *
 *        +0   gpr[4]      r0..r3
 *       +16   fpr[16]     s0..s15 = d0..d7 (d<n> is s<2n> low word, s<2n+1> high word)
 *       +80   ret_gpr[2]  r0 r1 after the call
 *       +88   ret_fpr[8]  s0..s7 = d0..d3 after the call (an HFA of four doubles uses them all)
 *      +120   stack       stack pointer for the callee: outgoing stack arguments start here
 *      +124   fpr_count   unused on Arm
 *      +128   caller_sp   written here: sp before the switch (callbacks run JS below it)
 *
 * Our frame, on the thread stack (sp on entry is 8-aligned, §6.2.1.2 "Stack constraints at a
 * public interface"):
 *
 *      fp + 8    caller's sp on entry        <- CFA
 *      fp + 4    saved lr
 *      fp + 0    saved fp (r11)              <- fp
 *      fp - 4    saved r5 (padding: keeps sp 8-aligned)
 *      fp - 8    saved r4                    <- sp until the switch
 *
 * Stack while the C function runs (the call memory's stack block, growing down):
 *
 *      frame.stack + N   ... stack argument at NSAA offset N (§6.5 stage C)
 *      frame.stack + 0   first stack argument <- sp at `blx`, 16-aligned (8 is required)
 *
 * Interworking: `blx` with a register switches to Thumb state when the target address has its
 * low bit set (a Thumb function), so C compiled either way can be called. Every entry point here
 * is ARM code and typed %function, so the linker makes Thumb callers use `blx` to reach it.
 * Unwind tables: EHABI (.fnstart/.save/.setfp), which is what Arm Linux unwinds with, and CFI
 * for debuggers (.debug_frame only, as gcc emits for EHABI targets).
 */

#include "macros.h"

#define FRAME_GPR        0
#define FRAME_FPR        16
#define FRAME_RET_GPR    80
#define FRAME_RET_FPR    88
#define FRAME_STACK      120
#define FRAME_FPR_COUNT  124
#define FRAME_CALLER_SP  128

    .syntax unified
    .arm
    .fpu vfpv3-d16                              /* d0..d15: what gnueabihf guarantees       */
    .cfi_sections .debug_frame
    .text

/*
 * extern "C" fn kffi_call_arm32(r0: fn_ptr: *const c_void, r1: frame: *mut CallFrame)
 *
 * On entry:
 *   r0   address of the C function to call (low bit set: Thumb)
 *   r1   the CallFrame, already filled; frame.stack is 16-aligned
 *   lr   return address
 */
FUNC_BEGIN(kffi_call_arm32)
    .fnstart
    .cfi_startproc                              /* CFA = sp                                 */
    push    {r4, r5, fp, lr}                    /* r4 r5 fp are callee-saved (§6.1.1)       */
    .save   {r4, r5, fp, lr}
    .cfi_def_cfa_offset 16
    .cfi_offset r4, -16
    .cfi_offset r5, -12
    .cfi_offset fp, -8
    .cfi_offset lr, -4
    add     fp, sp, #8                          /* fp-based CFA survives the stack switch   */
    .setfp  fp, sp, #8
    .cfi_def_cfa fp, 8

    mov     r4, r1                              /* r4 = frame, survives the call            */
    mov     r5, r0                              /* r5 = target: not an argument register    */

    add     r0, r4, #FRAME_FPR                  /* VFP argument registers s0..s15 (d0..d7); */
    vldmia  r0, {d0-d7}                         /* d8..d15 are callee-saved: left alone     */

    mov     r0, sp                              /* record where a callback may run JS       */
    str     r0, [r4, #FRAME_CALLER_SP]          /* while C runs on the other stack          */
    ldr     r0, [r4, #FRAME_STACK]              /* switch to the call memory's stack: the   */
    mov     sp, r0                              /* stack arguments are already in place     */

    ldm     r4, {r0-r3}                         /* core argument registers r0..r3 (§6.5)    */

    blx     r5                                  /* call; Thumb if the address is odd        */

    str     r0, [r4, #FRAME_RET_GPR]            /* store every result register; the plan    */
    str     r1, [r4, #FRAME_RET_GPR+4]          /* says which ones mean something (§6.4)    */
    add     r2, r4, #FRAME_RET_FPR              /* s0..s7: a float, a double, or an HFA of  */
    vstmia  r2, {d0-d3}                         /* up to four members                       */

    sub     sp, fp, #8                          /* back to our own stack                    */
    pop     {r4, r5, fp, lr}                    /* restore the caller's registers           */
    .cfi_def_cfa sp, 0
    .cfi_restore r4
    .cfi_restore r5
    .cfi_restore fp
    .cfi_restore lr
    bx      lr
    .cfi_endproc
    .fnend
FUNC_END(kffi_call_arm32)

/*
 * Callbacks: C calls one of KFFI_TRAMPOLINES static entry points; each loads its own index into
 * ip (r12, the intra-procedure scratch register: no argument uses it, §6.1.1) and branches to the
 * common entry, which spills the argument registers into a CallFrame and calls the Rust relay
 * with (index, frame). The relay leaves the results in the frame; the entry loads them and
 * returns to C. Nothing is written or made executable at run time.
 *
 * One trampoline (16 bytes, so that Rust finds entry i at kffi_trampolines_arm32 + 16 * i):
 *
 *      movw  ip, #i
 *      b     kffi_callback_arm32
 *      (padding to 16 bytes)
 */
#define KFFI_TRAMPOLINES 8192
#define CB_FRAME_SIZE    136                    /* sizeof(CallFrame) = 132, rounded to 8    */

    .p2align 4
    .globl SYMBOL(kffi_trampolines_arm32)
    .hidden SYMBOL(kffi_trampolines_arm32)
    .type SYMBOL(kffi_trampolines_arm32), %function
SYMBOL(kffi_trampolines_arm32):
    .set kffi_index, 0
    .rept KFFI_TRAMPOLINES
    movw    ip, #kffi_index
    b       SYMBOL(kffi_callback_arm32)
    .p2align 4
    .set kffi_index, kffi_index + 1
    .endr
    .globl SYMBOL(kffi_trampolines_end_arm32)
    .hidden SYMBOL(kffi_trampolines_end_arm32)
SYMBOL(kffi_trampolines_end_arm32):

/*
 * The common callback entry, reached by `b` from a trampoline with C's registers intact.
 *
 * On entry:
 *   r0..r3, s0..s15  the C caller's argument registers
 *   ip               the trampoline index
 *   sp               C's stack arguments start here (§6.5 stage C)
 *   lr               return address into C
 */
FUNC_BEGIN(kffi_callback_arm32)
    .fnstart
    .cfi_startproc
    push    {r4, r5, fp, lr}                    /* 16 bytes: sp stays 8-aligned             */
    .save   {r4, r5, fp, lr}
    .cfi_def_cfa_offset 16
    .cfi_offset r4, -16
    .cfi_offset r5, -12
    .cfi_offset fp, -8
    .cfi_offset lr, -4
    add     fp, sp, #8                          /* CFA = fp + 8                             */
    .setfp  fp, sp, #8
    .cfi_def_cfa fp, 8
    sub     sp, sp, #CB_FRAME_SIZE              /* CallFrame at sp, 8-aligned               */
    .pad    #CB_FRAME_SIZE

    stm     sp, {r0-r3}                         /* spill the core argument registers        */
    add     r0, sp, #FRAME_FPR                  /* and the VFP ones, s0..s15                */
    vstmia  r0, {d0-d7}
    add     r0, fp, #8                          /* C's sp at the call: its stack arguments  */
    str     r0, [sp, #FRAME_STACK]
    mov     r0, #0                              /* zero results unless the relay sets them  */
    mov     r1, #0
    add     r2, sp, #FRAME_RET_GPR              /* ret_gpr[2] then ret_fpr[8]: ten words    */
    stmia   r2!, {r0, r1}
    stmia   r2!, {r0, r1}
    stmia   r2!, {r0, r1}
    stmia   r2!, {r0, r1}
    stmia   r2!, {r0, r1}

    mov     r0, ip                              /* relay(index, frame)                      */
    mov     r1, sp
    bl      SYMBOL(kffi_relay_arm32)

    ldr     r0, [sp, #FRAME_RET_GPR]            /* load every result register; the relay    */
    ldr     r1, [sp, #FRAME_RET_GPR+4]          /* filled the ones the prototype uses       */
    add     r2, sp, #FRAME_RET_FPR
    vldmia  r2, {d0-d3}
    sub     sp, fp, #8                          /* drop the CallFrame                       */
    pop     {r4, r5, fp, lr}
    .cfi_def_cfa sp, 0
    .cfi_restore r4
    .cfi_restore r5
    .cfi_restore fp
    .cfi_restore lr
    bx      lr
    .cfi_endproc
    .fnend
FUNC_END(kffi_callback_arm32)

/*
 * extern "C" fn kffi_switch_arm32(r0: arg: *mut c_void, r1: f: extern "C" fn(*mut c_void),
 *                                 r2: sp: *mut u8)
 *
 * Calls f(arg) with sp = r2 (16-aligned), then comes back to this stack. The relay uses it to
 * run JS on the thread's own stack while C runs on the call memory's stack. f must not unwind.
 */
FUNC_BEGIN(kffi_switch_arm32)
    .fnstart
    .cfi_startproc
    push    {fp, lr}
    .save   {fp, lr}
    .cfi_def_cfa_offset 8
    .cfi_offset fp, -8
    .cfi_offset lr, -4
    mov     fp, sp                              /* fp-based CFA survives the switch         */
    .setfp  fp, sp
    .cfi_def_cfa fp, 8
    mov     sp, r2                              /* the other stack                          */
    blx     r1                                  /* f(arg): r0 is still arg                  */
    mov     sp, fp                              /* back to this one                         */
    pop     {fp, lr}
    .cfi_def_cfa sp, 0
    .cfi_restore fp
    .cfi_restore lr
    bx      lr
    .cfi_endproc
    .fnend
FUNC_END(kffi_switch_arm32)

GNU_STACK_NOTE                                  /* no executable stack (ELF only)           */
