"""The packages are layered: no import cycle, at module level or inside functions.

Every import of chaingrad's own modules is read from the source (module level
and inside functions alike); the graph they form must have no cycle.  An
import inside a function is allowed only for the CLI's fast start (an optional
heavy dependency loaded when needed), with a comment on its line saying why.
"""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = {"autograd": "chaingrad.autograd", "nn": "chaingrad.nn", "optim": "chaingrad.optim",
           "chaingrad": "chaingrad"}


def _modules():
    out = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            out[".".join([package] + parts)] = path
    return out


MODULES = _modules()


def test_the_walk_finds_every_package():
    assert {m.split(".")[1] if m.count(".") else m for m in MODULES} >= {"autograd", "nn", "optim", "chaingrad"}
    assert len(MODULES) > 60


def _known(name):
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(module, path, node):
    """The project's modules an import statement names."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = module.split(".")
            if path.name != "__init__.py":
                parts = parts[:-1]
            parts = parts[:len(parts) - (node.level - 1)]
            base = ".".join(parts + ([base] if base else []))
        names = [f"{base}.{a.name}" if _known(f"{base}.{a.name}") == f"{base}.{a.name}" else base
                 for a in node.names]
    for bare in ("autograd", "nn", "optim"):
        names = ["chaingrad." + n if n == bare or n.startswith(bare + ".") else n for n in names]
    return {t for t in (_known(n) for n in names) if t and t != module}


def _imports():
    """module -> set of (target, inside a function?, the source line)."""
    edges = {}
    for module, path in MODULES.items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        top = {id(n) for n in tree.body}
        for stmt in tree.body:                      # `if TYPE_CHECKING:` / try blocks count as top level
            if isinstance(stmt, (ast.If, ast.Try)):
                top |= {id(n) for n in ast.walk(stmt)}
        found = edges.setdefault(module, set())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for t in _targets(module, path, node):
                    found.add((t, id(node) not in top, lines[node.lineno - 1]))
    return edges


def _cycles(graph):
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        comps.append(sorted(comp))
    return comps


def test_no_import_cycle_at_module_level_or_inside_functions():
    edges = _imports()
    graph = {m: {t for t, _, _ in targets} for m, targets in edges.items()}
    assert _cycles(graph) == []


def test_a_cycle_is_found_when_there_is_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_inside_functions_are_lazy_starts_with_a_reason():
    unexplained = []
    for module, targets in _imports().items():
        for target, inside, line in targets:
            if inside and "#" not in line:
                unexplained.append(f"{module} -> {target}: {line.strip()}")
    assert unexplained == []


def test_the_engine_never_imports_nn_or_optim():
    for module, targets in _imports().items():
        if module.startswith("chaingrad.autograd"):
            bad = [t for t, _, _ in targets if t.startswith(("chaingrad.nn", "chaingrad.optim"))]
            assert bad == [], module
