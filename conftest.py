"""Suite-wide settings. The acore-doctor plugin itself is loaded through its pytest11 entry
point (see pyproject.toml), so its options work on any command line."""

collect_ignore = ["reports", "bench"]
