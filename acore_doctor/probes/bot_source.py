"""What the deployment's own code reads from its environment, found without running it.

The bot directory is a checkout of acore_bot, so its ``config/`` package says which keys the
bot reads, how it parses each one and what it falls back to (deployment §2.1, §2.4). This
probe parses ``config/*.py`` with :mod:`ast` (``config.py`` only when no ``config/`` package
shadows it) and never imports or executes a line of it. Keys read anywhere else
(``os.getenv``/``os.environ`` in ``services/``, ``core/``, ...) are found by a plain text scan:
they count as read, with the kind and default the bundled catalog knows.

The result is cached per bot directory and source state, so a run derives it once.
"""

from __future__ import annotations

import ast
import os
import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from acore_doctor import catalog
from acore_doctor.catalog import Setting
from acore_doctor.redact import is_secret_name
from acore_doctor.saferead import read_bounded, read_text_bounded

#: ``config/base.py`` helpers and the kind each one parses (deployment §2.1).
HELPER_KINDS = {
    "_get_env": "str",
    "_get_env_bool": "bool",
    "_get_env_int": "int",
    "_get_env_float": "float",
    "_get_env_list": "list",
    "_get_env_int_list": "intlist",
    "_get_env_path": "path",
}
#: Directories never scanned for reads: environments, caches, tests, VCS data, runtime data.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "env",
        "node_modules",
        "__pycache__",
        "tests",
        "test",
        "data",
        "logs",
        "site-packages",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
#: Top-level directories whose presence means the checkout is whole, so a key that no code
#: in it reads is really dead (a partial copy only proves what it contains).
APP_DIRS = ("services", "core", "gestalt", "adapters")
#: A source file larger than this is not configuration code; it is skipped, not parsed.
MAX_SOURCE_BYTES = 2 * 1024 * 1024
_ENV_WORDS_BYTES = (b"getenv", b"environ")
_READ_ELSEWHERE = re.compile(
    rb"""(?:getenv|environ\.get|environ\.setdefault|environ\[)\s*\(?\s*["']([A-Z][A-Z0-9_]*)["']"""
)


@dataclass(frozen=True)
class SourceRead:
    """One key as the bot's config code reads it."""

    key: str
    kind: str
    #: the literal default, or None when the code computes it
    default: object
    crashes_at_import: bool
    where: str


@dataclass(frozen=True)
class LoadError:
    """A config file the bot cannot import: SyntaxError (or unreadable) at ``file:line``."""

    file: str
    line: int | None
    error: str

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.error}"


@dataclass(frozen=True)
class ValidateRule:
    """``if <test>: raise ...`` in ``Config.validate()``: the bot does not start when
    ``test`` is true for the values it parsed."""

    test: ast.expr
    message: str
    where: str


@dataclass
class BotSource:
    """The keys a checkout's code reads, and where that knowledge came from."""

    bot_dir: Path
    #: ``bot source at <commit>`` or ``bot source at <mtime>``
    origin: str
    config_files: tuple[str, ...]
    reads: dict[str, SourceRead] = field(default_factory=dict)
    #: keys read outside config/ (os.getenv / os.environ), with one place each
    read_elsewhere: dict[str, str] = field(default_factory=dict)
    #: config files that could not be parsed (the bot would not start either)
    unparsed: list[str] = field(default_factory=list)
    #: the same, with file and line: what stops ``import config``
    load_errors: list[LoadError] = field(default_factory=list)
    #: config modules ``import config`` loads (relative to the bot dir); None when unknown
    loaded: frozenset[str] | None = None
    #: config.py-only layout: the ``if <test>: raise`` rules of its ``Config.validate()``
    validate_rules: tuple[ValidateRule, ...] = ()
    #: the checkout holds the application packages, not only config/
    complete: bool = False
    #: the directories Config.validate() creates at start (relative to the bot dir)
    created_at_start: tuple[str, ...] = ()

    def reads_key(self, key: str) -> bool:
        return key in self.reads or key in self.read_elsewhere


def config_sources(bot_dir: Path) -> list[Path]:
    """The live config code: ``config/*.py`` when the package exists (it shadows ``config.py``)."""
    package = bot_dir / "config"
    if (package / "__init__.py").is_file():
        files = sorted(p for p in package.glob("*.py") if p.name != "__init__.py")
        # __init__.py last: its flat attributes (and raw int()/float() block) win.
        return [*files, package / "__init__.py"]
    module = bot_dir / "config.py"
    return [module] if module.is_file() else []


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _literal(node: ast.AST | None) -> object:
    """The default as written, or None when the code computes it."""
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return value


def _env_read(node: ast.AST) -> tuple[str, ast.AST | None] | None:
    """``os.getenv("K", d)`` / ``os.environ.get("K", d)`` / ``os.environ["K"]``: key, default."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        name = node.func.attr
        target = node.func.value
        is_getenv = name == "getenv"
        is_environ_get = (
            name == "get" and isinstance(target, ast.Attribute) and target.attr == "environ"
        )
        if (is_getenv or is_environ_get) and node.args:
            key = _string(node.args[0])
            if key is not None:
                default = node.args[1] if len(node.args) > 1 else None
                for keyword in node.keywords:
                    if keyword.arg == "default":
                        default = keyword.value
                return key, default
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "environ"
    ):
        key = _string(node.slice)
        if key is not None:
            return key, None
    return None


def _helper_name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _raw_conversion(node: ast.Call) -> tuple[str, ast.AST] | None:
    """``int(os.getenv(..))`` / ``float(os.getenv(..))``: the conversions that can crash."""
    if (
        isinstance(node.func, ast.Name)
        and node.func.id in ("int", "float")
        and node.args
        and _env_read(node.args[0]) is not None
    ):
        return node.func.id, node.args[0]
    return None


def _raw_bool(node: ast.Compare) -> ast.AST | None:
    """``os.getenv("K", "false").lower() == "true"``: a bool, true only for "true"."""
    left = node.left
    if (
        isinstance(left, ast.Call)
        and isinstance(left.func, ast.Attribute)
        and left.func.attr == "lower"
        and len(node.comparators) == 1
        and _string(node.comparators[0]) == "true"
        and _env_read(left.func.value) is not None
    ):
        return left.func.value
    return None


def _typed_default(kind: str, value: object) -> object:
    """The default in the kind's own type; None when the code computes it."""
    if value is None:
        return None
    try:
        if kind == "bool":
            return value if isinstance(value, bool) else str(value).strip().lower() == "true"
        if kind == "int":
            return int(value)  # type: ignore[call-overload]
        if kind == "float":
            return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return str(value)


#: What a base.py helper returns when the call gives no default.
_HELPER_DEFAULTS = {"bool": False, "int": 0, "float": 0.0, "path": ".", "list": "", "intlist": ""}


def config_reads(
    tree: ast.AST, where: str, lines: frozenset[int] | None = None
) -> list[SourceRead]:
    """Every environment read in one parsed config file, in source order.

    ``lines``: the line numbers that mention the environment at all; a statement spanning
    none of them is skipped whole (most of a config module is plain attribute copies).
    """
    found: list[SourceRead] = []

    def add(key: str, kind: str, default: object, crashes: bool, node: ast.AST) -> None:
        line = getattr(node, "lineno", 0)
        found.append(
            SourceRead(key, kind, _typed_default(kind, default), crashes, f"{where}:{line}")
        )

    def visit(node: ast.AST, in_function: bool) -> None:
        kind = type(node)
        if kind is ast.Call:
            if read_call(node, in_function):  # type: ignore[arg-type]
                return  # a read's arguments are literals: nothing more below
        elif kind is ast.Compare:
            inner = _raw_bool(node)  # type: ignore[arg-type]
            if inner is not None:
                read = _env_read(inner)
                assert read is not None
                add(read[0], "bool", _literal(read[1]), False, node)
                return
        elif kind is ast.Subscript:
            read = _env_read(node)
            if read is not None:
                add(read[0], "str", _literal(read[1]), False, node)
                return
        elif kind is ast.AnnAssign:
            value = node.value  # type: ignore[attr-defined]
            if value is not None:  # the annotation reads nothing
                visit(value, in_function)
            return
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda):
            in_function = True  # runs later, not at import
        for child in ast.iter_child_nodes(node):
            start = getattr(child, "lineno", None)
            if start is None:
                continue  # contexts, operators, arguments: no read lives there
            if ordered is not None:
                # Skip a subtree whose lines never mention the environment.
                at = bisect_left(ordered, start)
                if at == len(ordered) or ordered[at] > (child.end_lineno or start):  # type: ignore[attr-defined]
                    continue
            visit(child, in_function)

    def read_call(node: ast.Call, in_function: bool) -> bool:
        helper = _helper_name(node.func)
        key = _string(node.args[0]) if node.args else None
        if helper in HELPER_KINDS and key is not None:
            kind = HELPER_KINDS[helper]
            default = node.args[1] if len(node.args) > 1 else None
            for keyword in node.keywords:
                if keyword.arg == "default":
                    default = keyword.value
            value = _HELPER_DEFAULTS.get(kind, "") if default is None else _literal(default)
            add(key, kind, value, False, node)
            return True
        raw = _raw_conversion(node)
        if raw is not None:
            read = _env_read(raw[1])
            assert read is not None
            add(read[0], raw[0], _literal(read[1]), not in_function, node)
            return True
        read = _env_read(node)
        if read is not None:
            add(read[0], "str", _literal(read[1]), False, node)
            return True
        return False

    ordered = sorted(lines) if lines is not None else None
    visit(tree, False)
    return found


#: Words on a line that may read the environment (os.getenv, os.environ, base.py helpers).
_ENV_WORDS = re.compile(r"getenv|environ|_get_env")


def env_lines(text: str) -> frozenset[int]:
    return frozenset(
        number for number, line in enumerate(text.splitlines(), 1) if _ENV_WORDS.search(line)
    )


def _validate_dirs(tree: ast.Module) -> tuple[str, ...]:
    """The directories ``Config.validate()`` creates: ``<X>.mkdir`` on class attributes."""
    paths: dict[str, str] = {}
    created: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                target = None
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target, value = statement.targets[0], statement.value
                elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                    target, value = statement.target, statement.value
                if isinstance(target, ast.Name):
                    path = _path_expr(value, paths)
                    if path is not None:
                        paths[target.id] = path
            for statement in node.body:
                if isinstance(statement, ast.FunctionDef) and statement.name == "validate":
                    for call in ast.walk(statement):
                        if (
                            isinstance(call, ast.Call)
                            and isinstance(call.func, ast.Attribute)
                            and call.func.attr == "mkdir"
                            and isinstance(call.func.value, ast.Attribute)
                        ):
                            name = call.func.value.attr
                            created.append(paths.get(name, f"${name}"))
    return tuple(created)


def _path_expr(node: ast.AST, known: dict[str, str]) -> str | None:
    """``Path("data")`` and ``DATA_DIR / "temp"`` as a relative path string."""
    if isinstance(node, ast.Call) and _helper_name(node.func) == "Path" and len(node.args) == 1:
        return _string(node.args[0])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left = _path_expr(node.left, known)
        if left is None and isinstance(node.left, ast.Name):
            left = known.get(node.left.id)
        right = _string(node.right)
        if left is not None and right is not None:
            return f"{left.rstrip('/')}/{right}"
    return None


def _iter_python_files(bot_dir: Path) -> Iterator[str]:
    """Paths (plain strings: hundreds of files, no Path objects needed) of the checkout's code."""
    stack = [str(bot_dir)]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") and entry.name != ".":
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        stack.append(entry.path)
                elif entry.name.endswith(".py") and entry.is_file(follow_symlinks=False):
                    yield entry.path
            except OSError:
                continue


def _git_commit(bot_dir: Path) -> str | None:
    """The checked-out commit, read from .git without running git."""
    git = bot_dir / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(_small_text(git).split(":", 1)[1].strip())
        head = _small_text(git / "HEAD").strip()
        if not head.startswith("ref:"):
            return head[:7] or None
        ref = head.split(":", 1)[1].strip()
        ref_file = git / ref
        if ref_file.is_file():
            return _small_text(ref_file).strip()[:7] or None
        packed = git / "packed-refs"
        if packed.is_file():
            for line in read_text_bounded(packed, MAX_SOURCE_BYTES).splitlines():
                if line.endswith(" " + ref):
                    return line.split(" ", 1)[0][:7]
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    return None


def _small_text(path: Path) -> str:
    return read_bounded(path, 64 * 1024).decode("utf-8")


def _origin(bot_dir: Path, files: list[Path]) -> str:
    commit = _git_commit(bot_dir)
    if commit:
        return f"bot source at {commit}"
    newest = max((_mtime(p) for p in files), default=0.0)
    stamp = datetime.fromtimestamp(newest, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"bot source at {stamp}"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _keys_read(data: bytes) -> Iterator[str]:
    """Keys named in ``os.getenv("K")`` / ``os.environ.get("K")`` / ``os.environ["K"]``.

    bytes.find jumps to each mention (a regex search over megabytes is four times slower).
    """
    for word in _ENV_WORDS_BYTES:
        at = data.find(word)
        while at != -1:
            match = _READ_ELSEWHERE.match(data, at)
            if match is not None:
                yield match.group(1).decode("ascii")
            at = data.find(word, at + len(word))


def _read_bytes(path: str) -> bytes | None:
    try:
        return read_bounded(path, MAX_SOURCE_BYTES)
    except OSError:  # also a FIFO or device where a source file should be, or too large
        return None


def _read_source(path: Path) -> str | None:
    try:
        return read_text_bounded(path, MAX_SOURCE_BYTES)
    except OSError:
        return None


_CACHE: dict[tuple[str, tuple[tuple[str, float, int], ...]], BotSource | None] = {}


def _state(files: list[Path]) -> tuple[tuple[str, float, int], ...]:
    state = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        state.append((str(path), stat.st_mtime, stat.st_size))
    return tuple(state)


def read_bot_source(bot_dir: Path) -> BotSource | None:
    """The keys the checkout in ``bot_dir`` reads, or None when it holds no config code.

    Cached on the config files' names, mtimes and sizes: one derivation per run.
    """
    files = config_sources(bot_dir)
    if not files:
        return None
    cache_key = (str(bot_dir.resolve()), _state(files))
    if cache_key not in _CACHE:
        _CACHE[cache_key] = derive_bot_source(bot_dir, files)
    return _CACHE[cache_key]


def derive_bot_source(bot_dir: Path, files: list[Path] | None = None) -> BotSource:
    """Parse the config code and scan the rest of the checkout (uncached)."""
    files = config_sources(bot_dir) if files is None else files
    source = BotSource(
        bot_dir=bot_dir,
        origin=_origin(bot_dir, files),
        config_files=tuple(str(p.relative_to(bot_dir)) for p in files),
    )
    config_set = set(files)
    created: list[str] = []
    trees: dict[str, ast.Module] = {}
    for path in files:
        where = str(path.relative_to(bot_dir))
        text = _read_source(path)
        if text is None:
            _load_error(source, LoadError(where, None, "unreadable"))
            continue
        try:
            tree = ast.parse(text, filename=where)
            # Compiling (never running) also finds what only the compiler rejects
            # ('return' outside a function, 'nonlocal' at module level, ...).
            compile(tree, where, "exec", dont_inherit=True)
        except SyntaxError as exc:
            message = exc.msg or str(exc)
            _load_error(source, LoadError(where, exc.lineno, f"SyntaxError: {message}"))
            _keys_of_broken_file(source, text, where)
            continue
        except (ValueError, RecursionError, MemoryError) as exc:
            _load_error(source, LoadError(where, None, f"{type(exc).__name__}: {exc}"))
            _keys_of_broken_file(source, text, where)
            continue
        trees[where] = tree
        seen_here: set[str] = set()
        for read in config_reads(tree, where, env_lines(text)):
            # Within one file the first read is the attribute the bot uses; a later file
            # (config/__init__.py comes last) overrides, as its flat attributes do.
            if read.key in seen_here:
                continue
            seen_here.add(read.key)
            earlier = source.reads.get(read.key)
            if earlier is not None and earlier.crashes_at_import and not read.crashes_at_import:
                continue
            source.reads[read.key] = read
        if "def validate" in text:
            created.extend(_validate_dirs(tree))
    source.created_at_start = tuple(dict.fromkeys(created))
    source.loaded = _loaded_config_modules(source.config_files, trees)
    for error in _broken_config_imports(bot_dir, source.config_files, trees, source.loaded):
        _load_error(source, error)
    if source.config_files == ("config.py",) and "config.py" in trees:
        source.validate_rules = validate_rules(trees["config.py"], "config.py")
    skip = {str(path) for path in config_set}
    if "config.py" not in source.config_files:
        skip.add(str(bot_dir / "config.py"))  # shadowed by the package: never imported
    prefix = len(str(bot_dir)) + 1
    for path in _iter_python_files(bot_dir):
        if path in skip:
            continue
        data = _read_bytes(path)
        if data is None:
            continue
        for key in _keys_read(data):
            if key not in source.reads and key not in source.read_elsewhere:
                source.read_elsewhere[key] = path[prefix:]
    # A broken config file hides what it reads: no key is called dead while one is broken.
    source.complete = not source.load_errors and any((bot_dir / name).is_dir() for name in APP_DIRS)
    return source


def _load_error(source: BotSource, error: LoadError) -> None:
    source.load_errors.append(error)
    source.unparsed.append(error.describe())


#: ``_get_env_int("KEY"`` / ``getenv("KEY"`` / ``environ["KEY"`` in a file that does not parse.
_BROKEN_FILE_READ = re.compile(
    r"""(?:_get_env\w*|getenv|environ\.get|environ\.setdefault|environ\[)\s*\(?\s*["']([A-Z][A-Z0-9_]*)["']"""
)


def _keys_of_broken_file(source: BotSource, text: str, where: str) -> None:
    """The keys a config file that cannot be parsed names: they stay read (live), so a
    SyntaxError in config/voice.py never turns the voice keys into "dead keys"."""
    for match in _BROKEN_FILE_READ.finditer(text):
        key = match.group(1)
        if key not in source.reads:
            source.read_elsewhere.setdefault(key, where)


def _module_file(name: str, files: set[str]) -> str | None:
    """``config.voice`` / ``.voice`` (from config/__init__.py) -> ``config/voice.py``."""
    candidate = name.replace(".", "/") + ".py"
    return candidate if candidate in files else None


def _loaded_config_modules(
    config_files: tuple[str, ...], trees: dict[str, ast.Module]
) -> frozenset[str] | None:
    """The config modules ``import config`` loads: ``config/__init__.py`` and what it imports
    (relative or ``config.X``), transitively; None when ``__init__.py`` itself cannot be read."""
    if config_files == ("config.py",):
        return frozenset(config_files)
    init = "config/__init__.py"
    if init not in trees:
        return None
    files = set(config_files)
    loaded = {init}
    todo = [init]
    while todo:
        current = todo.pop()
        tree = trees.get(current)
        if tree is None:
            continue  # broken: what it imports is unknown, and it stops the import anyway
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = "config" if node.level else (node.module or "")
                module = f"{base}.{node.module}" if node.level and node.module else base
                names = [module] + [f"{module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                found = _module_file(name, files)
                if found and found not in loaded:
                    loaded.add(found)
                    todo.append(found)
    return frozenset(loaded)


def _defined_names(tree: ast.Module) -> set[str] | None:
    """The names a module defines at import (classes, functions, assignments, imports, also
    inside top-level if/try/with); None when it cannot be known (``import *``,
    ``__getattr__``, ``globals()`` writes)."""
    names: set[str] = set()
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == "__getattr__":
                return None
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For | ast.With):
            for target in ast.walk(node):
                if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                    names.add(target.id)
        if isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
            for field_name in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field_name, []):
                    todo.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
        if isinstance(node, ast.Expr) and "globals" in ast.dump(node):
            return None
    return names


def _broken_config_imports(
    bot_dir: Path,
    config_files: tuple[str, ...],
    trees: dict[str, ast.Module],
    loaded: frozenset[str] | None,
) -> list[LoadError]:
    """``from .voice import VoiceConfig`` in a config module the bot imports, naming a config
    module that does not exist or a name it does not define: ImportError at start."""
    if config_files == ("config.py",) or loaded is None:
        return []
    errors: list[LoadError] = []
    for where in sorted(loaded):
        tree = trees.get(where)
        if tree is None:
            continue
        for node in tree.body:
            if not isinstance(node, ast.ImportFrom) or node.level != 1:
                continue
            if node.module is None:
                continue  # "from . import x": a submodule or a name; not judged
            target = f"config/{node.module.replace('.', '/')}.py"
            package = f"config/{node.module.replace('.', '/')}/__init__.py"
            if not (bot_dir / target).is_file() and not (bot_dir / package).is_file():
                errors.append(
                    LoadError(
                        where,
                        node.lineno,
                        f"ImportError: config.{node.module} does not exist ({target} is missing)",
                    )
                )
                continue
            defined = _defined_names(trees[target]) if target in trees else None
            if defined is None:
                continue
            missing = [a.name for a in node.names if a.name != "*" and a.name not in defined]
            if missing:
                errors.append(
                    LoadError(
                        where,
                        node.lineno,
                        f"ImportError: cannot import name {missing[0]!r} from config.{node.module} "
                        f"({target} does not define it)",
                    )
                )
    return errors


def validate_rules(tree: ast.Module, where: str) -> tuple[ValidateRule, ...]:
    """The ``if <test>: raise`` statements of ``Config.validate()`` (config.py-only layout,
    deployment §2.1), in order: the bot stops at the first one whose test is true."""
    found: list[ValidateRule] = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for method in node.body:
            if not isinstance(method, ast.FunctionDef) or method.name != "validate":
                continue
            for statement in method.body:
                if (
                    isinstance(statement, ast.If)
                    and statement.body
                    and isinstance(statement.body[0], ast.Raise)
                ):
                    found.append(
                        ValidateRule(
                            statement.test,
                            _raise_message(statement.body[0]),
                            f"{where}:{statement.lineno}",
                        )
                    )
    return tuple(found)


def _raise_message(node: ast.Raise) -> str:
    """The literal text of ``raise ValueError("...")`` (an f-string's literal parts)."""
    exc = node.exc
    if isinstance(exc, ast.Call) and exc.args:
        first = exc.args[0]
        text = _string(first)
        if text is not None:
            return text
        if isinstance(first, ast.JoinedStr):
            return "".join(
                part.value if isinstance(part, ast.Constant) else "…" for part in first.values
            )
    return ast.unparse(exc) if exc is not None else "raise"


def as_settings(source: BotSource, bundled: dict[str, Setting]) -> dict[str, Setting]:
    """The source's reads as catalog entries (a computed default falls back to the bundled one)."""
    table: dict[str, Setting] = {}
    for key, read in source.reads.items():
        known = bundled.get(key)
        default = read.default
        if default is None:
            default = known.default if known is not None else ""
        table[key] = Setting(key, read.kind, default, read.crashes_at_import)
    return table


BUNDLED = "bundled catalog"


@dataclass
class SettingsKnowledge:
    """What each key means to this deployment's bot, and where that knowledge came from."""

    #: ``bot source at <commit or mtime>`` or ``bundled catalog``
    origin: str
    #: the bot's keys (kind, default, crash) merged with the suite's own table
    known: dict[str, Setting]
    #: where the bot's source and the bundled catalog disagree, one sentence each
    disagreements: list[str] = field(default_factory=list)
    #: keys the bundled catalog lists that this (whole) checkout never reads: key -> why
    unread: dict[str, str] = field(default_factory=dict)
    #: the directories the bot's Config.validate() creates at start
    created_at_start: tuple[str, ...] = ()
    source: BotSource | None = None


def _shown(key: str, value: object) -> str:
    """A default as the details show it; a secret's default (even an example) is not shown."""
    return "(a secret's default, not shown)" if is_secret_name(key) and value else repr(value)


def merge_with_bundled(
    source: BotSource | None,
    bundled: dict[str, Setting],
    suite: dict[str, Setting],
) -> SettingsKnowledge:
    """The source's reads over the bundled catalog (which keeps what code cannot say).

    Without source, the bundled catalog as it is. With a whole checkout, a bundled key that no
    code reads is dropped (so `.env` setting it is a dead key); a partial copy keeps it.
    """
    if source is None:
        return SettingsKnowledge(BUNDLED, {**suite, **bundled})
    derived = as_settings(source, bundled)
    known: dict[str, Setting] = {**suite}
    disagreements: list[str] = []
    unread: dict[str, str] = {}
    for key, setting in bundled.items():
        if key in derived or key in source.read_elsewhere:
            known[key] = setting
            continue
        if source.complete:
            unread[key] = "the bundled catalog lists it, but no code in this checkout reads it"
            disagreements.append(f"{key}: in the bundled catalog, not read by this bot's source")
        else:
            known[key] = setting
    for key, setting in derived.items():
        was = bundled.get(key)
        known[key] = setting
        where = source.reads[key].where
        if was is None:
            disagreements.append(
                f"{key}: read by the bot ({where}, {setting.kind}, default "
                f"{_shown(key, setting.default)}) but not in the bundled catalog"
            )
            continue
        same_kind = setting.kind == was.kind or {setting.kind, was.kind} == {"str", "path"}
        if not same_kind:
            disagreements.append(
                f"{key}: the bot parses it as {setting.kind} ({where}), the bundled catalog says {was.kind}"
            )
        if same_kind and str(setting.default) != str(was.default):
            disagreements.append(
                f"{key}: the bot's default is {_shown(key, setting.default)} ({where}), the bundled "
                f"catalog says {_shown(key, was.default)}"
            )
        if setting.crashes_at_import != was.crashes_at_import:
            crash = (
                "crashes at import on a bad value"
                if setting.crashes_at_import
                else "falls back to its default on a bad value"
            )
            disagreements.append(f"{key}: in the bot's source it {crash} ({where})")
    for key in source.read_elsewhere:
        if key not in known:
            known[key] = Setting(key, "str", "")
    return SettingsKnowledge(
        origin=source.origin,
        known=known,
        disagreements=disagreements,
        unread=unread,
        created_at_start=source.created_at_start,
        source=source,
    )


def settings_knowledge(bot_dir: Path) -> SettingsKnowledge:
    """Bundled catalog merged with what ``bot_dir``'s own code reads (cached per run)."""
    return merge_with_bundled(read_bot_source(bot_dir), catalog.SETTINGS, catalog.SUITE_SETTINGS)
