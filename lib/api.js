// The JavaScript half of the API: the module object (spec MOD-01, MOD-02), union instances
// (spec UNI-04..UNI-09) and the deprecated wrappers with their warnings.
'use strict';

const util = require('util');

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

    native._setup({ unionState, makeUnion });

    const deprecated = (fn, message, code) => util.deprecate(fn, message, code);

    const load = (...args) => {
        const lib = native.load(...args);
        for (const [name, code] of [['cdecl', 'KOFFI003'], ['stdcall', 'KOFFI004'], ['fastcall', 'KOFFI005'], ['thiscall', 'KOFFI006']]) {
            const conv = '__' + name;
            lib[name] = deprecated(lib[name], `The koffi.${name}() function is deprecated, use koffi.func('${conv}', ...) instead`, code);
        }
        return lib;
    };

    const api = { ...native, load, Union };
    delete api._setup;
    api.handle = deprecated(native.opaque, 'The koffi.handle() function was deprecated in Koffi 2.1, use koffi.opaque() instead', 'KOFFI001');
    api.callback = deprecated(native.proto, 'The koffi.callback() function was deprecated in Koffi 2.4, use koffi.proto() instead', 'KOFFI002');
    return api;
}

module.exports = { build };
