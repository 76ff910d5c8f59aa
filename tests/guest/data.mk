# SPDX-License-Identifier: MIT
#
# Test data of the EXEC guest tests (exec.c), included by the Makefile
# beside this file. Built on the host into $(BUILD)/tests/guest/data/,
# which scripts/build-initramfs.sh copies to /usr/share/lpu/ in the guest
# (the tests read $LPU_DATA_DIR, default /usr/share/lpu):
#
#   tiny-f32.lpu, tiny-int8.lpu   a tiny random model (lpu-mkmodel), compiled
#                                 with lpu-compile as f32 and as int8
#   *.expected                    what lpu-sim (the host runner) generates
#                                 for a fixed prompt and budget, greedy:
#                                   program tiny-f32.lpu
#                                   prompt 1 65 66 67
#                                   steps 24
#                                   tokens 108 24 ...
#   programs/*.lpu                tests/programs/*.s, assembled with lpu-as
#
# The model checkpoint and tokenizer stay on the host, in data-work/. The
# tools and liblpucommon.a (which the exec.c tests link) are made by their
# own Makefiles first, as tests/programs/Makefile does for lpu-as.

DATA := $(OUT)/data
DATA_WORK := $(OUT)/data-work
TOOLS := $(abspath $(BUILD))/tools
LIBCOMMON := $(abspath $(BUILD))/lib/liblpucommon.a
LPU_MKMODEL := $(TOOLS)/lpu-mkmodel
LPU_COMPILE := $(TOOLS)/lpu-compile
LPU_SIM := $(TOOLS)/lpu-sim
LPU_AS := $(TOOLS)/lpu-as

# The model: small enough for a quick run under TCG, with grouped-query
# attention (4 heads, 2 kv heads) and a context the context test can reach.
MODEL_OPTS := --seed 7 --dim 64 --hidden-dim 172 --layers 2 --heads 4 \
	--kv-heads 2 --vocab 512 --seq-len 64

PROGRAM_SRCS := $(sort $(wildcard $(TOP)/tests/programs/*.s))
DATA_PROGRAMS := $(patsubst $(TOP)/tests/programs/%.s,$(DATA)/programs/%.lpu,\
	$(PROGRAM_SRCS))

# expected_rule NAME,PROGRAM,PROMPT (token ids, blank-separated),STEPS
EXPECTED :=
define expected_rule
EXPECTED += $(DATA)/$(1).expected
$(DATA)/$(1).expected: $(DATA)/$(2) $(LPU_SIM) | $(DATA)
	$(LPU_SIM) -q $(DATA)/$(2) --tokens '$(3)' --steps $(4) > $$@.out
	{ echo 'program $(2)'; echo 'prompt $(3)'; echo 'steps $(4)'; \
	  printf 'tokens '; head -n 1 $$@.out; } > $$@.tmp
	rm -f $$@.out
	mv -f $$@.tmp $$@
endef
$(eval $(call expected_rule,tiny-f32,tiny-f32.lpu,1 65 66 67,24))
$(eval $(call expected_rule,tiny-f32-b,tiny-f32.lpu,1 72 101 108 108 111,32))
# a budget past the context: the run ends at position 64
$(eval $(call expected_rule,tiny-f32-ctx,tiny-f32.lpu,1 65 66 67,100))
$(eval $(call expected_rule,tiny-int8,tiny-int8.lpu,1 65 66 67,24))

.PHONY: data clean-data FORCE
all: data
clean: clean-data

data: $(DATA)/tiny-f32.lpu $(DATA)/tiny-int8.lpu $(EXPECTED) $(DATA_PROGRAMS)

$(DATA_WORK)/tiny.bin: $(LPU_MKMODEL) | $(DATA_WORK)
	$(LPU_MKMODEL) $(MODEL_OPTS) -o $@ --tokenizer $(DATA_WORK)/tok.bin

$(DATA)/tiny-f32.lpu: $(DATA_WORK)/tiny.bin $(LPU_COMPILE) | $(DATA)
	$(LPU_COMPILE) $< --tokenizer $(DATA_WORK)/tok.bin -o $@

$(DATA)/tiny-int8.lpu: $(DATA_WORK)/tiny.bin $(LPU_COMPILE) | $(DATA)
	$(LPU_COMPILE) $< --tokenizer $(DATA_WORK)/tok.bin --quantize int8 -o $@

$(DATA)/programs/%.lpu: $(TOP)/tests/programs/%.s $(LPU_AS) | $(DATA)/programs
	$(LPU_AS) -o $@ $<

$(DATA) $(DATA)/programs $(DATA_WORK):
	mkdir -p $@

# The tools and the library: made by their own Makefiles (which know
# their sources); FORCE runs them every time, make then sees whether the
# file changed.
$(LPU_MKMODEL) $(LPU_COMPILE) $(LPU_SIM) $(LPU_AS): FORCE
	$(MAKE) -C $(TOP)/tools/$(notdir $@) BUILD=$(abspath $(BUILD))

$(LIBCOMMON): FORCE
	$(MAKE) -C $(TOP)/lib BUILD=$(abspath $(BUILD)) $@

FORCE:

# exec.c runs program files: it links the program-file library (libelf).
EXEC_PROGS := $(addprefix $(BIN)/t_,$(call cases_of,$(HERE)/exec.c))
$(EXEC_PROGS): $(LIBCOMMON) $(TOP)/lib/lpu_program.h $(TOP)/uapi/lpu/lpu_isa.h
$(EXEC_PROGS): CPPFLAGS += -I$(TOP)/lib
$(EXEC_PROGS): LDLIBS := $(LIBCOMMON) -lelf -lm $(LDLIBS)

clean-data:
	rm -rf $(DATA) $(DATA_WORK)
