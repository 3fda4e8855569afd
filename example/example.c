/* A small C library for the koffi-rs demo (example/demo.js), built by scripts/build.js. */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(_WIN32)
  #define EXPORT __declspec(dllexport)
#else
  #define EXPORT __attribute__((visibility("default")))
#endif

typedef struct Vec2 { double x, y; } Vec2;
typedef struct Box { Vec2 min, max; int id; } Box;
typedef struct Pixel { uint8_t r, g, b, a; } Pixel;

EXPORT Vec2 vec2_add(Vec2 a, Vec2 b) { Vec2 r = { a.x + b.x, a.y + b.y }; return r; }

EXPORT double box_area(const Box *box) { return (box->max.x - box->min.x) * (box->max.y - box->min.y); }

EXPORT Box box_grow(Box box, double by)
{
    box.min.x -= by; box.min.y -= by;
    box.max.x += by; box.max.y += by;
    return box;
}

EXPORT void pixel_invert(Pixel *px) { px->r = 255 - px->r; px->g = 255 - px->g; px->b = 255 - px->b; }

EXPORT int greet(const char *name, char *out, int size) { return snprintf(out, (size_t)size, "Hello, %s!", name); }

EXPORT int64_t sum_i64(const int64_t *values, int count)
{
    int64_t sum = 0;
    for (int i = 0; i < count; i++)
        sum += values[i];
    return sum;
}

EXPORT void minmax(const double *values, int count, double *min, double *max)
{
    *min = values[0]; *max = values[0];
    for (int i = 1; i < count; i++) {
        if (values[i] < *min) *min = values[i];
        if (values[i] > *max) *max = values[i];
    }
}
