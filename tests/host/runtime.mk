# SPDX-License-Identifier: MIT
#
# liblpu tests (check_runtime.c). A make fragment: tests/host/Makefile
# includes it, and it also works alone from the repository root:
#
#   make -f tests/host/runtime.mk check-runtime
#   make -f tests/host/runtime.mk check-runtime-valgrind
#
# It builds liblpu (libruntime/Makefile, which also compiles the example
# program libruntime/examples/stream.c), the tools that make its test data
# and the data itself into $(BUILD)/tests/host/runtime: the assembled
# programs of tests/programs, a tiny random model with its tokenizer
# (lpu-mkmodel, lpu-compile) and what lpu-sim generates from it for a text
# prompt. The test links liblpu's objects (not the shared library: it puts
# a fake card behind them) with the engine. BUILD defaults to the
# repository's build/. Every variable it defines starts with LPUR_.

LPUR_SAVED_GOAL := $(.DEFAULT_GOAL)
LPUR_STANDALONE := $(if $(filter-out $(lastword $(MAKEFILE_LIST)),$(MAKEFILE_LIST)),,1)

LPUR_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
LPUR_TOP := $(abspath $(LPUR_DIR)/../..)
LPUR_BUILD := $(abspath $(if $(BUILD),$(BUILD),$(LPUR_TOP)/build))
LPUR_OUT := $(LPUR_BUILD)/tests/host
LPUR_DATA := $(LPUR_OUT)/runtime
LPUR_TOOLS := $(LPUR_BUILD)/tools
LPUR_LIBDIR := $(LPUR_BUILD)/lib
LPUR_LIBS := $(LPUR_LIBDIR)/liblpuengine.a $(LPUR_LIBDIR)/liblpucommon.a
LPUR_OBJS := $(patsubst $(LPUR_TOP)/libruntime/%.c,$(LPUR_BUILD)/libruntime/%.o,\
	$(wildcard $(LPUR_TOP)/libruntime/*.c))
LPUR_CC := $(if $(CC),$(CC),cc)
LPUR_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-I$(LPUR_TOP)/libruntime -I$(LPUR_TOP)/uapi -I$(LPUR_TOP)/uapi/drm \
	-I$(LPUR_TOP)/lib -I$(LPUR_TOP)/tools/emulator \
	$(shell pkg-config --cflags check libdrm) \
	-DRT_DATA_DIR='"$(LPUR_DATA)"' \
	-DRT_PROGRAMS_DIR='"$(LPUR_BUILD)/programs"' \
	-DRT_MALFORMED_DIR='"$(LPUR_TOP)/tests/programs/malformed"' \
	-DRT_LIBLPU_SO='"$(LPUR_LIBDIR)/liblpu.so"' \
	-DRT_LPU_H='"$(LPUR_TOP)/libruntime/lpu.h"'
LPUR_LDLIBS := $(shell pkg-config --libs check libdrm libudev libelf) -lm \
	-lpthread
LPUR_DEPS := $(LPUR_DIR)/check_runtime.c $(LPUR_DIR)/runtime.mk \
	$(LPUR_TOP)/libruntime/lpu.h $(LPUR_TOP)/libruntime/lpu_internal.h \
	$(LPUR_TOP)/tools/emulator/lpu_engine.h $(LPUR_TOP)/lib/lpu_program.h

# The data: a tiny model (vocab >= 354 for byte tokens), a text prompt
LPUR_MODEL_OPTS := --seed 11 --dim 32 --hidden-dim 64 --layers 2 \
	--heads 4 --kv-heads 2 --vocab 512 --seq-len 48
LPUR_TEXT := Once upon a time
LPUR_STEPS := 12
LPUR_DATA_FILES := $(LPUR_DATA)/tiny.lpu $(LPUR_DATA)/tok.bin \
	$(LPUR_DATA)/tiny.out $(LPUR_DATA)/tiny.err $(LPUR_DATA)/tiny.text

.PHONY: check-runtime check-runtime-valgrind runtime-build runtime-deps \
	runtime-data clean-runtime

# Runs the Check suites; their summary is the last line.
check-runtime: runtime-build
	@$(LPUR_OUT)/check_runtime

# Once under valgrind (no fork, so valgrind sees the tests)
check-runtime-valgrind: runtime-build
	@CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full \
		--errors-for-leak-kinds=definite $(LPUR_OUT)/check_runtime

runtime-build: $(LPUR_OUT)/check_runtime runtime-data

# liblpu and the tools: their own Makefiles know their sources
runtime-deps:
	@$(MAKE) --no-print-directory -s -C $(LPUR_TOP)/lib BUILD=$(LPUR_BUILD)
	@$(MAKE) --no-print-directory -s -C $(LPUR_TOP)/libruntime BUILD=$(LPUR_BUILD)
	@$(MAKE) --no-print-directory -s -C $(LPUR_TOP)/tools/lpu-mkmodel BUILD=$(LPUR_BUILD)
	@$(MAKE) --no-print-directory -s -C $(LPUR_TOP)/tools/lpu-compile BUILD=$(LPUR_BUILD)
	@$(MAKE) --no-print-directory -s -C $(LPUR_TOP)/tools/lpu-sim BUILD=$(LPUR_BUILD)
	@$(MAKE) --no-print-directory -s -C $(LPUR_TOP)/tests/programs BUILD=$(LPUR_BUILD)

$(LPUR_OBJS) $(LPUR_LIBS): runtime-deps

runtime-data: runtime-deps
	@$(MAKE) --no-print-directory -s -f $(LPUR_DIR)/runtime.mk \
		BUILD=$(LPUR_BUILD) $(LPUR_DATA_FILES)

$(LPUR_OUT)/check_runtime: $(LPUR_DEPS) $(LPUR_OBJS) $(LPUR_LIBS)
	@mkdir -p $(LPUR_OUT)
	$(LPUR_CC) $(LPUR_CFLAGS) -o $@ $(LPUR_DIR)/check_runtime.c \
		$(LPUR_OBJS) $(LPUR_LIBS) $(LPUR_LDLIBS)

$(LPUR_DATA)/tiny.bin $(LPUR_DATA)/tok.bin: $(LPUR_TOOLS)/lpu-mkmodel
	@mkdir -p $(LPUR_DATA)
	$(LPUR_TOOLS)/lpu-mkmodel $(LPUR_MODEL_OPTS) -o $(LPUR_DATA)/tiny.bin \
		--tokenizer $(LPUR_DATA)/tok.bin

$(LPUR_DATA)/tiny.lpu: $(LPUR_DATA)/tiny.bin $(LPUR_TOOLS)/lpu-compile
	$(LPUR_TOOLS)/lpu-compile $< --tokenizer $(LPUR_DATA)/tok.bin -o $@

$(LPUR_DATA)/tiny.text: $(LPUR_DIR)/runtime.mk
	@mkdir -p $(LPUR_DATA)
	printf '%s' '$(LPUR_TEXT)' > $@

# stdout: the generated tokens; stderr: the report with the prompt
$(LPUR_DATA)/tiny.out $(LPUR_DATA)/tiny.err: $(LPUR_DATA)/tiny.lpu \
		$(LPUR_TOOLS)/lpu-sim $(LPUR_DIR)/runtime.mk
	$(LPUR_TOOLS)/lpu-sim $(LPUR_DATA)/tiny.lpu --text '$(LPUR_TEXT)' \
		--steps $(LPUR_STEPS) > $(LPUR_DATA)/tiny.out \
		2> $(LPUR_DATA)/tiny.err

clean-runtime:
	rm -rf $(LPUR_OUT)/check_runtime $(LPUR_DATA)

ifeq ($(LPUR_STANDALONE),)
.DEFAULT_GOAL := $(LPUR_SAVED_GOAL)
endif
