"""What changed in the deployment since a check last passed (issue 21).

- :mod:`.inputs`: which inputs (settings, files, fixtures) each check read, recorded as it runs;
- :mod:`.fingerprint`: a cheap, secret-free fingerprint of the deployment, every run;
- :mod:`.store`: fingerprints kept compactly in the report directory (deltas between runs);
- :mod:`.attribute`: a new finding's changes since its last pass, the ones it read first;
- :mod:`.plugin`: the pytest hooks that tie them to a health run.
"""
