# SPDX-License-Identifier: MIT
#
# Check suites of the ISA helpers and the engine. A make fragment:
#
#   include engine.mk           from tests/host/Makefile (any directory:
#                               paths are relative to this file), or
#   make -f tests/host/engine.mk check-engine     standalone
#
# `check-engine` builds $(BUILD)/tests/host/check_insn and check_engine
# (BUILD defaults to <repo>/build) and runs them. All names defined here
# start with ENGINE_ or check-engine, so the fragment does not clash with
# its includer; it does not change the includer's default goal.

ENGINE_SAVED_GOAL := $(.DEFAULT_GOAL)
ENGINE_STANDALONE := $(if $(filter 1,$(words $(MAKEFILE_LIST))),1)
ENGINE_TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
ENGINE_OUT := $(if $(BUILD),$(BUILD),$(ENGINE_TOP)/build)/tests/host

ENGINE_CC ?= $(if $(CC),$(CC),cc)
ENGINE_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffp-contract=off \
	-I$(ENGINE_TOP)/uapi -I$(ENGINE_TOP)/lib -I$(ENGINE_TOP)/tools/emulator \
	$(shell pkg-config --cflags check)
ENGINE_LIBS := $(shell pkg-config --libs check) -lm

ENGINE_HDRS := $(ENGINE_TOP)/lib/lpu_insn.h \
	$(ENGINE_TOP)/tools/emulator/lpu_engine.h \
	$(ENGINE_TOP)/uapi/lpu/lpu_isa.h
ENGINE_MK := $(ENGINE_TOP)/tests/host/engine.mk

ENGINE_INSN_SRCS := $(ENGINE_TOP)/tests/host/check_insn.c \
	$(ENGINE_TOP)/lib/lpu_insn.c
ENGINE_ENGINE_SRCS := $(ENGINE_TOP)/tests/host/check_engine.c \
	$(ENGINE_TOP)/lib/lpu_insn.c $(ENGINE_TOP)/tools/emulator/lpu_engine.c

ENGINE_TESTS := $(ENGINE_OUT)/check_insn $(ENGINE_OUT)/check_engine

.PHONY: check-engine check-engine-build check-engine-valgrind \
	check-engine-clean

check-engine-build: $(ENGINE_TESTS)

$(ENGINE_OUT)/check_insn: $(ENGINE_INSN_SRCS) $(ENGINE_HDRS) $(ENGINE_MK)
	@mkdir -p $(ENGINE_OUT)
	$(ENGINE_CC) $(ENGINE_CFLAGS) -o $@ $(ENGINE_INSN_SRCS) $(ENGINE_LIBS)

$(ENGINE_OUT)/check_engine: $(ENGINE_ENGINE_SRCS) $(ENGINE_HDRS) $(ENGINE_MK)
	@mkdir -p $(ENGINE_OUT)
	$(ENGINE_CC) $(ENGINE_CFLAGS) -o $@ $(ENGINE_ENGINE_SRCS) $(ENGINE_LIBS)

check-engine: $(ENGINE_TESTS)
	@set -e; for t in $(ENGINE_TESTS); do $$t; done

# Both suites under valgrind (no fork, so valgrind sees the tests)
check-engine-valgrind: $(ENGINE_TESTS)
	@set -e; for t in $(ENGINE_TESTS); do \
		CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full \
			--errors-for-leak-kinds=definite $$t; done

check-engine-clean:
	rm -f $(ENGINE_TESTS)

# Standalone: check-engine. Included: the includer's goal as it was
# (empty: its next target becomes the default, as if not included).
.DEFAULT_GOAL := $(if $(ENGINE_STANDALONE),check-engine,$(ENGINE_SAVED_GOAL))
