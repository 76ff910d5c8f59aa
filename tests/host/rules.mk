# SPDX-License-Identifier: MIT
#
# Check tests of the udev rule libruntime/70-lpu.rules
# (tests/host/check_rules.c, with the rule reader tests/guest/udev_rule.h
# that the guest test shares). A make fragment:
#
#   included from tests/host/Makefile (after TESTS is set, before the rule
#   that lists $(addprefix $(OUT)/,$(TESTS))): adds check_rules to TESTS
#   and the rule that builds $(OUT)/check_rules;
#
#   standalone, from the repository root:
#     make -f tests/host/rules.mk check-rules    build and run the test
#
# Every variable here starts with RUL_ so that the including Makefile's
# are left alone.

RUL_TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
RUL_BUILD := $(abspath $(if $(BUILD),$(BUILD),$(RUL_TOP)/build))
# Included: the same spelling of the target as the includer's $(OUT)/...
RUL_OUT := $(if $(OUT),$(OUT),$(RUL_BUILD)/tests/host)
RUL_BIN := $(RUL_OUT)/check_rules

RUL_CC := $(if $(CC),$(CC),cc)
RUL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	$(shell pkg-config --cflags check) \
	-DLPU_RULES_FILE='"$(RUL_TOP)/libruntime/70-lpu.rules"'
RUL_LIBS := $(shell pkg-config --libs check)
RUL_DEPS := $(RUL_TOP)/tests/host/check_rules.c \
	$(RUL_TOP)/tests/guest/udev_rule.h $(RUL_TOP)/libruntime/70-lpu.rules \
	$(RUL_TOP)/tests/host/rules.mk

TESTS += check_rules

$(RUL_BIN): $(RUL_DEPS)
	@mkdir -p $(RUL_OUT)
	$(RUL_CC) $(RUL_CFLAGS) -o $@ $(RUL_TOP)/tests/host/check_rules.c \
		$(RUL_LIBS)

.PHONY: check-rules
check-rules: $(RUL_BIN)
	$(RUL_BIN)
