// TypeScript declarations for koffi-rs, a Rust implementation of the Koffi 2.x FFI for Node.js.
//
// The API mirrors Koffi 2.16.3 (spec item MOD-10), so code typed against `koffi` keeps compiling
// after switching to `koffi-rs`. The module is CommonJS (`module.exports = {...}`), hence the
// `export =` form below. It supports:
//
//     import koffi from 'koffi-rs';          // with esModuleInterop / allowSyntheticDefaultImports
//     import * as koffi from 'koffi-rs';
//     import { load, struct } from 'koffi-rs';  // from CommonJS or ES modules (index.mjs)
//     import koffi = require('koffi-rs');    // TypeScript's CommonJS import
//     const koffi = require('koffi-rs');     // plain JavaScript (checkJs, editors)
//
// Code typed against Koffi 2.16.3's own declarations compiles against these too.
//
// Types live in the `koffi` namespace (`koffi.IKoffiLib`, `koffi.TypeInfo`, ...) and can also be
// imported by name (`import type { IKoffiLib } from 'koffi-rs'`).
//
// Some members of the module have names that are reserved words (`in`), so the runtime object is
// described by the `koffi.KoffiModule` interface rather than by namespace-level functions.

declare namespace koffi {
    // ---------------------------------------------------------------------------------------------
    // Opaque values handed out by the runtime
    // ---------------------------------------------------------------------------------------------

    /** A type value, as returned by `struct()`, `pointer()`, `resolve()`, `types.int`... */
    interface IKoffiCType { __brand: 'IKoffiCType' }

    /** The marker returned by `koffi.as()`: a value to be converted as another pointer type. */
    interface IKoffiPointerCast { __brand: 'IKoffiPointerCast' }

    /** A C function pointer created by `koffi.register()`, valid until `koffi.unregister()`. */
    interface IKoffiRegisteredCallback { __brand: 'IKoffiRegisteredCallback' }

    /** The `napi_env` of the current Node environment, as a `void *` pointer value. */
    interface IKoffiNodeEnv { __brand: 'IKoffiNodeEnv' }

    // ---------------------------------------------------------------------------------------------
    // Type specifiers and introspection
    // ---------------------------------------------------------------------------------------------

    /** Anything accepted where a type is expected: a type string (`'int'`, `'Foo *'`, `'char[16]'`) or a type value. */
    type TypeSpec = string | IKoffiCType;

    /** A struct/union member: a type, or `[alignment, type]` to force the member alignment (1, 2, 4 or 8). */
    type TypeSpecWithAlignment = TypeSpec | [number, TypeSpec];

    /** How fixed-size arrays are converted to JavaScript. */
    type ArrayHint = 'Array' | 'Typed' | 'String';

    /** The `primitive` field reported by `introspect()`. Names ending in `S` are byte-swapped. */
    type PrimitiveKind =
        | 'Void' | 'Bool'
        | 'Int8' | 'UInt8'
        | 'Int16' | 'Int16S' | 'UInt16' | 'UInt16S'
        | 'Int32' | 'Int32S' | 'UInt32' | 'UInt32S'
        | 'Int64' | 'Int64S' | 'UInt64' | 'UInt64S'
        | 'String' | 'String16' | 'String32'
        | 'Pointer' | 'Record' | 'Union' | 'Array'
        | 'Float32' | 'Float64'
        | 'Prototype' | 'Callback';

    /** One member of a struct or union, as listed by `introspect()`. */
    interface TypeMemberInfo {
        name: string;
        type: IKoffiCType;
        /** Byte offset inside the record (always 0 for unions). */
        offset: number;
        /** Name of the counter member, for flexible arrays and counted pointers. */
        countedBy?: string;
    }

    /** Description of a type, as returned by `introspect()` (a frozen object). */
    interface TypeInfo {
        name: string;
        primitive: PrimitiveKind;
        size: number;
        alignment: number;
        disposable: boolean;
        /** Arrays: number of elements. */
        length?: number;
        /** Arrays: conversion hint. */
        hint?: ArrayHint;
        /** Arrays and pointers: the element or pointee type. */
        ref?: IKoffiCType;
        /** Structs and unions: members in declaration order. */
        members?: Record<string, TypeMemberInfo>;
    }

    /** Every built-in type name that contains no `*` (the keys of `koffi.types`). */
    type PrimitiveTypeName =
        | 'void' | 'bool'
        | 'char' | 'uchar' | 'unsigned char'
        | 'char16' | 'char16_t' | 'char32' | 'char32_t' | 'wchar' | 'wchar_t'
        | 'short' | 'ushort' | 'unsigned short'
        | 'int' | 'uint' | 'unsigned int'
        | 'long' | 'ulong' | 'unsigned long'
        | 'long long' | 'longlong' | 'unsigned long long' | 'ulonglong'
        | 'int8' | 'int8_t' | 'uint8' | 'uint8_t'
        | 'int16' | 'int16_t' | 'uint16' | 'uint16_t'
        | 'int32' | 'int32_t' | 'uint32' | 'uint32_t'
        | 'int64' | 'int64_t' | 'uint64' | 'uint64_t'
        | 'int16_le' | 'int16_le_t' | 'int16_be' | 'int16_be_t'
        | 'uint16_le' | 'uint16_le_t' | 'uint16_be' | 'uint16_be_t'
        | 'int32_le' | 'int32_le_t' | 'int32_be' | 'int32_be_t'
        | 'uint32_le' | 'uint32_le_t' | 'uint32_be' | 'uint32_be_t'
        | 'int64_le' | 'int64_le_t' | 'int64_be' | 'int64_be_t'
        | 'uint64_le' | 'uint64_le_t' | 'uint64_be' | 'uint64_be_t'
        | 'intptr' | 'intptr_t' | 'uintptr' | 'uintptr_t' | 'size_t'
        | 'float' | 'float32' | 'double' | 'float64'
        | 'str' | 'string' | 'str16' | 'string16' | 'str32' | 'string32';

    /** Calling conventions understood by `lib.func()` and `proto()` (only honoured on 32-bit x86). */
    type CallConvention = '__cdecl' | '__stdcall' | '__fastcall' | '__thiscall';

    // ---------------------------------------------------------------------------------------------
    // Libraries and functions
    // ---------------------------------------------------------------------------------------------

    /** Options for `load()`; POSIX only, ignored on Windows. */
    interface LoadOptions {
        /** Resolve symbols lazily (`RTLD_LAZY` instead of `RTLD_NOW`). */
        lazy?: boolean;
        /** Make the symbols available to later loads (`RTLD_GLOBAL`). */
        global?: boolean;
        /** Prefer the library's own symbols (`RTLD_DEEPBIND`, where available). */
        deep?: boolean;
    }

    /** The `info` property of declared functions. */
    interface FunctionInfo {
        /** The C name (`'<anonymous>'` for functions made by `decode()`). */
        name: string;
        /** The fixed parameter types. */
        arguments: IKoffiCType[];
        result: IKoffiCType;
    }

    /** A native function declared with `lib.func()`; call it like any JS function. */
    interface KoffiFunction {
        (...args: any[]): any;
        /**
         * Runs the call on a worker thread: pass the arguments, then `(err, result) => void`.
         * Not present on variadic functions.
         */
        async: (...args: any[]) => void;
        info: FunctionInfo;
    }

    /** A `KoffiFunction` with a hand-written JS signature, e.g. `KoffiFunc<(x: number) => number>`. */
    type KoffiFunc<T extends (...args: any) => any> = T & {
        /** Asynchronous twin: same arguments followed by a node-style callback. */
        async: (...args: [...Parameters<T>, (err: any, result: ReturnType<T>) => void]) => void;
        info: FunctionInfo;
    };

    /** A shared library opened by `load()`. */
    interface IKoffiLib {
        /** Declares a function from a C prototype, e.g. `'double fmod(double x, double y)'`. */
        func(definition: string): KoffiFunction;
        /** Declares a function from its name (or Windows ordinal), result type and parameter types (`'...'` last for variadic). */
        func(name: string | number, result: TypeSpec, params: TypeSpec[]): KoffiFunction;
        /** Same, with an explicit calling convention such as `'__stdcall'`. */
        func(convention: CallConvention | (string & {}), name: string | number, result: TypeSpec, params: TypeSpec[]): KoffiFunction;

        /** @deprecated Use `func()` (a `'__cdecl'` convention is the default). */
        cdecl(definition: string): KoffiFunction;
        /** @deprecated Use `func()` (a `'__cdecl'` convention is the default). */
        cdecl(name: string | number, result: TypeSpec, params: TypeSpec[]): KoffiFunction;
        /** @deprecated Use `func('__stdcall', ...)` or a `__stdcall` prototype. */
        stdcall(definition: string): KoffiFunction;
        /** @deprecated Use `func('__stdcall', ...)` or a `__stdcall` prototype. */
        stdcall(name: string | number, result: TypeSpec, params: TypeSpec[]): KoffiFunction;
        /** @deprecated Use `func('__fastcall', ...)` or a `__fastcall` prototype. */
        fastcall(definition: string): KoffiFunction;
        /** @deprecated Use `func('__fastcall', ...)` or a `__fastcall` prototype. */
        fastcall(name: string | number, result: TypeSpec, params: TypeSpec[]): KoffiFunction;
        /** @deprecated Use `func('__thiscall', ...)` or a `__thiscall` prototype. */
        thiscall(definition: string): KoffiFunction;
        /** @deprecated Use `func('__thiscall', ...)` or a `__thiscall` prototype. */
        thiscall(name: string | number, result: TypeSpec, params: TypeSpec[]): KoffiFunction;

        /** Address of an exported variable, as a pointer value to read with `decode()` / write with `encode()`. */
        symbol(name: string, type: TypeSpec): any;

        /** Closes the library now; functions and symbols taken from it must not be used afterwards. */
        unload(): void;
    }

    // ---------------------------------------------------------------------------------------------
    // Unions
    // ---------------------------------------------------------------------------------------------

    /** An instance of a union type: assigning a member makes it the active one. */
    interface Union {
        [member: string]: any;
    }

    /** The `koffi.Union` class. */
    interface UnionConstructor {
        /** Creates an empty value of the given union type. */
        new (type: TypeSpec): Union;
        readonly prototype: Union;
    }

    // ---------------------------------------------------------------------------------------------
    // Settings and statistics
    // ---------------------------------------------------------------------------------------------

    /** Memory settings read and changed by `config()`; sizes in bytes. */
    interface KoffiConfig {
        /** Stack block for synchronous calls (default 1 MiB). */
        sync_stack_size: number;
        /** Temporary memory for synchronous calls (default 2 MiB). */
        sync_heap_size: number;
        /** Stack block per asynchronous call (default 128 KiB). */
        async_stack_size: number;
        /** Temporary memory per asynchronous call (default 128 KiB). */
        async_heap_size: number;
        /** Asynchronous memory sets kept when idle (default 4). */
        resident_async_pools: number;
        /** Maximum number of running + queued asynchronous calls (default 256). */
        max_async_calls: number;
        /** Largest struct or array type (default 64 MiB). */
        max_type_size: number;
    }

    /** Counters returned by `stats()`. */
    interface KoffiStats {
        /** Number of times a disposer has run. */
        disposed: number;
    }

    // ---------------------------------------------------------------------------------------------
    // Node helpers
    // ---------------------------------------------------------------------------------------------

    /** Which events a poll handle watches. Defaults to readable only. */
    interface IKoffiPollOptions {
        readable?: boolean;
        writable?: boolean;
        disconnect?: boolean;
    }

    /** Which events fired. */
    interface IKoffiPollEvents {
        readable: boolean;
        writable: boolean;
        disconnect: boolean;
    }

    /**
     * The first argument of a poll callback: the libuv status (0, or a negative error code).
     * Koffi 2.16.3's declarations show a single events argument instead. The status is also typed
     * with the events' fields so that programs written against those declarations still compile,
     * but at run time (in Koffi as here) the events are the second argument.
     */
    type IKoffiPollStatus = number & IKoffiPollEvents;

    /** Called on the JS thread with the libuv status (0 or a negative error) and the events that fired. */
    type IKoffiPollCallback = (this: node.PollHandle, status: IKoffiPollStatus, events: IKoffiPollEvents) => void;

    namespace node {
        /** A libuv poll watcher on a socket or file descriptor. */
        interface PollHandle {
            start(options: IKoffiPollOptions, callback: IKoffiPollCallback): void;
            start(callback: IKoffiPollCallback): void;
            stop(): void;
            /** Releases the handle (asynchronously); safe to call twice. */
            close(): void;
            /** Lets the process exit while the handle is active. */
            unref(): void;
            ref(): void;
        }

        interface PollHandleConstructor {
            /** Creates a (stopped) watcher for `fd`. */
            new (fd: number): PollHandle;
            readonly prototype: PollHandle;
        }
    }

    /** The `koffi.node` object. */
    interface KoffiNode {
        /** The current `napi_env`, for native code that calls Node-API itself. */
        readonly env: IKoffiNodeEnv;
        readonly PollHandle: node.PollHandleConstructor;
        /** Creates and starts a poll watcher for `fd`. */
        poll(fd: number, options: IKoffiPollOptions, callback: IKoffiPollCallback): node.PollHandle;
        poll(fd: number, callback: IKoffiPollCallback): node.PollHandle;
    }

    // ---------------------------------------------------------------------------------------------
    // The module object
    // ---------------------------------------------------------------------------------------------

    /** Everything exported by `require('koffi-rs')`. */
    interface KoffiModule {
        // Libraries

        /** Opens a shared library; `null` gives the symbols of the running process. */
        load(path: string | null | undefined, options?: LoadOptions): IKoffiLib;

        // Records

        /** Declares a struct; member order is property order. Pass an opaque type value to complete it. */
        struct(name: string | null | undefined, members: Record<string, TypeSpecWithAlignment>): IKoffiCType;
        struct(ref: IKoffiCType, members: Record<string, TypeSpecWithAlignment>): IKoffiCType;
        struct(members: Record<string, TypeSpecWithAlignment>): IKoffiCType;

        /** Declares a packed struct (no padding unless a member alignment is given). */
        pack(name: string | null | undefined, members: Record<string, TypeSpecWithAlignment>): IKoffiCType;
        pack(ref: IKoffiCType, members: Record<string, TypeSpecWithAlignment>): IKoffiCType;
        pack(members: Record<string, TypeSpecWithAlignment>): IKoffiCType;

        /** Declares a union (all members at offset 0). */
        union(name: string | null | undefined, members: Record<string, TypeSpecWithAlignment>): IKoffiCType;
        union(ref: IKoffiCType, members: Record<string, TypeSpecWithAlignment>): IKoffiCType;
        union(members: Record<string, TypeSpecWithAlignment>): IKoffiCType;

        /** Class of union values: `new koffi.Union('MyUnion')`. */
        readonly Union: UnionConstructor;

        // Derived types

        /** A fixed-size array type of `length` elements. */
        array(ref: TypeSpec, length: number, hint?: ArrayHint | null): IKoffiCType;
        /** A flexible array (last struct member) whose length is held by member `countedBy`, at most `maxLen`. */
        array(ref: TypeSpec, countedBy: string, maxLen: number, hint?: ArrayHint | null): IKoffiCType;

        /** An incomplete type, usable only behind pointers (optionally completed later by `struct()`/`union()`). */
        opaque(name?: string | null): IKoffiCType;
        /** @deprecated Use `opaque()`. */
        handle(name?: string | null): IKoffiCType;

        /** The pointer type `ref *`. */
        pointer(ref: TypeSpec): IKoffiCType;
        /** `count` levels of indirection (1 to 4). */
        pointer(ref: TypeSpec, count: number): IKoffiCType;
        /** A distinct named pointer type; with `countedBy`, a pointer member whose element count is another member. */
        pointer(name: string | null | undefined, ref: TypeSpec, countedBy?: string | null): IKoffiCType;
        /** A distinct named pointer type with `count` levels of indirection. */
        pointer(name: string | null | undefined, ref: TypeSpec, count: number): IKoffiCType;

        /** A function type, from a C prototype whose name is optional (`'int Cmp(const void *, const void *)'`). */
        proto(definition: string): IKoffiCType;
        proto(result: TypeSpec, params: TypeSpec[]): IKoffiCType;
        proto(convention: CallConvention, result: TypeSpec, params: TypeSpec[]): IKoffiCType;
        proto(name: string | null | undefined, result: TypeSpec, params: TypeSpec[]): IKoffiCType;
        proto(convention: CallConvention | (string & {}), name: string | null | undefined, result: TypeSpec, params: TypeSpec[]): IKoffiCType;

        /** @deprecated Use `proto()`. */
        callback(definition: string): IKoffiCType;
        /** @deprecated Use `proto()`. */
        callback(result: TypeSpec, params: TypeSpec[]): IKoffiCType;
        /** @deprecated Use `proto()`. */
        callback(convention: CallConvention, result: TypeSpec, params: TypeSpec[]): IKoffiCType;
        /** @deprecated Use `proto()`. */
        callback(name: string | null | undefined, result: TypeSpec, params: TypeSpec[]): IKoffiCType;
        /** @deprecated Use `proto()`. */
        callback(convention: CallConvention | (string & {}), name: string | null | undefined, result: TypeSpec, params: TypeSpec[]): IKoffiCType;

        /** Registers another name for an existing type. */
        alias(name: string, type: TypeSpec): IKoffiCType;

        /**
         * A pointer or string type whose values are released after each conversion to JS,
         * by `free` (default C `free()`) which receives the original pointer.
         */
        disposable(type: TypeSpec): IKoffiCType;
        disposable(type: TypeSpec, free: Function): IKoffiCType;
        disposable(name: string | null | undefined, type: TypeSpec): IKoffiCType;
        disposable(name: string | null | undefined, type: TypeSpec, free: Function | null | undefined): IKoffiCType;

        // Parameter directions

        /** Input parameter (the default), for symmetry with `out()`/`inout()`. */
        in(type: TypeSpec): IKoffiCType;
        /** Output parameter: the C code fills it, the JS array/object is updated after the call. */
        out(type: TypeSpec): IKoffiCType;
        /** Input/output parameter: initialised from JS, copied back after the call. */
        inout(type: TypeSpec): IKoffiCType;

        /** Marks `value` to be passed as pointer type `type` (e.g. an object into a `void *` parameter). */
        as(value: any, type: TypeSpec): IKoffiPointerCast;

        // Callbacks

        /** Makes a persistent C function pointer for `callback`; `type` is a callback pointer type (`'Proto *'`). */
        register(callback: Function, type: TypeSpec): IKoffiRegisteredCallback;
        /** Same, with `thisValue` as `this` inside the callback. */
        register(thisValue: any, callback: Function, type: TypeSpec): IKoffiRegisteredCallback;
        /** Releases a callback made by `register()`. */
        unregister(callback: IKoffiRegisteredCallback): void;

        // Raw memory

        /** Calls the function pointer `ptr` with the prototype `type`. */
        call(ptr: any, type: TypeSpec, ...args: any[]): any;

        /** Reads a value of `type` from a pointer value or a buffer. */
        decode(source: any, type: TypeSpec): any;
        /** Reads `length` elements of `type` (a negative length stops at a zero terminator). */
        decode(source: any, type: TypeSpec, length: number): any;
        /** Reads a value of `type` at byte `offset`. */
        decode(source: any, offset: number, type: TypeSpec): any;
        /** Reads `length` elements of `type` at byte `offset`. */
        decode(source: any, offset: number, type: TypeSpec, length: number): any;

        /** Writes `value` as `type` into a pointer value or a buffer. */
        encode(ref: any, type: TypeSpec, value: any): void;
        /** Writes `length` elements of `type`. */
        encode(ref: any, type: TypeSpec, value: any, length: number): void;
        /**
         * @deprecated Listed in the upstream typings, but a value is required:
         * this form throws a `TypeError` at runtime.
         */
        encode(ref: any, offset: number, type: TypeSpec): void;
        /** Writes `value` as `type` at byte `offset`. */
        encode(ref: any, offset: number, type: TypeSpec, value: any): void;
        /** Writes `length` elements of `type` at byte `offset`. */
        encode(ref: any, offset: number, type: TypeSpec, value: any, length: number): void;

        /** The numeric address of a pointer value or buffer (`0n` for `null`). */
        address(value: any): bigint;
        /** An ArrayBuffer aliasing `length` bytes of native memory (no copy, no ownership). */
        view(ptr: any, length: number): ArrayBuffer;
        /** Zeroed native memory for `count` values of `type`; release it with `free()`. */
        alloc(type: TypeSpec, count: number): any;
        /** Releases memory from `alloc()` (or any C `malloc()`); `null` is ignored. */
        free(ptr: any): void;

        // Introspection

        sizeof(type: TypeSpec): number;
        alignof(type: TypeSpec): number;
        /** Byte offset of a struct member. */
        offsetof(type: TypeSpec, member: string): number;
        /** The type value for a specifier. */
        resolve(type: TypeSpec): IKoffiCType;
        introspect(type: TypeSpec): TypeInfo;

        // Runtime

        /** Reads the settings. */
        config(): KoffiConfig;
        /** Changes some settings (only before the first `load()`) and returns all of them. */
        config(settings: Partial<KoffiConfig>): KoffiConfig;
        stats(): KoffiStats;
        /** The calling thread's `errno`. */
        errno(): number;
        /** Sets `errno` and returns the new value. */
        errno(value: number): number;
        /** Forgets all user-defined types and releases the callback broker. */
        reset(): void;

        // Data

        /** Built-in types by name. */
        readonly types: Record<PrimitiveTypeName, IKoffiCType>;
        /** Platform constants: `os.errno.EBADF`... */
        readonly os: { readonly errno: Record<string, number> };
        readonly node: KoffiNode;
        /** The Koffi API version emulated (`'2.16.3'`). */
        readonly version: string;
        /** The implementation behind this API (a koffi-rs addition). */
        readonly implementation: {
            readonly name: 'koffi-rs';
            readonly version: string;
            /** Heap allocations the addon has made so far (its counting allocator). */
            heapAllocations(): number;
            /** Bytes the addon holds on the heap now. */
            heapBytes(): number;
            /** Callback handlers replaced or released and not yet freed (a relay may still run them). */
            retiredCallbacks(): number;
            /** Whether calls read V8's tagged values directly (see README, "Speed"). */
            taggedValues(): boolean;
            /** Whether a function declared by koffi takes the lean call path (see README, "Speed"). */
            leanCall(fn: KoffiFunction): boolean;
        };
        /** Shared-library suffix of the platform: `'.so'`, `'.dylib'` or `'.dll'`. */
        readonly extension: string;
        /**
         * @deprecated Declared by Koffi 2.x's typings, but absent at run time since Koffi 2.7 (as
         * here): always `undefined`. Kept so that code typed against Koffi still compiles.
         */
        readonly internal: Boolean;
    }
}

declare const koffi: koffi.KoffiModule;

export = koffi;
