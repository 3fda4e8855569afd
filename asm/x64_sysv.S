/*
 * Forward-call thunk for the System V AMD64 ABI (Linux, macOS, the BSDs).
 *
 * ABI: System V Application Binary Interface, AMD64 Architecture Processor Supplement,
 *      version 1.0, §3.2 Function Calling Sequence. https://gitlab.com/x86-psABIs/x86-64-ABI
 *
 * Entry points:
 *   kffi_call_x64_sysv — load the argument registers from a CallFrame, switch the stack
 *                         pointer to the frame's outgoing-argument area, call, store every
 *                         result register back into the frame.
 *
 * The thunk makes no decisions: src/abi/x64_sysv.rs decided where every byte goes, and
 * src/call wrote them into the frame. CallFrame (src/call/frame.rs, mirrored below):
 *
 *        +0   gpr[6]      rdi rsi rdx rcx r8 r9
 *       +48   fpr[8]      xmm0..xmm7 (low 64 bits)
 *      +112   ret_gpr[2]  rax rdx after the call
 *      +128   ret_fpr[2]  xmm0 xmm1 after the call (low 64 bits)
 *      +144   stack       stack pointer for the callee: outgoing stack arguments start here
 *      +152   fpr_count   value of %al (vector registers used, for variadic callees)
 *
 * Stack while the C function runs (the call memory's stack block, growing down):
 *
 *      frame.stack + N   ... stack argument N/8
 *      frame.stack + 0   first stack argument          <- %rsp before `call`, 16-aligned
 *      frame.stack - 8   return address into this thunk
 *      below             the callee's own frames
 */

#include "macros.h"

#define FRAME_GPR        0
#define FRAME_FPR        48
#define FRAME_RET_GPR    112
#define FRAME_RET_FPR    128
#define FRAME_STACK      144
#define FRAME_FPR_COUNT  152

    .text

/*
 * extern "C" fn kffi_call_x64_sysv(%rdi: fn_ptr: *const c_void, %rsi: frame: *mut CallFrame)
 *
 * On entry:
 *   %rdi  address of the C function to call
 *   %rsi  the CallFrame, already filled
 */
FUNC_BEGIN(kffi_call_x64_sysv)
    .cfi_startproc
    pushq   %rbp                                /* save the caller's frame pointer          */
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    movq    %rsp, %rbp                          /* CFA is rbp-based from here on, so the    */
    .cfi_def_cfa_register %rbp                  /* stack switch below keeps unwinding valid */
    pushq   %rbx                                /* rbx is callee-saved: it holds the frame  */
    .cfi_offset %rbx, -24

    movq    %rsi, %rbx                          /* rbx = frame, survives the call           */
    movq    %rdi, %r11                          /* r11 = target (scratch, not an argument)  */

    movq    FRAME_FPR+8*0(%rbx), %xmm0          /* vector argument registers                */
    movq    FRAME_FPR+8*1(%rbx), %xmm1
    movq    FRAME_FPR+8*2(%rbx), %xmm2
    movq    FRAME_FPR+8*3(%rbx), %xmm3
    movq    FRAME_FPR+8*4(%rbx), %xmm4
    movq    FRAME_FPR+8*5(%rbx), %xmm5
    movq    FRAME_FPR+8*6(%rbx), %xmm6
    movq    FRAME_FPR+8*7(%rbx), %xmm7

    movq    FRAME_STACK(%rbx), %rsp             /* switch to the call memory's stack: the   */
                                                /* stack arguments are already in place     */
    movq    FRAME_GPR+8*0(%rbx), %rdi           /* integer argument registers               */
    movq    FRAME_GPR+8*1(%rbx), %rsi
    movq    FRAME_GPR+8*2(%rbx), %rdx
    movq    FRAME_GPR+8*3(%rbx), %rcx
    movq    FRAME_GPR+8*4(%rbx), %r8
    movq    FRAME_GPR+8*5(%rbx), %r9
    movq    FRAME_FPR_COUNT(%rbx), %rax         /* %al = vector registers used (§3.5.7)     */

    callq   *%r11

    movq    %rax, FRAME_RET_GPR+8*0(%rbx)       /* store every result register; the plan    */
    movq    %rdx, FRAME_RET_GPR+8*1(%rbx)       /* says which ones mean something           */
    movq    %xmm0, FRAME_RET_FPR+8*0(%rbx)
    movq    %xmm1, FRAME_RET_FPR+8*1(%rbx)

    leaq    -8(%rbp), %rsp                      /* back to our own stack, at the saved rbx  */
    popq    %rbx
    popq    %rbp
    .cfi_def_cfa %rsp, 8
    ret
    .cfi_endproc
FUNC_END(kffi_call_x64_sysv)

#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack,"",@progbits       /* no executable stack */
#endif
