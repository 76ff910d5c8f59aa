// SPDX-License-Identifier: MIT
/*
 * DRM_IOCTL_LPU_BO_USERPTR: buffers over the caller's own memory
 * (anonymous memory and mmap()ed files), used by DMA and EXEC commands,
 * one case per validation failure, the pages staying pinned after
 * munmap(), and RLIMIT_MEMLOCK accounting and its undoing at GEM_CLOSE,
 * close() and exit.
 *
 * The memlock cases fork a child that drops root (uid and gid 65534, so
 * no CAP_IPC_LOCK) after opening the node as root: the node need not be
 * accessible to that user.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <endian.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lpu_test.h"
#include "lpu/lpu_isa.h"

/* Static helpers a case may not use: no -Wunused-function. */
#define UP_HELPER	static __attribute__((unused))

#define NOBODY		65534
#define PAGE		((uint64_t)getpagesize())

/* ---- Helpers --------------------------------------------------------------- */

UP_HELPER int userptr_raw(int fd, uint64_t addr, uint64_t size,
			  uint32_t flags, uint32_t *handle)
{
	struct drm_lpu_bo_userptr u = {
		.addr = addr, .size = size, .flags = flags,
	};
	int r = lpu_ioctl(fd, DRM_IOCTL_LPU_BO_USERPTR, &u);

	if (!r && handle)
		*handle = u.handle;
	return r;
}

UP_HELPER int userptr(int fd, const void *p, uint64_t size, uint32_t flags,
		      uint32_t *handle)
{
	return userptr_raw(fd, (uintptr_t)p, size, flags, handle);
}

UP_HELPER uint32_t must_userptr(int fd, const void *p, uint64_t size,
				uint32_t flags)
{
	uint32_t h = 0;
	int r = userptr(fd, p, size, flags, &h);

	if (r)
		FAIL("BO_USERPTR of %llu bytes at %p (flags 0x%x): %s",
		     (unsigned long long)size, p, flags, lpu_errno_name(-r));
	CHECK(h != 0);
	return h;
}

/* Anonymous private memory of @size bytes with protection @prot. */
UP_HELPER unsigned char *must_anon(uint64_t size, int prot)
{
	void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		FAIL("mmap of %llu anonymous bytes: %s",
		     (unsigned long long)size, strerror(errno));
	return p;
}

/* One DMA command as one job, waited for. 0 or -errno. */
UP_HELPER int dma(int fd, uint32_t op, uint32_t bo, uint64_t bo_off,
		  const struct lpu_sram *s, uint64_t sram_off, uint64_t size)
{
	struct drm_lpu_cmd cmd;

	lpu_cmd_dma(&cmd, op, bo, bo_off, s->handle, sram_off, size);
	return lpu_submit_wait(fd, 0, &cmd, 1);
}

/* The same, refused at submit: returns the submit's result. */
UP_HELPER int dma_submit(int fd, uint32_t op, uint32_t bo, uint64_t bo_off,
			 const struct lpu_sram *s, uint64_t sram_off,
			 uint64_t size)
{
	struct drm_lpu_cmd cmd;

	lpu_cmd_dma(&cmd, op, bo, bo_off, s->handle, sram_off, size);
	return lpu_submit(fd, 0, &cmd, 1, NULL, 0, NULL, 0, NULL);
}

/*
 * Read @size bytes of SRAM at @sram_off back through a fresh shmem
 * buffer and compare them with @want.
 */
UP_HELPER void check_sram(int fd, const struct lpu_sram *s, uint64_t sram_off,
			  const void *want, uint64_t size, const char *what)
{
	struct lpu_bo bo;

	lpu_must_bo_new(fd, size, true, &bo);
	lpu_fill_byte(bo.map, bo.size, 0xa5);
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_FROM_SRAM, bo.handle, 0, s, sram_off,
		     size));
	if (!lpu_same(bo.map, want, size, what))
		FAIL("%s: SRAM does not hold the buffer's bytes", what);
	lpu_must_bo_del(fd, &bo);
}

/* VmLck of this process (locked_vm, which userptr buffers count in), KiB. */
UP_HELPER uint64_t vm_locked_kib(void)
{
	char line[256];
	unsigned long long kib;
	FILE *f = fopen("/proc/self/status", "r");

	CHECK(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %llu kB", &kib) == 1) {
			fclose(f);
			return kib;
		}
	fclose(f);
	FAIL("no VmLck line in /proc/self/status");
}

/*
 * In a child about to drop root: RLIMIT_MEMLOCK to @limit bytes, then
 * uid and gid 65534 (which drops every capability, CAP_IPC_LOCK too).
 */
UP_HELPER void become_nobody(uint64_t limit)
{
	struct rlimit rl = { .rlim_cur = limit, .rlim_max = limit };
	gid_t gid = NOBODY;

	if (geteuid())
		SKIP("needs root to drop to uid %d (running as uid %d)",
		     NOBODY, (int)geteuid());
	CHECK_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
	CHECK_OK(setgroups(1, &gid));
	CHECK_OK(setresgid(NOBODY, NOBODY, NOBODY));
	CHECK_OK(setresuid(NOBODY, NOBODY, NOBODY));
	CHECK_EQ(geteuid(), NOBODY);
	CHECK_EQ(vm_locked_kib(), 0);
}

UP_HELPER pid_t must_fork(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	return pid;
}

/* Wait for a child; its exit status is the result (pass, skip or fail). */
UP_HELPER int reap(pid_t pid)
{
	int status;

	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		FAIL("the child died (status 0x%x)", status);
	if (WEXITSTATUS(status) == LPU_SKIP)
		return LPU_SKIP;
	if (WEXITSTATUS(status) != LPU_PASS)
		FAIL("the child failed (exit %d)", WEXITSTATUS(status));
	return LPU_PASS;
}

/*
 * A temporary file of @size bytes of a random stream (seed @seed), made
 * with write() and unlinked; returns it opened read-only and puts its
 * content in @want (malloc()ed, the caller frees).
 */
UP_HELPER int must_pattern_file(uint64_t size, uint64_t seed,
				unsigned char **want)
{
	char path[] = "/tmp/lpu-userptr-XXXXXX";
	uint64_t done = 0;
	int wfd, rfd;

	*want = malloc(size);
	CHECK(*want);
	lpu_fill_random(*want, size, seed);
	wfd = mkstemp(path);
	if (wfd < 0)
		FAIL("mkstemp %s: %s", path, strerror(errno));
	while (done < size) {
		ssize_t n = write(wfd, *want + done, size - done);

		if (n <= 0)
			FAIL("writing %s: %s", path, strerror(errno));
		done += (uint64_t)n;
	}
	CHECK_OK(fsync(wfd));
	rfd = open(path, O_RDONLY);
	if (rfd < 0)
		FAIL("open %s: %s", path, strerror(errno));
	CHECK_OK(unlink(path));
	close(wfd);
	return rfd;
}

/* ---- Working buffers ------------------------------------------------------- */

/*
 * Anonymous memory: to SRAM and back into a shmem buffer; a writable
 * userptr buffer as the destination of DMA_FROM_SRAM; CPU writes after
 * the buffer was made reach the card (the same pages).
 */
LPU_CASE(userptr_ok)
{
	const uint64_t size = 256 * PAGE;
	const uint64_t off = 3 * PAGE + 123, len = 37 * PAGE + 45;
	unsigned char *src = must_anon(size, PROT_READ | PROT_WRITE);
	unsigned char *dst = must_anon(size, PROT_READ | PROT_WRITE);
	uint32_t hsrc, hdst;
	struct lpu_sram s;
	int fd = lpu_must_open();

	lpu_fill_random(src, size, 51);
	hsrc = must_userptr(fd, src, size, 0);
	lpu_must_sram_alloc(fd, size, &s);
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_TO_SRAM, hsrc, 0, &s, 0, size));
	check_sram(fd, &s, 0, src, size, "anonymous memory to SRAM");

	/* SRAM into the second userptr buffer, at an odd offset. */
	lpu_fill_byte(dst, size, 0xa5);
	hdst = must_userptr(fd, dst, size, 0);
	CHECK(hdst != hsrc);
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_FROM_SRAM, hdst, off, &s, 7, len));
	if (!lpu_same(dst + off, src + 7, len, "userptr destination"))
		FAIL("DMA_FROM_SRAM into a userptr buffer: wrong bytes");
	if (!lpu_all_bytes(dst, off, 0xa5, "before the range") ||
	    !lpu_all_bytes(dst + off + len, size - off - len, 0xa5,
			   "after the range"))
		FAIL("DMA_FROM_SRAM wrote outside its range of the userptr buffer");

	/* Written by the CPU after BO_USERPTR: the card sees it. */
	lpu_fill_random(src, size, 52);
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_TO_SRAM, hsrc, 0, &s, 0, size));
	check_sram(fd, &s, 0, src, size, "memory rewritten after BO_USERPTR");

	CHECK_OK(lpu_gem_close(fd, hdst));
	CHECK_OK(lpu_gem_close(fd, hsrc));
	lpu_must_sram_free(fd, &s);
	close(fd);
	return LPU_PASS;
}

/*
 * A 2 MiB-aligned range with MADV_HUGEPAGE: large folios, few SG runs;
 * the bytes must come through whatever the kernel gave.
 */
LPU_CASE(userptr_ok_thp)
{
	const uint64_t huge = 2 * LPU_MiB, size = 4 * LPU_MiB;
	unsigned char *raw = must_anon(size + huge, PROT_READ | PROT_WRITE);
	unsigned char *p = (unsigned char *)(((uintptr_t)raw + huge - 1) &
					     ~(uintptr_t)(huge - 1));
	struct lpu_sram s;
	uint32_t h;
	int fd = lpu_must_open();

	if (madvise(p, size, MADV_HUGEPAGE))
		lpu_info("MADV_HUGEPAGE: %s (small pages then)",
			 strerror(errno));
	lpu_fill_random(p, size, 53);
	h = must_userptr(fd, p, size, 0);
	lpu_must_sram_alloc(fd, size, &s);
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_TO_SRAM, h, 0, &s, 0, size));
	check_sram(fd, &s, 0, p, size, "huge-page memory to SRAM");
	/* A range across the 2 MiB boundary, both ways. */
	lpu_fill_byte(p, size, 0);
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_FROM_SRAM, h, huge - 4097, &s,
		     huge - 4097, 8195));
	check_sram(fd, &s, huge - 4097, p + huge - 4097, 8195,
		   "across the huge-page boundary");
	CHECK_OK(lpu_gem_close(fd, h));
	lpu_must_sram_free(fd, &s);
	close(fd);
	return LPU_PASS;
}

/*
 * A file's page cache, mapped PROT_READ MAP_PRIVATE from a read-only
 * descriptor: a READ_ONLY buffer over all of it, and one over a range
 * not at its start, DMAed at odd offsets over many pages.
 */
LPU_CASE(userptr_ok_file)
{
	const uint64_t size = 4 * LPU_MiB + 3 * PAGE;
	const uint64_t sub_off = 5 * PAGE, sub_size = 300 * PAGE;
	const uint64_t off = 12345, len = LPU_MiB + 777;
	unsigned char *want, *map;
	struct lpu_sram s;
	uint32_t hall, hsub;
	int fd = lpu_must_open();
	int ffd = must_pattern_file(size, 54, &want);

	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, ffd, 0);
	CHECK(map != MAP_FAILED);
	hall = must_userptr(fd, map, size, DRM_LPU_BO_USERPTR_READ_ONLY);
	lpu_must_sram_alloc(fd, size, &s);
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_TO_SRAM, hall, 0, &s, 0, size));
	check_sram(fd, &s, 0, want, size, "the whole file");

	/* Starting 5 pages into the mapping; bo_offset inside it. */
	hsub = must_userptr(fd, map + sub_off, sub_size,
			    DRM_LPU_BO_USERPTR_READ_ONLY);
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_TO_SRAM, hsub, off, &s, 3, len));
	check_sram(fd, &s, 3, want + sub_off + off, len,
		   "a range of the file at an offset");
	/* The last byte of the sub-range. */
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_TO_SRAM, hsub, sub_size - 1, &s, 0,
		     1));
	check_sram(fd, &s, 0, want + sub_off + sub_size - 1, 1,
		   "the last byte of the range");

	CHECK_OK(lpu_gem_close(fd, hsub));
	CHECK_OK(lpu_gem_close(fd, hall));
	CHECK_OK(munmap(map, size));
	close(ffd);
	free(want);
	lpu_must_sram_free(fd, &s);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(userptr_caps)
{
	struct drm_lpu_device_info info;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	if (!(info.caps & DRM_LPU_CAP_USERPTR))
		FAIL("caps 0x%llx lack DRM_LPU_CAP_USERPTR",
		     (unsigned long long)info.caps);
	close(fd);
	return LPU_PASS;
}

/*
 * The pages stay the buffer's after munmap(), even when new memory is
 * mapped at the same address: the card reads the old bytes, and writes
 * into the orphaned pages harm nothing.
 */
LPU_CASE(userptr_pages_kept)
{
	const uint64_t size = 64 * PAGE;
	unsigned char *p = must_anon(size, PROT_READ | PROT_WRITE);
	unsigned char *want = malloc(size), *q;
	struct lpu_sram s;
	uint32_t h;
	int fd = lpu_must_open();

	CHECK(want);
	lpu_fill_random(want, size, 55);
	memcpy(p, want, size);
	h = must_userptr(fd, p, size, 0);
	CHECK_OK(munmap(p, size));
	q = mmap(p, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (q != MAP_FAILED)
		lpu_fill_byte(q, size, 0x5a);

	lpu_must_sram_alloc(fd, size, &s);
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_TO_SRAM, h, 0, &s, 0, size));
	check_sram(fd, &s, 0, want, size, "pages after munmap");
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_FROM_SRAM, h, 0, &s, 0, size));
	if (q != MAP_FAILED && !lpu_all_bytes(q, size, 0x5a, "new mapping"))
		FAIL("a DMA into the old pages showed in the new mapping");
	CHECK_OK(lpu_gem_close(fd, h));
	if (q != MAP_FAILED)
		CHECK_OK(munmap(q, size));
	free(want);
	lpu_must_sram_free(fd, &s);
	close(fd);
	return LPU_PASS;
}

/* ---- Validation ------------------------------------------------------------ */

LPU_CASE(userptr_einval_flags)
{
	static const uint32_t flags[] = {
		2, 0x80000000u, DRM_LPU_BO_USERPTR_READ_ONLY | 2, ~0u,
	};
	unsigned char *p = must_anon(PAGE, PROT_READ | PROT_WRITE);
	unsigned int i;
	int fd = lpu_must_open();

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		CHECK_ERRNO(userptr(fd, p, PAGE, flags[i], NULL), EINVAL);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(userptr_einval_size0)
{
	unsigned char *p = must_anon(PAGE, PROT_READ | PROT_WRITE);
	int fd = lpu_must_open();

	CHECK_ERRNO(userptr(fd, p, 0, 0, NULL), EINVAL);
	CHECK_ERRNO(userptr(fd, p, 0, DRM_LPU_BO_USERPTR_READ_ONLY, NULL),
		    EINVAL);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(userptr_einval_addr_unaligned)
{
	unsigned char *p = must_anon(4 * PAGE, PROT_READ | PROT_WRITE);
	int fd = lpu_must_open();

	CHECK_ERRNO(userptr(fd, p + 1, PAGE, 0, NULL), EINVAL);
	CHECK_ERRNO(userptr(fd, p + PAGE / 2, PAGE, 0, NULL), EINVAL);
	CHECK_ERRNO(userptr(fd, p + PAGE - 1, 2 * PAGE, 0, NULL), EINVAL);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(userptr_einval_size_unaligned)
{
	unsigned char *p = must_anon(4 * PAGE, PROT_READ | PROT_WRITE);
	int fd = lpu_must_open();

	CHECK_ERRNO(userptr(fd, p, 1, 0, NULL), EINVAL);
	CHECK_ERRNO(userptr(fd, p, PAGE - 1, 0, NULL), EINVAL);
	CHECK_ERRNO(userptr(fd, p, PAGE + 1, 0, NULL), EINVAL);
	CHECK_ERRNO(userptr(fd, p, 3 * PAGE + 8, 0, NULL), EINVAL);
	close(fd);
	return LPU_PASS;
}

/* Above max_bo_size: E2BIG before the range is looked at. */
LPU_CASE(userptr_e2big)
{
	struct drm_lpu_device_info info;
	unsigned char *p = must_anon(PAGE, PROT_READ | PROT_WRITE);
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	if (info.max_bo_size >= UINT64_MAX - PAGE)
		SKIP("max_bo_size is unlimited");
	CHECK_ERRNO(userptr(fd, p, info.max_bo_size + PAGE, 0, NULL), E2BIG);
	CHECK_ERRNO(userptr(fd, p, UINT64_MAX - PAGE + 1, 0, NULL), E2BIG);
	close(fd);
	return LPU_PASS;
}

/*
 * A range with a hole, wholly unmapped, at 0, in the kernel, or over a
 * mapping of pages that cannot be pinned (a BO_CREATE buffer's): EFAULT.
 */
LPU_CASE(userptr_efault_unmapped)
{
	unsigned char *p = must_anon(8 * PAGE, PROT_READ | PROT_WRITE);
	uint64_t locked = vm_locked_kib();
	struct lpu_bo bo;
	int fd = lpu_must_open();

	lpu_fill_byte(p, 8 * PAGE, 1);
	/* page 5 unmapped: pages 0..4 are pinned, then given back */
	CHECK_OK(munmap(p + 5 * PAGE, PAGE));
	CHECK_ERRNO(userptr(fd, p, 8 * PAGE, 0, NULL), EFAULT);
	CHECK_ERRNO(userptr(fd, p + 5 * PAGE, PAGE, 0, NULL), EFAULT);
	CHECK_ERRNO(userptr(fd, p + 5 * PAGE, PAGE,
			    DRM_LPU_BO_USERPTR_READ_ONLY, NULL), EFAULT);
	CHECK_OK(munmap(p, 8 * PAGE));
	CHECK_ERRNO(userptr(fd, p, 8 * PAGE, 0, NULL), EFAULT);
	CHECK_ERRNO(userptr_raw(fd, 0, PAGE, 0, NULL), EFAULT);
	CHECK_ERRNO(userptr_raw(fd, 0xffff800000000000ULL, PAGE, 0, NULL),
		    EFAULT);
	CHECK_ERRNO(userptr_raw(fd, UINT64_MAX - PAGE + 1, PAGE, 0, NULL),
		    EFAULT);
	lpu_must_bo_new(fd, 4 * PAGE, true, &bo);
	CHECK_ERRNO(userptr(fd, bo.map, 4 * PAGE, 0, NULL), EFAULT);
	CHECK_ERRNO(userptr(fd, bo.map, 4 * PAGE,
			    DRM_LPU_BO_USERPTR_READ_ONLY, NULL), EFAULT);
	lpu_must_bo_del(fd, &bo);
	/* Nothing stays counted against RLIMIT_MEMLOCK. */
	CHECK_EQ(vm_locked_kib(), locked);
	close(fd);
	return LPU_PASS;
}

/*
 * Read-only memory (an anonymous PROT_READ mapping, a file mapped
 * PROT_READ) without DRM_LPU_BO_USERPTR_READ_ONLY: EFAULT; with it, fine.
 */
LPU_CASE(userptr_efault_readonly_needs_write)
{
	const uint64_t size = 16 * PAGE;
	unsigned char *ro = must_anon(size, PROT_READ), *want, *map;
	uint32_t h;
	int fd = lpu_must_open();
	int ffd = must_pattern_file(size, 56, &want);

	CHECK_ERRNO(userptr(fd, ro, size, 0, NULL), EFAULT);
	h = must_userptr(fd, ro, size, DRM_LPU_BO_USERPTR_READ_ONLY);
	CHECK_OK(lpu_gem_close(fd, h));

	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, ffd, 0);
	CHECK(map != MAP_FAILED);
	CHECK_ERRNO(userptr(fd, map, size, 0, NULL), EFAULT);
	h = must_userptr(fd, map, size, DRM_LPU_BO_USERPTR_READ_ONLY);
	CHECK_OK(lpu_gem_close(fd, h));
	CHECK_OK(munmap(map, size));
	close(ffd);
	free(want);
	close(fd);
	return LPU_PASS;
}

/*
 * A READ_ONLY buffer as the destination of DMA_FROM_SRAM: the submit
 * fails with EACCES, also as the second command after a valid one, and
 * nothing runs. DMA_TO_SRAM from it works.
 */
LPU_CASE(userptr_eacces_dma_from_sram)
{
	const uint64_t size = 4 * PAGE;
	unsigned char *p = must_anon(size, PROT_READ | PROT_WRITE);
	struct drm_lpu_cmd cmds[2];
	struct drm_lpu_sync out = { 0 };
	struct lpu_sram s;
	uint32_t h;
	int fd = lpu_must_open();

	lpu_fill_random(p, size, 57);
	h = must_userptr(fd, p, size, DRM_LPU_BO_USERPTR_READ_ONLY);
	lpu_must_sram_alloc(fd, size, &s);
	CHECK_ERRNO(dma_submit(fd, DRM_LPU_CMD_DMA_FROM_SRAM, h, 0, &s, 0,
			       size), EACCES);
	CHECK_ERRNO(dma_submit(fd, DRM_LPU_CMD_DMA_FROM_SRAM, h, PAGE, &s, 0,
			       1), EACCES);

	out.handle = lpu_must_syncobj(fd, false);
	lpu_cmd_dma(&cmds[0], DRM_LPU_CMD_DMA_TO_SRAM, h, 0, s.handle, 0,
		    size);
	lpu_cmd_dma(&cmds[1], DRM_LPU_CMD_DMA_FROM_SRAM, h, 0, s.handle, 0,
		    size);
	CHECK_ERRNO(lpu_submit(fd, 0, cmds, 2, NULL, 0, &out, 1, NULL),
		    EACCES);
	CHECK_EQ(lpu_syncobj_is_signalled(fd, out.handle), 0);
	drmSyncobjDestroy(fd, out.handle);

	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_TO_SRAM, h, 0, &s, 0, size));
	check_sram(fd, &s, 0, p, size, "read-only buffer to SRAM");
	CHECK_OK(lpu_gem_close(fd, h));
	lpu_must_sram_free(fd, &s);
	close(fd);
	return LPU_PASS;
}

/*
 * A READ_ONLY buffer as an EXEC's token stream: EACCES. A writable one
 * is accepted and the card writes the stream header into it: the EXEC
 * runs from the last instruction slot of zeroed SRAM (a nop), then the
 * pc leaves the window, a PC fault.
 */
LPU_CASE(userptr_eacces_exec)
{
	const uint64_t size = PAGE;
	unsigned char *p = must_anon(size, PROT_READ | PROT_WRITE);
	const struct drm_lpu_stream *hdr = (const void *)p;
	struct drm_lpu_device_info info;
	struct drm_lpu_sync out = { 0 };
	struct drm_lpu_cmd cmd;
	struct lpu_sram s;
	uint32_t ro, rw;
	int status = 0;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	if (!(info.caps & DRM_LPU_CAP_EXEC))
		SKIP("the card lacks DRM_LPU_CAP_EXEC");
	lpu_fill_byte(p, size, 0xa5);
	ro = must_userptr(fd, p, size, DRM_LPU_BO_USERPTR_READ_ONLY);
	rw = must_userptr(fd, p, size, 0);
	lpu_must_sram_alloc(fd, 64 * LPU_KiB, &s);

	memset(&cmd, 0, sizeof(cmd));
	cmd.op = DRM_LPU_CMD_EXEC;
	cmd.exec.sram_handle = s.handle;
	cmd.exec.stream_handle = ro;
	cmd.exec.stream_capacity = 4;
	cmd.exec.budget = 4;
	cmd.exec.entry = (uint32_t)s.size - LPU_INSN_SIZE;
	CHECK_ERRNO(lpu_submit(fd, 0, &cmd, 1, NULL, 0, NULL, 0, NULL),
		    EACCES);
	if (!lpu_all_bytes(p, size, 0xa5, "refused stream"))
		FAIL("the refused EXEC wrote the stream");

	cmd.exec.stream_handle = rw;
	out.handle = lpu_must_syncobj(fd, false);
	CHECK_OK(lpu_submit(fd, 0, &cmd, 1, NULL, 0, &out, 1, NULL));
	CHECK_OK(lpu_syncobj_wait(fd, out.handle, LPU_JOB_TIMEOUT_NS));
	CHECK_OK(lpu_syncobj_fence_status(fd, out.handle, &status));
	CHECK_EQ(status, -EIO);
	CHECK_EQ(le32toh(hdr->state), DRM_LPU_STREAM_FAULT);
	CHECK_EQ(le32toh(hdr->fault), LPU_FAULT_PC);
	CHECK_EQ(le32toh(hdr->tokens), 0);
	drmSyncobjDestroy(fd, out.handle);

	CHECK_OK(lpu_gem_close(fd, rw));
	CHECK_OK(lpu_gem_close(fd, ro));
	lpu_must_sram_free(fd, &s);
	close(fd);
	return LPU_PASS;
}

/* No mapping through the accel node: BO_MMAP_OFFSET fails with EINVAL. */
LPU_CASE(userptr_mmap_offset_einval)
{
	unsigned char *p = must_anon(PAGE, PROT_READ | PROT_WRITE);
	uint64_t off = 0;
	uint32_t h;
	int fd = lpu_must_open();

	h = must_userptr(fd, p, PAGE, 0);
	CHECK_ERRNO(lpu_bo_mmap_offset(fd, h, &off), EINVAL);
	CHECK_OK(lpu_gem_close(fd, h));
	h = must_userptr(fd, p, PAGE, DRM_LPU_BO_USERPTR_READ_ONLY);
	CHECK_ERRNO(lpu_bo_mmap_offset(fd, h, &off), EINVAL);
	CHECK_OK(lpu_gem_close(fd, h));
	close(fd);
	return LPU_PASS;
}

/* No dma-buf export of a userptr buffer: EOPNOTSUPP. */
LPU_CASE(userptr_prime_export)
{
	unsigned char *p = must_anon(PAGE, PROT_READ | PROT_WRITE);
	uint32_t h;
	int dmabuf = -1;
	int fd = lpu_must_open();

	h = must_userptr(fd, p, PAGE, 0);
	CHECK_ERRNO(drmPrimeHandleToFD(fd, h, DRM_CLOEXEC, &dmabuf),
		    EOPNOTSUPP);
	CHECK_EQ(dmabuf, -1);
	CHECK_OK(lpu_gem_close(fd, h));
	close(fd);
	return LPU_PASS;
}

/* A DMA past the end of the buffer, or whose end overflows: ERANGE. */
LPU_CASE(userptr_erange)
{
	const uint64_t size = 4 * PAGE;
	unsigned char *p = must_anon(size, PROT_READ | PROT_WRITE);
	struct lpu_sram s;
	uint32_t h;
	int fd = lpu_must_open();

	h = must_userptr(fd, p, size, 0);
	lpu_must_sram_alloc(fd, 2 * size, &s);
	CHECK_ERRNO(dma_submit(fd, DRM_LPU_CMD_DMA_TO_SRAM, h, size - 100, &s,
			       0, 101), ERANGE);
	CHECK_ERRNO(dma_submit(fd, DRM_LPU_CMD_DMA_FROM_SRAM, h, size - 100,
			       &s, 0, 101), ERANGE);
	CHECK_ERRNO(dma_submit(fd, DRM_LPU_CMD_DMA_TO_SRAM, h, size, &s, 0, 1),
		    ERANGE);
	CHECK_ERRNO(dma_submit(fd, DRM_LPU_CMD_DMA_TO_SRAM, h, 0, &s, 0,
			       size + 1), ERANGE);
	CHECK_ERRNO(dma_submit(fd, DRM_LPU_CMD_DMA_TO_SRAM, h, UINT64_MAX, &s,
			       0, 2), ERANGE);
	/* Exactly to the end is fine. */
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_TO_SRAM, h, size - 100, &s, 0, 100));
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_FROM_SRAM, h, 0, &s, 0, size));
	CHECK_OK(lpu_gem_close(fd, h));
	lpu_must_sram_free(fd, &s);
	close(fd);
	return LPU_PASS;
}

/* After GEM_CLOSE the handle is gone: ENOENT for DMA and MMAP_OFFSET. */
LPU_CASE(userptr_enoent)
{
	unsigned char *p = must_anon(PAGE, PROT_READ | PROT_WRITE);
	uint64_t off;
	struct lpu_sram s;
	uint32_t h;
	int fd = lpu_must_open();

	h = must_userptr(fd, p, PAGE, 0);
	lpu_must_sram_alloc(fd, PAGE, &s);
	CHECK_OK(dma(fd, DRM_LPU_CMD_DMA_TO_SRAM, h, 0, &s, 0, PAGE));
	CHECK_OK(lpu_gem_close(fd, h));
	CHECK_ERRNO(dma_submit(fd, DRM_LPU_CMD_DMA_TO_SRAM, h, 0, &s, 0, PAGE),
		    ENOENT);
	CHECK_ERRNO(dma_submit(fd, DRM_LPU_CMD_DMA_FROM_SRAM, h, 0, &s, 0,
			       PAGE), ENOENT);
	CHECK_ERRNO(lpu_bo_mmap_offset(fd, h, &off), ENOENT);
	lpu_must_sram_free(fd, &s);
	close(fd);
	return LPU_PASS;
}

/* ---- RLIMIT_MEMLOCK -------------------------------------------------------- */

/*
 * Without CAP_IPC_LOCK, under a 64 KiB RLIMIT_MEMLOCK: 1 MiB fails with
 * ENOMEM and counts nothing; 16 KiB buffers fit up to exactly 64 KiB;
 * GEM_CLOSE gives their pages back to the limit.
 */
LPU_CASE(userptr_memlock)
{
	const uint64_t limit = 64 * LPU_KiB, small = 16 * LPU_KiB;
	pid_t pid;
	int fd = lpu_must_open();

	pid = must_fork();
	if (pid == 0) {
		unsigned char *p = must_anon(LPU_MiB, PROT_READ | PROT_WRITE);
		uint32_t h[4], extra;
		unsigned int i;

		become_nobody(limit);
		CHECK_ERRNO(userptr(fd, p, LPU_MiB, 0, NULL), ENOMEM);
		CHECK_ERRNO(userptr(fd, p, LPU_MiB,
				    DRM_LPU_BO_USERPTR_READ_ONLY, NULL),
			    ENOMEM);
		CHECK_EQ(vm_locked_kib(), 0);
		for (i = 0; i < 4; i++)
			h[i] = must_userptr(fd, p + i * small, small, 0);
		CHECK_EQ(vm_locked_kib(), limit / LPU_KiB);
		CHECK_ERRNO(userptr(fd, p, PAGE, 0, NULL), ENOMEM);
		CHECK_OK(lpu_gem_close(fd, h[0]));
		CHECK_EQ(vm_locked_kib(), (limit - small) / LPU_KiB);
		extra = must_userptr(fd, p, small, 0);
		for (i = 1; i < 4; i++)
			CHECK_OK(lpu_gem_close(fd, h[i]));
		CHECK_OK(lpu_gem_close(fd, extra));
		CHECK_EQ(vm_locked_kib(), 0);
		_exit(LPU_PASS);
	}
	close(fd);
	return reap(pid);
}

#define CYCLES		50
#define CYCLE_SIZE	(4 * LPU_MiB)

/*
 * 50 buffers of 4 MiB under a 64 MiB RLIMIT_MEMLOCK, without
 * CAP_IPC_LOCK: each made on its own file, used by a job and left for
 * close() to release, then 50 made and closed with GEM_CLOSE on one file.
 * Had a release not given the pages back to the limit, the 17th would
 * fail.
 */
LPU_CASE(userptr_close_releases)
{
	pid_t pid;

	pid = must_fork();
	if (pid == 0) {
		unsigned char *p = must_anon(CYCLE_SIZE,
					     PROT_READ | PROT_WRITE);
		int fds[CYCLES], fd, i;
		struct lpu_sram s;
		uint32_t h;

		/* Opened as root, and only here: close() is the last one. */
		for (i = 0; i < CYCLES; i++)
			fds[i] = lpu_must_open();
		fd = lpu_must_open();
		become_nobody(16 * CYCLE_SIZE);
		lpu_fill_byte(p, CYCLE_SIZE, 0x3c);
		for (i = 0; i < CYCLES; i++) {
			h = must_userptr(fds[i], p, CYCLE_SIZE, 0);
			lpu_must_sram_alloc(fds[i], PAGE, &s);
			CHECK_OK(dma(fds[i], DRM_LPU_CMD_DMA_TO_SRAM, h,
				     CYCLE_SIZE - PAGE, &s, 0, PAGE));
			CHECK_OK(close(fds[i]));
		}
		CHECK_EQ(vm_locked_kib(), 0);
		for (i = 0; i < CYCLES; i++) {
			h = must_userptr(fd, p, CYCLE_SIZE,
					 i % 2 ? DRM_LPU_BO_USERPTR_READ_ONLY : 0);
			CHECK_OK(lpu_gem_close(fd, h));
		}
		CHECK_EQ(vm_locked_kib(), 0);
		close(fd);
		_exit(LPU_PASS);
	}
	return reap(pid);
}

/*
 * A child makes a userptr buffer, queues DMA jobs on it and exits
 * without closing anything: the buffer is freed after its process and
 * mm are gone, when the last job lets go. The card then works and all
 * SRAM comes back.
 */
LPU_CASE(userptr_exit_pending)
{
	const uint64_t size = 16 * LPU_MiB;
	struct drm_lpu_device_info info;
	pid_t pid;
	int fd, r;

	pid = must_fork();
	if (pid == 0) {
		unsigned char *p = must_anon(size, PROT_READ | PROT_WRITE);
		struct drm_lpu_cmd cmds[2];
		struct lpu_sram s;
		uint32_t h;
		unsigned int i;

		fd = lpu_must_open();
		h = must_userptr(fd, p, size, 0);
		lpu_must_sram_alloc(fd, size, &s);
		lpu_cmd_dma(&cmds[0], DRM_LPU_CMD_DMA_TO_SRAM, h, 0, s.handle,
			    0, size);
		lpu_cmd_dma(&cmds[1], DRM_LPU_CMD_DMA_FROM_SRAM, h, 0,
			    s.handle, 0, size);
		for (i = 0; i < 8; i++)
			CHECK_OK(lpu_submit(fd, 0, cmds, 2, NULL, 0, NULL, 0,
					    NULL));
		/* the handle goes first: only the jobs hold the buffer */
		CHECK_OK(lpu_gem_close(fd, h));
		_exit(LPU_PASS);
	}
	r = reap(pid);
	fd = lpu_must_open();
	lpu_must_query(fd, &info);
	if (lpu_wait_sram_free(fd, info.sram_size, 10000) != info.sram_size)
		FAIL("SRAM not all free 10 s after the child exited");
	lpu_must_round_trip(fd, LPU_MiB, 58);
	close(fd);
	return r;
}
