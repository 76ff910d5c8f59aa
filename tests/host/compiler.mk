# SPDX-License-Identifier: MIT
#
# Compiler tests (check_compiler.c): random models from lpu-mkmodel,
# compiled by lpu-compile, run on the engine and compared with the
# independent reference forward pass (reference.c); lpu-sim's command line.
#
# A make fragment: tests/host/Makefile includes it, and it also works alone
# from the repository root:
#
#   make -f tests/host/compiler.mk check-compiler
#
# It builds the tools it runs (lpu-mkmodel, lpu-compile, lpu-sim) into
# $(BUILD)/tools and the test into $(BUILD)/tests/host. BUILD defaults to
# the repository's build/. Every variable it defines starts with LPUC_.

# Included after other targets, this fragment must not become the default
# goal of the includer.
LPUC_SAVED_GOAL := $(.DEFAULT_GOAL)
LPUC_STANDALONE := $(if $(filter-out $(lastword $(MAKEFILE_LIST)),$(MAKEFILE_LIST)),,1)

LPUC_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
LPUC_TOP := $(abspath $(LPUC_DIR)/../..)
LPUC_BUILD := $(abspath $(if $(BUILD),$(BUILD),$(LPUC_TOP)/build))
LPUC_OUT := $(LPUC_BUILD)/tests/host
LPUC_TOOLS := $(LPUC_BUILD)/tools
LPUC_LIBS := $(LPUC_BUILD)/lib/liblpuengine.a \
	$(LPUC_BUILD)/lib/liblpucommon.a
LPUC_CC := $(if $(CC),$(CC),cc)
LPUC_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-I$(LPUC_TOP)/uapi -I$(LPUC_TOP)/lib -I$(LPUC_TOP)/tools/emulator \
	$(shell pkg-config --cflags check) \
	-DLPU_TOOLS_DIR='"$(LPUC_TOOLS)"'
LPUC_LDLIBS := $(shell pkg-config --libs check) -lelf -lm
LPUC_SRCS := $(LPUC_DIR)/check_compiler.c $(LPUC_DIR)/reference.c
LPUC_DEPS := $(LPUC_SRCS) $(LPUC_DIR)/reference.h $(LPUC_DIR)/compiler.mk \
	$(LPUC_TOP)/lib/lpu_insn.h $(LPUC_TOP)/lib/lpu_program.h \
	$(LPUC_TOP)/tools/emulator/lpu_engine.h

.PHONY: check-compiler compiler-tools compiler-libs clean-compiler

# Runs the Check suite; its summary is the last line.
check-compiler: $(LPUC_OUT)/check_compiler compiler-tools
	@LPU_TOOLS_DIR=$(LPUC_TOOLS) $(LPUC_OUT)/check_compiler

compiler-tools: compiler-libs
	@$(MAKE) --no-print-directory -s -C $(LPUC_TOP)/tools/lpu-mkmodel BUILD=$(LPUC_BUILD)
	@$(MAKE) --no-print-directory -s -C $(LPUC_TOP)/tools/lpu-compile BUILD=$(LPUC_BUILD)
	@$(MAKE) --no-print-directory -s -C $(LPUC_TOP)/tools/lpu-sim BUILD=$(LPUC_BUILD)

compiler-libs:
	@$(MAKE) --no-print-directory -s -C $(LPUC_TOP)/lib BUILD=$(LPUC_BUILD)

$(LPUC_LIBS): compiler-libs

$(LPUC_OUT)/check_compiler: $(LPUC_DEPS) $(LPUC_LIBS)
	@mkdir -p $(LPUC_OUT)
	$(LPUC_CC) $(LPUC_CFLAGS) -o $@ $(LPUC_SRCS) $(LPUC_LIBS) $(LPUC_LDLIBS)

clean-compiler:
	rm -f $(LPUC_OUT)/check_compiler

ifeq ($(LPUC_STANDALONE),)
.DEFAULT_GOAL := $(LPUC_SAVED_GOAL)
endif
