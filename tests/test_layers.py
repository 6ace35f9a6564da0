"""The layers of docs/DESIGN.md hold: no module imports one on a higher floor, and the model
imports nothing of ours."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mycrmd"

# The floors of docs/DESIGN.md, by module path prefix; the longest prefix decides.
FLOORS = {
    "mycrmd": 0,  # the package's face: its version
    "mycrmd.model": 0,
    "mycrmd.safety": 1,
    "mycrmd.system": 1,
    "mycrmd.config": 2,
    "mycrmd.system.config_writer": 2,
    "mycrmd.mail": 3,
    "mycrmd.customers.fields": 3,
    "mycrmd.customers.addresses": 3,
    "mycrmd.customers.csv_format": 3,
    "mycrmd.store": 4,
    "mycrmd.customers.importing": 5,
    "mycrmd.customers.exporting": 5,
    "mycrmd.jobs": 6,
    "mycrmd.web": 7,
    "mycrmd.daemon": 8,
    "mycrmd.cli": 9,
    "mycrmd.__main__": 9,
}


def floor(module: str) -> int:
    prefixes = [p for p in FLOORS if module == p or module.startswith(p + ".")]
    return FLOORS[max(prefixes, key=len)]


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports() -> list[tuple[str, str]]:
    """(importing module, imported name) for every import of ours in the package."""
    found = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] == "mycrmd":
                    found += [(module, f"{node.module}.{alias.name}") for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(module, a.name) for a in node.names if a.name.startswith("mycrmd")]
    return found


def test_no_import_runs_up_a_floor() -> None:
    upward = [
        f"{importer} (floor {floor(importer)}) imports {imported} (floor {floor(imported)})"
        for importer, imported in imports()
        if floor(imported) > floor(importer)
    ]
    assert upward == []


def test_the_model_imports_nothing_of_ours_but_itself() -> None:
    outside = [
        (importer, imported)
        for importer, imported in imports()
        if importer.startswith("mycrmd.model") and not imported.startswith("mycrmd.model")
    ]
    assert outside == []


def test_every_floor_names_a_module_that_exists() -> None:
    """A renamed package would otherwise fall silently to its parent's floor."""
    names = modules()
    missing = [p for p in FLOORS if not any(m == p or m.startswith(p + ".") for m in names)]
    assert missing == []
