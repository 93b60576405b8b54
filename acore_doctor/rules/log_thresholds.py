"""The log rules' thresholds, defined once: the table the pytest options and ini keys are
made from (:mod:`acore_doctor.options`) and the defaults ``acore-doctor logs`` uses.
Standard library only (with :mod:`acore_doctor.thresholds`), so the options module stays
light."""

from __future__ import annotations

from acore_doctor.thresholds import threshold_class

#: option/ini name -> (default, help)
LOG_THRESHOLDS: dict[str, tuple[float, str]] = {
    "log_window_minutes": (60.0, "length of the recent log window the checks read (minutes)"),
    "log_stale_minutes": (
        360.0,
        "a running bot's log older than this is stale (minutes; at LOG_LEVEL=DEBUG the "
        "gateway heartbeat writes every ~41 s, so log_stale_debug_minutes applies)",
    ),
    "log_stale_debug_minutes": (15.0, "stale log threshold at LOG_LEVEL=DEBUG (minutes)"),
    "log_crash_starts": (3.0, "more starts than this within log_crash_minutes is a crash loop"),
    "log_crash_minutes": (10.0, "the crash-loop window (minutes)"),
    "log_flood_per_minute": (100.0, "more copies of one error template in a minute is a flood"),
    "log_error_share_percent": (1.0, "ERROR+CRITICAL share of records above this warns (percent)"),
    "log_min_records": (100.0, "shares are judged only on at least this many records"),
    "log_debug_share_percent": (
        10.0,
        "DEBUG share of the recent records above this means DEBUG logging (percent)",
    ),
    "log_ready_grace_minutes": (5.0, "how long after a start the ready marker may take (minutes)"),
    "log_rotation_min_hours": (6.0, "rotating more often than this means a flood (hours)"),
}


#: One float field per row of :data:`LOG_THRESHOLDS`, defaulting to its value.
LogThresholds = threshold_class("LogThresholds", LOG_THRESHOLDS, __name__)
