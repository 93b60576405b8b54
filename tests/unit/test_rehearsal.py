"""The import rehearsal's pieces that need no child process: who it runs as, and reading its
answer (the rehearsal itself runs in tests/e2e/test_dependencies.py)."""

from __future__ import annotations

import json
import os
import pwd

from acore_doctor.probes.rehearsal import RehearsalFacts, identity_for, read_answer


def test_the_bots_own_user_needs_no_switch() -> None:
    me = pwd.getpwuid(os.geteuid()).pw_name
    identity = identity_for(os.geteuid(), (), None, None)
    assert identity is not None and identity.uid is None
    assert identity.name == me and identity.note == "the running bot's user"


def test_nothing_known_runs_as_the_suites_user() -> None:
    assert identity_for(None, (), None, None) is None


def test_a_unit_user_that_does_not_exist_is_said() -> None:
    identity = identity_for(None, (), "no-such-user-acore", None)
    assert identity is not None and identity.uid is None
    assert "does not exist" in identity.note


def test_another_user_is_switched_to_only_as_root() -> None:
    identity = identity_for(None, (), "nobody", "nogroup")
    nobody = pwd.getpwnam("nobody")
    assert identity is not None
    if os.geteuid() == 0:
        assert identity.uid == nobody.pw_uid and identity.note == "unit User=nobody"
    else:
        assert identity.uid is None and "switching needs root" in identity.note


def test_an_answer_splits_broken_imports_from_unjudged_ones() -> None:
    answer = {
        "modules": ["services.core.factory", "utils.logging_config"],
        "failures": [
            {"statement": "import services.core.factory", "entry_line": 3,
             "modules": ["services.core.factory"], "type": "ModuleNotFoundError",
             "message": "No module named 'numpy'", "file": "services/core/factory.py",
             "line": 2, "blocked": False, "memory": False},
            {"statement": "import utils.logging_config", "entry_line": 4,
             "modules": ["utils.logging_config"], "type": "BlockedWrite",
             "message": "refused", "file": "utils/logging_config.py", "line": 5,
             "blocked": True, "memory": False},
        ],
        "syntax": [{"file": "a.py", "line": 1, "message": "SyntaxError: invalid syntax"}],
        "attempts": [{"kind": "write", "target": "logs/bot.log", "where": "utils/x.py:5"}],
        "parsed": 12, "import_seconds": 0.5, "user": "bot",
        "unread": ["models/generated.py: larger than 8 MiB"],
    }  # fmt: skip
    facts = read_answer(RehearsalFacts("main.py"), 0, json.dumps(answer).encode(), b"")
    assert [f.modules for f in facts.broken] == [("services.core.factory",)]
    assert [f.modules for f in facts.not_judged] == [("utils.logging_config",)]
    assert facts.broken[0].error == "ModuleNotFoundError: No module named 'numpy'"
    assert facts.syntax[0].file == "a.py" and facts.parsed == 12
    assert facts.attempts == ["write logs/bot.log at utils/x.py:5"]
    assert facts.unread == ["models/generated.py: larger than 8 MiB"]  # not judged, not broken


def test_a_child_that_died_is_a_fact_not_a_crash() -> None:
    facts = read_answer(RehearsalFacts("main.py"), -9, b"", b"Killed\n")
    assert facts.error and "exited with -9" in facts.error


def test_the_units_environment_is_what_systemd_gives_the_bot(tmp_path) -> None:
    from acore_doctor.probes.rehearsal import unit_environment

    envfile = tmp_path / "bot.env"
    envfile.write_text("# from the unit\nKOBOLDCPP_STEPS=30\nQUOTED='a b'\n")
    unit = tmp_path / "discordbot.service"
    unit.write_text(
        "[Unit]\nEnvironment=NOT_SERVICE=1\n[Service]\n"
        'Environment="LOG_LEVEL=INFO" OLLAMA_HOST=http://x:11434\n'
        f"EnvironmentFile=-{envfile}\nEnvironmentFile=-{tmp_path}/missing.env\n"
    )
    (tmp_path / "discordbot.service.d").mkdir()
    (tmp_path / "discordbot.service.d" / "override.conf").write_text(
        "[Service]\nEnvironment=LOG_LEVEL=WARNING\n"
    )
    assert unit_environment(unit) == {
        "LOG_LEVEL": "WARNING",  # the drop-in's assignment comes last
        "OLLAMA_HOST": "http://x:11434",
        "KOBOLDCPP_STEPS": "30",  # EnvironmentFile= wins over Environment=
        "QUOTED": "a b",
    }
    assert unit_environment(None) == {}
