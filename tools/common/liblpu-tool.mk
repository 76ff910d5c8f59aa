# SPDX-License-Identifier: MIT
#
# Build rules shared by the tools that link liblpu (lpu-run, lpu-smi,
# lpu-bench). The including Makefile sets:
#
#   NAME        the program, built from $(HERE)/$(NAME).c
#   HERE        the tool's directory
#   TOOL_CFLAGS include paths the tool needs besides libruntime/
#   TOOL_LIBS   libraries besides liblpu
#   TOOL_DEPS   headers it depends on besides lpu.h and lpu_cli.h
#
#   make          build $(BUILD)/tools/$(NAME)
#   make install  install it into $(DESTDIR)$(BINDIR) (install.mk: PREFIX,
#                 default /usr/local, BINDIR, default $(PREFIX)/bin)
#   make uninstall remove it from there
#   make clean    remove it
#
# The program links $(BUILD)/lib/liblpu.so (made by libruntime/Makefile,
# which runs first) and tools/common/lpu_cli.c, and finds the library at
# run time through the run path $ORIGIN/../lib (the build tree, and an
# installed tree: PREFIX/bin/NAME finds PREFIX/lib/liblpu.so.0, where
# "make -C libruntime install" puts it) or the loader's search path
# (LD_LIBRARY_PATH, a multiarch LIBDIR).
# LPU_LIBDIR (default $(BUILD)/lib) is where liblpu.so is linked from.
# BUILD (default: the repository's build/) may be given on the command line
# or in the environment; a relative BUILD is relative to the tool's
# directory.

.DEFAULT_GOAL := all

TOP := $(abspath $(HERE)/../..)

BUILD ?= $(TOP)/build
OUT := $(abspath $(BUILD))/tools
PROG := $(OUT)/$(NAME)
LPU_LIBDIR ?= $(abspath $(BUILD))/lib
LIBLPU := $(LPU_LIBDIR)/liblpu.so
CLI := $(TOP)/tools/common/lpu_cli.c

CC ?= cc
# Flags the tool needs; CFLAGS, CPPFLAGS and LDFLAGS from the caller come
# after them and may add to them.
LPU_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g \
	-I$(TOP)/tools/common -I$(TOP)/libruntime $(TOOL_CFLAGS)
LPU_LDFLAGS := -L$(LPU_LIBDIR) -Wl,-rpath,'$$ORIGIN/../lib'
LDLIBS := -llpu $(TOOL_LIBS)

.PHONY: all clean FORCE
.DELETE_ON_ERROR:

all: $(PROG)

# The library is made by its own Makefile (which knows its sources); FORCE
# runs it every time, make then sees whether the file changed.
ifneq ($(wildcard $(TOP)/libruntime/Makefile),)
$(LIBLPU): FORCE
	$(MAKE) -C $(TOP)/libruntime BUILD=$(abspath $(BUILD))
endif

FORCE:

$(PROG): $(HERE)/$(NAME).c $(CLI) $(TOP)/tools/common/lpu_cli.h \
		$(TOP)/libruntime/lpu.h $(TOOL_DEPS) $(LIBLPU) | $(OUT)
	$(CC) $(LPU_CFLAGS) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(CLI) $(LPU_LDFLAGS) \
		$(LDFLAGS) $(LDLIBS)

$(OUT):
	mkdir -p $@

clean:
	rm -f $(PROG)

include $(TOP)/tools/common/install.mk
