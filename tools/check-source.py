#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks the house rules of ../shared/style.md that clang-format cannot see.

Usage: check-source.py SRCDIR
Prints one line per problem as FILE:LINE: what, and exits 1 when there is any.
"""

import os
import re
import sys

LOG_CALL = re.compile(r'\bg_(debug|info|message|warning|critical)\s*\(\s*"((?:[^"\\]|\\.)*)"')
SPDX = re.compile(r'SPDX-License-Identifier: GPL-3.0-or-later')


def strip_strings(line):
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)


def check_c(path, rel, problems):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    lines = text.split('\n')
    if not SPDX.search('\n'.join(lines[:5])):
        problems.append(f'{rel}:1: no SPDX-License-Identifier line in the header')
    in_comment = False
    for no, line in enumerate(lines, 1):
        code = strip_strings(line)
        # track block comments so that URLs inside them are not taken for // comments
        scan = code
        if in_comment:
            if '*/' in scan:
                scan = scan.split('*/', 1)[1]
                in_comment = False
            else:
                continue
        scan = re.sub(r'/\*.*?\*/', '', scan)
        if '/*' in scan:
            scan = scan.split('/*', 1)[0]
            in_comment = True
        if '//' in scan:
            problems.append(f'{rel}:{no}: C++ comment, use /* */')
        if re.search(r'==\s*TRUE\b|\bTRUE\s*==', scan):
            problems.append(f'{rel}:{no}: comparison with TRUE')
        if rel.startswith('src/daemon') and re.search(r'\b(g_error|abort|exit)\s*\(', scan):
            problems.append(f'{rel}:{no}: g_error()/abort()/exit() in the daemon')
        for m in LOG_CALL.finditer(line):
            msg = m.group(2)
            if msg[:1].isupper() and not re.match(r'^[A-Z0-9_]{2,}\b', msg):
                problems.append(f'{rel}:{no}: log message starts with a capital letter')
            if msg.endswith('.') or msg.endswith('\\n'):
                problems.append(f'{rel}:{no}: log message ends with a full stop or newline')
    if path.endswith('.c') and re.search(r'\bG_DEFINE_[A-Z_]*TYPE', text):
        first = next((l for l in lines if l.startswith('#')), '')
        if not first.startswith('#define G_LOG_DOMAIN'):
            problems.append(f'{rel}:1: defines a type but G_LOG_DOMAIN is not the first directive')
    if path.endswith('.h') and '#pragma once' not in text:
        problems.append(f'{rel}:1: header without #pragma once')


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    problems = []
    for top in ('src', 'tests', 'bench'):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if name.endswith(('.c', '.h')):
                    path = os.path.join(dirpath, name)
                    check_c(path, os.path.relpath(path, root), problems)
    for p in problems:
        print(p)
    print(f'{len(problems)} problems', file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
