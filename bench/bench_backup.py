"""Back up and restore a large synthetic deployment; report time and peak memory.

Peak memory must stay flat in the data size: everything streams. The benchmark builds two
deployments, one SCALE times bigger than the other, and measures backup and restore of each
in a fresh child process (peak RSS from getrusage, minus the child's import baseline), then
prints the ratios side by side. Absolute numbers depend on the (shared, noisy) machine;
the ratios are the result.

    python bench/bench_backup.py            # ~50 MB and ~200 MB deployments, a few minutes
    python bench/bench_backup.py --full     # the issue's size: 100 000 JSON files + 500 MB db
                                            # (1 GB), against a quarter of it
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCALE = 4
SMALL = {"files": 2_500, "json_mb": 12.5, "db_mb": 37.5}
FULL = {"files": 100_000, "json_mb": 500, "db_mb": 500}


def build(root: Path, files: int, json_mb: float, db_mb: float, seed: int = 1) -> int:
    """A deployment shaped like a real one: per-channel histories, per-user profiles in
    persona directories, RL state, and the offline-RL SQLite store. Returns bytes written."""
    rng = random.Random(seed)
    from acore_doctor.demo import DEPLOYMENT

    shutil.copytree(DEPLOYMENT, root)
    (root / ".env").chmod(0o600)
    data = root / "data"
    per_file = int(json_mb * 1e6 / files)
    words = [os.urandom(4).hex() for _ in range(2000)]
    total = 0
    for i in range(files):
        if i % 2:
            path = data / "chat_history" / f"{1431878519016900000 + i}.json"
            messages = []
            size = 0
            while size < per_file:
                text = " ".join(rng.choices(words, k=20))
                messages.append({"role": "user", "content": text, "username": "u", "user_id": i})
                size += len(text) + 60
            body = json.dumps(messages)
        else:
            path = data / "user_profiles" / f"persona_{i % 50}" / f"user_{i}.json"
            facts = []
            size = 0
            while size < per_file:
                fact = " ".join(rng.choices(words, k=12))
                facts.append({"fact": fact, "timestamp": "2026-01-01T00:00:00", "source": "chat"})
                size += len(fact) + 70
            body = json.dumps(
                {"user_id": i, "username": f"user{i}", "facts": facts, "affection": {"level": 50}}
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        total += len(body)
    db = data / "conversations.db"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE messages(id INTEGER PRIMARY KEY AUTOINCREMENT, channel_id INTEGER NOT NULL,"
        " role TEXT NOT NULL, content TEXT NOT NULL, username TEXT, user_id INTEGER,"
        " timestamp DATETIME DEFAULT CURRENT_TIMESTAMP)"
    )
    row_text = 400
    rows = int(db_mb * 1e6 / (row_text + 60))
    batch = []
    for n in range(rows):
        batch.append((n % 500, "user", " ".join(rng.choices(words, k=row_text // 9)), "u", n % 97))
        if len(batch) == 5000:
            conn.executemany(
                "INSERT INTO messages(channel_id, role, content, username, user_id) "
                "VALUES (?,?,?,?,?)",
                batch,
            )
            batch.clear()
    if batch:
        conn.executemany(
            "INSERT INTO messages(channel_id, role, content, username, user_id) VALUES (?,?,?,?,?)",
            batch,
        )
    conn.commit()
    conn.close()
    return total + db.stat().st_size


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(action: str, root: str) -> None:
    from acore_doctor.deployment import load_deployment
    from acore_doctor.recovery.backup import create_backup
    from acore_doctor.recovery.common import recovery_config
    from acore_doctor.recovery.restore import restore

    config = recovery_config(load_deployment(Path(root)))
    baseline = peak_rss_mb()
    started = time.perf_counter()
    if action == "backup":
        backup = create_backup(config)
        extra = {"archive_mb": backup.archive.stat().st_size / 1e6}
    elif action == "restore":
        result = restore(config, say=lambda _line: None)
        extra = {"files": result.stage.files}
    else:
        extra = {}
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - started,
                "peak_mb": peak_rss_mb(),
                "baseline_mb": baseline,
                **extra,
            }
        )
    )


def tar_czf(root: Path, target: Path) -> float:
    """Seconds ``tar czf`` takes for the same state (data/, prompts/, .env): the baseline
    the issue holds ``backup`` to (at most 1.5x)."""
    started = time.perf_counter()
    subprocess.run(
        ["tar", "czf", str(target), "-C", str(root), "data", "prompts", ".env"], check=True
    )
    seconds = time.perf_counter() - started
    target.unlink()
    return seconds


def measure(action: str, root: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", action, str(root)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the issue's 1 GB deployment")
    parser.add_argument("--child", nargs=2, metavar=("ACTION", "ROOT"), help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help="where to build (default: system temp dir)")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    big = FULL if args.full else {k: v * SCALE for k, v in SMALL.items()}
    small = {k: (v / SCALE if k != "files" else v // SCALE) for k, v in big.items()}
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-backup-", dir=args.tmp) as tmp:
        for name, size in (("small", small), ("large", big)):
            root = Path(tmp) / name / "acore_bot"
            t0 = time.perf_counter()
            data_bytes = build(
                root,
                **{"files": int(size["files"]), "json_mb": size["json_mb"], "db_mb": size["db_mb"]},
            )
            print(
                f"built {name}: {int(size['files'])} JSON files + db, "
                f"{data_bytes / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s",
                flush=True,
            )
            idle = measure("idle", root)
            # Side by side, alternating, best of two each: the machine is shared and noisy.
            tar_s, backups = [], []
            for _ in range(2):
                tar_s.append(tar_czf(root, Path(tmp) / "baseline.tar.gz"))
                backups.append(measure("backup", root))
            backup = min(backups, key=lambda b: b["seconds"])
            backup["tar_s"] = min(tar_s)
            restored = measure("restore", root)
            results[name] = (data_bytes, idle, backup, restored)
            shutil.rmtree(Path(tmp) / name)
    print()
    print(
        f"{'size':<6} {'data MB':>8} {'backup s':>9} {'MB/s':>6} {'archive MB':>10} "
        f"{'restore s':>10} {'peak RSS backup':>16} {'peak RSS restore':>17} {'idle RSS':>9}"
    )
    for name, (data_bytes, idle, backup, restored) in results.items():
        print(
            f"{name:<6} {data_bytes / 1e6:>8.0f} {backup['seconds']:>9.1f} "
            f"{data_bytes / 1e6 / backup['seconds']:>6.0f} {backup['archive_mb']:>10.0f} "
            f"{restored['seconds']:>10.1f} {backup['peak_mb']:>13.0f} MB "
            f"{restored['peak_mb']:>14.0f} MB {idle['peak_mb']:>6.0f} MB"
        )
    (sd, si, sb, sr), (ld, li, lb, lr) = results["small"], results["large"]
    grow = lambda a, b: (b["peak_mb"] - li["peak_mb"]) / max(a["peak_mb"] - si["peak_mb"], 1.0)  # noqa: E731
    print()
    print(
        f"ratios large/small: data {ld / sd:.2f}x, backup time {lb['seconds'] / sb['seconds']:.2f}x, "
        f"restore time {lr['seconds'] / sr['seconds']:.2f}x"
    )
    print(
        f"peak RSS large/small: backup {lb['peak_mb'] / sb['peak_mb']:.2f}x, "
        f"restore {lr['peak_mb'] / sr['peak_mb']:.2f}x "
        f"(above the idle child: backup {grow(sb, lb):.2f}x, "
        f"restore {grow(sr, lr):.2f}x) "
        "- flat memory means close to 1.0x while data grows "
        f"{ld / sd:.1f}x"
    )
    for name, (data_bytes, _idle, backup, _restored) in results.items():
        print(
            f"backup / tar czf ({name}, {data_bytes / 1e6:.0f} MB): "
            f"{backup['seconds']:.1f} s / {backup['tar_s']:.1f} s = "
            f"{backup['seconds'] / backup['tar_s']:.2f}x (target <= 1.50x)"
        )
    print("restore time includes verifying every file, the pre-restore backup and the swap.")


if __name__ == "__main__":
    main()
