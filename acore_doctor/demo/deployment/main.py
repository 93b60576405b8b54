"""acore_bot legacy entrypoint (DEPRECATED). Demo stand-in.

The demo has no real bot; this stand-in only gives the process checks a real process to find
(``python main.py`` running from the deployment's directory). It writes nothing, and exits when
its parent process goes away or after ACORE_DEMO_BOT_SECONDS (default 600).
"""

import os
import time


def main() -> None:
    parent = os.getppid()
    deadline = time.monotonic() + float(os.environ.get("ACORE_DEMO_BOT_SECONDS", "600"))
    while time.monotonic() < deadline and os.getppid() == parent:
        time.sleep(0.2)


if __name__ == "__main__":
    main()
