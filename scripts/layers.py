#!/usr/bin/env python3
"""The module graph of src/: each top-level module (folder or file) is a node,
each `use crate::X` / `crate::X::` reference an edge. Prints the edges, any
cycle, and any edge against the documented layer order; exits 1 on either.

Layer order, bottom to top (a module may import only from layers below it):
  exit, limits, ui < mapping < config < plan < canon < db < engine < seed
  < timing < report < manifest < pipeline < cli < cmd < lib, main
Usage: python3 scripts/layers.py [--edges]
"""
import os, re, sys
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
ORDER = [["exit", "limits", "ui"], ["mapping"], ["config"], ["plan"], ["canon"], ["db"],
         ["engine"], ["seed"], ["timing"], ["report"], ["manifest"], ["pipeline"], ["cli"], ["cmd"], ["lib", "main"]]
RANK = {m: i for i, layer in enumerate(ORDER) for m in layer}
REF = re.compile(r"\bcrate::(\w+)")
USE_GROUP = re.compile(r"use\s+crate::\{([^;]*)\};", re.S)

def node_of(path):
    rel = os.path.relpath(path, ROOT)
    head = rel.split(os.sep)[0]
    return head[:-3] if head.endswith(".rs") else head

def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)

edges = {}
for dirpath, _, files in os.walk(ROOT):
    for f in files:
        if not f.endswith(".rs"):
            continue
        p = os.path.join(dirpath, f)
        src = node_of(p)
        text = strip_comments(open(p, encoding="utf-8").read())
        targets = set(REF.findall(text))
        for group in USE_GROUP.findall(text):
            for part in re.split(r",(?![^{]*\})", group):
                m = re.match(r"\s*(\w+)", part)
                if m:
                    targets.add(m.group(1))
        for t in targets:
            if t != src and (t in RANK):
                edges.setdefault(src, set()).add(t)

bad = 0
if "--edges" in sys.argv:
    for s in sorted(edges):
        print(f"{s} -> {', '.join(sorted(edges[s]))}")
for s in sorted(edges):
    for t in sorted(edges[s]):
        if s in RANK and RANK[t] > RANK[s]:
            print(f"upward import: {s} -> {t}")
            bad = 1
# cycles (Tarjan-free DFS)
state, stack = {}, []
def dfs(n):
    global bad
    state[n] = 1; stack.append(n)
    for t in sorted(edges.get(n, ())):
        if state.get(t) == 1:
            print("cycle: " + " -> ".join(stack[stack.index(t):] + [t])); bad = 1
        elif t not in state:
            dfs(t)
    stack.pop(); state[n] = 2
for n in sorted(edges):
    if n not in state:
        dfs(n)
print("module graph: " + ("no cycle, no upward import" if not bad else "FAILS"), file=sys.stderr)
sys.exit(bad)
