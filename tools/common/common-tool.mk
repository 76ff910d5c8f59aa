# SPDX-License-Identifier: MIT
#
# Build rules shared by the tools that link the internal library
# liblpucommon.a and libelf (lpu-as, lpu-objdump). The including Makefile
# sets NAME (built from $(HERE)/$(NAME).c) and HERE (its directory).
#
#   make          build $(BUILD)/tools/$(NAME)
#   make install  install it into $(DESTDIR)$(BINDIR) (install.mk: PREFIX,
#                 default /usr/local, BINDIR, default $(PREFIX)/bin)
#   make uninstall remove it from there
#   make clean    remove it
#
# $(BUILD)/lib/liblpucommon.a is made by lib/Makefile, run first. BUILD
# (default: the repository's build/) may be given on the command line or
# in the environment; a relative BUILD is relative to the tool's directory.

.DEFAULT_GOAL := all

TOP := $(abspath $(HERE)/../..)

BUILD ?= $(TOP)/build
OUT := $(abspath $(BUILD))/tools
PROG := $(OUT)/$(NAME)
LIBCOMMON := $(abspath $(BUILD))/lib/liblpucommon.a

CC ?= cc
# Flags the tool needs; CFLAGS, CPPFLAGS and LDFLAGS from the caller come
# after them and may add to them.
LPU_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g \
	-I$(TOP)/uapi -I$(TOP)/lib
LDLIBS := -lelf -lm

.PHONY: all clean FORCE
.DELETE_ON_ERROR:

all: $(PROG)

$(LIBCOMMON): FORCE
	$(MAKE) -C $(TOP)/lib BUILD=$(abspath $(BUILD)) $@

$(PROG): $(HERE)/$(NAME).c $(LIBCOMMON) $(TOP)/lib/lpu_insn.h \
		$(TOP)/lib/lpu_program.h $(TOP)/uapi/lpu/lpu_prog.h \
		$(TOP)/uapi/lpu/lpu_isa.h | $(OUT)
	$(CC) $(LPU_CFLAGS) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBCOMMON) \
		$(LDFLAGS) $(LDLIBS)

$(OUT):
	mkdir -p $@

clean:
	rm -f $(PROG)

include $(TOP)/tools/common/install.mk
