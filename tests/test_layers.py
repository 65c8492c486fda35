"""The layers as the README draws them: what each part of verify may import, checked on the source."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "verify"


def _imports(path):
    """Every module ``path`` imports (``from x import y`` counts as x and x.y)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _modules(folder):
    return sorted(p for p in (PACKAGE / folder).rglob("*.py")) if folder else sorted(PACKAGE.glob("*.py"))


def _ours(imports, prefix):
    return {name for name in imports if name == prefix or name.startswith(prefix + ".")}


@pytest.mark.parametrize("path", _modules("registry"), ids=lambda p: p.name)
def test_the_registry_imports_no_services_routes_or_messaging(path):
    imports = _imports(path)
    assert not (_ours(imports, "verify.services") | _ours(imports, "verify.routes") | _ours(imports, "verify.messaging"))
    assert not {"flask", "twilio"} & {name.split(".")[0] for name in imports}


@pytest.mark.parametrize("path", _modules("services"), ids=lambda p: p.name)
def test_services_import_neither_flask_nor_redis_nor_routes(path):
    imports = _imports(path)
    assert not {"flask", "redis", "twilio", "werkzeug"} & {name.split(".")[0] for name in imports}
    assert not _ours(imports, "verify.routes")


@pytest.mark.parametrize("path", _modules("routes"), ids=lambda p: p.name)
def test_routes_use_services_not_the_registry_or_twilio(path):
    imports = _imports(path)
    assert not _ours(imports, "verify.registry") and not _ours(imports, "verify.messaging")
    assert not {"redis", "twilio"} & {name.split(".")[0] for name in imports}


@pytest.mark.parametrize("name", ["verdicts", "phones", "times", "errors", "settings", "segments"])
def test_pure_modules_import_nothing_of_ours(name):
    imports = _imports(PACKAGE / f"{name}.py")
    assert not _ours(imports, "verify")


@pytest.mark.parametrize("library, owner", [
    ("redis", "verify/registry/store.py"), ("twilio", "verify/messaging.py"), ("phonenumbers", "verify/phones.py"),
    ("flask_wtf", "verify/routes/forms.py"), ("flask_login", "verify/routes/logins.py"),
    ("flask_babel", "verify/routes/i18n.py"), ("limits", "verify/services/limits.py"),
    ("prometheus_client", "verify/routes/metrics.py"), ("argon2", "verify/services/passwords.py"),
    ("cryptography", "verify/services/sealing.py"),
])
def test_each_library_is_imported_in_one_module(library, owner):
    importers = {str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py") if library in {n.split(".")[0] for n in _imports(p)}}
    assert importers == {owner}


def test_importing_the_pure_rules_loads_no_framework():
    """In a fresh interpreter: the verdicts and phone rules load neither Flask nor redis nor twilio."""
    code = ("import sys, verify.verdicts, verify.phones; "
            "print(sorted(m for m in ('flask', 'redis', 'twilio', 'werkzeug') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_services_are_one_typed_container():
    import dataclasses
    import typing

    from verify.services import Services

    hints = typing.get_type_hints(Services)
    assert dataclasses.is_dataclass(Services) and Services.__dataclass_params__.frozen
    assert typing.Any not in hints.values() and all(isinstance(kind, type) for kind in hints.values())


def _functions():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                yield path, node


def test_no_function_over_40_lines():
    long = [f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1})" for path, node in _functions()
            if node.end_lineno - node.lineno + 1 > 40]
    assert long == []


def test_views_are_a_few_lines_that_call_one_service_operation():
    views = [(path, node) for path, node in _functions()
             if any(".route(" in d or d.startswith(("bp.get", "bp.post", "bp.patch", "bp.delete", "bp.route"))
                    for d in map(ast.unparse, node.decorator_list))]
    assert len(views) > 30
    long = [f"{path.name}:{node.name}" for path, node in views if node.end_lineno - node.lineno + 1 > 15]
    assert long == []


def test_ruff_is_clean():
    """The linter, with the rules in pyproject.toml, finds nothing (make test runs it too)."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--output-format", "concise", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
