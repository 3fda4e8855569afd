/* What the generated C functions write into: every byte each argument brought (kffi_rec), and
 * the bytes they return (kffi_ret, filled by the driver before each call). Callers (the reverse
 * direction) read their arguments from kffi_cb_args. */
#include <stddef.h>

unsigned char kffi_rec[1 << 16];
size_t kffi_rec_len;
unsigned char kffi_ret[1 << 12];
unsigned char kffi_cb_args[1 << 16];
