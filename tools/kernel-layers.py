#!/usr/bin/env python3
"""Measures the kernel's layering: which kernel files import which, and the
circles (strongly connected components) those imports form.

Why it exists: the kernel's modules are meant to form layers (arch below
trap; syscall -> object -> process/sched/mm; sched owning thread state;
persist reading objects through a narrow interface), with no circle of imports wider
than one module's own files. This script reads every `use crate::...`,
`crate::x::...`, `super::...` and `self::...` path in kernel/src, resolves
it to the file that defines the module, and prints every circle of more
than one file, and the circles between top-level modules.

    python3 tools/kernel-layers.py            # report
    python3 tools/kernel-layers.py --check    # also fail (exit 1) if a
                                              # circle spans several modules
    python3 tools/kernel-layers.py --edges    # also list module -> module
    python3 tools/kernel-layers.py DIR        # measure another kernel/src
"""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernel", "src")


def module_of(path):
    """`object/port.rs` -> ('object', 'port'); `main.rs` -> ()."""
    rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
    if rel == "main.rs":
        return ()
    parts = rel[: -len(".rs")].split("/")
    if parts[-1] == "mod":
        parts = parts[:-1]
    # main.rs mounts arch/x86_64/ as `arch`.
    if parts[:2] == ["arch", "x86_64"]:
        parts = ["arch"] + parts[2:]
    return tuple(parts)


def strip_comments_and_strings(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def expand_use(tree):
    """Expands a use tree (`a::{b, c::{d, self}}`) into full paths."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, s):
        # split s at top-level commas
        depth, start, items = 0, 0, []
        for i, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(s[start:i])
                start = i + 1
        items.append(s[start:])
        for item in items:
            if not item:
                continue
            brace = item.find("{")
            if brace >= 0 and item.endswith("}"):
                head = item[:brace].rstrip(":")
                walk(prefix + ([p for p in head.split("::") if p] if head else []), item[brace + 1 : -1])
            else:
                item = re.sub(r"\bas\b.*$", "", item)
                parts = [p for p in item.split("::") if p]
                if parts == ["self"]:
                    out.append(prefix)
                elif parts != ["*"]:
                    out.append(prefix + [p for p in parts if p != "*"])
                else:
                    out.append(prefix)

    walk([], tree)
    return out


def resolve(path, here, modules, macros):
    """The module a path names: the longest prefix that is a module."""
    if not path:
        return None
    if path[0] == "crate":
        rest = path[1:]
    elif path[0] == "super":
        base = list(here)
        i = 0
        while i < len(path) and path[i] == "super":
            base = base[:-1]
            i += 1
        rest = base + path[i:]
    elif path[0] == "self":
        rest = list(here) + path[1:]
    else:
        return None
    if len(rest) == 1 and rest[0] in macros:
        return macros[rest[0]]
    best = ()
    for n in range(len(rest), 0, -1):
        if tuple(rest[:n]) in modules:
            best = tuple(rest[:n])
            break
    return best


def load():
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    files[module_of(path)] = strip_comments_and_strings(f.read())
    # Names the crate root provides: exported macros, and items it
    # re-exports (`pub use panic::fail;`), each of the file defining it.
    macros = {}
    for mod, text in files.items():
        for m in re.finditer(r"#\[macro_export\]\s*macro_rules!\s*(\w+)", text):
            macros[m.group(1)] = mod
    for m in re.finditer(r"\bpub\s+use\s+([\w:]+)::(\w+)(?:\s+as\s+(\w+))?;", files.get((), "")):
        path = tuple(p for p in m.group(1).split("::") if p != "crate")
        if path in files:
            macros[m.group(3) or m.group(2)] = path
    return files, macros


def edges_of(files, macros):
    modules = set(files)
    edges = {mod: set() for mod in files}
    for mod, text in files.items():
        # `mod.rs` files are the module itself; `self::` in a leaf file
        # means that file's module.
        paths = []
        for m in re.finditer(r"\buse\s+((?:crate|super|self)\b[^;]*);", text):
            paths.extend(expand_use(m.group(1)))
        body = re.sub(r"\buse\s+[^;]*;", "", text)
        for m in re.finditer(r"\b((?:crate|super|self)(?:::\w+)+)", body):
            paths.append(m.group(1).split("::"))
        # A file names its own child modules (`mod port;`) without `self::`.
        children = re.findall(r"^\s*(?:pub(?:\([\w:]+\))?\s+)?mod\s+(\w+)\s*;", text, flags=re.M)
        if children and mod != ():
            kids = "|".join(sorted(set(children)))
            for m in re.finditer(r"\buse\s+((?:%s)\b[^;]*);" % kids, text):
                paths.extend(["self"] + p for p in expand_use(m.group(1)))
            for m in re.finditer(r"(?<![\w:])((?:%s)(?:::\w+)+)" % kids, body):
                paths.append(["self"] + m.group(1).split("::"))
        if mod == ():
            # The crate root names its modules without `crate::`.
            roots = "|".join(sorted({m[0] for m in modules if m}))
            for m in re.finditer(r"\buse\s+((?:%s)\b[^;]*);" % roots, text):
                paths.extend(["crate"] + p for p in expand_use(m.group(1)))
            for m in re.finditer(r"(?<![\w:])((?:%s)(?:::\w+)+)" % roots, body):
                paths.append(["crate"] + m.group(1).split("::"))
        for path in paths:
            target = resolve(path, mod, modules, macros)
            if target is not None and target != mod and target in modules:
                edges[mod].add(target)
    return edges


def sccs(edges):
    """Tarjan's algorithm, iterative."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    out.append(sorted(comp))
    return out


def name(mod):
    return "::".join(mod) if mod else "main"


def top(mod):
    return mod[0] if mod else "main"


def main():
    global ROOT
    dirs = [a for a in sys.argv[1:] if not a.startswith("--")]
    if dirs:
        ROOT = dirs[0]
    files, macros = load()
    edges = edges_of(files, macros)
    file_circles = [c for c in sccs(edges) if len(c) > 1]
    tops = {}
    for mod, targets in edges.items():
        tops.setdefault(top(mod), set()).update(top(t) for t in targets if top(t) != top(mod))
    module_circles = [c for c in sccs(tops) if len(c) > 1]

    print(f"kernel files: {len(files)}, top-level modules: {len(tops)}")
    print(f"file circles (more than one file): {len(file_circles)}")
    for comp in sorted(file_circles, key=len, reverse=True):
        spans = sorted({top(m) for m in comp})
        print(f"  {len(comp)} files across {len(spans)} module(s) {', '.join(spans)}:")
        print("    " + " ".join(name(m) for m in comp))
    print(f"module circles (more than one top-level module): {len(module_circles)}")
    for comp in sorted(module_circles, key=len, reverse=True):
        print(f"  {len(comp)} modules: {' '.join(comp)}")
    if "--edges" in sys.argv:
        print("module imports:")
        for mod in sorted(tops):
            print(f"  {mod} -> {' '.join(sorted(tops[mod]))}")
    wide = [c for c in file_circles if len({top(m) for m in c}) > 1]
    if "--check" in sys.argv and (wide or module_circles):
        print("FAIL: a circle of imports spans more than one module")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
