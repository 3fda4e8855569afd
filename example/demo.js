// koffi-rs demo: calls libc and the example library (example/example.c) with the Koffi 2.x API.
// Run with `npm start` after `npm install`.
'use strict';

const path = require('path');
const koffi = require('..');

console.log(`koffi-rs ${koffi.implementation.version} (Koffi API ${koffi.version})\n`);

// libc, through the process image or by name.
const libc = koffi.load(process.platform === 'linux' ? 'libc.so.6' : null);
const strlen = libc.func('size_t strlen(const char *s)');
const atoi = libc.func('int atoi(const char *s)');
const snprintf = libc.func('int snprintf(_Out_ char *buf, size_t size, const char *fmt, ...)');
const close = libc.func('int close(int fd)');

console.log(`strlen('hello, world') = ${strlen('hello, world')}`);
console.log(`atoi('1234') = ${atoi('1234')}`);
const out = ['\0'.repeat(63)];
snprintf(out, 64, '%s has %d legs and weighs %.1f kg', 'str', 'a cat', 'int', 4, 'double', 4.5);
console.log(`snprintf(...) wrote '${out[0]}'`);
close(-1);
console.log(`close(-1) → errno ${koffi.errno()} (EBADF is ${koffi.os.errno.EBADF})`);

// The example library, built from example/example.c.
const lib = koffi.load(path.join(__dirname, '..', 'build', 'libexample' + koffi.extension));

const Vec2 = koffi.struct('Vec2', { x: 'double', y: 'double' });
const Box = koffi.struct('Box', { min: Vec2, max: Vec2, id: 'int' });
const Pixel = koffi.struct('Pixel', { r: 'uint8_t', g: 'uint8_t', b: 'uint8_t', a: 'uint8_t' });

const vec2_add = lib.func('Vec2 vec2_add(Vec2 a, Vec2 b)');
const box_area = lib.func('double box_area(const Box *box)');
const box_grow = lib.func('box_grow', Box, [Box, 'double']);
const pixel_invert = lib.func('void pixel_invert(_Inout_ Pixel *px)');
const greet = lib.func('int greet(const char *name, _Out_ char *out, int size)');
const sum_i64 = lib.func('int64_t sum_i64(const int64_t *values, int count)');
const minmax = lib.func('void minmax(const double *values, int count, _Out_ double *min, _Out_ double *max)');

console.log(`vec2_add({1, 2}, {10, 20}) = ${JSON.stringify(vec2_add({ x: 1, y: 2 }, { x: 10, y: 20 }))}`);
const box = { min: { x: 0, y: 0 }, max: { x: 4, y: 3 }, id: 7 };
console.log(`box_area(${JSON.stringify(box)}) = ${box_area(box)}`);
console.log(`box_grow(box, 1) = ${JSON.stringify(box_grow(box, 1))}`);
const px = { r: 10, g: 200, b: 255, a: 128 };
pixel_invert(px);
console.log(`pixel_invert → ${JSON.stringify(px)}`);
const hello = ['\0'.repeat(31)];
greet('koffi-rs', hello, 32);
console.log(`greet('koffi-rs') → '${hello[0]}'`);
console.log(`sum_i64([2**53, 1, 2]) = ${sum_i64(new BigInt64Array([2n ** 53n, 1n, 2n]), 3)} (a BigInt beyond 2^53)`);
const min = [0], max = [0];
minmax([3.5, -1, 8, 2], 4, min, max);
console.log(`minmax([3.5, -1, 8, 2]) → min ${min[0]}, max ${max[0]}`);
console.log(`\nkoffi.introspect(Box):`, koffi.introspect(Box));
