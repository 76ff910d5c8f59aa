# SPDX-License-Identifier: MIT
#
# The runtime tests (runtime.c, through liblpu): their link flags and the
# test data they add to data.mk's, included by the Makefile beside this
# file after data.mk. Built on the host into $(BUILD)/tests/guest/data/
# runtime/ (the guest has it in /usr/share/lpu/runtime/):
#
#   emit_slow.lpu    tests/guest/emit_slow.s assembled: a long stream
#                    that shows progress (cancel, SIGKILL, timeouts)
#   70-lpu.rules     libruntime/70-lpu.rules, checked against the card's
#                    sysfs and applied to its node by the non-root tests
#   text.expected    what lpu-sim generates from tiny-f32.lpu for a text
#                    prompt: the prompt it encoded and the tokens, as
#                      program tiny-f32.lpu
#                      text Once upon a time
#                      prompt 1 ...
#                      steps 16
#                      tokens ...
#   sampled.expected what lpu-sim samples from tiny-f32.lpu with a
#                    temperature, top-p and seed (lines "temperature T",
#                    "top_p P", "seed S" besides the others)
#
# The tests link liblpu ($(BUILD)/lib/liblpu.so, made by libruntime/
# Makefile first). scripts/build-initramfs.sh copies it into the guest's
# /usr/local/lib (what ldd names), which the guest's /init puts in
# LD_LIBRARY_PATH.

RT_DATA := $(DATA)/runtime
RT_LIBDIR := $(abspath $(BUILD))/lib
RT_LIBLPU := $(RT_LIBDIR)/liblpu.so
RT_TEXT := Once upon a time

data: $(RT_DATA)/emit_slow.lpu $(RT_DATA)/70-lpu.rules \
	$(RT_DATA)/text.expected $(RT_DATA)/sampled.expected

$(RT_DATA)/emit_slow.lpu: $(HERE)/emit_slow.s $(LPU_AS) | $(RT_DATA)
	$(LPU_AS) -o $@ $<

$(RT_DATA)/70-lpu.rules: $(TOP)/libruntime/70-lpu.rules | $(RT_DATA)
	install -m 644 $< $@

$(RT_DATA)/text.expected: $(DATA)/tiny-f32.lpu $(LPU_SIM) | $(RT_DATA)
	$(LPU_SIM) $< --text '$(RT_TEXT)' --steps 16 > $@.out 2> $@.err
	{ echo 'program tiny-f32.lpu'; echo 'text $(RT_TEXT)'; \
	  grep '^prompt: ' $@.err | sed 's/^prompt: /prompt /'; \
	  echo 'steps 16'; printf 'tokens '; head -n 1 $@.out; } > $@.tmp
	rm -f $@.out $@.err
	mv -f $@.tmp $@

RT_SAMPLE := --temperature 0.8 --top-p 0.9 --seed 42
$(RT_DATA)/sampled.expected: $(DATA)/tiny-f32.lpu $(LPU_SIM) | $(RT_DATA)
	$(LPU_SIM) -q $< --tokens '1 65 66 67' --steps 24 $(RT_SAMPLE) > $@.out
	{ echo 'program tiny-f32.lpu'; echo 'prompt 1 65 66 67'; \
	  echo 'steps 24'; echo 'temperature 0.8'; echo 'top_p 0.9'; \
	  echo 'seed 42'; printf 'tokens '; head -n 1 $@.out; } > $@.tmp
	rm -f $@.out
	mv -f $@.tmp $@

$(RT_DATA):
	mkdir -p $@

ifneq ($(wildcard $(TOP)/libruntime/Makefile),)
$(RT_LIBLPU): FORCE
	$(MAKE) -C $(TOP)/libruntime BUILD=$(abspath $(BUILD))
endif

RT_PROGS := $(addprefix $(BIN)/t_,$(call cases_of,$(HERE)/runtime.c))
$(RT_PROGS): $(RT_LIBLPU) $(TOP)/libruntime/lpu.h $(HERE)/udev_rule.h
$(RT_PROGS): CPPFLAGS += -I$(TOP)/libruntime
$(RT_PROGS): LDLIBS := -L$(RT_LIBDIR) -llpu $(LDLIBS)
