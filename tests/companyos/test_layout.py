"""The layout's rules that import-linter does not check: private names stay private, files stay readable."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
APPS = ["companyos", "tenancy", "connectors", "incidents", "kpis", "product", "delivery", "security", "finance",
        "scoring", "pipeline", "cockpit", "demo"]
LONGEST_FILE = 500


def project_modules(*folders):
    for folder in folders:
        yield from (path for path in (ROOT / folder).rglob("*.py") if "migrations" not in path.parts)


def imported_names(path):
    """(line, module, name) of every `from module import name` in the file at `path`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield node.lineno, node.module, alias.name


def test_no_module_imports_a_private_name_of_another_app():
    reaches = [
        f"{path.relative_to(ROOT)}:{line} imports {name} from {module}"
        for path in project_modules(*APPS, "tests")
        for line, module, name in imported_names(path)
        if name.startswith("_") and module.split(".")[0] != path.relative_to(ROOT).parts[0]
    ]
    assert reaches == []


def test_no_test_module_imports_another_test_module():
    reaches = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in project_modules("tests")
        for line, module, _ in imported_names(path)
        if module.startswith("tests.") and module.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert reaches == []


def test_no_source_file_is_longer_than_the_layout_allows():
    longer = {
        str(path.relative_to(ROOT)): length
        for path in project_modules(*APPS, "tests")
        if (length := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST_FILE
    }
    assert longer == {}
