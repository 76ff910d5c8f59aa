# SPDX-License-Identifier: MIT
#
# Top-level build of the lpu stack.
#
#   make            build the kernel module and the userspace programs
#   make deps       install build and test dependencies (root, Debian 12)
#   make qemu       build QEMU with the emulated LPU card (cached)
#   make check      run every test: host unit tests, then the guest tests
#                   (last line: "TOTAL: N passed, N failed, N skipped")
#   make check-host the host unit tests only
#   make check-guest the guest tests only; TESTS=t_a,t_b runs only those,
#                   GUEST_ARGS= passes more options to tests/run-guest.sh
#   make guest-shell boot the guest with the driver loaded, to a shell
#   make demo       boot the emulated card, load the driver, run the demo
#   make checkpatch run checkpatch.pl --strict on the driver and uapi
#   make install    liblpu (libruntime/Makefile) and every tool (tools/
#                   common/install.mk) into $(DESTDIR)$(PREFIX): PREFIX
#                   (default /usr/local), DESTDIR (a staging root); tools
#                   in PREFIX/bin, the library in PREFIX/lib, where the
#                   tools' run path $ORIGIN/../lib finds it. Not the module
#                   (Documentation/getting-started.rst)
#   make uninstall  remove what make install installed (same variables)
#   make check-install  tests/install/check-install.sh: make install and
#                   uninstall into a temporary DESTDIR, checked
#
# KDIR is the kernel build tree the module is built against. By default it
# is the running kernel's if its headers are installed, else the newest
# Debian linux-headers-*-amd64 tree (the guest kernel).

KDIR ?= $(shell d=/lib/modules/$$(uname -r)/build; \
	if [ -d $$d ]; then echo $$d; \
	else ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1; fi)
LPU_CACHE ?= /var/cache/lpu
BUILD := $(CURDIR)/build
export KDIR LPU_CACHE BUILD

.PHONY: all modules userspace tools guest-tests deps qemu check check-host \
	check-guest check-install guest-shell demo checkpatch install uninstall \
	clean

all: modules userspace

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

TOOLS := lpu-as lpu-objdump lpu-mkmodel lpu-compile lpu-sim lpu-bench lpu-smi \
	lpu-run

userspace: tools guest-tests

tools:
	$(MAKE) -C lib
	$(MAKE) -C libruntime
	for t in $(TOOLS); do $(MAKE) -C tools/$$t || exit 1; done
	$(MAKE) -C tests/programs

# Each part builds what it installs first; PREFIX, DESTDIR, BINDIR,
# LIBDIR, INCLUDEDIR, UDEVRULESDIR given on the command line reach them
# (a relative DESTDIR made absolute: the parts run in their directories).
INSTALL_VARS = $(if $(DESTDIR),DESTDIR="$(abspath $(DESTDIR))")

install:
	$(MAKE) -C libruntime install $(INSTALL_VARS)
	for t in $(TOOLS); do \
		$(MAKE) -C tools/$$t install $(INSTALL_VARS) || exit 1; \
	done

uninstall:
	$(MAKE) -C libruntime uninstall $(INSTALL_VARS)
	for t in $(TOOLS); do \
		$(MAKE) -C tools/$$t uninstall $(INSTALL_VARS) || exit 1; \
	done

# after tools: the guest tests' data (tests/guest/data.mk) runs them
guest-tests: tools
	$(MAKE) -C tests/guest

deps:
	./scripts/setup-deps.sh

qemu: deps
	./scripts/build-qemu.sh

check: deps
	$(MAKE) all
	./scripts/build-qemu.sh
	./tests/run-all.sh

check-host:
	$(MAKE) -C tests/host check

check-install:
	./tests/install/check-install.sh

check-guest: all
	./tests/run-guest.sh $(if $(TESTS),--tests $(TESTS)) $(GUEST_ARGS)

guest-shell: all
	./tests/run-guest.sh --shell $(GUEST_ARGS)

demo: deps
	$(MAKE) all
	./scripts/build-qemu.sh
	./scripts/demo.sh

checkpatch:
	./scripts/checkpatch.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	rm -rf $(BUILD)
