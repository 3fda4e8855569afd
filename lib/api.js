// The JavaScript half of the API: the module object (spec MOD-01, MOD-02), union instances
// (spec UNI-04..UNI-09) and the deprecated wrappers with their warnings.
'use strict';

const util = require('util');

// The type names upstream's messages use for JS values.
function typeName(v) {
    if (v === null) return 'Null';
    if (Array.isArray(v)) return 'Array';
    const t = typeof v;
    return t === 'bigint' ? 'BigInt' : t[0].toUpperCase() + t.slice(1);
}

function build(native) {
    const unionState = Symbol('koffi-rs union state');
    const classes = new WeakMap();

    // One class per union type, with an enumerable accessor per member on its prototype.
    function unionClass(type) {
        const info = native.introspect(type);
        let cls = classes.get(info);
        if (cls)
            return cls;
        cls = { [info.name]: class {} }[info.name];
        for (const name of Object.keys(info.members)) {
            const memberType = info.members[name].type;
            Object.defineProperty(cls.prototype, name, {
                enumerable: true,
                get() {
                    const state = this[unionState];
                    if (state.active === name)
                        return state.value;
                    if (state.raw) {
                        const value = native.decode(state.raw, memberType);
                        state.active = name;
                        state.value = value;
                        return value;
                    }
                    throw new Error(`Cannont convert ${state.active == null ? 'empty' : 'assigned'} union value`);
                },
                set(value) {
                    const state = this[unionState];
                    state.active = name;
                    state.value = value;
                    state.raw = null;
                },
            });
        }
        classes.set(info, cls);
        return cls;
    }

    function makeUnion(type, raw) {
        const obj = Object.create(unionClass(type).prototype);
        Object.defineProperty(obj, unionState, { value: { type, active: null, value: undefined, raw } });
        return obj;
    }

    function Union(type) {
        if (!new.target)
            throw new TypeError('This function is a constructor and must be called with new');
        if (arguments.length < 1)
            throw new TypeError('Expected 1 argument, got 0');
        const info = native.introspect(type);
        if (info.primitive !== 'Union')
            throw new TypeError(`Expected union type, got ${info.primitive}`);
        return makeUnion(native.resolve(type), null);
    }

    // fn.info and fn.async (spec FN-15, FN-16): computed on first access by shared getters,
    // then kept as plain properties.
    const lazy = (name, compute) => ({
        get() {
            const value = compute(this);
            Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
            return value;
        },
        enumerable: true,
        configurable: true,
    });
    const fixedProps = { info: lazy('info', native._infoOf), async: lazy('async', native._asyncOf) };
    const variadicProps = { info: fixedProps.info };
    const decorate = (fn, variadic) => { Object.defineProperties(fn, variadic ? variadicProps : fixedProps); };

    // Node.js itself (not another runtime implementing Node-API): the native side may then
    // check Node's callback layout once for a quicker path (see src/node/js/callinfo.rs).
    const isNode = process.release?.name === 'node' && !process.versions.bun && !process.versions.deno;
    // String literals are internalized strings: the native side checks how V8 lays them out.
    // V8 keeps one internalized string per text, made by whoever came first (Node 18 makes
    // 'koffi-rs', the package name, a two-byte string): texts nobody else is likely to use.
    const literals = ['koffi-rs probe', '12345 probe', 'a koffi-rs literal longer than sixteen bytes'];
    native._setup({ unionState, makeUnion, decorate, isNode, literals });

    const deprecated = (fn, message, code) => util.deprecate(fn, message, code);

    const load = (...args) => {
        const lib = native.load(...args);
        for (const [name, code] of [['cdecl', 'KOFFI003'], ['stdcall', 'KOFFI004'], ['fastcall', 'KOFFI005'], ['thiscall', 'KOFFI006']]) {
            const conv = '__' + name;
            lib[name] = deprecated(lib[name], `The koffi.${name}() function is deprecated, use koffi.func('${conv}', ...) instead`, code);
        }
        return lib;
    };

    // koffi.node.PollHandle / koffi.node.poll (spec NODE-02, NODE-03): a libuv poll handle.
    const pollEvents = (opts) => {
        const o = opts ?? { readable: true };
        return (o.readable ? 1 : 0) | (o.writable ? 2 : 0) | (o.disconnect ? 4 : 0);
    };
    class PollHandle {
        #handle;
        constructor(fd) {
            if (typeof fd !== 'number')
                throw new TypeError(`Unexpected ${typeName(fd)} value for descriptor, expected number`);
            this.#handle = native._pollOpen(fd, this);
        }
        start(opts, cb) {
            if (typeof opts === 'function' && cb === undefined)
                [opts, cb] = [undefined, opts];
            if (typeof cb !== 'function')
                throw new TypeError(`Unexpected ${typeName(cb)} value for callback, expected function`);
            if (this.#handle == null)
                throw new Error('This poll handle is closed');
            native._pollStart(this.#handle, pollEvents(opts), cb);
        }
        stop() { if (this.#handle != null) native._pollStop(this.#handle); }
        close() {
            if (this.#handle != null) {
                native._pollClose(this.#handle);
                this.#handle = null;
            }
        }
        ref() { if (this.#handle != null) native._pollRef(this.#handle, true); }
        unref() { if (this.#handle != null) native._pollRef(this.#handle, false); }
    }
    function poll(fd, opts, cb) {
        if (typeof fd !== 'number')
            throw new TypeError(`Unexpected ${typeName(fd)} value for descriptor, expected number`);
        if (typeof opts === 'function' && cb === undefined)
            [opts, cb] = [undefined, opts];
        if (typeof cb !== 'function')
            throw new TypeError(`Unexpected ${typeName(cb)} value for callback, expected function`);
        const handle = new PollHandle(fd);
        handle.start(opts, cb);
        return handle;
    }

    // koffi.struct / pack / union (spec REC-01): when every member is a type string, the common
    // case, the members reach the native side as one string 'name\0type\0...' (see
    // record_flat in src/node/api/types.rs): one Node-API call, where reading the object takes
    // three per member. Each member is read once whichever way the definition goes.
    const record = (kind, general) => function (...args) {
        const named = args.length === 2 && typeof args[0] === 'string';
        const members = args[args.length - 1];
        if ((!named && args.length !== 1) || typeof members !== 'object' || members === null || Array.isArray(members))
            return general(...args);
        const keys = Object.keys(members);
        const parts = new Array(2 * keys.length);
        let strings = true;
        for (let i = 0; i < keys.length; i++) {
            const type = members[keys[i]];
            strings &&= typeof type === 'string';
            parts[2 * i] = keys[i];
            parts[2 * i + 1] = type;
        }
        if (strings) {
            const type = native._recordFlat(kind, named ? args[0] : undefined, parts.join('\0'), keys.length);
            if (type !== undefined)
                return type;
        }
        // A null prototype: a member named __proto__ stays a member.
        const read = Object.create(null);
        for (let i = 0; i < keys.length; i++)
            read[keys[i]] = parts[2 * i + 1];
        args[args.length - 1] = read;
        return general(...args);
    };

    const api = {
        ...native,
        load,
        Union,
        struct: record(0, native.struct),
        pack: record(1, native.pack),
        union: record(2, native.union),
        node: { ...native.node, poll, PollHandle },
    };
    for (const key of Object.keys(api)) {
        if (key.startsWith('_'))
            delete api[key];
    }
    api.handle = deprecated(native.opaque, 'The koffi.handle() function was deprecated in Koffi 2.1, use koffi.opaque() instead', 'KOFFI001');
    api.callback = deprecated(native.proto, 'The koffi.callback() function was deprecated in Koffi 2.4, use koffi.proto() instead', 'KOFFI002');
    return api;
}

module.exports = { build };
