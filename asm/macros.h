/* Portable assembler helpers shared by every asm/<abi>.S file. */
#ifndef KFFI_MACROS_H
#define KFFI_MACROS_H

#if defined(__APPLE__)
  #define SYMBOL(name) _##name
  #define FUNC_BEGIN(name) .globl SYMBOL(name); .private_extern SYMBOL(name); .p2align 4; SYMBOL(name):
  #define FUNC_END(name)
#else
  #define SYMBOL(name) name
  #define FUNC_BEGIN(name) .globl name; .hidden name; .type name, @function; .p2align 4; name:
  #define FUNC_END(name) .size name, .-name
#endif

#endif
