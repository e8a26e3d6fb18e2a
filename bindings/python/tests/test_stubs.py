"""The type stubs match the modules: every public name has a stub and every
stub names something real, class members and function parameters included;
and every public class and callable has a docstring for help()."""

import ast
import dataclasses
import enum
import inspect
import pathlib

import pytest

import alerthub
from alerthub import _alerthub

PACKAGE = pathlib.Path(alerthub.__file__).parent

# Attributes an exception instance gets in __init__ (not visible on the class).
_ERROR_INSTANCE_ATTRS = {"message", "field_errors", "rate_limit", "retry_after"}


def parse_stub(name):
    path = PACKAGE / name
    assert path.is_file(), "%s is not installed next to the package" % path
    return ast.parse(path.read_text(), filename=str(path))


def stub_top_level(tree):
    """name -> ast node for every top-level definition of a stub."""
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = node
    return out


def stub_members(cls_node):
    return stub_top_level(ast.Module(body=cls_node.body, type_ignores=[]))


def runtime_members(cls):
    """Public names a class defines itself (not inherited from builtins)."""
    names = set()
    for klass in cls.__mro__:
        if klass.__module__ == "builtins" or klass in (enum.Enum, Exception, BaseException):
            continue
        names.update(n for n in vars(klass) if not n.startswith("_"))
    if dataclasses.is_dataclass(cls):
        names.update(f.name for f in dataclasses.fields(cls))
    if issubclass(cls, enum.Enum):
        names.update(cls.__members__)
    return names


def stub_params(fn_node):
    a = fn_node.args
    return ([p.arg for p in a.posonlyargs], [p.arg for p in a.args],
            a.vararg.arg if a.vararg else None, [p.arg for p in a.kwonlyargs],
            a.kwarg.arg if a.kwarg else None)


def runtime_params(fn):
    posonly, positional, kwonly, var, varkw = [], [], [], None, None
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.POSITIONAL_ONLY:
            posonly.append(p.name)
        elif p.kind is p.POSITIONAL_OR_KEYWORD:
            positional.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            var = p.name
        elif p.kind is p.KEYWORD_ONLY:
            kwonly.append(p.name)
        else:
            varkw = p.name
    return posonly, positional, var, kwonly, varkw


# -- alerthub (__init__.pyi) ----------------------------------------------------

PUBLIC = stub_top_level(parse_stub("__init__.pyi"))


def test_every_public_name_has_a_stub_and_every_stub_a_name():
    public = set(alerthub.__all__) | {"__version__", "__all__"}
    assert set(PUBLIC) == public
    runtime = {n for n in dir(alerthub) if not n.startswith("_")}
    assert runtime - set(alerthub.__all__) == set(), "public but not in __all__"
    for name in alerthub.__all__:
        assert hasattr(alerthub, name), name


@pytest.mark.parametrize("name", sorted(n for n, node in PUBLIC.items()
                                        if isinstance(node, ast.ClassDef)))
def test_class_stub_matches_the_class(name):
    cls = getattr(alerthub, name)
    node = PUBLIC[name]
    stubbed = stubbed_with_bases(node)
    real = runtime_members(cls)
    extra_ok = _ERROR_INSTANCE_ATTRS if issubclass(cls, alerthub.Error) else set()
    assert real - stubbed == set(), "members without a stub"
    assert stubbed - real - extra_ok == set(), "stubs of members that do not exist"
    if issubclass(cls, alerthub.Error):
        for attr in stubbed & _ERROR_INSTANCE_ATTRS:
            assert attr in _error_instance_attrs(cls), attr
    # Bases as declared.
    stub_bases = [ast.unparse(b) for b in node.bases]
    real_bases = [b.__name__ if b.__module__ in ("builtins", "alerthub._errors", "alerthub._types",
                                                 "alerthub._client")
                  else "%s.%s" % (b.__module__, b.__name__)
                  for b in cls.__bases__ if b is not object]
    assert stub_bases == real_bases


def stubbed_with_bases(node):
    """Public members of a stub class, with those it inherits from stub
    classes of the same file."""
    names = {n for n in stub_members(node) if not n.startswith("_")}
    for base in node.bases:
        if isinstance(base, ast.Name) and isinstance(PUBLIC.get(base.id), ast.ClassDef):
            names |= stubbed_with_bases(PUBLIC[base.id])
    return names


def _error_instance_attrs(cls):
    if issubclass(cls, alerthub.RateLimited):
        e = cls("m", alerthub.RateLimit(1, 0, 1.0, 1.0))
    else:
        e = cls("m")
    return set(vars(e))


def _stubbed_functions():
    for cname, node in PUBLIC.items():
        if not isinstance(node, ast.ClassDef):
            continue
        for mname, m in stub_members(node).items():
            if isinstance(m, ast.FunctionDef) and not any(
                    isinstance(d, ast.Name) and d.id == "property" for d in m.decorator_list):
                yield cname, mname, m


@pytest.mark.parametrize("cname, mname, node", list(_stubbed_functions()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_method_signatures_match(cname, mname, node):
    cls = getattr(alerthub, cname)
    fn = getattr(cls, mname)
    posonly, positional, var, kwonly, varkw = runtime_params(fn)
    s_posonly, s_positional, s_var, s_kwonly, s_varkw = stub_params(node)
    assert (s_posonly + s_positional, s_var, s_kwonly, s_varkw) == \
        (posonly + positional, var, kwonly, varkw)
    if s_posonly:
        assert s_posonly == posonly


def test_every_public_class_and_method_has_a_docstring():
    missing = []
    for name in alerthub.__all__:
        obj = getattr(alerthub, name)
        if not inspect.isclass(obj):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        for mname, member in vars(obj).items():
            if mname.startswith("_"):
                continue
            if callable(member) or isinstance(member, property):
                if not (getattr(member, "__doc__", None) or "").strip():
                    missing.append("%s.%s" % (name, mname))
    assert missing == []
    assert "Client" in alerthub.__doc__ and "Error" in alerthub.__doc__


# -- alerthub._alerthub (_alerthub.pyi) -----------------------------------------

NATIVE = stub_top_level(parse_stub("_alerthub.pyi"))


def test_native_module_names_match_its_stub():
    real = {n for n in dir(_alerthub) if not n.startswith("__")}
    assert real == set(NATIVE)


@pytest.mark.parametrize("name", ["NativeClient", "NativeWatch"])
def test_native_class_members_match_their_stub(name):
    cls = getattr(_alerthub, name)
    real = {n for n in dir(cls) if not n.startswith("_")}
    stubbed = {n for n in stub_members(NATIVE[name]) if not n.startswith("_")}
    assert real == stubbed
