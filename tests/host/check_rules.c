// SPDX-License-Identifier: MIT
/*
 * Check tests of libruntime/70-lpu.rules, the udev rule that opens the LPU
 * accel nodes to the group render.
 *
 * core: the file parses; it has exactly one rule that assigns GROUP
 * "render" and MODE "0660"; on a fake sysfs tree the rule matches an accel
 * node whose PCI device is bound to lpu and nothing else (another
 * driver's accel node, an unbound card, a DRM node of an lpu card, a
 * non-accel device); with a udevadm that has "verify" (systemd 253 and
 * later) the file also passes "udevadm verify".
 * errors: the reader (tests/guest/udev_rule.h, which the guest test uses
 * on the real card) refuses malformed rules.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../guest/udev_rule.h"

#ifndef LPU_RULES_FILE
#error "LPU_RULES_FILE (the path of libruntime/70-lpu.rules) is not defined"
#endif

static char root[256];

/* @out = root/@rel */
static void at(char *out, size_t len, const char *rel)
{
	ck_assert_msg(snprintf(out, len, "%s/%s", root, rel) < (int)len,
		      "path too long: %s", rel);
}

static void mkdirs(const char *rel)
{
	char path[PATH_MAX], *p;

	at(path, sizeof(path), rel);
	for (p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		ck_assert_msg(!mkdir(path, 0755) || errno == EEXIST,
			      "mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	ck_assert_msg(!mkdir(path, 0755) || errno == EEXIST, "mkdir %s: %s",
		      path, strerror(errno));
}

static void touch(const char *rel)
{
	char path[PATH_MAX];
	FILE *f;

	at(path, sizeof(path), rel);
	f = fopen(path, "w");
	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	fclose(f);
}

static void link_to(const char *rel, const char *target_rel)
{
	char path[PATH_MAX], target[PATH_MAX];

	at(path, sizeof(path), rel);
	at(target, sizeof(target), target_rel);
	ck_assert_msg(!symlink(target, path), "symlink %s: %s", path,
		      strerror(errno));
}

/* A device directory with its uevent file and subsystem (and driver). */
static void device(const char *rel, const char *subsystem, const char *driver)
{
	char buf[PATH_MAX];

	mkdirs(rel);
	snprintf(buf, sizeof(buf), "%s/uevent", rel);
	touch(buf);
	snprintf(buf, sizeof(buf), "%s/subsystem", rel);
	link_to(buf, subsystem);
	if (driver) {
		snprintf(buf, sizeof(buf), "%s/driver", rel);
		link_to(buf, driver);
	}
}

/*
 * The fake sysfs: two buses' worth of devices.
 *   00:03.0 lpu    accel/accel0, drm/card0 (a DRM node of an lpu card)
 *   00:04.0 ivpu   accel/accel1 (another accel driver)
 *   00:05.0 -      accel/accel2 (a card not bound to any driver)
 *   virtual/mem/null (not accel)
 */
static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/check_rules.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	ck_assert(mkdtemp(root));
	mkdirs("class/accel");
	mkdirs("class/drm");
	mkdirs("class/mem");
	mkdirs("bus/pci/drivers/lpu");
	mkdirs("bus/pci/drivers/ivpu");
	mkdirs("devices/pci0000:00");
	touch("devices/pci0000:00/uevent");
	device("devices/pci0000:00/0000:00:03.0", "bus/pci",
	       "bus/pci/drivers/lpu");
	device("devices/pci0000:00/0000:00:03.0/accel/accel0", "class/accel",
	       NULL);
	device("devices/pci0000:00/0000:00:03.0/drm/card0", "class/drm", NULL);
	device("devices/pci0000:00/0000:00:04.0", "bus/pci",
	       "bus/pci/drivers/ivpu");
	device("devices/pci0000:00/0000:00:04.0/accel/accel1", "class/accel",
	       NULL);
	device("devices/pci0000:00/0000:00:05.0", "bus/pci", NULL);
	device("devices/pci0000:00/0000:00:05.0/accel/accel2", "class/accel",
	       NULL);
	mkdirs("devices/virtual/mem");
	device("devices/virtual/mem/null", "class/mem", NULL);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (root[0] && system(cmd))
		fprintf(stderr, "check_rules: could not remove %s\n", root);
}

static int load(struct udev_rule *rules, int max)
{
	char err[512];
	int n = udev_rules_load(LPU_RULES_FILE, rules, max, err, sizeof(err));

	ck_assert_msg(n >= 0, "%s", err);
	return n;
}

static int match(const struct udev_rule *rule, const char *rel)
{
	char path[PATH_MAX], err[512];
	int r;

	at(path, sizeof(path), rel);
	r = udev_rule_match(rule, path, "add", err, sizeof(err));
	ck_assert_msg(r >= 0, "%s: %s", rel, err);
	return r;
}

START_TEST(test_rules_parse)
{
	struct udev_rule rules[8];
	int n = load(rules, 8);

	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(udev_rule_assigned(&rules[0], "GROUP"), "render");
	ck_assert_str_eq(udev_rule_assigned(&rules[0], "MODE"), "0660");
	ck_assert_ptr_null(udev_rule_assigned(&rules[0], "OWNER"));
}
END_TEST

START_TEST(test_rules_match_lpu)
{
	struct udev_rule rule;

	ck_assert_int_eq(load(&rule, 1), 1);
	ck_assert_int_eq(match(&rule,
		"devices/pci0000:00/0000:00:03.0/accel/accel0"), 1);
}
END_TEST

START_TEST(test_rules_match_others)
{
	struct udev_rule rule;

	ck_assert_int_eq(load(&rule, 1), 1);
	/* another accel driver, an unbound card, DRM node, not accel */
	ck_assert_int_eq(match(&rule,
		"devices/pci0000:00/0000:00:04.0/accel/accel1"), 0);
	ck_assert_int_eq(match(&rule,
		"devices/pci0000:00/0000:00:05.0/accel/accel2"), 0);
	ck_assert_int_eq(match(&rule,
		"devices/pci0000:00/0000:00:03.0/drm/card0"), 0);
	ck_assert_int_eq(match(&rule, "devices/virtual/mem/null"), 0);
	/* the PCI device itself is not the node */
	ck_assert_int_eq(match(&rule, "devices/pci0000:00/0000:00:03.0"), 0);
}
END_TEST

/* udevadm verify, where the host's udevadm has it (systemd >= 253). */
START_TEST(test_rules_udevadm_verify)
{
	int st;

	st = system("udevadm verify --help >/dev/null 2>&1");
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "check_rules: no 'udevadm verify' on this host "
			"(systemd < 253): only the built-in reader checked %s\n",
			LPU_RULES_FILE);
		return;
	}
	st = system("udevadm verify '" LPU_RULES_FILE "'");
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "udevadm verify %s failed", LPU_RULES_FILE);
}
END_TEST

static int parse(const char *line)
{
	struct udev_rule rule;
	char err[256];

	return udev_rule_parse(line, 1, &rule, err, sizeof(err));
}

START_TEST(test_rules_parse_errors)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert_int_eq(parse("   # a comment"), 0);
	ck_assert_int_eq(parse("SUBSYSTEM==\"accel\", MODE=\"0660\""), 1);
	/* unknown key, bad operator, operator the key does not take */
	ck_assert_int_eq(parse("SUBSYSTEMZ==\"accel\""), -1);
	ck_assert_int_eq(parse("SUBSYSTEM=~\"accel\""), -1);
	ck_assert_int_eq(parse("SUBSYSTEM=\"accel\""), -1);
	ck_assert_int_eq(parse("GROUP==\"render\""), -1);
	/* unquoted, unterminated, missing comma, bad mode, missing attr */
	ck_assert_int_eq(parse("SUBSYSTEM==accel"), -1);
	ck_assert_int_eq(parse("SUBSYSTEM==\"accel"), -1);
	ck_assert_int_eq(parse("SUBSYSTEM==\"accel\" MODE=\"0660\""), -1);
	ck_assert_int_eq(parse("SUBSYSTEM==\"accel\", MODE=\"rw\""), -1);
	ck_assert_int_eq(parse("SUBSYSTEM==\"accel\", MODE=\"0960\""), -1);
	ck_assert_int_eq(parse("ATTRS==\"x\""), -1);
	ck_assert_int_eq(parse("ATTRS{vendor}==\"0x1234\""), 1);
}
END_TEST

static Suite *rules_suite(void)
{
	Suite *s = suite_create("udev_rules");
	TCase *core = tcase_create("core");
	TCase *errors = tcase_create("errors");

	tcase_add_checked_fixture(core, setup, teardown);
	tcase_add_test(core, test_rules_parse);
	tcase_add_test(core, test_rules_match_lpu);
	tcase_add_test(core, test_rules_match_others);
	tcase_add_test(core, test_rules_udevadm_verify);
	suite_add_tcase(s, core);
	tcase_add_test(errors, test_rules_parse_errors);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rules_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
