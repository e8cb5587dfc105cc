#!/usr/bin/env python3
"""The include check of the test command: the project's own #include lines must form no
cycle, neither between modules (a .h/.cpp pair) nor between folders; a folder includes only
from the layers below its own (LAYERS); and cpp-httplib is included only by the
implementation files that speak HTTP.

Usage: scripts/check_includes.py [--graph]   (--graph prints the folder graph)
Exit status 0 when every rule holds; 1 with one line per broken rule otherwise.
"""
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIRS = ["common", "protocol", "counting", "capture", "analysis", "tools", "tests", "fuzz"]
# Each folder's layer: a file may include headers of its own folder and of folders of a lower
# layer only, so that arrows point down (the libraries' CMakeLists.txt link the same way).
# A new folder must be placed here.
LAYERS = {
    "common": 0,
    "protocol": 1,
    "counting": 1,
    "capture": 2,
    "analysis/domain": 2,
    "analysis/store": 3,
    "analysis/reports": 3,
    "analysis/ingest": 3,
    "analysis/web": 4,
    "analysis/app": 5,
    "tools": 6,
    "tests/support": 6,
    "tests": 7,
    "fuzz": 7,
}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)

# Files that may include <httplib.h>: the web layer's and the upload client's implementation
# files, and tests and fuzz targets (which are HTTP clients of the real service). A header
# only when it is private to the web layer (included by its .cpp files alone): any other
# header that includes it hands it to everyone who includes that header.
WEB_PRIVATE_HEADER = re.compile(r"^analysis/web/[^/]+\.h$")
WEB_SOURCE = re.compile(r"^analysis/web/[^/]+\.cpp$")
HTTPLIB_ALLOWED = [
    re.compile(r"^analysis/web/[^/]+\.cpp$"),
    re.compile(r"^protocol/[^/]+\.cpp$"),
    re.compile(r"^tests/"),
    re.compile(r"^fuzz/.+\.cpp$"),
]


def sources():
    for top in SOURCE_DIRS:
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            if "node_modules" in dirpath:
                continue
            for name in sorted(files):
                if name.endswith((".h", ".cpp")):
                    yield os.path.relpath(os.path.join(dirpath, name), ROOT)


def find_cycles(graph):
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index, low, on_stack, stack, result = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return result


def main():
    files = list(sources())
    known = set(files)
    modules = defaultdict(set)  # module -> modules it includes
    folders = defaultdict(set)  # folder -> folders it includes
    why = {}  # (folder, folder) -> one include that makes the edge
    problems = []
    includers = defaultdict(set)  # header -> files that include it
    httplib_headers = []
    for path in files:
        text = open(os.path.join(ROOT, path), encoding="utf-8").read()
        module = os.path.splitext(path)[0]
        folder = os.path.dirname(path)
        if folder not in LAYERS:
            problems.append(f"{path}: its folder {folder} has no layer in LAYERS")
        modules.setdefault(module, set())
        folders.setdefault(folder, set())
        for kind, target in INCLUDE.findall(text):
            if kind == "<" and target == "httplib.h":
                if WEB_PRIVATE_HEADER.match(path):
                    httplib_headers.append(path)
                elif not any(rule.match(path) for rule in HTTPLIB_ALLOWED):
                    problems.append(f"{path}: includes <httplib.h>; only the web layer's and the "
                                    "upload client's .cpp files may")
            if kind != '"':
                continue
            if target not in known:
                if target.split("/")[0] in SOURCE_DIRS:
                    problems.append(f"{path}: includes \"{target}\", which does not exist")
                continue
            includers[target].add(path)
            other = os.path.splitext(target)[0]
            if other != module:
                modules[module].add(other)
            other_folder = os.path.dirname(target)
            if other_folder != folder and folder in LAYERS and other_folder in LAYERS:
                if LAYERS[other_folder] >= LAYERS[folder]:
                    problems.append(f"{path}: includes {target}, of layer "
                                    f"{LAYERS[other_folder]} ({other_folder}), from layer "
                                    f"{LAYERS[folder]} ({folder}); arrows point down only")
            if other_folder != folder:
                folders[folder].add(other_folder)
                why.setdefault((folder, other_folder), f"{path} includes {target}")

    for header in httplib_headers:
        # Its includers: the web layer's .cpp files, its other headers that include
        # <httplib.h> themselves (checked the same way), or files that may include it anyway.
        outside = sorted(p for p in includers[header]
                         if not WEB_SOURCE.match(p) and p not in httplib_headers
                         and not any(rule.match(p) for rule in HTTPLIB_ALLOWED))
        if outside:
            problems.append(f"{header}: includes <httplib.h> and is included by "
                            f"{', '.join(outside)}; only the web layer's .cpp files may")

    for cycle in find_cycles(modules):
        problems.append("include cycle between modules: " + " <-> ".join(cycle))
    for cycle in find_cycles(folders):
        edges = [why[(a, b)] for a in cycle for b in cycle if (a, b) in why]
        problems.append("include cycle between folders " + ", ".join(cycle) + ": " +
                        "; ".join(edges))

    if "--graph" in sys.argv:
        for folder in sorted(folders):
            print(f"{folder} -> {', '.join(sorted(folders[folder])) or '(nothing)'}")
    for p in problems:
        print("check_includes: " + p)
    if problems:
        return 1
    print(f"check_includes: {len(files)} files, {len(modules)} modules, {len(folders)} folders: "
          "no include cycle, <httplib.h> only where HTTP is spoken")
    return 0


if __name__ == "__main__":
    sys.exit(main())
