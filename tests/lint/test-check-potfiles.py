#!/usr/bin/python3
# Copyright 2026 The Vigil authors
# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/check-potfiles.py on small trees made here, so that the lint check cannot pass by
seeing nothing (suite lint).

Usage: test-check-potfiles.py CHECK_POTFILES SRCDIR
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

CHECK = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools', 'check-potfiles.py')
SRCDIR = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..')

TRANSLATED_C = '''#include <glib/gi18n.h>
const char *
hello(void)
{
	return _("hello");
}
'''

MARKED_C = '''static const char *const words[] = {N_("one"), N_("two"), NULL};
'''

UNTRANSLATED_C = '''/* strings go through _() in the CLI, not here */
#define LABEL_(x) x
const char *
name(void)
{
	g_debug("N_(not a call)");
	return LABEL_("x");
}
'''


class CheckPotfilesTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.root = self.tmp.name

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)

    def potfiles(self, *entries):
        self.write('po/POTFILES.in', '# a comment\n\n' + ''.join(f'{e}\n' for e in entries))

    def run_check(self, root=None):
        p = subprocess.run([sys.executable, CHECK, root or self.root], capture_output=True,
                           text=True, timeout=60, check=False)
        return p.returncode, p.stdout

    def test_complete_tree_passes(self):
        self.write('src/cli/a.c', TRANSLATED_C)
        self.write('src/cli/b.c', MARKED_C)
        self.write('src/daemon/c.c', UNTRANSLATED_C)
        self.write('data/polkit/x.policy.in', '<policyconfig/>\n')
        self.potfiles('data/polkit/x.policy.in', 'src/cli/a.c', 'src/cli/b.c')
        self.assertEqual(self.run_check(), (0, ''))

    def test_unlisted_c_file_fails(self):
        self.write('src/cli/a.c', TRANSLATED_C)
        self.write('src/cli/b.c', MARKED_C)
        self.potfiles('src/cli/a.c')
        rc, out = self.run_check()
        self.assertEqual(rc, 1)
        self.assertEqual(out, 'src/cli/b.c: marks strings for translation but is not listed '
                              'in po/POTFILES.in\n')

    def test_words_in_comments_and_strings_do_not_count(self):
        self.write('src/daemon/c.c', UNTRANSLATED_C)
        self.potfiles()
        self.assertEqual(self.run_check(), (0, ''))

    def test_listed_file_that_does_not_exist_fails(self):
        self.write('src/cli/a.c', TRANSLATED_C)
        self.potfiles('src/cli/a.c', 'src/cli/gone.c')
        rc, out = self.run_check()
        self.assertEqual(rc, 1)
        self.assertEqual(out, 'po/POTFILES.in:4: src/cli/gone.c does not exist\n')

    def test_unlisted_data_and_ui_files_fail(self):
        self.write('data/polkit/x.policy.in', '<policyconfig/>\n')
        self.write('data/x.desktop.in', '[Desktop Entry]\n')
        self.write('data/x.metainfo.xml.in', '<component/>\n')
        self.write('data/x.gschema.xml', '<schemalist/>\n')
        self.write('src/gui/vigil-window.ui', '<interface/>\n')
        self.potfiles('data/x.desktop.in')
        rc, out = self.run_check()
        self.assertEqual(rc, 1)
        named = sorted(line.split(':')[0] for line in out.splitlines())
        self.assertEqual(named, ['data/polkit/x.policy.in', 'data/x.gschema.xml',
                                 'data/x.metainfo.xml.in', 'src/gui/vigil-window.ui'])

    def test_no_potfiles_fails(self):
        self.write('src/cli/a.c', TRANSLATED_C)
        rc, out = self.run_check()
        self.assertEqual(rc, 1)
        self.assertIn('po/POTFILES.in: cannot read it', out)

    def test_the_project_tree_with_one_file_dropped_fails(self):
        # the real sources and list, less one C file that has translatable strings
        for top in ('src', 'data'):
            shutil.copytree(os.path.join(SRCDIR, top), os.path.join(self.root, top))
        with open(os.path.join(SRCDIR, 'po', 'POTFILES.in'), encoding='utf-8') as f:
            entries = [line.strip() for line in f if line.strip() and not line.startswith('#')]
        c_files = [e for e in entries if e.endswith('.c')]
        self.assertTrue(c_files, entries)
        self.potfiles(*entries)
        self.assertEqual(self.run_check(), (0, ''))
        dropped = c_files[0]
        self.potfiles(*[e for e in entries if e != dropped])
        rc, out = self.run_check()
        self.assertEqual(rc, 1)
        self.assertTrue(out.startswith(f'{dropped}: marks strings for translation'), out)


if __name__ == '__main__':
    unittest.main(argv=sys.argv[:1],
                  testRunner=unittest.TextTestRunner(stream=sys.stdout, verbosity=2))
