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
 *      +160   caller_sp   written here: %rsp before the switch (callbacks run JS below it)
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
#define FRAME_CALLER_SP  160

    .text

/*
 * extern "C" fn kffi_call_x64_sysv(%rdi: fn_ptr: *const c_void, %rsi: frame: *mut CallFrame)
 *
 * On entry:
 *   %rdi  address of the C function to call
 *   %rsi  the CallFrame, already filled
 */
    /* 64-aligned: the thunk then starts a cache line. When unrelated changes moved it to 16 mod
     * 64, the 8-argument row of the benchmark (mix8) ran 15% slower with the same instructions. */
    .p2align 6
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

    movq    FRAME_FPR_COUNT(%rbx), %rax         /* %al = vector registers used (§3.5.7);    */
    testq   %rax, %rax                          /* the plan counts them for every call, so  */
    jz      1f                                  /* none used means none to load             */
    movq    FRAME_FPR+8*0(%rbx), %xmm0          /* vector argument registers                */
    movq    FRAME_FPR+8*1(%rbx), %xmm1
    movq    FRAME_FPR+8*2(%rbx), %xmm2
    movq    FRAME_FPR+8*3(%rbx), %xmm3
    movq    FRAME_FPR+8*4(%rbx), %xmm4
    movq    FRAME_FPR+8*5(%rbx), %xmm5
    movq    FRAME_FPR+8*6(%rbx), %xmm6
    movq    FRAME_FPR+8*7(%rbx), %xmm7
1:
    movq    %rsp, FRAME_CALLER_SP(%rbx)         /* where a callback may run JS meanwhile    */
    movq    FRAME_STACK(%rbx), %rsp             /* switch to the call memory's stack: the   */
                                                /* stack arguments are already in place     */
    movq    FRAME_GPR+8*0(%rbx), %rdi           /* integer argument registers               */
    movq    FRAME_GPR+8*1(%rbx), %rsi
    movq    FRAME_GPR+8*2(%rbx), %rdx
    movq    FRAME_GPR+8*3(%rbx), %rcx
    movq    FRAME_GPR+8*4(%rbx), %r8
    movq    FRAME_GPR+8*5(%rbx), %r9

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

/*
 * Callbacks: C calls one of KFFI_TRAMPOLINES static entry points; each loads its own index and
 * jumps to the common entry, which spills the argument registers into a CallFrame on the stack
 * and calls the Rust relay with (index, frame). The relay reads the arguments through the
 * prototype's plan and leaves the result registers in the frame, which the entry loads before
 * returning to C. The pool is plain code: nothing is ever written or made executable at run time.
 *
 * One trampoline (16 bytes, so that Rust finds entry i at kffi_trampolines_x64_sysv + 16 * i):
 *
 *      movl  $i, %r11d                         r11 is a scratch register, never an argument
 *      jmp   kffi_callback_x64_sysv
 *      (nop padding to 16 bytes)
 */
#define KFFI_TRAMPOLINES 8192
#define CB_FRAME_SIZE    176                    /* sizeof(CallFrame) = 168, rounded to 16 */

    .p2align 4
    .globl SYMBOL(kffi_trampolines_x64_sysv)
#if !defined(__APPLE__)
    .hidden SYMBOL(kffi_trampolines_x64_sysv)
#endif
SYMBOL(kffi_trampolines_x64_sysv):
    .set kffi_index, 0
    .rept KFFI_TRAMPOLINES
    movl    $kffi_index, %r11d
    jmp     SYMBOL(kffi_callback_x64_sysv)
    .p2align 4
    .set kffi_index, kffi_index + 1
    .endr
    .globl SYMBOL(kffi_trampolines_end_x64_sysv)
#if !defined(__APPLE__)
    .hidden SYMBOL(kffi_trampolines_end_x64_sysv)
#endif
SYMBOL(kffi_trampolines_end_x64_sysv):

/*
 * The common callback entry, reached by `jmp` from a trampoline: the stack is exactly as the C
 * caller left it (return address at 0(%rsp), stack arguments from 8(%rsp)).
 *
 * On entry:
 *   %rdi..%r9, %xmm0..%xmm7  the C caller's argument registers
 *   %r11                     the trampoline index
 *   %al                      (variadic callers) vector register count, ignored
 */
FUNC_BEGIN(kffi_callback_x64_sysv)
    .cfi_startproc
    pushq   %rbp                                /* frame record for unwinders and debuggers */
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    movq    %rsp, %rbp
    .cfi_def_cfa_register %rbp
    subq    $CB_FRAME_SIZE, %rsp                /* CallFrame at %rsp, 16-aligned            */

    movq    %rdi, FRAME_GPR+8*0(%rsp)           /* spill the integer argument registers     */
    movq    %rsi, FRAME_GPR+8*1(%rsp)
    movq    %rdx, FRAME_GPR+8*2(%rsp)
    movq    %rcx, FRAME_GPR+8*3(%rsp)
    movq    %r8, FRAME_GPR+8*4(%rsp)
    movq    %r9, FRAME_GPR+8*5(%rsp)
    movq    %xmm0, FRAME_FPR+8*0(%rsp)          /* and the vector ones (low 64 bits)        */
    movq    %xmm1, FRAME_FPR+8*1(%rsp)
    movq    %xmm2, FRAME_FPR+8*2(%rsp)
    movq    %xmm3, FRAME_FPR+8*3(%rsp)
    movq    %xmm4, FRAME_FPR+8*4(%rsp)
    movq    %xmm5, FRAME_FPR+8*5(%rsp)
    movq    %xmm6, FRAME_FPR+8*6(%rsp)
    movq    %xmm7, FRAME_FPR+8*7(%rsp)
    leaq    16(%rbp), %rax                      /* the caller's stack arguments start above */
    movq    %rax, FRAME_STACK(%rsp)             /* our saved rbp and the return address     */
    movq    $0, FRAME_RET_GPR+8*0(%rsp)         /* zero results unless the relay sets them  */
    movq    $0, FRAME_RET_GPR+8*1(%rsp)
    movq    $0, FRAME_RET_FPR+8*0(%rsp)
    movq    $0, FRAME_RET_FPR+8*1(%rsp)

    movl    %r11d, %edi                         /* relay(index, frame)                      */
    movq    %rsp, %rsi
    callq   SYMBOL(kffi_relay_x64_sysv)

    movq    FRAME_RET_GPR+8*0(%rsp), %rax       /* load every result register; the relay    */
    movq    FRAME_RET_GPR+8*1(%rsp), %rdx       /* filled the ones the prototype uses       */
    movq    FRAME_RET_FPR+8*0(%rsp), %xmm0
    movq    FRAME_RET_FPR+8*1(%rsp), %xmm1
    leave                                       /* rsp = rbp; pop rbp                       */
    .cfi_def_cfa %rsp, 8
    ret
    .cfi_endproc
FUNC_END(kffi_callback_x64_sysv)

/*
 * extern "C" fn kffi_switch_x64_sysv(%rdi: arg: *mut c_void, %rsi: f: extern "C" fn(*mut c_void),
 *                                    %rdx: sp: *mut u8)
 *
 * Calls f(arg) with the stack pointer at `sp` (16-aligned), then comes back to this stack. The
 * relay uses it to run JS on the thread's own stack while C runs on the call memory's stack.
 * f must not unwind (Rust catches panics inside it).
 */
FUNC_BEGIN(kffi_switch_x64_sysv)
    .cfi_startproc
    pushq   %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    movq    %rsp, %rbp                          /* rbp-based CFA: the switch keeps it valid */
    .cfi_def_cfa_register %rbp
    movq    %rdx, %rsp                          /* the other stack                          */
    callq   *%rsi                               /* f(arg): %rdi is still arg                */
    movq    %rbp, %rsp                          /* back to this one                         */
    popq    %rbp
    .cfi_def_cfa %rsp, 8
    ret
    .cfi_endproc
FUNC_END(kffi_switch_x64_sysv)

#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack,"",@progbits       /* no executable stack */
#endif
