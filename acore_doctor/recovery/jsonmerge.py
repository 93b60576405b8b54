"""Merge what still parses of a damaged JSON state file with its newest valid backup copy.

The policy is the SQLite one: the damaged file is the truth wherever its entries can be read;
the backup only fills the places where entries were destroyed. An entry is identified by its
key in an object (RL state's ``agents``: ``"<channel>:<user>"``) and, in a list, by an id it
carries (``id``, ``message_id``; a profile fact's ``timestamp`` with its text) or else by its
whole content. A damaged place in a list lies between the last entry read before it and the
first entry read after it; the backup's entries between those same two entries fill it.
Backup entries anywhere else that the damaged file lacks were deleted (or trimmed, as chat
histories are): they stay deleted. Entries written after the backup are in the damaged file
and are kept. What cannot be filled is counted as possibly lost.

Restored top-level members of an object (a profile's ``affection``) may be older than what
was destroyed: they count as "may be lost" too, so the result is never called complete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from acore_doctor.jsonstream import Entries, Gap

#: Fields that identify a list entry (in this order of preference).
ID_FIELDS = ("id", "message_id", "uid")
#: Members of a top-level object that are collections of entries keyed by name.
KEYED_COLLECTIONS = ("agents",)


@dataclass
class Merged:
    document: Any
    #: entries read from the damaged file
    kept: int = 0
    #: entries taken from the backup to fill damaged places
    restored: int = 0
    #: entries that may be lost: damaged and not filled, or filled with a possibly older copy
    maybe_lost: int = 0
    #: damaged places found
    damaged: int = 0
    #: names of top-level members whose value was lost and not restored
    lost_keys: list[str] = field(default_factory=list)


def identity(entry: Any) -> str:
    """What makes a list entry the same entry in the backup and in the damaged file."""
    if isinstance(entry, dict):
        for name in ID_FIELDS:
            if entry.get(name) is not None:
                return f"{name}={json.dumps(entry[name], sort_keys=True)}"
    return json.dumps(entry, sort_keys=True)


def merge(entries: Entries, backup: Any = None, top: bool = True) -> Merged:
    """The document made of ``entries`` (from :func:`acore_doctor.jsonstream.salvage_entries`)
    with damaged places filled from ``backup`` (the same document from a backup, or None)."""
    if entries.container == "list":
        return _merge_list(entries, backup if isinstance(backup, list) else None)
    return _merge_object(entries, backup if isinstance(backup, dict) else None, top)


def _gap_count(slot: Gap) -> int:
    return max(slot.count, 1)


def _slots_with_tail(entries: Entries) -> list[tuple[str | None, Any] | Gap]:
    """The slots, with a gap at the end when the document was cut off after its last entry
    (a truncated file: what followed is unknown, at least the entry being written is lost)."""
    slots = list(entries.slots)
    if not entries.closed and (not slots or not isinstance(slots[-1], Gap)):
        last = slots[-1] if slots else None
        inner_cut = isinstance(last, tuple) and isinstance(last[1], Entries)
        if not inner_cut:
            slots.append(Gap(1, None, "the document ends here"))
    return slots


def _merge_list(entries: Entries, backup: list[Any] | None) -> Merged:
    slots = _slots_with_tail(entries)
    result = Merged([])
    present = {
        identity(slot[1])
        for slot in slots
        if not isinstance(slot, Gap) and not isinstance(slot[1], Entries)
    }
    backup_ids = [identity(item) for item in backup] if backup is not None else []
    cursor = 0  # the backup is walked forwards, as the document is
    previous: str | None = None
    for index, slot in enumerate(slots):
        if not isinstance(slot, Gap):
            value = slot[1]
            if isinstance(value, Entries):  # a list's entries are kept whole, never partly
                slot = Gap(1, None, "damaged inside")
            else:
                result.document.append(value)
                result.kept += 1
                previous = identity(value)
                continue
        result.damaged += 1
        lost = _gap_count(slot)
        following = next(
            (identity(s[1]) for s in slots[index + 1 :] if not isinstance(s, Gap)), None
        )
        fill = _backup_range(backup_ids, cursor, previous, following, lost)
        if fill is not None:
            start, end = fill
            cursor = end
            filled = [
                backup[i]  # type: ignore[index]
                for i in range(start, end)
                if backup_ids[i] not in present
            ]
            result.document.extend(filled)
            result.restored += len(filled)
            present.update(identity(item) for item in filled)
            lost = max(lost - len(filled), 0)
        result.maybe_lost += lost
    return result


def _backup_range(
    ids: list[str], cursor: int, previous: str | None, following: str | None, count: int
) -> tuple[int, int] | None:
    """The backup's entries strictly between ``previous`` and ``following``, or None when
    the backup does not hold the anchors. With one anchor only (damage at the document's
    start or end) at most ``count`` entries next to it: the backup's older entries beyond
    them were trimmed or deleted since. With neither (nothing readable) the whole backup."""
    if not ids:
        return None
    try:
        start = 0 if previous is None else ids.index(previous, cursor) + 1
        end = len(ids) if following is None else ids.index(following, start)
    except ValueError:
        return None
    if previous is None and following is not None:
        start = max(end - count, 0)
    elif following is None and previous is not None:
        end = min(start + count, len(ids))
    return start, end


def _merge_object(entries: Entries, backup: dict[str, Any] | None, top: bool) -> Merged:
    slots = _slots_with_tail(entries)
    result = Merged({})
    names = [slot[0] for slot in slots if not isinstance(slot, Gap)]
    backup_keys = list(backup) if backup is not None else []
    cursor = 0
    previous: str | None = None
    for index, slot in enumerate(slots):
        if not isinstance(slot, Gap):
            key, value = slot
            if isinstance(value, Entries):
                nested_ok = top and (value.container == "list" or key in KEYED_COLLECTIONS)
                if nested_ok:
                    inner = merge(value, backup.get(key) if backup else None, top=False)
                    result.document[key] = inner.document
                    result.kept += 1
                    result.restored += inner.restored
                    result.maybe_lost += inner.maybe_lost
                    result.damaged += inner.damaged
                    previous = key
                    continue
                slot = Gap(1, key, "damaged inside")
            else:
                result.document[key] = value
                result.kept += 1
                previous = key
                continue
        result.damaged += 1
        if slot.key is not None:
            # The member's name survived: only its value is gone.
            if backup is not None and slot.key in backup:
                result.document[slot.key] = backup[slot.key]
                result.restored += 1
            elif top:
                result.lost_keys.append(slot.key)
            result.maybe_lost += 1  # missing, or a backup copy that may be older
            previous = slot.key
            continue
        lost = _gap_count(slot)
        following = next((s[0] for s in slots[index + 1 :] if not isinstance(s, Gap)), None)
        fill = _backup_range(backup_keys, cursor, previous, following, lost)
        if fill is not None:
            start, end = fill
            cursor = end
            for key in backup_keys[start:end]:
                if key not in names and key not in result.document:
                    result.document[key] = backup[key]  # type: ignore[index]
                    result.restored += 1
            # A keyed entry restored from a backup may be older than the one destroyed.
            lost = max(lost, end - start) if end > start else lost
        result.maybe_lost += lost
    return result
