// Compile-only exercise of index.d.ts (spec MOD-10), checked by test/typings.test.js with
// `tsc --noEmit --strict`. Lines marked `@ts-expect-error` must be rejected by the compiler.
//
// Test runners with TypeScript stripping (newer `node --test`) may pick this file up, so it only
// uses erasable syntax and a default import, and keeps every API call inside a function that is
// never called.

import koffi from 'koffi-rs';
import type { IKoffiCType, IKoffiLib, KoffiFunc, KoffiFunction, TypeInfo, TypeSpec, TypeSpecWithAlignment, ArrayHint, PrimitiveKind } from 'koffi-rs';

export function exercise(): void {
    // Module data
    const version: string = koffi.version;
    const impl: 'koffi-rs' = koffi.implementation.name;
    const implVersion: string = koffi.implementation.version;
    const ext: string = koffi.extension;
    const ebadf: number = koffi.os.errno.EBADF;
    const intType: IKoffiCType = koffi.types.int;
    const str32: IKoffiCType = koffi.types.string32;
    const env = koffi.node.env;
    void version; void impl; void implVersion; void ext; void ebadf; void intType; void str32; void env;
    // @ts-expect-error: not a built-in type name
    koffi.types['int *'];

    // Libraries and functions
    const lib: IKoffiLib = koffi.load('libm.so.6');
    const self = koffi.load(null, { lazy: true, global: false, deep: true });
    const fmod: KoffiFunction = lib.func('double fmod(double x, double y)');
    const strlen = self.func('strlen', 'size_t', ['const char *']);
    const beep = self.func('__stdcall', 'MessageBeep', 'int', ['uint']);
    const byOrdinal = self.func(42, 'int', []);
    const legacy = self.stdcall('int MessageBeep(uint)');
    const printf = self.func('printf', 'int', ['const char *', '...']);
    printf('%d %s\n', 'int', 7, 'str', 'x');
    const r: any = fmod(7.5, 2) + strlen('abc') + beep(0) + byOrdinal() + legacy(0);
    const fname: string = fmod.info.name;
    const argTypes: IKoffiCType[] = fmod.info.arguments;
    fmod.async(7.5, 2, (err: any, res: number) => { void err; void res; });
    const sym = self.symbol('environ', 'char **');
    lib.unload();
    void r; void fname; void argTypes; void sym;
    // @ts-expect-error: path must be a string or null
    koffi.load(42);
    // @ts-expect-error: parameters must be an array
    lib.func('fmod', 'double', 'double');

    // KoffiFunc<T>: typed wrappers
    const typedFmod = lib.func('double fmod(double x, double y)') as KoffiFunc<(x: number, y: number) => number>;
    const m: number = typedFmod(5, 3);
    typedFmod.async(5, 3, (err, value) => { const v: number = value; void err; void v; });
    // @ts-expect-error: wrong argument type
    typedFmod('5', 3);
    // @ts-expect-error: the async callback is required
    typedFmod.async(5, 3);
    void m;

    // Records and unions
    const Pixel = koffi.struct('Pixel', { r: 'uint8_t', g: 'uint8_t', b: 'uint8_t', alpha: [8, 'float'] });
    const Anon = koffi.struct({ x: 'int', y: koffi.types.int });
    const Wire = koffi.pack({ tag: 'uint8_t', len: 'uint32_be_t' });
    const Fwd = koffi.opaque('Fwd');
    koffi.struct(Fwd, { next: 'Fwd *', v: 'int' });
    const Num = koffi.union('Num', { i: 'int64_t', f: 'double' });
    koffi.union(null, { a: 'int' });
    const n: koffi.Union = new koffi.Union('Num');
    n.f = 0.5;
    const members: Record<string, TypeSpecWithAlignment> = { a: 'int8_t', b: [4, 'int16_t'] };
    koffi.pack('Packed', members);
    void Pixel; void Anon; void Wire; void Num;
    // @ts-expect-error: Union is a class
    koffi.Union('Num');

    // Derived types
    const hint: ArrayHint = 'Typed';
    const arr = koffi.array('int', 16, hint);
    const strArr = koffi.array('char', 8, null);
    const flex = koffi.struct('Bag', { n: 'uint32_t', items: koffi.array('int', 'n', 64, 'Array') });
    const anonOpaque = koffi.opaque();
    const p1 = koffi.pointer('int');
    const p2 = koffi.pointer(p1, 2);
    const HANDLE = koffi.pointer('HANDLE', koffi.opaque());
    const counted = koffi.pointer(null, 'int', 'n');
    const named3 = koffi.pointer('PPInt', 'int', 3);
    const Cmp = koffi.proto('int Cmp(const void *a, const void *b)');
    const P2 = koffi.proto('int', ['int']);
    const P3 = koffi.proto('__stdcall', 'int', ['int']);
    const P4 = koffi.proto('Named', 'int', ['int']);
    const P5 = koffi.proto('__cdecl', 'Named2', 'void', []);
    const Alias = koffi.alias('MyInt', 'int');
    const OwnedStr = koffi.disposable('OwnedStr', 'char *');
    const d2 = koffi.disposable('char *');
    const d3 = koffi.disposable('char *', (ptr: unknown) => { void ptr; });
    const d4 = koffi.disposable(null, 'char *', null);
    const dirIn = koffi.in('int *');
    const dirOut = koffi.out('int *');
    const dirInout = koffi.inout(koffi.pointer(Pixel));
    void arr; void strArr; void flex; void anonOpaque; void p2; void HANDLE; void counted; void named3;
    void P2; void P3; void P4; void P5; void Alias; void OwnedStr; void d2; void d3; void d4;
    void dirIn; void dirOut; void dirInout;
    // @ts-expect-error: bad hint
    koffi.array('int', 4, 'Bytes');

    // Deprecated aliases still type-check
    const h = koffi.handle('OldHandle');
    const cb = koffi.callback('void OldCb(int)');
    void h; void cb;

    // Introspection
    const spec: TypeSpec = 'Pixel *';
    const info: TypeInfo = koffi.introspect(spec);
    const kind: PrimitiveKind = info.primitive;
    const isStr32: boolean = kind === 'String32';
    const size: number = koffi.sizeof(Pixel) + koffi.alignof('double') + koffi.offsetof(Pixel, 'alpha');
    const resolved: IKoffiCType = koffi.resolve('int[4]');
    const memberOffset: number | undefined = info.members?.alpha?.offset;
    const ref: IKoffiCType | undefined = info.ref;
    void isStr32; void size; void resolved; void memberOffset; void ref;

    // Callbacks
    const registered = koffi.register((a: number) => a + 1, koffi.pointer(Cmp));
    const bound = koffi.register({ k: 1 }, function (this: { k: number }, a: number) { return a * this.k; }, 'Cmp *');
    koffi.unregister(registered);
    koffi.unregister(bound);
    // @ts-expect-error: only registered callbacks can be unregistered
    koffi.unregister(42);

    // Raw memory
    const buf = koffi.alloc('int32_t', 4);
    koffi.encode(buf, 'int32_t', [1, 2, 3, 4], 4);
    koffi.encode(buf, 'int32_t', 5);
    koffi.encode(buf, 4, 'int32_t', 6);
    koffi.encode(buf, 0, 'int32_t', [1, 2], 2);
    const one: any = koffi.decode(buf, 'int32_t');
    const arr4: any = koffi.decode(buf, 'int32_t', 4);
    const second: any = koffi.decode(buf, 4, 'int32_t');
    const tail: any = koffi.decode(buf, 4, 'int32_t', 3);
    const addr: bigint = koffi.address(buf);
    const view: ArrayBuffer = koffi.view(buf, 16);
    const cast = koffi.as({ r: 1 }, 'Pixel *');
    const called: any = koffi.call(registered, Cmp, null, null);
    koffi.free(buf);
    koffi.free(null);
    void one; void arr4; void second; void tail; void addr; void view; void cast; void called;
    // @ts-expect-error: address() returns a bigint
    const notNumber: number = koffi.address(buf);
    void notNumber;

    // Runtime settings
    const cfg = koffi.config();
    const stackSize: number = cfg.sync_stack_size;
    koffi.config({ max_async_calls: 64 });
    const disposed: number = koffi.stats().disposed;
    const e1: number = koffi.errno();
    const e2: number = koffi.errno(0);
    koffi.reset();
    void stackSize; void disposed; void e1; void e2;
    // @ts-expect-error: unknown setting
    koffi.config({ stack: 1 });

    // Node helpers
    const handle: koffi.node.PollHandle = koffi.node.poll(0, { readable: true }, function (status, events) {
        const s: number = status;
        const readable: boolean = events.readable;
        this.stop();
        void s; void readable;
    });
    handle.unref();
    handle.close();
    const manual = new koffi.node.PollHandle(0);
    manual.start((status, events) => { void status; void events.disconnect; });
    manual.ref();
}
