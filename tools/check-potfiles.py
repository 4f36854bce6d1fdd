#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keeps po/POTFILES.in complete (style rule 36), as fwupd's check-potfiles does.

Usage: check-potfiles.py SRCDIR
Fails, naming the file, when a C file under src/ marks strings for translation or a file
that always holds translatable text (.policy.in, .desktop.in, .metainfo.xml.in, .ui,
.gschema.xml, under src/ or data/) is not listed, and when the list names a file that does
not exist. Prints one line per problem and exits 1 when there is any.
"""

import os
import re
import sys

POTFILES = os.path.join('po', 'POTFILES.in')

# the gettext calls of <glib/gi18n.h>; comments and string literals are removed first
GETTEXT_CALL = re.compile(r'(?<![A-Za-z0-9_])(?:N?C?_|g_d?n?gettext|ngettext|g_dpgettext2)\s*\(')
C_COMMENT_OR_STRING = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'',
                                 re.DOTALL)

# files whose whole purpose includes translatable text; .in.in when they are rendered twice
ALWAYS_TRANSLATED = ('.policy.in', '.desktop.in', '.desktop.in.in', '.metainfo.xml.in',
                     '.metainfo.xml.in.in', '.ui', '.gschema.xml')


def read_potfiles(root, problems):
    listed = {}
    path = os.path.join(root, POTFILES)
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().split('\n')
    except OSError as e:
        problems.append(f'{POTFILES}: cannot read it: {e.strerror}')
        return listed
    for no, line in enumerate(lines, 1):
        entry = line.strip()
        if entry == '' or entry.startswith('#'):
            continue
        if entry in listed:
            problems.append(f'{POTFILES}:{no}: {entry} is listed twice')
            continue
        listed[entry] = no
    return listed


def has_gettext_call(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()

    def blank(m):
        # keep a string literal's quotes so that neighbouring tokens stay apart
        return '""' if m.group(0).startswith('"') else ' '

    return GETTEXT_CALL.search(C_COMMENT_OR_STRING.sub(blank, text)) is not None


def walk(root, top):
    for dirpath, dirnames, files in os.walk(os.path.join(root, top)):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            yield path, os.path.relpath(path, root).replace(os.sep, '/')


def wanted_files(root):
    wanted = []
    for path, rel in walk(root, 'src'):
        if rel.endswith('.c') and has_gettext_call(path):
            wanted.append((rel, 'marks strings for translation'))
    for top in ('src', 'data'):
        for path, rel in walk(root, top):
            if rel.endswith(ALWAYS_TRANSLATED):
                wanted.append((rel, 'holds translatable text'))
    return wanted


def check(root):
    problems = []
    listed = read_potfiles(root, problems)
    for entry, no in sorted(listed.items(), key=lambda item: item[1]):
        if not os.path.isfile(os.path.join(root, entry)):
            problems.append(f'{POTFILES}:{no}: {entry} does not exist')
    for rel, why in wanted_files(root):
        if rel not in listed:
            problems.append(f'{rel}: {why} but is not listed in {POTFILES}')
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    problems = check(root)
    for p in problems:
        print(p)
    print(f'{len(problems)} problems', file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
