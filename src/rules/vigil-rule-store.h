/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "vigil-rule-set.h"

G_BEGIN_DECLS

/**
 * VigilRuleStoreSaveFlags:
 * @VIGIL_RULE_STORE_SAVE_NONE: refuse to overwrite a rules file that had errors when loaded
 * @VIGIL_RULE_STORE_SAVE_FORCE: the user said so: keep the old file as
 *                               `rules.json.broken-<unix time>`, then save
 */
typedef enum {
	VIGIL_RULE_STORE_SAVE_NONE = 0,
	VIGIL_RULE_STORE_SAVE_FORCE = 1 << 0,
} VigilRuleStoreSaveFlags;

/**
 * VigilJsonFlaw:
 * @line: the line (from 1) of the flaw
 * @reason: a static string saying what is wrong
 *
 * Something in a JSON text that json-glib 1.6 would silently get wrong or crash on; see
 * vigil_rule_store_sanitize_json(). The store reads its own documents without json-glib;
 * the OpenSnitch importer, the portal checker and vigilctl check what they give to it with
 * vigil_rule_store_check_json().
 */
typedef struct {
	guint line;
	const gchar *reason;
} VigilJsonFlaw;

#define VIGIL_TYPE_RULE_STORE (vigil_rule_store_get_type())
G_DECLARE_FINAL_TYPE(VigilRuleStore, vigil_rule_store, VIGIL, RULE_STORE, GObject)

/**
 * VigilRuleStore:
 *
 * Reads and writes rules as JSON documents. The file format, for the rules file, the
 * drop-ins and exports alike, is one object:
 *
 * |[
 * {
 *   "version": 1,
 *   "generator": "vigil",
 *   "rules": [
 *     { "id": "r-1a2b", "action": "allow", "exe": "/usr/bin/curl", ... },
 *     ...
 *   ]
 * }
 * ]|
 *
 * `version` is required and is %VIGIL_RULES_SCHEMA_VERSION when written; a file with a
 * newer version is refused as a whole. `generator` is optional and informative. Each
 * element of `rules` is one rule object with the keys listed for #VigilRule, exactly as
 * vigil_rule_add_to_json_builder() writes them. Other top-level keys are reported and
 * ignored. Documents are read strictly by RFC 8259: no comments, no trailing commas, UTF-8,
 * no duplicate keys in a rule. A missing rules file holds no rules; an empty one is
 * reported, but not broken.
 *
 * The rules file (`/var/lib/vigil/rules.json`) holds the user, prompt and imported rules;
 * it is written only by vigild, atomically, mode 0600 (answers to prompts name the hosts
 * people visit), sorted by id, without once-lifetime and managed rules.
 *
 * Drop-ins (`/etc/vigil/rules.d/<name>.json`, read in name order) are the administrator's:
 * their rules load with origin %VIGIL_ORIGIN_MANAGED whatever the file says, their
 * source is the file, vigil_rule_is_read_only() is %TRUE for them, so the daemon refuses
 * UpdateRule and RemoveRule on them, and the store never writes them. A drop-in rule
 * without an id gets `<file name without .json>:<n>`, n counting the elements of its
 * "rules" from 1, so that it keeps its id from one load to the next.
 *
 * Loading never gives up on a file because of one bad rule: each bad rule, and each file
 * that cannot be used at all, is one line in the problems array, `FILE:LINE: reason`
 * (`FILE: reason` where no line applies), and every good rule still loads. A rules file
 * that had problems is "broken": vigil_rule_store_save() refuses to overwrite it unless
 * forced, so that no rule is dropped without the user saying so.
 */

VigilRuleStore *
vigil_rule_store_new(const gchar *rules_path, const gchar *dropin_dir);
const gchar *
vigil_rule_store_get_rules_path(VigilRuleStore *self);
const gchar *
vigil_rule_store_get_dropin_dir(VigilRuleStore *self);
gboolean
vigil_rule_store_load(VigilRuleStore *self, VigilRuleSet *set, GPtrArray *problems, GError **error);
gboolean
vigil_rule_store_is_broken(VigilRuleStore *self);
guint
vigil_rule_store_get_n_errors(VigilRuleStore *self);
gboolean
vigil_rule_store_save(VigilRuleStore *self,
		      VigilRuleSet *set,
		      VigilRuleStoreSaveFlags flags,
		      GError **error);

gchar *
vigil_rule_store_export(GPtrArray *rules);
GPtrArray *
vigil_rule_store_parse(const gchar *data,
		       gssize len,
		       const gchar *filename,
		       GPtrArray *problems,
		       GError **error);

gchar *
vigil_rule_store_sanitize_json(const gchar *data, gsize len, GArray *flaws);
gboolean
vigil_rule_store_check_json(const gchar *data, gsize len, VigilJsonFlaw *flaw);

G_END_DECLS
