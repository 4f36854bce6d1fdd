#!/bin/sh
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
# clang-format --dry-run --Werror over every C file git knows (or finds)
set -e
cd "$1"
if [ -d .git ]; then
    files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h')
else
    files=$(find src tests bench tools -name '*.[ch]')
fi
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
