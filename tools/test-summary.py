#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads meson's testlog.json and prints the closing line CI reads.

Every suite is required: a skipped test counts as a failure of the run, with its name
printed, because a skipped netns or gui suite would otherwise pass unseen.
"""

import json
import sys

REQUIRED_SUITES = ('unit', 'dbus', 'netns', 'gui', 'lint')


def suites_of(test):
    """Meson 1.0 writes no suite list: the name reads project:suite1+suite2 / test."""
    if 'suite' in test:
        return {s.split(':', 1)[-1] for s in test['suite']}
    head = test['name'].split(' / ', 1)[0]
    return set(head.split(':', 1)[-1].split('+')) if ':' in head else set()


def main():
    passed = failed = skipped = 0
    seen = set()
    problems = []
    with open(sys.argv[1], encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            suites = suites_of(t)
            seen |= suites
            result = t.get('result')
            if result in ('OK', 'EXPECTEDFAIL'):
                passed += 1
            elif result == 'SKIP':
                skipped += 1
                problems.append(f"skipped: {t['name']} (suites {', '.join(sorted(suites))})")
            else:
                failed += 1
                problems.append(f"failed: {t['name']} ({result})")
    required = [s for s in sys.argv[2:]] or list(REQUIRED_SUITES)
    for suite in required:
        if suite not in seen:
            problems.append(f'missing suite: {suite} ran no test')
    for p in problems:
        print(p)
    bad = failed + skipped + sum(1 for p in problems if p.startswith('missing'))
    print(f'{passed} passed, {bad} failed')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
