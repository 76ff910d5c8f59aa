# SPDX-License-Identifier: MIT
#
# Install rules shared by every tool. common-tool.mk and liblpu-tool.mk
# include this; a tool with a Makefile of its own includes it last, after
# setting PROG (the built program, $(BUILD)/tools/NAME) and its "all"
# target.
#
#   make install    $(PROG) into $(DESTDIR)$(BINDIR), mode 0755 (built
#                   first if needed)
#   make uninstall  remove it from there
#
# PREFIX (default /usr/local) and BINDIR (default $(PREFIX)/bin) name the
# final location; DESTDIR is a staging root put in front of it (packages).
# The tools that link liblpu find it at run time through their run path
# $ORIGIN/../lib, which is PREFIX/lib for a program in PREFIX/bin, where
# "make -C libruntime install" puts the library with the same PREFIX (its
# LIBDIR). With another LIBDIR (/usr/lib/x86_64-linux-gnu, say) the
# library must be in the loader's search path, as the multiarch
# directories are.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
INSTALL ?= install

.PHONY: install uninstall

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 755 $(PROG) $(DESTDIR)$(BINDIR)/$(notdir $(PROG))

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/$(notdir $(PROG))
