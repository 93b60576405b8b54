"""The import rehearsal: the bot's start-up imports, tried in the bot's own interpreter.

A child process of the bot's Python, started when collection ends so that it imports while the
other checks run, does what the bot does first at start, and nothing after:

* it runs the entrypoint's own top-level import statements (``main.py`` or ``launcher.py``,
  each statement compiled from the entrypoint's source so a traceback names its line; the
  entrypoint itself is never run: ``main.py`` configures logging and starts the bot);
* it compiles (no bytecode written) every ``.py`` file of the deployment the entrypoint can
  reach through its imports, at any depth, so a ``SyntaxError`` in a module imported lazily is
  found too; dead code nothing imports (acore_bot's ``cogs/``) is not judged.

It runs as the bot's user when the suite may switch to it (root), from the bot's directory
(``sys.path[0]`` is that directory, as for ``python main.py``), with the environment the suite
runs in plus its unit's ``Environment=``/``EnvironmentFile=`` (the bot's own code loads its
``.env`` with python-dotenv, as at start),
``PYTHONDONTWRITEBYTECODE=1``, a memory limit (``RLIMIT_DATA``), a CPU-time limit and a
wall-clock limit.

It must leave the deployment byte-identical and reach nothing: an audit hook
(``sys.addaudithook``) refuses, from inside the interpreter, every write under the bot's
directory (open for writing, mkdir, rename, remove, chmod, utime, SQLite connect...), every
socket connect/bind/DNS lookup and every process spawn. A refused operation raises an
``OSError`` (a ``PermissionError``, a connection or DNS error, a ``FileNotFoundError`` for a
spawn: what code written for a read-only or offline host already handles) and is recorded: an
import that fails because of it is reported as not judged, never as broken. Limits: code in a C
extension that writes with its own system calls is not seen by the hook (acore_bot's imports do
not); writes outside the deployment (a library's cache in ``~/.cache``) are allowed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from acore_doctor.probes.interpreter import Interpreter
from acore_doctor.saferead import read_text_bounded

#: Seconds the rehearsal may take from its start (a real bot's torch + chromadb imports take
#: several seconds on a loaded host; beyond this it is reported as not finished, not broken).
DEFAULT_TIMEOUT_S = 90.0
#: Files compiled at most (the real bot reaches a few hundred).
MAX_FILES = 5000

# Runs inside the bot's interpreter (3.8+ for audit hooks): plain Python 3, standard library only.
_SCRIPT = r"""
import ast, builtins, json, os, resource, sys, threading, time
args = json.loads(sys.argv[1])
BOT = os.path.realpath(args["bot_dir"])
ENTRY = os.path.realpath(args["entry"])
result_fd = os.dup(1)
os.dup2(2, 1)  # whatever the bot's imports print goes to stderr; the answer has its own fd
sys.dont_write_bytecode = True
try:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if args.get("memory"):
        resource.setrlimit(resource.RLIMIT_DATA, (args["memory"], args["memory"]))
    if args.get("cpu"):
        resource.setrlimit(resource.RLIMIT_CPU, (args["cpu"], args["cpu"] + 1))
except (ValueError, OSError):
    pass
sys.path[:] = [BOT] + [p for p in sys.path if p not in ("", ".", os.getcwd(), BOT)]

attempts = []
guard = threading.local()

def inside(path):
    if isinstance(path, int) or path is None:
        return False
    try:
        text = os.fsdecode(path)
    except (TypeError, ValueError):
        return False
    if text in (":memory:", ""):
        return False
    real = os.path.realpath(os.path.join(os.getcwd(), text))
    return real == BOT or real.startswith(BOT + os.sep)

def rel(path):
    try:
        real = os.path.realpath(os.fsdecode(path))
        return os.path.relpath(real, BOT) if real.startswith(BOT + os.sep) else real
    except (TypeError, ValueError):
        return repr(path)

def where():
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(BOT + os.sep):
            return "%s:%d" % (os.path.relpath(name, BOT), frame.f_lineno)
        frame = frame.f_back
    return None

import socket
class BlockedWrite(PermissionError):
    rehearsal = True
class BlockedConnect(ConnectionRefusedError):
    rehearsal = True
class BlockedLookup(socket.gaierror):
    rehearsal = True
class BlockedSpawn(FileNotFoundError):
    rehearsal = True

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
PATH_EVENTS = {"os.rmdir", "os.remove", "os.chmod", "os.chown", "os.truncate", "os.utime",
               "os.chflags", "os.mkfifo", "os.mknod", "os.setxattr", "os.removexattr",
               "shutil.rmtree", "sqlite3.connect", "os.mkdir"}
TWO_PATHS = {"os.rename", "os.link", "os.symlink", "shutil.move", "shutil.copytree"}
NET_EVENTS = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"}
DNS_EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
              "socket.gethostbyname_ex", "socket.getnameinfo"}
SPAWN_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                "os.fork", "os.forkpty"}

def refuse(kind, target, error):
    attempts.append({"kind": kind, "target": str(target)[:300], "where": where()})
    raise error("acore-doctor import rehearsal: %s %s refused" % (kind, str(target)[:200]))

def hook(event, hargs):
    if getattr(guard, "busy", False):
        return
    guard.busy = True
    try:
        if event == "open":
            path, mode, flags = (tuple(hargs) + (None, None, None))[:3]
            writing = (isinstance(flags, int) and flags & WRITE_FLAGS) or (
                isinstance(mode, str) and any(c in mode for c in "wax+"))
            if writing and inside(path):
                refuse("write", rel(path), BlockedWrite)
        elif event in PATH_EVENTS and hargs:
            path = hargs[0]
            if event == "os.mkdir" and inside(path) and os.path.exists(os.fsdecode(path)):
                return  # fails with FileExistsError by itself: nothing changes
            if event == "sqlite3.connect" and not inside(path):
                return
            if inside(path):
                refuse(event.split(".")[-1], rel(path), BlockedWrite)
        elif event in TWO_PATHS and hargs:
            for path in hargs[:2]:
                if inside(path):
                    refuse(event.split(".")[-1], rel(path), BlockedWrite)
        elif event in NET_EVENTS:
            refuse("connect" if event != "socket.bind" else "bind",
                   hargs[1] if len(hargs) > 1 else "?", BlockedConnect)
        elif event in DNS_EVENTS:
            refuse("lookup", hargs[0] if hargs else "?", BlockedLookup)
        elif event in SPAWN_EVENTS:
            refuse("spawn", hargs[0] if hargs else event, BlockedSpawn)
    finally:
        guard.busy = False

def read_source(path):
    with open(path, "rb") as handle:
        return handle.read()

def module_files(base, parts):
    # The files importing parts (a dotted name) under directory base executes, and whether
    # the last part was found there.
    found = []
    for index, part in enumerate(parts):
        path = os.path.join(base, part)
        if os.path.isdir(path):
            init = os.path.join(path, "__init__.py")
            if os.path.isfile(init):
                found.append(init)
            elif base == BOT and part in getattr(sys, "stdlib_module_names", ()):
                return found, False  # a stray directory never shadows the standard library
            base = path
            continue
        if index == len(parts) - 1 and os.path.isfile(path + ".py"):
            found.append(path + ".py")
            return found, True
        return found, False
    return found, True

def imports_of(tree, path):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield BOT, alias.name.split(".")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = os.path.dirname(path)
                for _ in range(node.level - 1):
                    base = os.path.dirname(base)
                if not (base == BOT or base.startswith(BOT + os.sep)):
                    continue
            else:
                base = BOT
            parts = node.module.split(".") if node.module else []
            if parts:
                yield base, parts
            for alias in node.names:
                if alias.name != "*":
                    yield base, parts + [alias.name]

syntax, unread, parsed, seen = [], [], 0, set()
MAX_SOURCE = 8 * 1024 * 1024
queue = [ENTRY]
entry_tree = None
while queue and parsed < args["max_files"]:
    path = os.path.realpath(queue.pop(0))
    if path in seen or not (path == BOT or path.startswith(BOT + os.sep)):
        continue
    seen.add(path)
    try:
        if os.path.getsize(path) > MAX_SOURCE:  # never judged on a truncated read
            unread.append("%s: larger than %d MiB" % (os.path.relpath(path, BOT),
                                                      MAX_SOURCE >> 20))
            continue
        source = read_source(path)
        compile(source, path, "exec", dont_inherit=True)
        tree = ast.parse(source, path)
    except SyntaxError as exc:
        syntax.append({"file": os.path.relpath(path, BOT), "line": exc.lineno,
                       "message": "%s: %s" % (type(exc).__name__, exc.msg)})
        continue
    except ValueError as exc:  # NUL bytes: the import fails the same way
        syntax.append({"file": os.path.relpath(path, BOT), "line": None,
                       "message": "%s: %s" % (type(exc).__name__, exc)})
        continue
    except OSError as exc:  # unreadable as this user: the files checks judge permissions
        unread.append("%s: %s" % (os.path.relpath(path, BOT), exc.strerror or exc))
        continue
    parsed += 1
    if path == ENTRY:
        entry_tree = tree
    for base, parts in imports_of(tree, path):
        queue.extend(module_files(base, parts)[0])

def handled_by(handlers):
    # The built-in exception types the bot's own except clauses catch around an import.
    caught = []
    for handler in handlers:
        if handler.type is None:
            return (BaseException,)
        for expr in (handler.type.elts if isinstance(handler.type, ast.Tuple)
                     else [handler.type]):
            kind = getattr(builtins, getattr(expr, "id", ""), None)
            if isinstance(kind, type) and issubclass(kind, BaseException):
                caught.append(kind)
    return tuple(caught)

def statements(tree):
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, ()
        elif isinstance(node, ast.Try):
            caught = handled_by(node.handlers)
            for inner in node.body:
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield inner, caught

def caused_by_rehearsal(exc):
    for _ in range(10):
        if exc is None:
            return False
        if getattr(exc, "rehearsal", False):
            return True
        exc = exc.__cause__ or exc.__context__
    return False

def location(exc):
    if isinstance(exc, SyntaxError) and exc.filename:
        real = os.path.realpath(exc.filename)
        if real.startswith(BOT + os.sep):
            return os.path.relpath(real, BOT), exc.lineno
    found = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith(BOT + os.sep):
            found = (os.path.relpath(name, BOT), tb.tb_lineno)
        tb = tb.tb_next
    return found

sys.addaudithook(hook)
failures, modules, handled = [], [], []
started = time.perf_counter()
if entry_tree is not None:
    for node, caught in statements(entry_tree):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
            "." * node.level + (node.module or "")]
        modules.extend(names)
        code = compile(ast.Module(body=[node], type_ignores=[]), ENTRY, "exec",
                       dont_inherit=True)
        space = {"__name__": "__acore_rehearsal__", "__file__": ENTRY,
                 "__builtins__": builtins}
        try:
            exec(code, space)
        except BaseException as exc:
            if caught and isinstance(exc, caught) and not caused_by_rehearsal(exc):
                handled.append("%s (line %d): %s, handled by the entrypoint's except" % (
                    ", ".join(names), node.lineno, type(exc).__name__))
                continue
            file, line = location(exc)
            text = str(exc).strip().splitlines()
            failures.append({
                "statement": ast.get_source_segment(
                    read_source(ENTRY).decode("utf-8", "replace"), node) or ", ".join(names),
                "entry_line": node.lineno, "modules": names,
                "type": type(exc).__name__, "message": (text[0] if text else "")[:500],
                "file": file, "line": line,
                "blocked": caused_by_rehearsal(exc),
                "memory": isinstance(exc, MemoryError),
            })
elapsed = time.perf_counter() - started
try:
    import pwd
    user = pwd.getpwuid(os.geteuid()).pw_name
except Exception:
    user = str(os.geteuid())
answer = {"modules": modules, "failures": failures, "syntax": syntax, "parsed": parsed,
          "truncated": bool(queue), "attempts": attempts[:50], "import_seconds": elapsed,
          "user": user, "entry_found": entry_tree is not None, "handled": handled, "unread": unread}
with os.fdopen(result_fd, "w") as out:
    out.write(json.dumps(answer, default=str))
    out.flush()
os._exit(0)  # no atexit handler, no thread of the bot's modules runs on
"""


@dataclass(frozen=True)
class ImportFailure:
    statement: str  # the entrypoint's import statement, as written
    entry_line: int
    modules: tuple[str, ...]
    error: str  # "ModuleNotFoundError: No module named 'numpy'"
    file: str | None  # where it was raised, relative to the bot's directory
    line: int | None
    blocked: bool  # failed because the rehearsal refused a write, a connection or a spawn
    memory: bool  # failed for the rehearsal's memory limit

    @property
    def judged(self) -> bool:
        return not (self.blocked or self.memory)


@dataclass(frozen=True)
class SyntaxProblem:
    file: str
    line: int | None
    message: str


@dataclass
class RehearsalFacts:
    entry: str  # the entrypoint file, relative to the bot's directory
    error: str | None = None  # the rehearsal could not run or did not finish
    modules: list[str] = field(default_factory=list)
    failures: list[ImportFailure] = field(default_factory=list)
    syntax: list[SyntaxProblem] = field(default_factory=list)
    parsed: int = 0
    truncated: bool = False
    attempts: list[str] = field(default_factory=list)  # refused writes/connections/spawns
    handled: list[str] = field(default_factory=list)  # failed, caught by the entrypoint's except
    unread: list[str] = field(default_factory=list)  # reachable files not parsed (unreadable)
    import_seconds: float = 0.0
    user: str = ""
    note: str = ""  # how it ran (as which user and why)

    @property
    def broken(self) -> list[ImportFailure]:
        return [f for f in self.failures if f.judged]

    @property
    def not_judged(self) -> list[ImportFailure]:
        return [f for f in self.failures if not f.judged]


@dataclass(frozen=True)
class Identity:
    """Who the rehearsal runs as: the bot's user (and group) when the suite may switch to it."""

    uid: int | None
    gid: int | None
    groups: tuple[int, ...]
    name: str
    note: str


def memory_limit() -> int:
    """Bytes of data the rehearsal may map: three quarters of this host's memory, at least
    1 GiB (importing torch needs about 1 GiB)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        total = 4 << 30
    return max(1 << 30, total * 3 // 4)


def unit_environment(unit_path: Path | None) -> dict[str, str]:
    """What the bot's systemd unit puts in its environment (``Environment=``, then
    ``EnvironmentFile=``, which wins; drop-ins in ``<unit>.d/*.conf`` after the unit): it wins
    over ``.env`` (python-dotenv never overrides), so a rehearsal without it could crash on a
    ``.env`` value the bot never sees."""
    if unit_path is None:
        return {}
    paths = [unit_path, *sorted(Path(f"{unit_path}.d").glob("*.conf"))]
    assigned: list[str] = []
    files: list[str] = []
    for path in paths:
        try:
            text = read_text_bounded(path, 1024 * 1024)
        except OSError:
            continue
        section = ""
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("[") and line.endswith("]"):
                section = line
                continue
            key, _, value = line.partition("=")
            if section != "[Service]" or line.startswith(("#", ";")):
                continue
            if key.strip() == "Environment":
                if not value.strip():
                    assigned.clear()  # an empty assignment resets the list
                    continue
                try:
                    assigned += shlex.split(value)
                except ValueError:
                    continue
            elif key.strip() == "EnvironmentFile":
                if not value.strip():
                    files.clear()
                else:
                    files.append(value.strip())
    env: dict[str, str] = {}
    for item in assigned:
        name, sep, val = item.partition("=")
        if sep:
            env[name] = val
    for name in files:
        try:
            text = read_text_bounded(name.lstrip("-"), 1024 * 1024)
        except OSError:
            continue
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")) or "=" not in line:
                continue
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def child_env(home: str | None = None, user: str | None = None) -> dict[str, str]:
    """The suite's environment for the bot's interpreter: none of the suite's own Python
    settings, no bytecode written."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
        and not k.startswith("PYTEST_")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if home:
        env["HOME"] = home
    if user:
        env["USER"] = env["LOGNAME"] = user
    return env


class Rehearsal:
    """The rehearsal child, started at once; :meth:`result` waits for its answer."""

    def __init__(
        self,
        interpreter: Interpreter,
        bot_dir: Path,
        entry: Path,
        identity: Identity | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.bot_dir = bot_dir
        self.entry = entry
        self.timeout = timeout
        self.started = time.monotonic()
        self._child: subprocess.Popen[bytes] | None = None
        rel = os.path.relpath(entry, bot_dir)
        self._answer: RehearsalFacts | None = None
        self._facts = RehearsalFacts(rel, note=identity.note if identity else "")
        if interpreter.path is None:
            self._fail("no Python interpreter found (.venv, uv or python3 on PATH)")
            return
        args = {
            "bot_dir": str(bot_dir),
            "entry": str(entry),
            "memory": memory_limit(),
            "cpu": int(timeout) + 5,
            "max_files": MAX_FILES,
        }
        switch: dict[str, object] = {}
        home = user = None
        if identity is not None and identity.uid is not None:
            switch = {"user": identity.uid, "group": identity.gid, "extra_groups": identity.groups}
            home, user = _home_of(identity.uid), identity.name
        try:
            self._child = subprocess.Popen(
                [interpreter.path, "-c", _SCRIPT, json.dumps(args)],
                cwd=bot_dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**child_env(home, user), **(extra_env or {})},
                **switch,  # type: ignore[arg-type]
            )
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            self._fail(f"cannot run {interpreter.path}: {getattr(exc, 'strerror', None) or exc}")

    def _fail(self, error: str) -> None:
        self._facts.error = error
        self._answer = self._facts

    def result(self, wait: float | None = None) -> RehearsalFacts:
        """The answer; waits until the rehearsal's own limit, or at most ``wait`` seconds."""
        if self._answer is not None:
            return self._answer
        assert self._child is not None
        remaining = max(0.0, self.started + self.timeout - time.monotonic())
        try:
            out, err = self._child.communicate(
                timeout=remaining if wait is None else min(wait, remaining)
            )
        except subprocess.TimeoutExpired:
            self.cancel()
            took = time.monotonic() - self.started
            self._fail(f"the rehearsal did not finish within {took:.0f} s (still importing)")
            return self._facts
        self._answer = read_answer(self._facts, self._child.returncode, out, err)
        return self._answer

    def cancel(self) -> None:
        if self._child is not None and self._child.poll() is None:
            self._child.kill()
            self._child.communicate()


def _home_of(uid: int) -> str | None:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return None


def read_answer(facts: RehearsalFacts, returncode: int, out: bytes, err: bytes) -> RehearsalFacts:
    try:
        data = json.loads(out.decode("utf-8", "replace"))
    except ValueError:
        tail = (err.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1][:300]
        if returncode in (-9, -24) or returncode == 128 + 24:
            tail = "CPU time limit reached" if returncode in (-24, 152) else tail
        facts.error = f"the rehearsal exited with {returncode} before answering: {tail}"
        return facts
    facts.modules = [str(m) for m in data.get("modules", [])]
    facts.parsed = int(data.get("parsed", 0))
    facts.truncated = bool(data.get("truncated"))
    facts.import_seconds = float(data.get("import_seconds", 0.0))
    facts.user = str(data.get("user", ""))
    if not data.get("entry_found", True) and not data.get("syntax"):
        facts.error = f"{facts.entry} could not be read"
    for item in data.get("failures", []):
        facts.failures.append(
            ImportFailure(
                str(item.get("statement", "")),
                int(item.get("entry_line") or 0),
                tuple(item.get("modules") or ()),
                f"{item.get('type')}: {item.get('message')}".rstrip(": "),
                item.get("file"),
                item.get("line"),
                bool(item.get("blocked")),
                bool(item.get("memory")),
            )
        )
    for item in data.get("syntax", []):
        facts.syntax.append(
            SyntaxProblem(str(item.get("file")), item.get("line"), str(item.get("message")))
        )
    facts.handled = [str(h) for h in data.get("handled", [])]
    facts.unread = [str(u) for u in data.get("unread", [])]
    for item in data.get("attempts", []):
        at = f" at {item['where']}" if item.get("where") else ""
        facts.attempts.append(f"{item.get('kind')} {item.get('target')}{at}")
    return facts


def identity_for(
    process_uid: int | None,
    process_gids: tuple[int, ...],
    unit_user: str | None,
    unit_group: str | None,
) -> Identity | None:
    """Who the rehearsal runs as: the running bot's user, else its unit's ``User=``/``Group=``;
    None (the suite's own user) when neither is known or the suite cannot switch (not root)."""
    import grp
    import pwd

    uid, gid, name, source = None, None, "", ""
    if process_uid is not None:
        uid, source = process_uid, "the running bot's user"
    elif unit_user:
        try:
            entry = (
                pwd.getpwnam(unit_user) if not unit_user.isdigit() else pwd.getpwuid(int(unit_user))
            )
        except KeyError:
            return Identity(None, None, (), unit_user, f"unit User={unit_user} does not exist here")
        uid, source = entry.pw_uid, f"unit User={unit_user}"
    if uid is None:
        return None
    try:
        entry = pwd.getpwuid(uid)
        name, gid = entry.pw_name, entry.pw_gid
    except KeyError:
        name = str(uid)
    if unit_group and process_uid is None:
        with contextlib.suppress(KeyError):
            gid = grp.getgrnam(unit_group).gr_gid if not unit_group.isdigit() else int(unit_group)
    if os.geteuid() == uid:
        return Identity(None, None, (), name, source)
    if os.geteuid() != 0:
        return Identity(None, None, (), name, f"not {name} ({source}): switching needs root")
    groups = tuple(process_gids) or (
        tuple(os.getgrouplist(name, gid)) if gid is not None and name != str(uid) else ()
    )
    return Identity(uid, gid, groups, name, source)


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Identity",
    "ImportFailure",
    "Rehearsal",
    "RehearsalFacts",
    "SyntaxProblem",
    "identity_for",
    "memory_limit",
    "unit_environment",
]
