/* Portable assembler helpers shared by every asm/<abi>.S file. */
#ifndef KFFI_MACROS_H
#define KFFI_MACROS_H

/* Statement separator inside one-line macros: `;` starts a comment in Apple's arm64 assembler,
 * which separates statements with `%%` instead. */
#if defined(__APPLE__) && defined(__aarch64__)
  #define SEP %%
#else
  #define SEP ;
#endif

#if defined(__APPLE__)
  #define SYMBOL(name) _##name
  #define FUNC_BEGIN(name) .globl SYMBOL(name) SEP .private_extern SYMBOL(name) SEP .p2align 4 SEP SYMBOL(name):
  #define FUNC_END(name)
#else
  /* `%function`, not `@function`: `@` starts a comment on 32-bit Arm; every ELF gas takes `%`. */
  #define SYMBOL(name) name
  #define FUNC_BEGIN(name) .globl name SEP .hidden name SEP .type name, %function SEP .p2align 4 SEP name:
  #define FUNC_END(name) .size name, .-name
#endif

/* Marks the object as not needing an executable stack (ELF/Linux only; `%` as above). */
#if defined(__linux__) && defined(__ELF__)
  #define GNU_STACK_NOTE .section .note.GNU-stack,"",%progbits
#else
  #define GNU_STACK_NOTE
#endif

#endif
