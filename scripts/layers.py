#!/usr/bin/env python3
"""The import graph of the binding (src/node): which file uses which, the rooms' order, and
any import that runs back up or goes round in a circle. `python3 scripts/layers.py` prints the
map; `--check` exits non-zero on an upward import or a circle outside the allowed room."""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'node')
# Rooms from the bottom up; a file may use files of its own room and of the rooms below.
ROOMS = ['js', 'instance', 'convert', 'calls', 'api', '']
# The one room whose files may import each other in a circle, and why (see src/node/instance/mod.rs).
CIRCLE_OK = {'instance'}

def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel[-1] == 'mod':
        rel = rel[:-1]
    return tuple(rel)

def strip(src):
    src = re.sub(r'//[^\n]*', '', src)
    src = re.sub(r'"(\\.|[^"\\])*"', '""', src)
    return src

def main():
    files = {}
    for d, _, names in os.walk(ROOT):
        for n in names:
            if n.endswith('.rs'):
                p = os.path.join(d, n)
                files[module_of(p)] = p
    edges = {m: set() for m in files}
    for m, p in files.items():
        src = strip(open(p).read())
        # `#[cfg(test)] mod tests` may use its parent freely.
        src = src.split('#[cfg(test)]')[0]
        paths = re.findall(r'\b((?:crate|super|self)(?:::\w+)+)', src)
        # A module's own `use child::…` (re-exports) names a child without a prefix.
        paths += ['self::' + c for c in re.findall(r'^\s*(?:pub(?:\([^)]*\))? )?use (\w+)::', src, re.M)
                  if m + (c,) in files]
        for path in paths:
            parts = path.split('::')
            if parts[0] == 'crate':
                if len(parts) < 2 or parts[1] != 'node':
                    continue
                base, rest = (), parts[2:]
            else:
                base = m
                while parts and parts[0] in ('super', 'self'):
                    if parts[0] == 'super':
                        base = base[:-1]
                    parts = parts[1:]
                rest = parts
            target = base
            for part in rest:
                if base + (part,) in files or tuple(list(target) + [part]) in files:
                    target = target + (part,)
                else:
                    break
            if target != m and target in files:
                edges[m].add(target)
    def room(mod):
        return mod[0] if mod and mod[0] in ROOMS else ''
    bad = []
    for m, ts in edges.items():
        for t in ts:
            if ROOMS.index(room(t)) > ROOMS.index(room(m)):
                bad.append(f'upward: {"/".join(m)} -> {"/".join(t)}')
    # Strongly connected components (Tarjan).
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: sccs.append(comp)
    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index: visit(v)
    for comp in sccs:
        rooms = {room(c) for c in comp}
        names = ', '.join(sorted('/'.join(c) or 'mod' for c in comp))
        if len(rooms) == 1 and rooms <= CIRCLE_OK:
            print(f'circle (allowed, one room): {names}')
        else:
            bad.append(f'circle: {names}')
    if '--check' not in sys.argv:
        for r in ROOMS:
            mods = sorted(m for m in files if room(m) == r)
            lines = sum(sum(1 for _ in open(files[m])) for m in mods)
            print(f'\n[{r or "node (registration)"}] {lines} lines')
            for m in mods:
                uses = sorted('/'.join(t) or 'mod' for t in edges[m])
                n = sum(1 for _ in open(files[m]))
                print(f'  {"/".join(m) or "mod":28} {n:5}  uses: {", ".join(uses)}')
    for b in bad:
        print(b)
    sys.exit(1 if bad and '--check' in sys.argv else 0)

main()
