// koffi-rs as an ES module: `import koffi from 'koffi-rs'` gives the same object as require(),
// and the functions are named exports too (`import { load, struct } from 'koffi-rs'`), as in
// Koffi 3. The list is the CommonJS module's own keys, no more and no fewer.
import koffi from './index.js';

export default koffi;

export const {
    load, struct, pack, union, opaque, pointer, array, alias, proto, disposable,
    out, inout, as, sizeof, alignof, offsetof, resolve, introspect,
    config, stats, errno, reset, alloc, free, decode, encode, address, view, call,
    register, unregister, types, os, node, version, implementation, extension,
    Union, handle, callback,
} = koffi;

// `in` is a reserved word: it can be exported, not declared.
const { in: in_ } = koffi;
export { in_ as in };
