"""The import direction holds (the import-linter contracts in setup.cfg), and no module imports
itself round a loop of first-party imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("dashboard", "callbacks", "layouts", "models", "etl")

# Import cycles of the sign-in and audit modules that are already gone on the main line (dashboard.credentials
# and dashboard.audit_export took the shared parts): once that work is merged here, the check below reports
# these entries as gone and the list must be emptied. Each entry: the modules of one cycle, and its cause.
CYCLES_BEING_REMOVED: dict[frozenset[str], str] = {}

LINT_IMPORTS = ("import sys; from importlinter.cli import lint_imports; "
                "sys.exit(lint_imports(config_filename='setup.cfg', no_cache=True, no_logo=True))")


def test_import_contracts_are_kept() -> None:
    """Every [importlinter:contract:*] of setup.cfg holds (import-linter, with its own message when not)."""
    setup_cfg = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert setup_cfg.count("[importlinter:contract:") >= 5, "the contracts are missing from setup.cfg"
    linted = subprocess.run([sys.executable, "-c", LINT_IMPORTS], cwd=ROOT, capture_output=True, text=True,
                            check=False, timeout=600)
    report = linted.stdout + linted.stderr
    assert "Contracts:" in report, report[-2000:]
    broken = report[report.find("Broken contracts"):] if "Broken contracts" in report else report
    assert linted.returncode == 0, f"import contracts broken:\n{broken.strip()}"
    assert " 0 broken" in report


def _graph() -> grimp.ImportGraph:
    # Imports under `if TYPE_CHECKING:` never run, so they cannot make a cycle. Imports inside
    # functions do count: only dashboard.cli may import lazily, and no module imports the CLI.
    return grimp.build_graph(*FIRST_PARTY, exclude_type_checking_imports=True)


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one module (iterative: the graph is a few hundred modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            successor = next(successors, None)
            if successor is not None:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges[successor]))))
                elif successor in on_stack:
                    low[node] = min(low[node], index[successor])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _simple_cycles(component: list[str], edges: dict[str, set[str]], limit: int = 200) -> list[list[str]]:
    """The loops inside one component, each found once (from its smallest module)."""
    members = set(component)
    cycles: list[list[str]] = []
    for start in component:
        allowed = {m for m in members if m >= start}
        paths = [[start]]
        while paths and len(cycles) < limit:
            path = paths.pop()
            for successor in sorted(edges[path[-1]] & allowed):
                if successor == start:
                    cycles.append(path)
                elif successor not in path:
                    paths.append([*path, successor])
    return cycles


def find_cycles() -> list[list[str]]:
    """Every loop of first-party imports, as the modules in import order."""
    graph = _graph()
    edges = {module: set(graph.find_modules_directly_imported_by(module)) & graph.modules
             for module in graph.modules}
    return [cycle for component in _strongly_connected(edges) for cycle in _simple_cycles(component, edges)]


def _describe(cycle: list[str], graph: grimp.ImportGraph) -> str:
    steps = []
    for importer, imported in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
        lines = sorted({d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)})
        steps.append(f"{importer} -> {imported} (line {', '.join(map(str, lines))})")
    return "\n    ".join(steps)


def test_the_cycle_finder_finds_a_loop() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert _strongly_connected(edges) == [["a", "b", "c"]]
    assert _simple_cycles(["a", "b", "c"], edges) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles = find_cycles()
    unexpected = [cycle for cycle in cycles if frozenset(cycle) not in CYCLES_BEING_REMOVED]
    assert not unexpected, "import cycles among first-party modules:\n  " + "\n  ".join(
        _describe(cycle, graph) for cycle in unexpected)


def test_cycles_being_removed_still_exist() -> None:
    """An entry of CYCLES_BEING_REMOVED whose cycle is gone must leave the list."""
    found = {frozenset(cycle) for cycle in find_cycles()}
    gone = [sorted(cycle) for cycle in CYCLES_BEING_REMOVED if cycle not in found]
    assert not gone, f"no longer cycles, remove them from CYCLES_BEING_REMOVED: {gone}"
