"""The debug console: a Python REPL (top-level ``await`` works) preloaded for one deployment.

Everything it prints goes through the deployment's :class:`~acore_doctor.redact.Redactor`:
a secret typed, printed or shown as a value comes out masked. Databases open read-only.
"""

from __future__ import annotations

import ast
import asyncio
import code
import contextlib
import inspect
import io
import json
import os
import re
import sqlite3
import sys
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from acore_doctor.deployment import Deployment
from acore_doctor.probes.databases import open_readonly
from acore_doctor.redact import MASK, Redactor, is_secret_name
from acore_doctor.saferead import OWN_FILE_MAX, read_text_bounded
from acore_doctor.suite import run_suite

BANNER = """acore-doctor console for {bot_dir}
  settings          the bot's settings: settings['KEY'], settings.show('LLM') (secrets masked)
  deployment        paths: deployment.path('data')
  databases()       SQLite files of the deployment; db(name) opens one read-only
  discord() llm() tts()   the probes of the configured Discord, LLM and TTS services
  probes()          every network probe; probe('ollama.tags'), probe('kokoro') ...
                    (await aprobe(...) inside async code)
  check('name')     run one named check (substring of its test name) and show its finding
  logs('--since', '1h')   the log analyzer on this deployment
  memory(pid)       memory breakdown; bot_pid() finds the bot process
Top-level 'await' works. Output is redacted. Ctrl-D leaves."""


class RedactingStream(io.TextIOBase):
    """Line-buffered: a secret split over several write() calls is still masked whole."""

    def __init__(self, target: TextIO, redact: Redactor) -> None:
        self.target, self.redact = target, redact
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            done, _, self._pending = self._pending.rpartition("\n")
            self.target.write(self.redact(done + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.target.write(self.redact(self._pending))
            self._pending = ""
        self.target.flush()


class MaskedSettings:
    """Read access to the settings; showing them masks every secret."""

    def __init__(self, deployment: Deployment) -> None:
        self._settings = deployment.settings

    def __getitem__(self, key: str) -> str | None:
        return self._settings.raw(key)

    def get(self, key: str, default: str | None = None) -> str | None:
        value = self._settings.raw(key)
        return default if value is None else value

    def keys(self) -> list[str]:
        return sorted(self._settings.file_values)

    def __contains__(self, key: object) -> bool:
        return key in self._settings  # set in the environment or .env, as the bot sees it

    def __iter__(self) -> Iterator[str]:
        """The keys of .env (``for key in settings``, ``list(settings)``): never an endless
        walk through ``__getitem__``."""
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def masked(self, pattern: str = "") -> dict[str, str | None]:
        regex = re.compile(pattern, re.IGNORECASE)
        return {
            key: (MASK if is_secret_name(key) and self[key] else self[key])
            for key in self.keys()
            if regex.search(key)
        }

    def show(self, pattern: str = "") -> None:
        for key, value in self.masked(pattern).items():
            source = self._settings.source(key)
            print(
                f"{key}={value}" + ("  (from the environment)" if source == "environment" else "")
            )

    def __repr__(self) -> str:
        return f"<settings: {len(self.keys())} keys; settings.show() lists them, secrets masked>"


class Findings(list):
    """check()'s result: the findings, shown as one line (the details were printed)."""

    def __repr__(self) -> str:
        outcomes = ", ".join(f"{f['outcome'].upper()}" for f in self)
        return f"<{len(self)} finding(s): {outcomes or 'none'}>"


def open_db(deployment: Deployment, name: str) -> sqlite3.Connection:
    """A read-only connection (probes.databases.open_readonly); a missing file is an error."""
    path = Path(name)
    if not path.is_absolute():
        candidates = [deployment.bot_dir / path, deployment.path("data") / path]
        candidates += [p for p in list_databases(deployment) if p.name == name]
        path = next((p for p in candidates if p.is_file()), candidates[0])
    if not path.is_file():
        raise FileNotFoundError(f"no SQLite file at {path} (databases() lists the known ones)")
    conn = open_readonly(path)
    conn.row_factory = sqlite3.Row
    return conn


def list_databases(deployment: Deployment) -> list[Path]:
    try:
        from acore_doctor.probes.databases import db_targets

        return [t.path for t in db_targets(deployment) if t.path.is_file()]
    except ImportError:
        data = deployment.path("data")
        return sorted(p for p in data.rglob("*") if p.suffix in (".db", ".sqlite", ".sqlite3"))


def probe_names() -> dict[str, str]:
    """Probe name -> service, from the network probe registry."""
    from acore_doctor.netprobe import PROBES

    return {name: spec.service for name, spec in sorted(PROBES.items())}


def _selected(what: str) -> list[str]:
    names = probe_names()
    chosen = [n for n, service in names.items() if what in (n, service)]
    if not chosen:
        chosen = [n for n in names if n.startswith(what)]
    if not chosen:
        raise KeyError(f"no probe or service named {what!r}; probes() lists them")
    return chosen


#: The probe services behind the console's discord(), llm() and tts() shortcuts.
GROUPS = {
    "discord": ("discord",),
    "llm": ("ollama", "openrouter", "openai_compat"),
    "tts": ("kokoro", "luxtts", "qwen3tts", "supertonic", "parakeet", "rvc"),
}


def run_probe(deployment: Deployment, what: str) -> dict[str, Any]:
    from acore_doctor.netprobe import Timeouts, run_probes

    return run_probes(_selected(what), deployment.settings, Timeouts())


def run_group(deployment: Deployment, group: str) -> dict[str, Any]:
    """Every probe of the group's services that applies to this deployment's settings."""
    from acore_doctor.netprobe import Timeouts, run_probes
    from acore_doctor.netprobe.runner import NotApplicable

    names = [n for n, service in probe_names().items() if service in GROUPS[group]]
    results = run_probes(names, deployment.settings, Timeouts())
    return {n: r for n, r in results.items() if not isinstance(r, NotApplicable)}


async def run_probe_async(deployment: Deployment, what: str) -> dict[str, Any]:
    from acore_doctor.netprobe import Timeouts
    from acore_doctor.netprobe.runner import gather_probes

    return await gather_probes(_selected(what), deployment.settings, Timeouts())


def run_check(deployment: Deployment, name: str, timeout: float = 300.0) -> Findings:
    """Run the checks whose test id contains ``name`` and print each finding."""
    with tempfile.TemporaryDirectory(prefix="acore-doctor-console-") as tmp:
        selector = [name] if ("::" in name or name.endswith(".py")) else ["-k", name]
        proc = run_suite(
            deployment.bot_dir,
            ["-q", "-p", "no:cacheprovider", *selector],
            report_dir=Path(tmp),
            capture=True,
            timeout=timeout,
        )
        try:
            report = json.loads(
                read_text_bounded(Path(tmp) / "latest.json", OWN_FILE_MAX, "strict")
            )
        except (OSError, ValueError):
            print(f"no check ran for {name!r} (exit code {proc.returncode})")
            return Findings()
    checks = report.get("checks", [])
    if not checks:
        print(f"no check matches {name!r}")
    for found in checks:
        print(f"{found['title']}  [{found['nodeid']}]")
        print(f"  severity {found['severity']}, outcome {found['outcome'].upper()}")
        if found.get("message"):
            print("  " + found["message"].replace("\n", "\n  "))
        if found["outcome"] in ("failed", "crashed") and found.get("recommendation"):
            print(f"  fix: {found['recommendation']}")
            if found.get("guide"):
                print(f"  see: {found['guide']}")
    return Findings(checks)


def run_logs(deployment: Deployment, *args: str) -> int:
    from acore_doctor.cli import build_parser

    parser = build_parser()
    try:
        parsed, extra = parser.parse_known_args(["logs", f"--bot-dir={deployment.bot_dir}", *args])
    except SystemExit:
        print("the log analyzer ('acore-doctor logs') is not available in this version")
        return 3
    return int(parsed.handler(parsed, extra) or 0)


def namespace(deployment: Deployment, redact: Redactor) -> dict[str, Any]:
    from acore_doctor.ops.memory import breakdown, format_breakdown
    from acore_doctor.ops.process import find_bot_process

    def bot_pid() -> int | None:
        proc = find_bot_process(deployment.bot_dir)
        return None if proc is None else proc.pid

    def memory(pid: int | None = None) -> None:
        pid = pid or bot_pid()
        if pid is None:
            print("no bot process found; memory(pid) reads any process")
            return
        print(format_breakdown(breakdown(pid)))

    return {
        "__name__": "__console__",
        "asyncio": asyncio,
        "deployment": deployment,
        "bot_dir": deployment.bot_dir,
        "settings": MaskedSettings(deployment),
        "redact": redact,
        "databases": lambda: list_databases(deployment),
        "db": lambda name: open_db(deployment, name),
        "probes": probe_names,
        "probe": lambda what: run_probe(deployment, what),
        "aprobe": lambda what: run_probe_async(deployment, what),
        "discord": lambda: run_group(deployment, "discord"),
        "llm": lambda: run_group(deployment, "llm"),
        "tts": lambda: run_group(deployment, "tts"),
        "check": lambda name: run_check(deployment, name),
        "logs": lambda *args: run_logs(deployment, *args),
        "bot_pid": bot_pid,
        "memory": memory,
    }


class DoctorConsole(code.InteractiveConsole):
    """InteractiveConsole that runs top-level ``await`` on its own event loop."""

    def __init__(self, local: dict[str, Any]) -> None:
        super().__init__(local, filename="<acore-doctor>")
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.loop = asyncio.new_event_loop()
        self.failed = False
        self.terminal = sys.stdout  # before output is routed through the redactor

    def runcode(self, code_obj: types.CodeType) -> None:
        try:
            result = types.FunctionType(code_obj, self.locals)()
            if inspect.iscoroutine(result):
                self.loop.run_until_complete(result)
        except SystemExit:
            raise
        except BaseException:
            self.failed = True
            self.showtraceback()

    def run_statement(self, source: str) -> bool:
        """Run one statement (or block) as the REPL would; True when it raised nothing."""
        try:
            code_obj = compile(
                source, self.filename, "single", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            )
        except SyntaxError:
            try:
                code_obj = compile(
                    source, self.filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
                )
            except SyntaxError:
                self.showsyntaxerror()
                return False
        self.runcode(code_obj)
        return not self.failed

    def showsyntaxerror(self, filename: str | None = None, **kwargs: Any) -> None:
        self.failed = True
        super().showsyntaxerror(filename, **kwargs)

    def raw_input(self, prompt: str = "") -> str:
        # input() uses readline (history, completion) only when sys.stdout is the real
        # terminal; the prompt and the echo of what is typed need no redaction.
        redacting = sys.stdout
        redacting.flush()
        sys.stdout = self.terminal
        try:
            return input(prompt)
        finally:
            sys.stdout = redacting

    def run_source(self, source: str) -> bool:
        """Run a script read from a pipe: blocks need no blank line after them, and each
        top-level expression's value is shown as at the prompt. True when nothing raised."""
        try:
            tree = compile(
                source, self.filename, "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            )
        except SyntaxError:
            self.showsyntaxerror()
            return False
        for statement in tree.body:
            interactive = ast.Interactive(body=[statement])
            self.runcode(
                compile(interactive, self.filename, "single", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            )
        return not self.failed

    def close(self) -> None:
        self.loop.close()


def redacted_io(redact: Redactor) -> Iterator[None]:
    """Route stdout, stderr and the REPL's display of values through ``redact``."""
    old = sys.stdout, sys.stderr, sys.displayhook
    sys.stdout = RedactingStream(old[0], redact)  # type: ignore[assignment]
    sys.stderr = RedactingStream(old[1], redact)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr, sys.displayhook = old


HISTORY_ENV = "ACORE_DOCTOR_HISTORY"
HISTORY_LENGTH = 1000


def history_path() -> Path:
    """``$ACORE_DOCTOR_HISTORY``, else ``~/.acore_doctor_history``."""
    return Path(os.environ.get(HISTORY_ENV) or Path.home() / ".acore_doctor_history")


def enable_line_editing(local: dict[str, Any], path: Path) -> bool:
    """Readline history (kept in ``path``) and tab completion of the console's helpers."""
    try:
        import readline
        import rlcompleter
    except ImportError:  # a Python built without readline: the REPL still works
        return False
    readline.set_completer(rlcompleter.Completer(local).complete)
    readline.parse_and_bind("tab: complete")
    readline.set_history_length(HISTORY_LENGTH)
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    return True


def save_history(path: Path, redact: Redactor) -> None:
    """Write the history with secrets masked (a token pasted at the prompt stays out of it)."""
    try:
        import readline
    except ImportError:
        return
    lines = [
        readline.get_history_item(i) for i in range(1, readline.get_current_history_length() + 1)
    ]
    text = "".join(redact(line) + "\n" for line in lines[-HISTORY_LENGTH:] if line)
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)


def start(
    deployment: Deployment, redact: Redactor, command: str | None = None, banner: bool = True
) -> int:
    """Run ``command``; else a REPL on a terminal; else the statements read from stdin.

    Exit code: 0, or 1 when a statement raised (``--command`` and piped input).
    """
    from contextlib import contextmanager

    console = DoctorConsole(namespace(deployment, redact))
    interactive = command is None and sys.stdin.isatty()
    path = history_path()
    if interactive:
        enable_line_editing(console.locals, path)
    with contextmanager(redacted_io)(redact):
        try:
            if command is not None:
                return 0 if console.run_statement(command) else 1
            if not interactive:
                return 0 if console.run_source(sys.stdin.read()) else 1
            intro = BANNER.format(bot_dir=deployment.bot_dir) if banner else ""
            console.interact(banner=intro, exitmsg="")
            return 0
        finally:
            console.close()
            if interactive:
                save_history(path, redact)
