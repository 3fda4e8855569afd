/* Test library for the koffi-rs JavaScript test suite.
 *
 * Plain C99, standard headers only. Every function is prefixed with kt_. The functions are
 * written so that a misplaced, truncated or mis-extended argument gives a visibly wrong result:
 * they either echo their input, combine arguments in an order-sensitive way (a - b, decimal
 * concatenation of digits) or describe every argument in a string.
 *
 * Build: gcc -O2 -shared -fPIC -o build/libkoffitest.so test/native/koffitest.c
 */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
    #define EXPORT __declspec(dllexport)
#else
    #define EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------ */
/* Integers, bool, floating point                                           */
/* ------------------------------------------------------------------------ */

EXPORT int8_t kt_i8_inc(int8_t x) { return (int8_t)(x + 1); }
EXPORT uint8_t kt_u8_inc(uint8_t x) { return (uint8_t)(x + 1); }
EXPORT int16_t kt_i16_inc(int16_t x) { return (int16_t)(x + 1); }
EXPORT uint16_t kt_u16_inc(uint16_t x) { return (uint16_t)(x + 1); }
EXPORT int32_t kt_i32_inc(int32_t x) { return (int32_t)((uint32_t)x + 1u); }
EXPORT uint32_t kt_u32_inc(uint32_t x) { return x + 1u; }
EXPORT int64_t kt_i64_inc(int64_t x) { return (int64_t)((uint64_t)x + 1u); }
EXPORT uint64_t kt_u64_inc(uint64_t x) { return x + 1u; }

EXPORT int8_t kt_i8_echo(int8_t x) { return x; }
EXPORT uint8_t kt_u8_echo(uint8_t x) { return x; }
EXPORT int16_t kt_i16_echo(int16_t x) { return x; }
EXPORT uint16_t kt_u16_echo(uint16_t x) { return x; }
EXPORT int32_t kt_i32_echo(int32_t x) { return x; }
EXPORT uint32_t kt_u32_echo(uint32_t x) { return x; }
EXPORT int64_t kt_i64_echo(int64_t x) { return x; }
EXPORT uint64_t kt_u64_echo(uint64_t x) { return x; }
EXPORT long kt_long_echo(long x) { return x; }
EXPORT unsigned long kt_ulong_echo(unsigned long x) { return x; }
EXPORT size_t kt_size_echo(size_t x) { return x; }
EXPORT intptr_t kt_intptr_echo(intptr_t x) { return x; }

/* Receives a narrow integer and reports how the callee sees it after C's own promotion. */
EXPORT int32_t kt_i8_to_i32(int8_t x) { return x; }
EXPORT uint32_t kt_u8_to_u32(uint8_t x) { return x; }
/* Compares the whole register on RISC-V: gcc -O2 loads 0x80000000u sign-extended and relies on
   the caller having sign-extended the uint32_t argument, as the psABI requires. */
EXPORT int kt_u32_is_top(uint32_t x) { return x == 0x80000000u; }
EXPORT int32_t kt_i16_to_i32(int16_t x) { return x; }
EXPORT uint32_t kt_u16_to_u32(uint16_t x) { return x; }

/* 64-bit values beyond 2^53 */
EXPORT int64_t kt_i64_big_pos(void) { return 9007199254740993LL; }            /* 2^53 + 1 */
EXPORT int64_t kt_i64_big_neg(void) { return -9007199254740993LL; }           /* -(2^53 + 1) */
EXPORT int64_t kt_i64_limit_pos(void) { return 9007199254740992LL; }          /* 2^53 */
EXPORT int64_t kt_i64_limit_neg(void) { return -9007199254740992LL; }         /* -2^53 */
EXPORT uint64_t kt_u64_max(void) { return UINT64_MAX; }
EXPORT int64_t kt_i64_min(void) { return INT64_MIN; }
EXPORT uint64_t kt_u64_add(uint64_t a, uint64_t b) { return a + b; }
EXPORT int64_t kt_i64_sub(int64_t a, int64_t b) { return a - b; }
/* Returns the decimal representation of an unsigned 64-bit argument */
EXPORT const char *kt_u64_str(uint64_t x)
{
    static char buf[32];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)x);
    return buf;
}
EXPORT const char *kt_i64_str(int64_t x)
{
    static char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)x);
    return buf;
}

EXPORT bool kt_bool_not(bool b) { return !b; }
EXPORT bool kt_bool_and(bool a, bool b) { return a && b; }
EXPORT int kt_bool_to_int(bool b) { return b ? 1 : 0; }
/* Returns the raw byte the callee received for a bool argument */
EXPORT int kt_bool_raw(bool b) { unsigned char c; memcpy(&c, &b, 1); return c; }
/* Used with a bool return declaration to check that only the low byte / bit is used */
EXPORT uint32_t kt_u32_const(uint32_t x) { return x; }

EXPORT float kt_float_twice(float x) { return x * 2.0f; }
EXPORT double kt_double_twice(double x) { return x * 2.0; }
EXPORT float kt_float_third(void) { return 1.0f / 3.0f; }
EXPORT double kt_double_third(void) { return 1.0 / 3.0; }
EXPORT double kt_float_to_double(float x) { return (double)x; }
EXPORT float kt_float_sub(float a, float b) { return a - b; }
EXPORT double kt_double_sub(double a, double b) { return a - b; }
/* Mixed float/double/int: a - b * c + d */
EXPORT double kt_fdid(float a, double b, int c, double d) { return (double)a - b * (double)c + d; }

/* ------------------------------------------------------------------------ */
/* Many arguments (register spill)                                          */
/* ------------------------------------------------------------------------ */

/* Ten single-digit ints concatenated as a decimal number: (1,2,...,9,0) -> 1234567890 */
EXPORT int64_t kt_concat10(int a, int b, int c, int d, int e, int f, int g, int h, int i, int j)
{
    int v[10] = { a, b, c, d, e, f, g, h, i, j };
    int64_t r = 0;
    for (int k = 0; k < 10; k++)
        r = r * 10 + v[k];
    return r;
}

/* 8 ints interleaved with 10 doubles: returns a description of every argument in order */
EXPORT const char *kt_mix18(int i0, double d0, int i1, double d1, int i2, double d2, int i3, double d3,
                            int i4, double d4, int i5, double d5, int i6, double d6, int i7, double d7,
                            double d8, double d9)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "%d %g %d %g %d %g %d %g %d %g %d %g %d %g %d %g %g %g",
             i0, d0, i1, d1, i2, d2, i3, d3, i4, d4, i5, d5, i6, d6, i7, d7, d8, d9);
    return buf;
}

/* Every integer width plus floats, enough of them to end up on the stack */
EXPORT const char *kt_widths(int8_t a, uint8_t b, int16_t c, uint16_t d, int32_t e, uint32_t f,
                             int64_t g, uint64_t h, int8_t i, uint16_t j, float k, double l,
                             float m, double n, float o, double p, float q, double r, float s,
                             double t, int8_t u, float v)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "%d %u %d %u %d %u %lld %llu %d %u %g %g %g %g %g %g %g %g %g %g %d %g",
             a, b, c, d, e, f, (long long)g, (unsigned long long)h, i, j, k, l, m, n, o, p, q, r, s, t, u, v);
    return buf;
}

/* 20 ints summed with alternating weights so a swap changes the result */
EXPORT int64_t kt_weighted20(int a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8, int a9,
                             int a10, int a11, int a12, int a13, int a14, int a15, int a16, int a17,
                             int a18, int a19)
{
    int v[20] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19 };
    int64_t r = 0;
    for (int k = 0; k < 20; k++)
        r += (int64_t)v[k] * (k + 1);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

EXPORT int64_t kt_strlen(const char *s) { return s ? (int64_t)strlen(s) : -1; }
EXPORT int kt_str_byte(const char *s, int i) { return (unsigned char)s[i]; }
EXPORT int kt_str_eq(const char *a, const char *b) { return (a && b) ? !strcmp(a, b) : (a == b); }

EXPORT int64_t kt_str16_len(const uint16_t *s)
{
    if (!s)
        return -1;
    int64_t n = 0;
    while (s[n])
        n++;
    return n;
}
EXPORT int kt_str16_at(const uint16_t *s, int i) { return s[i]; }

EXPORT int64_t kt_str32_len(const uint32_t *s)
{
    if (!s)
        return -1;
    int64_t n = 0;
    while (s[n])
        n++;
    return n;
}
EXPORT uint32_t kt_str32_at(const uint32_t *s, int i) { return s[i]; }

static const uint16_t static_str16[] = { 'H', 'i', ' ', 0x00E9, 0x4E2D, 0xD83D, 0xDE00, 0 };
static const uint32_t static_str32[] = { 'H', 'i', ' ', 0x00E9, 0x4E2D, 0x1F600, 0 };

EXPORT const char *kt_static_str(void) { return "Hello w\xC3\xB6rld \xE2\x9C\x93"; }
EXPORT const char *kt_null_str(void) { return NULL; }
EXPORT const uint16_t *kt_static_str16(void) { return static_str16; }
EXPORT const uint32_t *kt_static_str32(void) { return static_str32; }
EXPORT const uint16_t *kt_null_str16(void) { return NULL; }
EXPORT const uint32_t *kt_null_str32(void) { return NULL; }

/* Copies the argument to a static buffer and returns it (round trips) */
EXPORT const char *kt_copy_str(const char *s)
{
    static char buf[4096];
    if (!s)
        return NULL;
    snprintf(buf, sizeof(buf), "%s", s);
    return buf;
}
EXPORT const uint16_t *kt_copy_str16(const uint16_t *s)
{
    static uint16_t buf[1024];
    if (!s)
        return NULL;
    int i = 0;
    for (; s[i] && i < 1023; i++)
        buf[i] = s[i];
    buf[i] = 0;
    return buf;
}
EXPORT const uint32_t *kt_copy_str32(const uint32_t *s)
{
    static uint32_t buf[1024];
    if (!s)
        return NULL;
    int i = 0;
    for (; s[i] && i < 1023; i++)
        buf[i] = s[i];
    buf[i] = 0;
    return buf;
}

/* Heap-allocated result (to be released with free, e.g. through a disposable type) */
EXPORT char *kt_concat_alloc(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *r = (char *)malloc(la + lb + 1);
    memcpy(r, a, la);
    memcpy(r + la, b, lb + 1);
    return r;
}

/* Upper-cases an ASCII string in place, returns its length */
EXPORT int kt_upper_inplace(char *s)
{
    int n = 0;
    for (; s[n]; n++) {
        if (s[n] >= 'a' && s[n] <= 'z')
            s[n] = (char)(s[n] - 'a' + 'A');
    }
    return n;
}

/* Writes "<prefix>:<value>" into buf (at most size bytes, NUL included), returns the full length */
EXPORT int kt_fill_buf(char *buf, int size, const char *prefix, int value)
{
    return snprintf(buf, (size_t)size, "%s:%d", prefix, value);
}

/* Writes a UTF-16 string into buf */
EXPORT void kt_fill_buf16(uint16_t *buf, int size)
{
    static const uint16_t text[] = { 'o', 'k', 0x00E9, 0xD83D, 0xDE00, 0 };
    int i = 0;
    for (; i < size - 1 && text[i]; i++)
        buf[i] = text[i];
    if (size > 0)
        buf[i] = 0;
}

/* Out string pointer */
EXPORT void kt_get_static_str(const char **out) { *out = "static-out"; }

/* Sums the lengths of a NULL-terminated array of strings */
EXPORT int kt_strv_total(const char **strv)
{
    int total = 0;
    for (; *strv; strv++)
        total += (int)strlen(*strv);
    return total;
}

/* ------------------------------------------------------------------------ */
/* Pointers, arrays and output parameters                                   */
/* ------------------------------------------------------------------------ */

EXPORT void *kt_ptr_echo(void *p) { return p; }
EXPORT int *kt_int_ptr_echo(int *p) { return p; }
EXPORT uint64_t kt_ptr_addr(const void *p) { return (uint64_t)(uintptr_t)p; }
EXPORT int kt_ptr_is_null(const void *p) { return p == NULL; }
EXPORT void *kt_null_ptr(void) { return NULL; }
/* Returns a pointer offset by n bytes */
EXPORT void *kt_ptr_offset(void *p, int n) { return (char *)p + n; }

EXPORT int kt_read_int(const int *p) { return *p; }
EXPORT double kt_read_double(const double *p) { return *p; }
EXPORT int kt_sum_ints(const int *arr, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += arr[i];
    return s;
}
EXPORT double kt_sum_doubles(const double *arr, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += arr[i];
    return s;
}
EXPORT int kt_sum_bytes(const uint8_t *p, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += p[i];
    return s;
}
/* Multiplies each element in place */
EXPORT void kt_scale_ints(int *arr, int n, int k)
{
    for (int i = 0; i < n; i++)
        arr[i] *= k;
}
/* Fills arr with start, start+1, ... without reading it */
EXPORT void kt_fill_seq(int *arr, int n, int start)
{
    for (int i = 0; i < n; i++)
        arr[i] = start + i;
}
/* Reports whether the buffer it received was zero-filled, then fills it */
EXPORT int kt_was_zero_then_fill(int *arr, int n, int v)
{
    int zero = 1;
    for (int i = 0; i < n; i++) {
        if (arr[i])
            zero = 0;
        arr[i] = v;
    }
    return zero;
}

EXPORT void kt_set_int(int *out, int v) { *out = v; }
EXPORT void kt_inc_int(int *p) { (*p)++; }
EXPORT void kt_set_i64(int64_t *out, int64_t v) { *out = v; }
EXPORT void kt_set_double(double *out, double v) { *out = v; }
EXPORT int kt_minmax(const double *arr, int n, double *min, double *max)
{
    if (n <= 0)
        return 0;
    double lo = arr[0], hi = arr[0];
    for (int i = 1; i < n; i++) {
        if (arr[i] < lo) lo = arr[i];
        if (arr[i] > hi) hi = arr[i];
    }
    if (min) *min = lo;
    if (max) *max = hi;
    return 1;
}

static int static_int = 1234;
EXPORT int *kt_static_int_ptr(void) { return &static_int; }
EXPORT void kt_get_static_int_ptr(int **out) { *out = &static_int; }
EXPORT int kt_get_static_int(void) { return static_int; }

/* Opaque handles through T ** */
typedef struct KtHandle {
    int value;
    int magic;
} KtHandle;

EXPORT int kt_handle_open(int value, KtHandle **out)
{
    if (value < 0) {
        *out = NULL;
        return -1;
    }
    KtHandle *h = (KtHandle *)malloc(sizeof(KtHandle));
    h->value = value;
    h->magic = 0x4B54;
    *out = h;
    return 0;
}
EXPORT int kt_handle_value(const KtHandle *h) { return (h && h->magic == 0x4B54) ? h->value : -1; }
EXPORT void kt_handle_close(KtHandle *h)
{
    if (h) {
        h->magic = 0;
        free(h);
    }
}

/* errno */
EXPORT int kt_set_errno(int v) { errno = v; return -1; }
EXPORT int kt_get_errno(void) { return errno; }

/* Exported data for lib.symbol() */
EXPORT int kt_global_int = 42;
EXPORT double kt_global_double = 2.5;
EXPORT const char *kt_global_str = "global string";
EXPORT int kt_global_array[4] = { 10, 20, 30, 40 };
EXPORT int kt_read_global_int(void) { return kt_global_int; }

/* ------------------------------------------------------------------------ */
/* Structs by value: one per System V classification                        */
/* ------------------------------------------------------------------------ */

typedef struct { int a; int b; } KtII;               /* INTEGER (8 bytes) */
typedef struct { float x; float y; } KtFF;           /* SSE (8 bytes) */
typedef struct { double v; } KtD;                    /* SSE */
typedef struct { int i; float f; } KtIF;             /* INTEGER (merged eightbyte) */
typedef struct { double d; int i; } KtDI;            /* SSE + INTEGER */
typedef struct { int i; double d; } KtID;            /* INTEGER + SSE */
typedef struct { char c; short s; int i; } KtCSI;    /* INTEGER (8 bytes) */
typedef struct { float f; double d; } KtFD;          /* SSE + SSE */
typedef struct { int64_t a; int64_t b; } KtLL;       /* INTEGER + INTEGER (16 bytes) */
typedef struct { int64_t a; int64_t b; int64_t c; } KtL3; /* MEMORY (24 bytes) */
typedef struct { double d[4]; int32_t n; char tag[12]; } KtBig; /* MEMORY (48 bytes) */
typedef struct { char c; } KtC;                      /* 1 byte */
typedef struct { uint8_t a; uint8_t b; uint8_t c; } KtU3; /* 3 bytes */
typedef struct { float a; float b; float c; } KtF3;  /* SSE + SSE (12 bytes) */
typedef struct { bool flag; int64_t big; uint64_t ubig; } KtB64; /* 24 bytes, MEMORY */

EXPORT KtII kt_ii_make(int a, int b) { KtII s = { a, b }; return s; }
EXPORT int kt_ii_diff(KtII s) { return s.a - s.b; }
EXPORT KtII kt_ii_swap(KtII s) { KtII r = { s.b, s.a }; return r; }
/* A struct by value after an integer (see lean.test.js) */
EXPORT KtII kt_ii_scale(int k, KtII s) { KtII r = { k * s.a, k * s.b }; return r; }

EXPORT KtFF kt_ff_make(float x, float y) { KtFF s = { x, y }; return s; }
EXPORT float kt_ff_diff(KtFF s) { return s.x - s.y; }
EXPORT KtFF kt_ff_swap(KtFF s) { KtFF r = { s.y, s.x }; return r; }

EXPORT KtD kt_d_twice(KtD s) { s.v *= 2; return s; }

EXPORT KtIF kt_if_bump(KtIF s) { s.i += 1; s.f *= 2; return s; }
EXPORT double kt_if_diff(KtIF s) { return (double)s.i - (double)s.f; }

EXPORT KtDI kt_di_bump(KtDI s) { s.d *= 2; s.i += 1; return s; }
EXPORT double kt_di_diff(KtDI s) { return s.d - s.i; }

EXPORT KtID kt_id_bump(KtID s) { s.i += 1; s.d *= 2; return s; }
EXPORT double kt_id_diff(KtID s) { return s.i - s.d; }

EXPORT KtCSI kt_csi_bump(KtCSI s) { s.c += 1; s.s += 1; s.i += 1; return s; }
EXPORT int kt_csi_pack(KtCSI s) { return s.c * 1000000 + s.s * 1000 + s.i; }

EXPORT KtFD kt_fd_bump(KtFD s) { s.f *= 2; s.d *= 2; return s; }
EXPORT double kt_fd_diff(KtFD s) { return s.f - s.d; }

EXPORT KtLL kt_ll_swap(KtLL s) { KtLL r = { s.b, s.a }; return r; }
EXPORT int64_t kt_ll_diff(KtLL s) { return s.a - s.b; }

EXPORT KtL3 kt_l3_rotate(KtL3 s) { KtL3 r = { s.c, s.a, s.b }; return r; }
EXPORT int64_t kt_l3_pack(KtL3 s) { return s.a * 10000 + s.b * 100 + s.c; }

EXPORT KtBig kt_big_make(int seed)
{
    KtBig b;
    memset(&b, 0, sizeof(b));
    for (int i = 0; i < 4; i++)
        b.d[i] = seed + i * 0.5;
    b.n = seed * 10;
    snprintf(b.tag, sizeof(b.tag), "big%d", seed);
    return b;
}
EXPORT double kt_big_sum(KtBig b) { return b.d[0] + b.d[1] * 10 + b.d[2] * 100 + b.d[3] * 1000 + b.n + (double)strlen(b.tag); }
EXPORT KtBig kt_big_bump(KtBig b)
{
    for (int i = 0; i < 4; i++)
        b.d[i] += 1;
    b.n += 1;
    b.tag[0] = 'B';
    return b;
}

EXPORT KtC kt_c_inc(KtC s) { s.c += 1; return s; }
EXPORT KtU3 kt_u3_rotate(KtU3 s) { KtU3 r = { s.c, s.a, s.b }; return r; }
EXPORT KtF3 kt_f3_rotate(KtF3 s) { KtF3 r = { s.c, s.a, s.b }; return r; }
EXPORT KtB64 kt_b64_make(bool flag, int64_t big, uint64_t ubig) { KtB64 s = { flag, big, ubig }; return s; }
EXPORT const char *kt_b64_str(KtB64 s)
{
    static char buf[96];
    snprintf(buf, sizeof(buf), "%d %lld %llu", s.flag ? 1 : 0, (long long)s.big, (unsigned long long)s.ubig);
    return buf;
}

/* Packed structs */
#pragma pack(push, 1)
typedef struct { uint8_t tag; uint32_t len; uint16_t crc; } KtPacked;  /* 7 bytes, misaligned */
typedef struct { uint8_t a; uint8_t b; uint16_t c; } KtPackedAligned; /* 4 bytes, no misaligned field */
#pragma pack(pop)

EXPORT int kt_packed_size(void) { return (int)sizeof(KtPacked); }
EXPORT KtPacked kt_packed_bump(KtPacked p) { p.tag += 1; p.len += 1; p.crc += 1; return p; }
EXPORT uint32_t kt_packed_ptr_len(const KtPacked *p) { return p->len; }
EXPORT void kt_packed_ptr_fill(KtPacked *p) { p->tag = 7; p->len = 0x01020304; p->crc = 0xBEEF; }
EXPORT KtPackedAligned kt_packed_aligned_bump(KtPackedAligned p) { p.a += 1; p.b += 2; p.c += 3; return p; }

/* Structs with arrays */
typedef struct { char name[16]; int vals[4]; } KtArr;          /* 32 bytes, MEMORY */
typedef struct { float f[2]; double d; } KtFA;                 /* SSE + SSE (16 bytes) */
typedef struct { uint8_t bytes[4]; int16_t shorts[2]; } KtBytes;
typedef struct { int g[2][3]; } KtGrid;

EXPORT KtArr kt_arr_make(const char *name, int base)
{
    KtArr a;
    memset(&a, 0, sizeof(a));
    snprintf(a.name, sizeof(a.name), "%s", name);
    for (int i = 0; i < 4; i++)
        a.vals[i] = base + i;
    return a;
}
EXPORT int kt_arr_sum(KtArr a) { return a.vals[0] + a.vals[1] * 10 + a.vals[2] * 100 + a.vals[3] * 1000; }
EXPORT int kt_arr_name_len(KtArr a)
{
    int n = 0;
    while (n < (int)sizeof(a.name) && a.name[n])
        n++;
    return n;
}
EXPORT int kt_arr_name_byte(KtArr a, int i) { return (unsigned char)a.name[i]; }

EXPORT KtFA kt_fa_bump(KtFA s) { s.f[0] += 1; s.f[1] += 2; s.d += 3; return s; }
EXPORT double kt_fa_sum(KtFA s) { return s.f[0] + s.f[1] * 10 + s.d * 100; }

EXPORT KtBytes kt_bytes_make(void) { KtBytes b = { { 1, 2, 3, 250 }, { -1, 300 } }; return b; }
EXPORT int kt_bytes_sum(KtBytes b) { return b.bytes[0] + b.bytes[1] + b.bytes[2] + b.bytes[3] + b.shorts[0] + b.shorts[1]; }

EXPORT KtGrid kt_grid_make(void)
{
    KtGrid g;
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++)
            g.g[r][c] = r * 10 + c;
    return g;
}
EXPORT int kt_grid_at(KtGrid g, int r, int c) { return g.g[r][c]; }

/* Nested structs */
typedef struct { int x; int y; } KtPoint;
typedef struct { KtPoint a; double w; KtPoint b; } KtSegment;          /* 32 bytes, MEMORY */
typedef struct { struct { int16_t a; int16_t b; } p; float f; } KtNest8; /* 8 bytes, INTEGER */
typedef struct { KtFF ff; KtD dd; } KtNestSSE;                          /* SSE + SSE */

EXPORT KtSegment kt_segment_make(int x1, int y1, int x2, int y2, double w)
{
    KtSegment s = { { x1, y1 }, w, { x2, y2 } };
    return s;
}
EXPORT double kt_segment_len2(KtSegment s)
{
    double dx = s.b.x - s.a.x, dy = s.b.y - s.a.y;
    return (dx * dx + dy * dy) * s.w;
}
EXPORT KtNest8 kt_nest8_bump(KtNest8 s) { s.p.a += 1; s.p.b -= 1; s.f *= 2; return s; }
EXPORT KtNestSSE kt_nestsse_swap(KtNestSSE s) { KtNestSSE r = { { s.ff.y, s.ff.x }, { s.dd.v * 2 } }; return r; }

/* Struct holding pointers and strings */
typedef struct { const char *name; int age; int *score; } KtPerson;

EXPORT int kt_person_age(KtPerson p) { return p.age; }
EXPORT int64_t kt_person_name_len(KtPerson p) { return p.name ? (int64_t)strlen(p.name) : -1; }
EXPORT int kt_person_score(KtPerson p) { return p.score ? *p.score : -1; }
EXPORT KtPerson kt_person_make(int age)
{
    KtPerson p = { "Ada", age, &static_int };
    return p;
}
EXPORT void kt_person_fill(KtPerson *out, int age)
{
    out->name = "Filled";
    out->age = age;
    out->score = NULL;
}

/* Unions */
typedef union { int i; float f; } KtUIF;
typedef union { double d; int64_t l; } KtUDL;
typedef union { KtFF ff; double d; } KtUFD;     /* SSE only */
typedef union { uint8_t raw[12]; struct { int a; int b; int c; } s; } KtU12;

EXPORT KtUIF kt_uif_from_int(int v) { KtUIF u; u.i = v; return u; }
EXPORT KtUIF kt_uif_from_float(float v) { KtUIF u; u.f = v; return u; }
EXPORT int kt_uif_bits(KtUIF u) { return u.i; }
EXPORT float kt_uif_float(KtUIF u) { return u.f; }

EXPORT KtUDL kt_udl_from_double(double v) { KtUDL u; u.d = v; return u; }
EXPORT int64_t kt_udl_bits(KtUDL u) { return u.l; }
EXPORT double kt_udl_double(KtUDL u) { return u.d; }

EXPORT KtUFD kt_ufd_from_ff(float x, float y) { KtUFD u; u.ff.x = x; u.ff.y = y; return u; }
EXPORT double kt_ufd_sum(KtUFD u) { return u.ff.x + u.ff.y * 10; }

EXPORT KtU12 kt_u12_make(int a, int b, int c) { KtU12 u; u.s.a = a; u.s.b = b; u.s.c = c; return u; }
EXPORT int kt_u12_sum(KtU12 u) { return u.s.a + u.s.b * 10 + u.s.c * 100; }

EXPORT void kt_uif_set_ptr(KtUIF *u, int v) { u->i = v; }

/* ------------------------------------------------------------------------ */
/* Pointers to structs                                                      */
/* ------------------------------------------------------------------------ */

EXPORT int kt_ii_ptr_diff(const KtII *s) { return s->a - s->b; }
EXPORT void kt_ii_ptr_scale(KtII *s, int k) { s->a *= k; s->b *= k; }
EXPORT void kt_ii_ptr_set(KtII *s, int a, int b) { s->a = a; s->b = b; }
EXPORT int kt_ii_array_sum(const KtII *arr, int n)
{
    int t = 0;
    for (int i = 0; i < n; i++)
        t += arr[i].a * 10 + arr[i].b;
    return t;
}
/* The pointer after an integer, so that the integer is converted first (see lean.test.js) */
EXPORT int kt_ii_scaled_sum(int k, const KtII *arr, int n) { return k * kt_ii_array_sum(arr, n); }
EXPORT void kt_big_fill(KtBig *out, int seed) { *out = kt_big_make(seed); }
EXPORT void kt_csi_fill(KtCSI *out) { out->c = 'k'; out->s = -2; out->i = 70000; }
EXPORT void kt_segment_shift(KtSegment *s, int dx) { s->a.x += dx; s->b.x += dx; }

/* Struct pointer output through T ** */
EXPORT void kt_ii_static_ptr(KtII **out)
{
    static KtII s = { 5, 6 };
    *out = &s;
}

/* Linked list */
typedef struct KtNode { int value; struct KtNode *next; } KtNode;
EXPORT int kt_list_sum(const KtNode *n)
{
    int t = 0;
    for (; n; n = n->next)
        t += n->value;
    return t;
}
EXPORT KtNode *kt_list_static(void)
{
    static KtNode c = { 3, NULL };
    static KtNode b = { 2, &c };
    static KtNode a = { 1, &b };
    return &a;
}

/* Mutually recursive types: a Parent owns a Child which points back to its Parent */
typedef struct KtParent KtParent;
typedef struct KtChild { int id; KtParent *parent; } KtChild;
struct KtParent { int id; KtChild *child; };
EXPORT int kt_family_ids(const KtParent *p)
{
    return p->id * 100 + (p->child ? p->child->id * 10 + (p->child->parent == p ? 1 : 0) : 0);
}

/* Struct with wide string members (disposable members, DISP-04) */
typedef struct { const uint32_t *text32; const uint16_t *text16; int n; } KtWide;
EXPORT KtWide kt_wide_make(void)
{
    KtWide w = { static_str32, static_str16, 7 };
    return w;
}

/* Struct with a counted pointer (PTR-04) */
typedef struct { int n; const int *items; } KtCounted;
static const int counted_items[8] = { 5, 6, 7, 8, 9, 10, 11, 12 };
EXPORT KtCounted kt_counted_make(int n, int null_items)
{
    KtCounted c = { n, null_items ? NULL : counted_items };
    return c;
}
EXPORT int kt_counted_sum(KtCounted c)
{
    int t = 0;
    for (int i = 0; i < c.n; i++)
        t = t * 10 + c.items[i];
    return t;
}

/* Size of the C types, to cross-check koffi.sizeof() */
EXPORT int kt_sizeof(const char *name)
{
    static const struct { const char *name; int size; } sizes[] = {
        { "KtII", sizeof(KtII) }, { "KtFF", sizeof(KtFF) }, { "KtIF", sizeof(KtIF) },
        { "KtDI", sizeof(KtDI) }, { "KtID", sizeof(KtID) }, { "KtCSI", sizeof(KtCSI) },
        { "KtFD", sizeof(KtFD) }, { "KtLL", sizeof(KtLL) }, { "KtL3", sizeof(KtL3) },
        { "KtBig", sizeof(KtBig) }, { "KtPacked", sizeof(KtPacked) }, { "KtArr", sizeof(KtArr) },
        { "KtFA", sizeof(KtFA) }, { "KtSegment", sizeof(KtSegment) }, { "KtNest8", sizeof(KtNest8) },
        { "KtUIF", sizeof(KtUIF) }, { "KtUDL", sizeof(KtUDL) }, { "KtU12", sizeof(KtU12) },
        { "KtPerson", sizeof(KtPerson) }, { "KtB64", sizeof(KtB64) }, { "KtBytes", sizeof(KtBytes) },
        { "KtGrid", sizeof(KtGrid) }, { "KtU3", sizeof(KtU3) }, { "KtF3", sizeof(KtF3) },
        { "KtWide", sizeof(KtWide) }, { "KtCounted", sizeof(KtCounted) },
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (!strcmp(sizes[i].name, name))
            return sizes[i].size;
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/* More arguments than registers, structs included                          */
/* ------------------------------------------------------------------------ */

/* Five ints use RDI..R8; the 16-byte KtLL needs two GPRs and only R9 is left, so the whole struct
 * goes to the stack, and the int that follows still takes R9. */
EXPORT const char *kt_gpr_exhaust(int a, int b, int c, int d, int e, KtLL s, int f)
{
    static char buf[160];
    snprintf(buf, sizeof(buf), "%d %d %d %d %d [%lld %lld] %d", a, b, c, d, e, (long long)s.a, (long long)s.b, f);
    return buf;
}

/* Seven doubles use XMM0..XMM6; KtFD needs two XMMs and only XMM7 is left, so it goes to the
 * stack and the following double takes XMM7. */
EXPORT const char *kt_sse_exhaust(double a, double b, double c, double d, double e, double f, double g,
                                  KtFD s, double h)
{
    static char buf[200];
    snprintf(buf, sizeof(buf), "%g %g %g %g %g %g %g [%g %g] %g", a, b, c, d, e, f, g, s.f, s.d, h);
    return buf;
}

/* A bit of everything: structs of every class mixed with scalars, spilling to the stack */
EXPORT const char *kt_many_structs(KtII a, KtDI b, int c, KtFF d, KtL3 e, double f, KtLL g, int h,
                                   KtII i, double j, KtCSI k, KtID l, float m, KtBig n, int o)
{
    static char buf[512];
    snprintf(buf, sizeof(buf),
             "[%d %d] [%g %d] %d [%g %g] [%lld %lld %lld] %g [%lld %lld] %d [%d %d] %g [%c %d %d] [%d %g] %g [%g %d %s] %d",
             a.a, a.b, b.d, b.i, c, d.x, d.y, (long long)e.a, (long long)e.b, (long long)e.c, f,
             (long long)g.a, (long long)g.b, h, i.a, i.b, j, k.c, k.s, k.i, l.i, l.d, m,
             n.d[0] + n.d[1] + n.d[2] + n.d[3], n.n, n.tag, o);
    return buf;
}

/* Returns a MEMORY struct (hidden pointer in RDI) while taking 6 integer arguments */
EXPORT KtL3 kt_l3_from6(int a, int b, int c, int d, int e, int f)
{
    KtL3 r = { a * 10 + b, c * 10 + d, e * 10 + f };
    return r;
}

/* ------------------------------------------------------------------------ */
/* Variadic functions                                                       */
/* ------------------------------------------------------------------------ */

EXPORT int kt_va_sum_ints(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    int t = 0;
    for (int i = 0; i < n; i++)
        t += va_arg(ap, int) * (i + 1);
    va_end(ap);
    return t;
}

EXPORT double kt_va_sum_doubles(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    double t = 0;
    for (int i = 0; i < n; i++)
        t += va_arg(ap, double) * (i + 1);
    va_end(ap);
    return t;
}

/* Describes its variadic arguments according to a type string:
 * i = int, u = unsigned int, l = int64_t, d = double, s = const char *, p = pointer (non-NULL?),
 * c = char (promoted to int) */
EXPORT const char *kt_va_describe(const char *types, ...)
{
    static char buf[1024];
    size_t len = 0;
    va_list ap;
    va_start(ap, types);
    buf[0] = 0;
    for (const char *t = types; *t && len < sizeof(buf) - 64; t++) {
        if (t != types)
            buf[len++] = ' ', buf[len] = 0;
        switch (*t) {
            case 'i': len += snprintf(buf + len, sizeof(buf) - len, "%d", va_arg(ap, int)); break;
            case 'u': len += snprintf(buf + len, sizeof(buf) - len, "%u", va_arg(ap, unsigned int)); break;
            case 'l': len += snprintf(buf + len, sizeof(buf) - len, "%lld", (long long)va_arg(ap, int64_t)); break;
            case 'd': len += snprintf(buf + len, sizeof(buf) - len, "%g", va_arg(ap, double)); break;
            case 's': {
                const char *s = va_arg(ap, const char *);
                len += snprintf(buf + len, sizeof(buf) - len, "%s", s ? s : "(null)");
            } break;
            case 'p': len += snprintf(buf + len, sizeof(buf) - len, "%s", va_arg(ap, void *) ? "ptr" : "nil"); break;
            case 'c': len += snprintf(buf + len, sizeof(buf) - len, "%c", (char)va_arg(ap, int)); break;
            default: len += snprintf(buf + len, sizeof(buf) - len, "?"); break;
        }
    }
    va_end(ap);
    return buf;
}

/* vsnprintf-based formatter returning a static buffer */
EXPORT const char *kt_va_format(const char *fmt, ...)
{
    static char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return buf;
}

/* Variadic with a fixed double before the '...' */
EXPORT double kt_va_scaled(double scale, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    double t = 0;
    for (int i = 0; i < n; i++)
        t += va_arg(ap, double);
    va_end(ap);
    return t * scale;
}

/* Variadic with a struct pointer argument written through */
EXPORT int kt_va_fill_ints(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        int *p = va_arg(ap, int *);
        *p = (i + 1) * 11;
    }
    va_end(ap);
    return n;
}

/* Returns a malloc'ed copy of s and writes its length: the result's disposer must see *len
 * already copied back (spec CALL-03). */
EXPORT char *kt_dup_and_len(const char *s, int *len)
{
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    memcpy(copy, s, n + 1);
    *len = (int)n;
    return copy;
}

/* ------------------------------------------------------------------------ */
/* Callbacks (C -> JS)                                                      */
/* ------------------------------------------------------------------------ */

#if defined(_WIN32)
    #include <windows.h>
#else
    #include <pthread.h>
    #include <time.h>
#endif

/* What the last callback invoked through the functions below returned, as seen by C (a summary
 * for non-integer kinds): lets a test check that C received a zero result when the JS function
 * threw, although the outer call rethrows and its own result is lost. */
static int64_t kt_cb_last = -12345;
EXPORT int64_t kt_cb_last_result(void) { return kt_cb_last; }
EXPORT void kt_cb_reset_last(void) { kt_cb_last = -12345; }

typedef int (*KtIntCb)(int);

EXPORT int kt_cb_call_int(KtIntCb cb, int x)
{
    int r = cb(x);
    kt_cb_last = r;
    return r;
}

/* Sums a(0), b(1), a(2), b(3), ... up to n - 1: two callbacks relayed in turn by one call */
EXPORT int kt_cb_alternate(KtIntCb a, KtIntCb b, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += (i % 2 ? b : a)(i);
    return total;
}

/* Calls cb(0) ... cb(n - 1) and sums the results */
EXPORT int kt_cb_sum(KtIntCb cb, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += cb(i);
    kt_cb_last = total;
    return total;
}

/* Returns cb() + 1000, so a zero result from a failed callback is visible as 1000 */
EXPORT int kt_cb_plus1000(int (*cb)(void))
{
    int r = cb();
    kt_cb_last = r;
    return r + 1000;
}

/* Narrow integers and bool in both directions */
EXPORT int kt_cb_narrow(int (*cb)(int8_t, uint8_t, int16_t, uint16_t, bool, bool))
{
    int r = cb(-100, 200, -30000, 60000, true, false);
    kt_cb_last = r;
    return r;
}
EXPORT int kt_cb_ret_i8(int8_t (*cb)(void)) { int r = cb(); kt_cb_last = r; return r; }
EXPORT int kt_cb_ret_u16(uint16_t (*cb)(void)) { int r = cb(); kt_cb_last = r; return r; }
EXPORT int kt_cb_ret_bool(bool (*cb)(int), int x) { int r = cb(x) ? 1 : 0; kt_cb_last = r; return r; }

/* Floating point: the callback's result is doubled by C */
EXPORT double kt_cb_double(double (*cb)(double, double), double a, double b)
{
    double r = cb(a, b);
    kt_cb_last = (int64_t)r;
    return r * 2;
}
EXPORT float kt_cb_float(float (*cb)(float, float), float a, float b)
{
    float r = cb(a, b);
    kt_cb_last = (int64_t)r;
    return r * 2;
}
/* Mixed float / double / int arguments: a float result converted to double */
EXPORT double kt_cb_fdi(float (*cb)(float, double, int, float), float a, double b, int c, float d)
{
    return (double)cb(a, b, c, d);
}

/* 64-bit integers beyond 2^53: C passes fixed values and returns the callback's result */
EXPORT int64_t kt_cb_i64(int64_t (*cb)(int64_t, uint64_t, int64_t, int64_t))
{
    int64_t r = cb(9007199254740993LL, UINT64_MAX, -5, INT64_MIN);
    kt_cb_last = r;
    return r;
}
/* The callback returns an uint64_t, reported as decimal text */
EXPORT const char *kt_cb_u64_str(uint64_t (*cb)(void))
{
    static char buf[32];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cb());
    return buf;
}

/* Strings: C passes a UTF-8 string and NULL; the result is the callback's result */
EXPORT int kt_cb_str_in(int (*cb)(const char *, const char *, const uint16_t *), const char *s)
{
    int r = cb(s, NULL, static_str16);
    kt_cb_last = r;
    return r;
}
/* The string returned by the callback is copied by C ("<null>" for NULL) */
EXPORT const char *kt_cb_str_out(const char *(*cb)(int), int x)
{
    static char buf[256];
    const char *s = cb(x);
    kt_cb_last = s ? (int64_t)strlen(s) : -1;
    snprintf(buf, sizeof(buf), "%s", s ? s : "<null>");
    return buf;
}

/* Pointers: the callback receives p (as int *) and p (as void *), C returns r * 1000 + *p after
 * the call so that writes through the pointer are visible. */
EXPORT int kt_cb_ptr(int (*cb)(int *, void *, const KtII *), int *p)
{
    static const KtII s = { 31, 32 };
    int r = cb(p, p, &s);
    kt_cb_last = r;
    return r * 1000 + *p;
}
/* The callback returns a pointer to an int: C reads it (-1 for NULL) */
EXPORT int kt_cb_ptr_ret(int *(*cb)(int), int x)
{
    int *p = cb(x);
    kt_cb_last = p ? 1 : 0;
    return p ? *p : -1;
}
/* The callback returns a struct pointer (JS may return a plain object) */
EXPORT int kt_cb_struct_ptr_ret(KtII *(*cb)(void))
{
    KtII *p = cb();
    return p ? p->a * 100 + p->b : -1;
}

/* Structs by value, in and out */
EXPORT KtII kt_cb_ii(KtII (*cb)(KtII, int), int a, int b)
{
    KtII s = { a, b };
    KtII r = cb(s, a - b);
    kt_cb_last = (int64_t)r.a * 1000 + r.b;
    return r;
}
EXPORT KtDI kt_cb_di(KtDI (*cb)(KtDI, double), double d, int i)
{
    KtDI s = { d, i };
    KtDI r = cb(s, d * 2);
    kt_cb_last = (int64_t)r.d * 1000 + r.i;
    return r;
}
EXPORT KtL3 kt_cb_l3(KtL3 (*cb)(int, KtL3, int), int64_t a, int64_t b, int64_t c)
{
    KtL3 s = { a, b, c };
    KtL3 r = cb(7, s, 8);
    kt_cb_last = r.a + r.b + r.c;
    return r;
}
EXPORT KtBig kt_cb_big(KtBig (*cb)(KtBig, int), int seed)
{
    KtBig b = kt_big_make(seed);
    KtBig r = cb(b, seed);
    kt_cb_last = r.n;
    return r;
}
EXPORT KtF3 kt_cb_f3(KtF3 (*cb)(KtF3, float), float a, float b, float c)
{
    KtF3 s = { a, b, c };
    KtF3 r = cb(s, a + b + c);
    kt_cb_last = (int64_t)(r.a + r.b + r.c);
    return r;
}

/* Many arguments: 20 ints (1..20), and 8 ints interleaved with 10 doubles, then a float, an
 * int64 beyond 2^53, a mixed struct and an int8 — all beyond the argument registers. */
EXPORT int64_t kt_cb_many20(int64_t (*cb)(int, int, int, int, int, int, int, int, int, int,
                                          int, int, int, int, int, int, int, int, int, int))
{
    return cb(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20);
}
typedef double (*KtMixCb)(int, double, int, double, int, double, int, double, int, double,
                          int, double, int, double, int, double, double, double,
                          float, int64_t, KtDI, int8_t);
EXPORT double kt_cb_mix(KtMixCb cb)
{
    KtDI s = { 2.25, -7 };
    return cb(1, 0.5, 2, 1.0, 3, 1.5, 4, 2.0, 5, 2.5, 6, 3.0, 7, 3.5, 8, 4.0, 4.5, 5.0,
              1.5f, 9007199254740993LL, s, -3);
}

/* A struct holding a callback pointer, by value and by pointer */
typedef struct { KtIntCb fn; int base; } KtCbHolder;
EXPORT int kt_cb_holder(KtCbHolder h, int x) { return h.fn ? h.fn(x) + h.base : -1; }
EXPORT int kt_cb_holder_ptr(const KtCbHolder *h, int x) { return h->fn ? h->fn(x) + h->base : -1; }
static int kt_fn_triple(int x) { return x * 3; }
EXPORT KtCbHolder kt_cb_holder_make(int base)
{
    KtCbHolder h = { kt_fn_triple, base };
    return h;
}

/* A struct holding an array of callback pointers: fns[0](x) * 10000 + fns[1](x) * 100 + fns[2](x) */
typedef struct { int n; KtIntCb fns[3]; } KtCbArray;
EXPORT int kt_cb_array_struct(const KtCbArray *a, int x)
{
    int r = 0;
    for (int i = 0; i < 3 && i < a->n; i++)
        r = r * 100 + (a->fns[i] ? a->fns[i](x) : 99);
    return r;
}
/* An array of callback pointers as a parameter: sum of fns[i](x) * (i + 1) */
EXPORT int kt_cb_array_sum(const KtIntCb *fns, int n, int x)
{
    int r = 0;
    for (int i = 0; i < n; i++)
        r += fns[i](x) * (i + 1);
    return r;
}

/* A callback that returns a callback, which C then calls */
EXPORT int kt_cb_ret_cb(KtIntCb (*cb)(int), int which, int x)
{
    KtIntCb f = cb(which);
    return f ? f(x) : -1;
}

/* A stored callback (registered), called later */
static KtIntCb kt_stored_cb = NULL;
EXPORT void kt_cb_store(KtIntCb cb) { kt_stored_cb = cb; }
EXPORT int kt_cb_call_stored(int x)
{
    if (!kt_stored_cb)
        return -1;
    int r = kt_stored_cb(x);
    kt_cb_last = r;
    return r;
}
EXPORT int kt_cb_has_stored(void) { return kt_stored_cb != NULL; }

/* Function pointers returned to JS (koffi.decode / koffi.call) */
static int kt_fn_negate(int x) { return -x; }
static int kt_fn_add100(int x) { return x + 100; }
static double kt_fn_hypot2(double a, double b) { return a * a + b * b; }
EXPORT KtIntCb kt_get_int_fn(int which)
{
    switch (which) {
        case 0: return kt_fn_negate;
        case 1: return kt_fn_add100;
        case 2: return kt_fn_triple;
        default: return NULL;
    }
}
EXPORT double (*kt_get_double_fn(void))(double, double) { return kt_fn_hypot2; }
/* The same function pointer through void *, and stored in exported data */
EXPORT void *kt_get_fn_void(int which) { return (void *)kt_get_int_fn(which); }
EXPORT KtIntCb kt_fn_table[3] = { kt_fn_negate, kt_fn_add100, kt_fn_triple };

/* Recursion: C calls cb(depth) and adds one; JS calls back into C with depth - 1 */
EXPORT int kt_cb_recurse(KtIntCb cb, int depth) { return cb(depth) + 1; }
/* Same through doubles and a string so that deep frames hold several kinds of values */
EXPORT double kt_cb_recurse_mixed(double (*cb)(int, double, const char *), int depth, double acc)
{
    char label[32];
    snprintf(label, sizeof(label), "level-%d", depth);
    return cb(depth, acc, label) + 0.5;
}

/* Async helpers */
static void kt_sleep_ms_raw(int ms)
{
#if defined(_WIN32)
    Sleep(ms);
#else
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) && errno == EINTR);
#endif
}
EXPORT int kt_sleep_ms(int ms) { kt_sleep_ms_raw(ms); return ms; }
/* Sleeps, then sums the bytes (the buffer must still be alive) */
EXPORT int64_t kt_sleep_sum_bytes(const uint8_t *p, int n, int ms)
{
    kt_sleep_ms_raw(ms);
    int64_t s = 0;
    for (int i = 0; i < n; i++)
        s += p[i];
    return s;
}
/* Sleeps, then writes through an output pointer */
EXPORT int kt_sleep_set_int(int *out, int v, int ms) { kt_sleep_ms_raw(ms); *out = v; return v + 1; }
/* Sets errno on the calling thread and returns -1 */
EXPORT int kt_sleep_set_errno(int v, int ms) { kt_sleep_ms_raw(ms); errno = v; return -1; }

#if !defined(_WIN32)

/* Thread stress: nthreads threads each call cb(t, i) for i in [0, ncalls) and compare the result
 * with t * 100000 + i * 3; returns the number of correct results. */
typedef int (*KtThreadCb)(int, int);
typedef struct { KtThreadCb cb; int t; int ncalls; int ok; } KtThreadJob;

static void *kt_thread_main(void *udata)
{
    KtThreadJob *job = (KtThreadJob *)udata;
    for (int i = 0; i < job->ncalls; i++) {
        if (job->cb(job->t, i) == job->t * 100000 + i * 3)
            job->ok++;
    }
    return NULL;
}

EXPORT int kt_threads_call(KtThreadCb cb, int nthreads, int ncalls)
{
    KtThreadJob *jobs = (KtThreadJob *)calloc((size_t)nthreads, sizeof(KtThreadJob));
    pthread_t *threads = (pthread_t *)calloc((size_t)nthreads, sizeof(pthread_t));
    int started = 0;
    for (int t = 0; t < nthreads; t++) {
        jobs[t].cb = cb;
        jobs[t].t = t;
        jobs[t].ncalls = ncalls;
        if (pthread_create(&threads[t], NULL, kt_thread_main, &jobs[t]))
            break;
        started++;
    }
    int ok = 0;
    for (int t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
        ok += jobs[t].ok;
    }
    free(jobs);
    free(threads);
    return ok;
}

/* Calls cb(x) once from a new thread and returns its result (joined before returning) */
typedef struct { KtIntCb cb; int x; int r; } KtOnceJob;
static void *kt_once_main(void *udata)
{
    KtOnceJob *job = (KtOnceJob *)udata;
    job->r = job->cb(job->x);
    return NULL;
}
EXPORT int kt_thread_call_once(KtIntCb cb, int x)
{
    KtOnceJob job = { cb, x, -1 };
    pthread_t th;
    if (pthread_create(&th, NULL, kt_once_main, &job))
        return -2;
    pthread_join(th, NULL);
    return job.r;
}

/* A background thread started from a synchronous call: it calls cb(x) after delay_ms while the
 * JS thread is idle; kt_bg_state() reports 0 (running) or 1 (done), kt_bg_result() joins it. */
static pthread_t kt_bg_thread;
static pthread_mutex_t kt_bg_mutex = PTHREAD_MUTEX_INITIALIZER;
static int kt_bg_done = 0;
static KtOnceJob kt_bg_job;
static int kt_bg_delay = 0;
static void *kt_bg_main(void *udata)
{
    (void)udata;
    kt_sleep_ms_raw(kt_bg_delay);
    int r = kt_bg_job.cb(kt_bg_job.x);
    pthread_mutex_lock(&kt_bg_mutex);
    kt_bg_job.r = r;
    kt_bg_done = 1;
    pthread_mutex_unlock(&kt_bg_mutex);
    return NULL;
}
EXPORT int kt_bg_start(KtIntCb cb, int x, int delay_ms)
{
    kt_bg_job.cb = cb;
    kt_bg_job.x = x;
    kt_bg_job.r = -1;
    kt_bg_done = 0;
    kt_bg_delay = delay_ms;
    return pthread_create(&kt_bg_thread, NULL, kt_bg_main, NULL) ? -1 : 0;
}
EXPORT int kt_bg_state(void)
{
    pthread_mutex_lock(&kt_bg_mutex);
    int done = kt_bg_done;
    pthread_mutex_unlock(&kt_bg_mutex);
    return done;
}
EXPORT int kt_bg_result(void)
{
    pthread_join(kt_bg_thread, NULL);
    return kt_bg_job.r;
}

#endif

/* Seventeen callback parameters (more than the 16 transient callbacks a call may create):
 * returns sum of cb_i(x) * (i + 1) */
EXPORT int kt_cb_sum17(KtIntCb c0, KtIntCb c1, KtIntCb c2, KtIntCb c3, KtIntCb c4, KtIntCb c5,
                       KtIntCb c6, KtIntCb c7, KtIntCb c8, KtIntCb c9, KtIntCb c10, KtIntCb c11,
                       KtIntCb c12, KtIntCb c13, KtIntCb c14, KtIntCb c15, KtIntCb c16, int x)
{
    KtIntCb fns[17] = { c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16 };
    return kt_cb_array_sum(fns, 17, x);
}
