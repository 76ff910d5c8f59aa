# SPDX-License-Identifier: MIT
#
# Check tests of the program file library and of lpu-as / lpu-objdump
# (tests/host/check_program.c). A make fragment:
#
#   included from tests/host/Makefile (after TESTS is set, before the rule
#   that lists $(addprefix $(OUT)/,$(TESTS))): adds check_program to TESTS
#   and the rule that builds $(OUT)/check_program;
#
#   standalone, from the repository root:
#     make -f tests/host/program.mk check-program   build and run the test
#     make -f tests/host/program.mk valgrind-program  the same under valgrind
#     make -f tests/host/program.mk fixtures        rewrite the committed
#                                                   malformed fixtures
#
# The test runs the tools, so building it builds lpu-as and lpu-objdump
# (and, through them, lib/). Every variable here starts with PRG_ so that
# the including Makefile's are left alone.

PRG_TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
PRG_BUILD := $(abspath $(if $(BUILD),$(BUILD),$(PRG_TOP)/build))
# Included: the same spelling of the target as the includer's $(OUT)/...
PRG_OUT := $(if $(OUT),$(OUT),$(PRG_BUILD)/tests/host)
PRG_BIN := $(PRG_OUT)/check_program
PRG_AS := $(PRG_BUILD)/tools/lpu-as
PRG_OBJDUMP := $(PRG_BUILD)/tools/lpu-objdump

PRG_CC := $(if $(CC),$(CC),cc)
PRG_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	-I$(PRG_TOP)/uapi -I$(PRG_TOP)/lib \
	$(shell pkg-config --cflags check) \
	-DLPU_AS='"$(PRG_AS)"' -DLPU_OBJDUMP='"$(PRG_OBJDUMP)"' \
	-DPROGRAMS_DIR='"$(PRG_TOP)/tests/programs"'
PRG_LIBS := $(shell pkg-config --libs check) -lelf -lm
PRG_SRCS := $(PRG_TOP)/tests/host/check_program.c \
	$(PRG_TOP)/lib/lpu_program.c $(PRG_TOP)/lib/lpu_insn.c
PRG_DEPS := $(PRG_SRCS) $(PRG_TOP)/lib/lpu_program.h \
	$(PRG_TOP)/lib/lpu_insn.h $(PRG_TOP)/uapi/lpu/lpu_prog.h \
	$(PRG_TOP)/uapi/lpu/lpu_isa.h $(PRG_TOP)/tests/host/program.mk

TESTS += check_program

.PHONY: check-program valgrind-program fixtures prg-tools

$(PRG_BIN): $(PRG_DEPS) | prg-tools
	@mkdir -p $(PRG_OUT)
	$(PRG_CC) $(PRG_CFLAGS) -o $@ $(PRG_SRCS) $(PRG_LIBS)

prg-tools:
	@$(MAKE) --no-print-directory -C $(PRG_TOP)/tools/lpu-as \
		BUILD=$(PRG_BUILD)
	@$(MAKE) --no-print-directory -C $(PRG_TOP)/tools/lpu-objdump \
		BUILD=$(PRG_BUILD)

check-program: $(PRG_BIN)
	$(PRG_BIN)

# CK_FORK=no keeps every test in one process so valgrind sees them all;
# the tools the test runs go under valgrind too (exit 99 on an error).
valgrind-program: $(PRG_BIN)
	CK_FORK=no LPU_TOOL_WRAPPER="valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite --error-exitcode=99" \
		valgrind -q --leak-check=full --error-exitcode=1 $(PRG_BIN)

fixtures: $(PRG_BIN)
	$(PRG_BIN) --write-fixtures $(PRG_TOP)/tests/programs/malformed
