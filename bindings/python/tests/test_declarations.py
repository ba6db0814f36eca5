"""The package's declarations have one source each and agree with the objects they declare.

``mqtt_status/__init__.py`` is typed and is its own declaration: no ``__init__.pyi`` repeats it
(a stub beside it would shadow it for type checkers). The native module cannot declare itself,
so ``_native.pyi`` does, and this test holds it to the extension (stubtest does too, in CI):
every name and method declared exists, and every public one that exists is declared. The
wrappers' shared methods (``_Handle``) are the native classes' common ones.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Dict, Set

import mqtt_status
from mqtt_status import StatusEngine, StatusStore, _native
from mqtt_status import _errors

PACKAGE = Path(mqtt_status.__file__).parent


def stub() -> ast.Module:
    return ast.parse((PACKAGE / "_native.pyi").read_text(encoding="utf-8"))


def declared_classes() -> Dict[str, Set[str]]:
    """Method and property names of each class in ``_native.pyi`` (dunders left out)."""
    out: Dict[str, Set[str]] = {}
    for node in stub().body:
        if isinstance(node, ast.ClassDef):
            names = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            out[node.name] = {n for n in names if not n.startswith("__")}
    return out


def public(cls: type) -> Set[str]:
    return {n for n in vars(cls) if not n.startswith("_")}


def test_no_stub_repeats_the_typed_package() -> None:
    assert (PACKAGE / "py.typed").exists()
    assert not (PACKAGE / "__init__.pyi").exists(), "__init__.py is typed: a .pyi would repeat it"
    assert not (PACKAGE / "_errors.pyi").exists()


def test_native_stub_declares_exactly_the_extension() -> None:
    declared = declared_classes()
    for name in ("Engine", "Store", "Transition"):
        real = getattr(_native, name)
        assert declared[name] == public(real), f"_native.{name}: declared vs real methods"
    module_names = {
        t.id
        for node in stub().body
        if isinstance(node, (ast.AnnAssign, ast.Assign))
        for t in ([node.target] if isinstance(node, ast.AnnAssign) else node.targets)
        if isinstance(t, ast.Name) and not t.id.startswith("_")
    }
    classes = {n for n in declared if not n.startswith("_")}
    assert module_names | classes == {n for n in vars(_native) if not n.startswith("_")}
    exported = next(
        ast.literal_eval(node.value)
        for node in stub().body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    )
    assert set(exported) == set(_native.__all__)


def test_the_wrappers_delegate_to_declared_native_methods() -> None:
    """Each public wrapper method of the engine and the store is backed by a native method of the
    same name (or the documented pair: ``ingest_many`` -> ``ingest_many`` + ``ingest_items``;
    ``closed`` -> ``is_closed``; the Python-only conversions ``restore``/``merge``/``open``)."""
    declared = declared_classes()
    backed = {"closed": "is_closed"}
    for wrapper, native in ((StatusEngine, "Engine"), (StatusStore, "Store")):
        names = {n for c in inspect.getmro(wrapper) if c is not object for n in public(c)}
        for name in names:
            assert backed.get(name, name) in declared[native], f"{wrapper.__name__}.{name} has no native {native} method"
        # …and nothing the native class offers is left unwrapped (ingest_items backs ingest_many).
        missing = declared[native] - names - {"ingest_items", "is_closed"}
        assert not missing, f"{native} methods without a {wrapper.__name__} method: {sorted(missing)}"


def test_every_public_name_is_exported() -> None:
    for name in mqtt_status.__all__:
        assert hasattr(mqtt_status, name), name
    for name in _errors.__all__:
        assert name in mqtt_status.__all__, name
