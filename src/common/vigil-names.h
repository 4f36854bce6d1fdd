/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

/* the one place the names of design.md live; everything else uses these */

#define VIGIL_DBUS_NAME		   "io.github.vigilfw.Daemon1"
#define VIGIL_DBUS_PATH		   "/io/github/vigilfw/Daemon1"
#define VIGIL_DBUS_INTERFACE	   "io.github.vigilfw.Daemon1"
#define VIGIL_DBUS_AGENT_INTERFACE "io.github.vigilfw.Agent1"
#define VIGIL_DBUS_ERROR_PREFIX	   "io.github.vigilfw.Error"

#define VIGIL_POLKIT_ACTION_MANAGE_RULES	  "io.github.vigilfw.manage-rules"
#define VIGIL_POLKIT_ACTION_SET_MODE		  "io.github.vigilfw.set-mode"
#define VIGIL_POLKIT_ACTION_ANSWER_SYSTEM_PROMPTS "io.github.vigilfw.answer-system-prompts"

#define VIGIL_NFT_TABLE	 "vigil"
#define VIGIL_NFT_FAMILY "inet"

#define VIGIL_RULES_SCHEMA_VERSION 1

/* paths; the config.h values follow the build prefix */
#define VIGIL_CONFIG_FILE     VIGIL_SYSCONFDIR "/vigild.conf"
#define VIGIL_DROPIN_DIR      VIGIL_SYSCONFDIR "/rules.d"
#define VIGIL_STATE_DIR	      VIGIL_LOCALSTATEDIR
#define VIGIL_RULES_FILE_NAME "rules.json"
