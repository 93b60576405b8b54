"""The command line: one exit-code contract, lazy command imports, options as pytest reads them."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from acore_doctor import cli
from acore_doctor.commands.options import bot_dir_from


@pytest.mark.parametrize(
    "argv",
    [
        ["no-such-command"],
        ["backup", "--no-such-option"],
        ["watch", "--interval", "not-a-number"],
        ["simulate", "--fault", "ollama=no_such_mode"],
        ["simulate", "--port", "ollama=eighty"],
        ["demo", "--fault", "ollama=no_such_mode"],  # refused before anything is copied
        [],
    ],
    ids=lambda argv: " ".join(argv) or "no command",
)
def test_usage_errors_are_unknown_never_critical(argv, capsys):
    assert cli.main(argv) == 3
    assert capsys.readouterr().err.startswith(("usage:", "acore-doctor")) or not argv


def test_help_and_version_exit_0(capsys):
    assert cli.main(["--help"]) == 0
    assert "run the health suite" in capsys.readouterr().out
    assert cli.main(["--version"]) == 0
    assert cli.main(["watch", "--help"]) == 0
    assert "HEALTH_CHECK_INTERVAL" in capsys.readouterr().out


def test_every_listed_command_registers_itself_under_its_name():
    parser = cli.build_parser()
    for name, (module, _) in cli.COMMANDS.items():
        assert importlib.import_module(module).register
        args, _ = parser.parse_known_args([name])
        assert args.command == name and callable(args.handler), name


def test_internal_error_is_unknown_with_one_line_and_traceback_on_debug(
    tmp_path, capsys, monkeypatch
):
    import logging

    from acore_doctor.commands import memory

    secret = "sk-or-v1-" + "s" * 40
    (tmp_path / ".env").write_text(f"OPENROUTER_API_KEY={secret}\n")

    def boom(args, extra):
        raise RuntimeError(f"boom {secret}")

    monkeypatch.setattr(memory, "handle", boom)
    monkeypatch.delenv("DEBUG_MODE", raising=False)
    monkeypatch.delenv("VERBOSE_LOGGING", raising=False)
    assert cli.main(["memory", f"--bot-dir={tmp_path}"]) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err
    assert "DEBUG_MODE=true" in err
    with (tmp_path / ".env").open("a") as env:
        env.write("DEBUG_MODE=true\n")
    try:
        assert cli.main(["memory", f"--bot-dir={tmp_path}"]) == 3
    finally:
        logging.getLogger("acore_doctor").handlers.clear()
    err = capsys.readouterr().err
    assert "Traceback" in err and "acore-doctor DEBUG" in err
    assert secret not in err, "the error was not redacted"


def test_bot_dir_resolves_as_pytest_does(tmp_path, monkeypatch):
    from argparse import Namespace

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACORE_BOT_DIR", raising=False)
    assert bot_dir_from(Namespace(bot_dir=None)) == tmp_path.resolve()
    monkeypatch.setenv("ACORE_BOT_DIR", str(tmp_path / "from-env"))
    assert bot_dir_from(Namespace(bot_dir=None)) == tmp_path / "from-env"
    assert bot_dir_from(Namespace(bot_dir=Path("given"))) == tmp_path / "given"


def test_the_sample_is_copied_without_bytecode_an_install_compiled(tmp_path, monkeypatch):
    import shutil

    from acore_doctor import demo

    installed = tmp_path / "installed"
    shutil.copytree(demo.DEPLOYMENT, installed)
    (installed / "config" / "__pycache__").mkdir(exist_ok=True)
    (installed / "config" / "__pycache__" / "llm.cpython-311.pyc").write_bytes(b"\0")
    monkeypatch.setattr(demo, "DEPLOYMENT", installed)
    copy = demo.copy_sample(tmp_path / "acore_bot")
    assert (copy / "config").is_dir() and (copy / ".env").stat().st_mode & 0o777 == 0o600
    assert not list(copy.rglob("__pycache__"))
