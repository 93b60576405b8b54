"""After a restore run as root, the bot running as its own user can still read its .env and
write data/: a real process of that user tries (numeric ids, no account needed)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from acore_doctor.recovery.backup import create_backup
from acore_doctor.recovery.restore import restore
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import BOT_GID, BOT_UID, config_of, give_to_the_bot_user

AS_THE_BOT = """
import sys
from pathlib import Path
root = Path(sys.argv[1])
assert "DISCORD_TOKEN" in (root / ".env").read_text()
(root / "data" / "chat_history" / "written-by-the-bot.json").write_text("[]")
(root / "data" / "temp" / "tts.wav").write_bytes(b"RIFF")
print("ok")
"""


def traversable(path: Path) -> None:
    """pytest's temporary directories are 0700 root: let the bot's user walk down to its own."""
    for parent in [path, *path.parents]:
        if parent == Path("/"):
            break
        os.chmod(parent, os.stat(parent).st_mode | 0o001)


#: An interpreter any user may run (the suite's own may live under /root, mode 0700).
SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root")
@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no /usr/bin/python3 for the bot's user")
def test_the_bots_user_reads_env_and_writes_data_after_a_root_restore(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    (tmp_path / "models").mkdir()
    give_to_the_bot_user(bot, tmp_path / "models")
    traversable(bot.root)
    config = config_of(bot.root)
    create_backup(config)
    os.chown(bot.env_path, 0, 0)  # what a restore that ignores owners would leave
    os.chown(bot.root / "data", 0, 0)
    restore(config, say=lambda _line: None)
    done = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", AS_THE_BOT, str(bot.root)],
        user=BOT_UID, group=BOT_GID, extra_groups=[], capture_output=True, text=True,
        timeout=60, cwd="/",
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
