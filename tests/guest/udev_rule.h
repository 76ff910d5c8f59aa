/* SPDX-License-Identifier: MIT */
/*
 * A small reader and evaluator of udev rules files, enough to check
 * libruntime/70-lpu.rules without udevd: the guest has no udevd (the
 * runtime tests apply the rule to the card's node themselves, after
 * checking that it matches the card's sysfs device), and the host's
 * udevadm may be too old for "udevadm verify" (systemd 253).
 *
 * The syntax is udev(7)'s: one rule a line (a trailing backslash joins
 * lines), '#' comments, keys separated by commas, each KEY[{attr}] OP
 * "value" with OP one of == != = += -= :=. Known keys and the operators
 * they take are checked; values must be quoted; MODE must be octal.
 *
 * Matching covers the keys these rules need: ACTION, KERNEL, SUBSYSTEM,
 * DRIVER, ATTR{} of the device and KERNELS, SUBSYSTEMS, DRIVERS, ATTRS{}
 * of the device or one of its parents (all of them on the same one), with
 * shell globs and '|' alternatives. A rule with other match keys is
 * reported as not evaluable.
 *
 * Header-only, used by tests/guest/runtime.c (on the real card's sysfs)
 * and tests/host/check_rules.c (on a fake sysfs tree).
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef LPU_UDEV_RULE_H
#define LPU_UDEV_RULE_H

#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UDEV_RULE_MAX_KEYS	32

struct udev_rule_key {
	char name[32];		/* SUBSYSTEM, ATTRS, ... */
	char attr[128];		/* what is between { and }, or "" */
	char op[3];		/* "==", "!=", "=", "+=", "-=" or ":=" */
	char value[256];
};

struct udev_rule {
	int line;		/* of its first line in the file */
	int n_keys;
	struct udev_rule_key keys[UDEV_RULE_MAX_KEYS];
};

/* What a key is: may it match, may it assign, does it take {attr}. */
#define UDEV_KEY_MATCH	0x1
#define UDEV_KEY_ASSIGN	0x2
#define UDEV_KEY_ATTR	0x4	/* required {attr} */
#define UDEV_KEY_OPT_ATTR 0x8	/* optional {attr} */

static inline int udev_key_kind(const char *name)
{
	static const struct {
		const char *name;
		int kind;
	} keys[] = {
		{ "ACTION", UDEV_KEY_MATCH },
		{ "DEVPATH", UDEV_KEY_MATCH },
		{ "KERNEL", UDEV_KEY_MATCH },
		{ "KERNELS", UDEV_KEY_MATCH },
		{ "SUBSYSTEM", UDEV_KEY_MATCH },
		{ "SUBSYSTEMS", UDEV_KEY_MATCH },
		{ "DRIVER", UDEV_KEY_MATCH },
		{ "DRIVERS", UDEV_KEY_MATCH },
		{ "ATTRS", UDEV_KEY_MATCH | UDEV_KEY_ATTR },
		{ "TAGS", UDEV_KEY_MATCH },
		{ "TEST", UDEV_KEY_MATCH | UDEV_KEY_OPT_ATTR },
		{ "PROGRAM", UDEV_KEY_MATCH },
		{ "RESULT", UDEV_KEY_MATCH },
		{ "CONST", UDEV_KEY_MATCH | UDEV_KEY_ATTR },
		{ "ATTR", UDEV_KEY_MATCH | UDEV_KEY_ASSIGN | UDEV_KEY_ATTR },
		{ "SYSCTL", UDEV_KEY_MATCH | UDEV_KEY_ASSIGN | UDEV_KEY_ATTR },
		{ "ENV", UDEV_KEY_MATCH | UDEV_KEY_ASSIGN | UDEV_KEY_ATTR },
		{ "TAG", UDEV_KEY_MATCH | UDEV_KEY_ASSIGN },
		{ "NAME", UDEV_KEY_MATCH | UDEV_KEY_ASSIGN },
		{ "SYMLINK", UDEV_KEY_MATCH | UDEV_KEY_ASSIGN },
		{ "OWNER", UDEV_KEY_ASSIGN },
		{ "GROUP", UDEV_KEY_ASSIGN },
		{ "MODE", UDEV_KEY_ASSIGN },
		{ "SECLABEL", UDEV_KEY_ASSIGN | UDEV_KEY_ATTR },
		{ "RUN", UDEV_KEY_ASSIGN | UDEV_KEY_OPT_ATTR },
		{ "LABEL", UDEV_KEY_ASSIGN },
		{ "GOTO", UDEV_KEY_ASSIGN },
		{ "IMPORT", UDEV_KEY_MATCH | UDEV_KEY_ATTR },
		{ "OPTIONS", UDEV_KEY_ASSIGN },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, name))
			return keys[i].kind;
	return 0;
}

static inline bool udev_op_is_match(const char *op)
{
	return !strcmp(op, "==") || !strcmp(op, "!=");
}

/*
 * Parse one logical line. Returns 1 with *@rule filled, 0 for a blank or
 * comment line, -1 with a message in @err.
 */
static inline int udev_rule_parse(const char *line, int lineno,
				  struct udev_rule *rule, char *err,
				  size_t errlen)
{
	const char *p = line;

	memset(rule, 0, sizeof(*rule));
	rule->line = lineno;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	for (;;) {
		struct udev_rule_key *k;
		size_t n;
		int kind;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (rule->n_keys == UDEV_RULE_MAX_KEYS) {
			snprintf(err, errlen, "line %d: too many keys", lineno);
			return -1;
		}
		k = &rule->keys[rule->n_keys];
		n = 0;
		while (isupper((unsigned char)*p) || *p == '_') {
			if (n + 1 == sizeof(k->name))
				break;
			k->name[n++] = *p++;
		}
		kind = udev_key_kind(k->name);
		if (!kind) {
			snprintf(err, errlen, "line %d: unknown key '%s'",
				 lineno, k->name);
			return -1;
		}
		if (*p == '{') {
			const char *end = strchr(p, '}');

			if (!(kind & (UDEV_KEY_ATTR | UDEV_KEY_OPT_ATTR)) ||
			    !end || (size_t)(end - p - 1) >= sizeof(k->attr) ||
			    end == p + 1) {
				snprintf(err, errlen, "line %d: bad {attribute} "
					 "after %s", lineno, k->name);
				return -1;
			}
			memcpy(k->attr, p + 1, (size_t)(end - p - 1));
			p = end + 1;
		} else if (kind & UDEV_KEY_ATTR) {
			snprintf(err, errlen, "line %d: %s needs {attribute}",
				 lineno, k->name);
			return -1;
		}
		while (isspace((unsigned char)*p))
			p++;
		n = 0;
		while (n < 2 && strchr("=!+-:", *p) && *p)
			k->op[n++] = *p++;
		if (strcmp(k->op, "==") && strcmp(k->op, "!=") &&
		    strcmp(k->op, "=") && strcmp(k->op, "+=") &&
		    strcmp(k->op, "-=") && strcmp(k->op, ":=")) {
			snprintf(err, errlen, "line %d: bad operator '%s' after "
				 "%s", lineno, k->op, k->name);
			return -1;
		}
		if (udev_op_is_match(k->op) ? !(kind & UDEV_KEY_MATCH) :
		    !(kind & UDEV_KEY_ASSIGN)) {
			snprintf(err, errlen, "line %d: %s cannot be used with "
				 "'%s'", lineno, k->name, k->op);
			return -1;
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '"') {
			snprintf(err, errlen, "line %d: the value of %s must be "
				 "in double quotes", lineno, k->name);
			return -1;
		}
		p++;
		n = 0;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			if (n + 1 == sizeof(k->value)) {
				snprintf(err, errlen, "line %d: value too long",
					 lineno);
				return -1;
			}
			k->value[n++] = *p++;
		}
		if (*p != '"') {
			snprintf(err, errlen, "line %d: unterminated value of "
				 "%s", lineno, k->name);
			return -1;
		}
		p++;
		if (!strcmp(k->name, "MODE") &&
		    (!*k->value || strspn(k->value, "01234567") !=
		     strlen(k->value) || strlen(k->value) > 4)) {
			snprintf(err, errlen, "line %d: MODE \"%s\" is not an "
				 "octal mode", lineno, k->value);
			return -1;
		}
		rule->n_keys++;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (*p != ',') {
			snprintf(err, errlen, "line %d: expected ',' after the "
				 "value of %s", lineno, k->name);
			return -1;
		}
		p++;
	}
	if (!rule->n_keys) {
		snprintf(err, errlen, "line %d: empty rule", lineno);
		return -1;
	}
	return 1;
}

/*
 * Read every rule of @path into @rules (at most @max). Returns the number
 * of rules, or -1 with a message in @err (naming the file).
 */
static inline int udev_rules_load(const char *path, struct udev_rule *rules,
				  int max, char *err, size_t errlen)
{
	char line[8192], buf[4096], msg[256];
	int n = 0, lineno = 0, first = 0;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%.300s: cannot open", path);
		return -1;
	}
	line[0] = '\0';
	while (fgets(buf, sizeof(buf), f)) {
		size_t l = strlen(buf);
		int r;

		if (l == sizeof(buf) - 1 && buf[l - 1] != '\n') {
			snprintf(err, errlen, "%s: line %d too long", path,
				 lineno + 1);
			fclose(f);
			return -1;
		}
		lineno++;
		if (!len)
			first = lineno;
		while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
			buf[--l] = '\0';
		if (len + l + 1 > sizeof(line)) {
			snprintf(err, errlen, "%s: line %d too long", path,
				 lineno);
			fclose(f);
			return -1;
		}
		memcpy(line + len, buf, l + 1);
		len += l;
		if (len && line[len - 1] == '\\') {
			line[--len] = '\0';	/* continued */
			continue;
		}
		if (n == max) {
			snprintf(err, errlen, "%s: more than %d rules", path,
				 max);
			fclose(f);
			return -1;
		}
		r = udev_rule_parse(line, first, &rules[n], msg, sizeof(msg));
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, msg);
			fclose(f);
			return -1;
		}
		n += r;
		len = 0;
		line[0] = '\0';
	}
	fclose(f);
	if (len) {
		snprintf(err, errlen, "%s: ends in a continued line", path);
		return -1;
	}
	return n;
}

/* Does @s match @pattern: shell globs, alternatives separated by '|'. */
static inline bool udev_value_matches(const char *pattern, const char *s)
{
	char alt[256];
	const char *p = pattern;

	for (;;) {
		size_t n = strcspn(p, "|");

		if (n >= sizeof(alt))
			return false;
		memcpy(alt, p, n);
		alt[n] = '\0';
		if (!fnmatch(alt, s, 0))
			return true;
		if (!p[n])
			return false;
		p += n + 1;
	}
}

/* Basename of the target of the link @dir/@name, or "" when none. */
static inline void udev_link_name(const char *dir, const char *name,
				  char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *slash;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		n = -1;
	else
		n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		out[0] = '\0';
		return;
	}
	target[n] = '\0';
	slash = strrchr(target, '/');
	if (snprintf(out, len, "%s", slash ? slash + 1 : target) >= (int)len)
		out[0] = '\0';	/* no real name is that long */
}

/* A sysfs attribute, trailing white space removed; false if unreadable. */
static inline bool udev_read_attr(const char *dir, const char *name,
				  char *out, size_t len)
{
	char path[PATH_MAX];
	size_t n;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return false;
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(out, 1, len - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	return true;
}

/*
 * The value a match key of @rule compares for the device at @dir (a
 * sysfs device directory, symlinks resolved); false if it has none.
 * The parent keys (KERNELS, ...) take their value from @dir too: the
 * caller walks the parents.
 */
static inline bool udev_key_value(const struct udev_rule_key *k,
				  const char *dir, const char *action,
				  char *out, size_t len)
{
	const char *name = k->name;
	const char *slash = strrchr(dir, '/');

	if (!strcmp(name, "ACTION")) {
		snprintf(out, len, "%s", action);
	} else if (!strcmp(name, "KERNEL") || !strcmp(name, "KERNELS")) {
		snprintf(out, len, "%s", slash ? slash + 1 : dir);
	} else if (!strcmp(name, "SUBSYSTEM") ||
		   !strcmp(name, "SUBSYSTEMS")) {
		udev_link_name(dir, "subsystem", out, len);
	} else if (!strcmp(name, "DRIVER") || !strcmp(name, "DRIVERS")) {
		udev_link_name(dir, "driver", out, len);
	} else if (!strcmp(name, "ATTR") || !strcmp(name, "ATTRS")) {
		return udev_read_attr(dir, k->attr, out, len);
	} else {
		return false;
	}
	return true;
}

static inline bool udev_key_is_parent(const struct udev_rule_key *k)
{
	return !strcmp(k->name, "KERNELS") || !strcmp(k->name, "SUBSYSTEMS") ||
	       !strcmp(k->name, "DRIVERS") || !strcmp(k->name, "ATTRS");
}

static inline bool udev_key_holds(const struct udev_rule_key *k,
				  const char *dir, const char *action)
{
	char v[1024];
	bool has = udev_key_value(k, dir, action, v, sizeof(v));
	bool eq = has && udev_value_matches(k->value, v);

	/* a missing attribute matches neither == nor != (as udev) */
	if (!has && (!strcmp(k->name, "ATTR") || !strcmp(k->name, "ATTRS")))
		return false;
	return !strcmp(k->op, "==") ? eq : !eq;
}

/*
 * Does @rule match the device at @syspath (a sysfs device directory) for
 * the event @action ("add")? 1 yes, 0 no, -1 when it has a match key this
 * evaluator does not know (message in @err).
 */
static inline int udev_rule_match(const struct udev_rule *rule,
				  const char *syspath, const char *action,
				  char *err, size_t errlen)
{
	static const char *const known[] = {
		"ACTION", "KERNEL", "SUBSYSTEM", "DRIVER", "ATTR",
		"KERNELS", "SUBSYSTEMS", "DRIVERS", "ATTRS",
	};
	char dir[PATH_MAX];
	bool parent_keys = false;
	int i;

	if (!realpath(syspath, dir)) {
		snprintf(err, errlen, "%.300s: no such device", syspath);
		return -1;
	}
	for (i = 0; i < rule->n_keys; i++) {
		const struct udev_rule_key *k = &rule->keys[i];
		size_t j;
		bool ok = false;

		if (!udev_op_is_match(k->op))
			continue;
		for (j = 0; j < sizeof(known) / sizeof(known[0]); j++)
			if (!strcmp(k->name, known[j]))
				ok = true;
		if (!ok) {
			snprintf(err, errlen, "line %d: cannot evaluate %s",
				 rule->line, k->name);
			return -1;
		}
		if (udev_key_is_parent(k)) {
			parent_keys = true;
			continue;
		}
		if (!udev_key_holds(k, dir, action))
			return 0;
	}
	if (!parent_keys)
		return 1;
	/*
	 * The device, then each parent device (a directory with a uevent
	 * file: "accel" in .../0000:00:03.0/accel/accel0 is none) up to
	 * .../devices: all parent keys must hold on one of them.
	 */
	for (;;) {
		char uevent[PATH_MAX + 8];
		char *slash = strrchr(dir, '/');
		bool all = true;

		if (!slash || slash == dir || !strcmp(slash, "/devices"))
			return 0;
		if (snprintf(uevent, sizeof(uevent), "%s/uevent", dir) >=
		    (int)sizeof(uevent) || access(uevent, F_OK)) {
			*slash = '\0';	/* not a device */
			continue;
		}
		for (i = 0; i < rule->n_keys && all; i++)
			if (udev_op_is_match(rule->keys[i].op) &&
			    udev_key_is_parent(&rule->keys[i]))
				all = udev_key_holds(&rule->keys[i], dir,
						     action);
		if (all)
			return 1;
		*slash = '\0';
	}
}

/* The value the last assignment of key @name sets, or NULL. */
static inline const char *udev_rule_assigned(const struct udev_rule *rule,
					     const char *name)
{
	const char *v = NULL;
	int i;

	for (i = 0; i < rule->n_keys; i++)
		if (!udev_op_is_match(rule->keys[i].op) &&
		    !strcmp(rule->keys[i].name, name))
			v = rule->keys[i].value;
	return v;
}

#endif /* LPU_UDEV_RULE_H */
