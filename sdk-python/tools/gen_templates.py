"""Generates ``vitro_sdk.templates``: one module per template file under ``protocol/templates/``,
with a typed ``Protocol`` class of its methods (params as arguments, results as TypedDicts or
plain types) and the metadata the SDK needs (template reference, what it extends, each method's
parameter names)::

    python sdk-python/tools/gen_templates.py            # rewrite the committed modules
    python sdk-python/tools/gen_templates.py --check    # exit 1 when they differ
"""

from __future__ import annotations

import argparse
import json
import keyword
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "protocol" / "templates"
PACKAGE = ROOT / "sdk-python" / "src" / "vitro_sdk" / "templates"
HEADER = (
    '"""Generated from protocol/templates/{file} by sdk-python/tools/gen_templates.py; do not edit."""\n\n'
)
SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _doc(text: str, indent: int) -> str:
    """A docstring's text, wrapped to the line length at ``indent``."""
    lines = textwrap.wrap(text, width=104 - indent)
    return ("\n" + " " * indent).join(lines)


def _class_name(template: dict[str, Any]) -> str:
    return _camel(template["name"])


class Module:
    """One generated module: its TypedDicts and its Protocol."""

    def __init__(self) -> None:
        self.typed_dicts: list[str] = []

    def annotation(self, schema: dict[str, Any], name: str) -> str:
        """The Python type of a JSON Schema (the subset templates use)."""
        if "enum" in schema:
            return f"Literal[{', '.join(json.dumps(v) for v in schema['enum'])}]"
        if "anyOf" in schema:
            return " | ".join(self.annotation(s, name) for s in schema["anyOf"])
        kind = schema.get("type")
        if kind in SCALARS:
            return SCALARS[kind]
        if kind == "array":
            return f"list[{self.annotation(schema.get('items', {}), name + 'Item')}]"
        if kind == "object" and schema.get("properties"):
            return self.typed_dict(schema, name)
        if kind == "object":
            return "dict[str, Any]"
        return "Any"

    def typed_dict(self, schema: dict[str, Any], name: str) -> str:
        required = set(schema.get("required", []))
        lines = [f"class {name}(TypedDict):"]
        for prop, sub in schema["properties"].items():
            annotation = self.annotation(sub, name + _camel(prop))
            lines.append(f"    {prop}: {annotation if prop in required else f'NotRequired[{annotation}]'}")
        self.typed_dicts.append("\n".join(lines))
        return name

    def method(self, name: str, method: dict[str, Any]) -> str:
        params = method["params"]
        required = set(params.get("required", []))
        args = ["self"]
        for prop, sub in params.get("properties", {}).items():
            annotation = self.annotation(sub, _camel(name) + _camel(prop))
            arg = f"{prop}_" if keyword.iskeyword(prop) else prop
            if prop in required:
                args.append(f"{arg}: {annotation}")
            elif "default" in sub:
                args.append(f"{arg}: {annotation} = {sub['default']!r}")
            else:
                args.append(f"{arg}: {annotation} | None = None")
        result = self.annotation(method["result"], _camel(name) + "Result")
        doc = _doc(method["description"] + ("" if method["required"] else " (optional)"), 8)
        return f'    def {name}({", ".join(args)}) -> {result}:\n        """{doc}"""\n        ...'


def generate(path: Path, templates: dict[str, dict[str, Any]]) -> str:
    template = json.loads(path.read_text())
    reference = f"{template['name']}@{template['version']}"
    module = Module()
    methods = [module.method(name, m) for name, m in sorted(template["methods"].items())]
    parent = template.get("extends")
    imports = [
        "from __future__ import annotations",
        "",
        "from typing import Any, ClassVar, Literal, Protocol",
    ]
    imports.append("from typing_extensions import NotRequired, TypedDict")
    bases = "Protocol"
    if parent:
        parent_template = templates[parent]
        imports.append(f"\nfrom .{parent_template['name']} import {_class_name(parent_template)}")
        bases = f"{_class_name(parent_template)}, Protocol"
    params = {
        name: list(m["params"].get("properties", {})) for name, m in sorted(template["methods"].items())
    }
    body = [
        HEADER.format(file=path.name).rstrip("\n"),
        "",
        *imports,
        "",
        *[f"\n{t}\n" for t in module.typed_dicts],
        "",
        f"class {_class_name(template)}({bases}):",
        f'    """{_doc(template["description"] + f" (template ``{reference}``)", 4)}"""',
        "",
        f'    TEMPLATE: ClassVar[str] = "{reference}"',
        f"    EXTENDS: ClassVar[str | None] = {parent!r}",
        "    #: Each method's parameter names, in order.",
        f"    PARAMS: ClassVar[dict[str, list[str]]] = {params!r}",
        "",
        "\n\n".join(methods),
        "",
    ]
    return "\n".join(body)


def outputs() -> dict[str, str]:
    files = sorted(TEMPLATES.glob("*.json"))
    templates = {}
    for path in files:
        template = json.loads(path.read_text())
        templates[f"{template['name']}@{template['version']}"] = template
    result = {}
    names = []
    for path in files:
        template = json.loads(path.read_text())
        module = (
            template["name"] if template["version"] == 1 else f"{template['name']}_v{template['version']}"
        )
        result[f"{module}.py"] = generate(path, templates)
        names.append((module, _class_name(template)))
    init = [
        '"""Typed protocols of the device templates under ``protocol/templates/``: driver classes',
        "inherit them (``class LanClient(Device, Lan)``), tests get devices typed by them",
        '(``devices.by_template(Lan)``). Generated by sdk-python/tools/gen_templates.py; do not edit."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        *(f"from .{module} import {cls}" for module, cls in names),
        "",
        f"__all__ = {sorted(cls for _, cls in names)!r}",
        "",
        "#: Every template protocol, by reference (``lan@1``).",
        "BY_REFERENCE: dict[str, type[Any]] = {"
        + ", ".join(f"{cls}.TEMPLATE: {cls}" for _, cls in names)
        + "}",
        "",
    ]
    result["__init__.py"] = "\n".join(init)
    return result


def _formatted(files: dict[str, str]) -> dict[str, str]:
    """The files as ruff formats them (with the SDK's config), so that output is stable."""
    ruff = Path(sys.executable).parent / "ruff"
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        config = ROOT / "ruff.toml"
        subprocess.run(
            [ruff, "check", "--fix", "-q", "--select", "I,F401", "--config", config, tmp], check=True
        )
        subprocess.run([ruff, "format", "-q", "--config", config, tmp], check=True)
        return {name: (Path(tmp) / name).read_text() for name in files}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed modules differ")
    check = parser.parse_args().check
    files = _formatted(outputs())
    stale = [
        name
        for name, text in files.items()
        if not (PACKAGE / name).exists() or (PACKAGE / name).read_text() != text
    ]
    if check:
        if stale:
            print(
                f"vitro_sdk/templates/{{{','.join(stale)}}} are stale: run sdk-python/tools/gen_templates.py"
            )
            return 1
        return 0
    PACKAGE.mkdir(exist_ok=True)
    for name in stale:
        (PACKAGE / name).write_text(files[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
