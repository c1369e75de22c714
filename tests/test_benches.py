"""Every bench in bench/ imports and exposes its entry point, and the ones with options answer
--help on their own, so a broken bench fails here rather than when someone next runs it.
Nothing heavy runs: no database, no network, no data set."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import models  # noqa: F401  the package, before a bench folder on sys.path could shadow it

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
BENCHES = sorted(path.name for path in BENCH_DIR.glob("*.py"))
# Sections the runner bench/models.py imports by name and calls with its options.
SECTIONS = ("churn_clv", "forecasts", "attribution")
# Benches that run only through the runner for now (they expose `run(args)`, not `main`).
RUNNER_ONLY: set[str] = set()  # benches that only the model runner starts


def _load(name: str, monkeypatch: pytest.MonkeyPatch):
    """Import bench/<name> under a private module name, as `python bench/<name>` would see it."""
    monkeypatch.setattr(sys, "path", [str(BENCH_DIR), *sys.path])
    spec = importlib.util.spec_from_file_location(f"bench_{Path(name).stem}", BENCH_DIR / name)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_the_bench_folder_is_as_expected():
    assert {"models.py", "churn_clv.py", "_prepare.py", "pages.py"} <= set(BENCHES)


@pytest.mark.parametrize("name", BENCHES)
def test_each_bench_imports_and_exposes_its_entry_point(name, monkeypatch):
    module = _load(name, monkeypatch)
    if name in RUNNER_ONLY:
        assert callable(getattr(module, "run", None)), f"bench/{name} has no run(args)"
    else:
        assert callable(getattr(module, "main", None)), f"bench/{name} has no main()"


def test_the_runner_loads_each_section(monkeypatch):
    runner = _load("models.py", monkeypatch)
    assert set(runner.SECTIONS.values()) == set(SECTIONS)
    for name in runner.SECTIONS:
        module = runner.load_section(name)
        assert callable(module.run), name
    timing = sys.modules["churn_clv"].timed(lambda: 1)[1]  # the section's dataclass builds
    assert timing.wall >= 0


@pytest.mark.parametrize("name", [name for name in BENCHES if name not in RUNNER_ONLY])
def test_each_bench_answers_help_on_its_own(name):
    result = subprocess.run([sys.executable, str(BENCH_DIR / name), "--help"], capture_output=True, text=True,
                            timeout=300, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage:" in result.stdout


def test_the_runner_rejects_an_unknown_section():
    result = subprocess.run([sys.executable, str(BENCH_DIR / "models.py"), "--only", "nonsense"],
                            capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    assert result.returncode == 2 and "unknown sections" in result.stderr
