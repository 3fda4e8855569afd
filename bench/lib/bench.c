/* C side of the koffi-rs benchmarks (bench/run.js).
 *
 * Built twice by the runner: as bench/build/libbench.so, which the FFI peers
 * load, and linked into the static N-API binding (bench/napi/binding.c).
 * rand, atoi and memset come from libc and are not defined here. */

#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

/* {int32, float, double}: 16 bytes, one GPR and one SSE eightbyte on x86-64. */
typedef struct { int32_t a; float f; double d; } Pair16;

/* {int32, double, float[2]}: 24 bytes, passed on the stack and returned
 * through a hidden pointer on x86-64. */
typedef struct { int32_t a; double b; float c[2]; } Trio24;

EXPORT void noop(void) {}

EXPORT double mix8(int a, double b, int c, double d, int e, double f, int g, double h)
{
    return (double)(a + c + e + g) + b + d + f + h;
}

EXPORT Pair16 struct16(Pair16 p, int k)
{
    Pair16 r = { p.a + k, p.f * 2.0f, p.d + 0.5 };
    return r;
}

EXPORT Trio24 struct24(Trio24 s, int k)
{
    Trio24 r = { s.a + k, s.b * 2.0, { s.c[1], s.c[0] } };
    return r;
}

/* Calls cb(0) .. cb(n - 1) and returns the sum of the results. */
EXPORT int call_js(int (*cb)(int), int n)
{
    int sum = 0;
    for (int i = 0; i < n; i++)
        sum += cb(i);
    return sum;
}

/* A tiny amount of work for the async cells (a few dozen multiply-adds). */
EXPORT int busy(int x)
{
    uint32_t h = (uint32_t)x;
    for (int i = 0; i < 64; i++)
        h = h * 2654435761u + (uint32_t)i;
    return (int)(h & 0x7fffffff);
}

/* 1,000 distinct symbols of the same shape for the declaration benchmark:
 * decl_000 .. decl_999, each int decl_NNN(int, double, const char *, void *). */
#define DECL(n) \
    EXPORT int decl_##n(int a, double b, const char *s, void *p) \
    { return a + (int)b + (s != 0) + (p != 0) + 1##n; }
#define DECL10(n) DECL(n##0) DECL(n##1) DECL(n##2) DECL(n##3) DECL(n##4) \
                  DECL(n##5) DECL(n##6) DECL(n##7) DECL(n##8) DECL(n##9)
#define DECL100(n) DECL10(n##0) DECL10(n##1) DECL10(n##2) DECL10(n##3) DECL10(n##4) \
                   DECL10(n##5) DECL10(n##6) DECL10(n##7) DECL10(n##8) DECL10(n##9)
DECL100(0) DECL100(1) DECL100(2) DECL100(3) DECL100(4)
DECL100(5) DECL100(6) DECL100(7) DECL100(8) DECL100(9)
