// SPDX-License-Identifier: MIT
/*
 * liblpu: loading a program from its own pages, without a copy of its
 * SRAM image (lpu_model.c has the API and the staging path).
 *
 * A program file is loaded without copying its SRAM image in the guest
 * when the driver has DRM_IOCTL_LPU_BO_USERPTR (lpu_model_load_mapped()):
 *
 *   1. libelf finds where .lpu.sram and .lpu.vocab lie in the file
 *      (image_locate(): the ELF and section headers only);
 *   2. the rest of the file (headers, note, .text; well under a megabyte
 *      for a 60 MB model) is read into private memory, where the shared
 *      reader and validator (lib/lpu_program.c) checks it in place, all
 *      but the vocabulary (LPU_PROGRAM_DEFER_VOCAB). The validated bytes
 *      are ours: another process writing the file cannot change them
 *      after the check. A file that fails gets no SRAM and no DMA;
 *   3. SRAM is allocated (the driver hands it out zeroed, so the gaps and
 *      .lpu.scratch need no bytes);
 *   4. .text goes from the private copy, the image from the file's own
 *      pages (its page cache, mapped shared and read-only: a private
 *      mapping would make the kernel copy every page it pins) straight
 *      to SRAM: piece by piece, each a read-only userptr buffer and a DMA
 *      job, so pinning the next piece overlaps the DMA of this one. The
 *      image is data the card never executes;
 *   5. while the card copies, .lpu.vocab (only the host's tokenizer uses
 *      it) is read into the private copy and checked; a malformed one
 *      fails the load then, after the DMA, and the SRAM goes again;
 *   6. the model keeps the private copy, which the program borrows (no
 *      copy of .text and the vocabulary; the image's range in it is never
 *      touched, so it costs address space only).
 *
 * lpu_model_load_memory() does the same with the caller's bytes (memcpy()
 * where a file is pread()). When the pages of a piece cannot be pinned
 * (RLIMIT_MEMLOCK), the rest of the image goes through a staging buffer.
 *
 * Copyright (C) 2026 The lpu authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lpu_internal.h"

/* Bytes of the image per userptr buffer and job of a mapped load. */
#define LPU_LOAD_PIECE		(16ULL << 20)

/* Pieces an image is cut into at most, while they are not too large. */
#define LPU_LOAD_PIECES		32

/* A file (or the caller's memory) being loaded. */
struct mapped {
	int fd;			/* the file, or -1 for mem */
	const uint8_t *mem;	/* the caller's bytes, or NULL for fd */
	size_t len;
	uint8_t *priv;		/* private copy, all but the image (anonymous) */
	const uint8_t *map;	/* the file mapped read-only (or mem), or NULL */
	uint64_t image_off;	/* .lpu.sram in the file */
	uint64_t image_size;
	uint64_t vocab_off;	/* .lpu.vocab when it comes after the image */
	uint64_t vocab_size;	/* (0: read with the rest) */
};

/* One DMA job of a mapped load: its userptr buffer and its syncobj. */
struct piece {
	uint32_t bo;		/* 0: none */
	uint32_t done;		/* 0: not submitted */
};

/* Does section @sh lie inside a file of @len bytes, and has it bytes? */
static bool section_in_file(const GElf_Shdr *sh, size_t len)
{
	return sh->sh_type == SHT_PROGBITS && sh->sh_size &&
	       sh->sh_offset <= len && sh->sh_size <= len - sh->sh_offset;
}

/*
 * Where .lpu.sram (and .lpu.vocab, when it follows) lie in the file:
 * libelf reads the ELF and section headers and the section names only.
 * 0 when the image is found, inside the file and not empty, else
 * LPU_LOAD_STAGED (the validator will say what is wrong).
 */
static int image_locate(struct mapped *f)
{
	GElf_Shdr sh, vocab = { 0 };
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int r = LPU_LOAD_STAGED;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return LPU_LOAD_STAGED;
	elf = f->mem ? elf_memory((char *)f->mem, f->len) :
		       elf_begin(f->fd, ELF_C_READ, NULL);
	if (!elf)
		return LPU_LOAD_STAGED;
	if (elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	while ((scn = elf_nextscn(elf, scn)) && gelf_getshdr(scn, &sh)) {
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);

		if (!name || !section_in_file(&sh, f->len))
			continue;
		if (!strcmp(name, LPU_SECTION_SRAM)) {
			f->image_off = sh.sh_offset;
			f->image_size = sh.sh_size;
			r = 0;
		} else if (!strcmp(name, LPU_SECTION_VOCAB)) {
			vocab = sh;
		}
	}
	if (!r && vocab.sh_size &&
	    vocab.sh_offset >= f->image_off + f->image_size) {
		f->vocab_off = vocab.sh_offset;
		f->vocab_size = vocab.sh_size;
	}
out:
	elf_end(elf);
	return r;
}

/* pread() exactly @len bytes at @off: 0, -EIO when the file is shorter. */
static int pread_full(int fd, uint8_t *dst, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, dst, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		dst += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* @len bytes at @off of the file or memory being loaded: 0 or -errno. */
static int src_read(const struct mapped *f, uint8_t *dst, size_t len,
		    uint64_t off)
{
	if (!f->mem)
		return pread_full(f->fd, dst, len, off);
	memcpy(dst, f->mem + off, len);
	return 0;
}

/*
 * Read all of the file but the image (and the vocabulary, when it comes
 * after the image) into f->priv and validate it there; the vocabulary is
 * read and checked later, while the card copies (vocab_read()). 0 with
 * *@prog (borrowing f->priv), LPU_LOAD_STAGED, or -errno with a message.
 */
static int mapped_validate(struct lpu_device *dev, struct mapped *f,
			   const char *name, struct lpu_program **prog)
{
	uint64_t end = f->image_off + f->image_size;
	uint64_t gap = f->vocab_size ? f->vocab_off : f->len;
	uint64_t tail = f->vocab_off + f->vocab_size;
	unsigned int flags = f->vocab_size ? LPU_PROGRAM_DEFER_VOCAB : 0;
	struct lpu_program *p;
	char err[512] = "";
	int r;

	f->priv = mmap(NULL, f->len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (f->priv == MAP_FAILED) {
		f->priv = NULL;
		return LPU_LOAD_STAGED;
	}
	/*
	 * Small pages: we write well under a megabyte, at both ends; a huge
	 * page would have the kernel zero 2 MiB for each end.
	 */
	madvise(f->priv, f->len, MADV_NOHUGEPAGE);
	/* the image stays zero here: the validator does not read it */
	if (src_read(f, f->priv, f->image_off, 0) ||
	    src_read(f, f->priv + end, gap - end, end) ||
	    (f->vocab_size &&
	     src_read(f, f->priv + tail, f->len - tail, tail)))
		return LPU_LOAD_STAGED;	/* changed under us: the staged path */
	r = lpu_program_from_memory_borrowed_flags(f->priv, f->len,
						   dev->info.sram_size, flags,
						   &p, err, sizeof(err));
	if (r)
		return lpu_error(r, "%s: %s", name, err[0] ? err :
				 strerror(-r));
	if (p->image_file_offset != f->image_off ||
	    p->image_size != f->image_size ||
	    (f->vocab_size && (p->vocab != f->priv + f->vocab_off ||
			       p->vocab_size != f->vocab_size))) {
		lpu_program_free(p);
		return LPU_LOAD_STAGED;
	}
	*prog = p;
	return 0;
}

/* Read and check the deferred vocabulary; 0 or -errno with a message. */
static int vocab_read(struct lpu_model *m, struct mapped *f)
{
	char err[512] = "";
	int r;

	if (!f->vocab_size)
		return 0;
	r = src_read(f, f->priv + f->vocab_off, f->vocab_size, f->vocab_off);
	if (r)
		return lpu_error(r, "%s: reading %s: %s", m->name,
				 LPU_SECTION_VOCAB, r == -EIO ?
				 "the file shrank while loading" :
				 strerror(-r));
	r = lpu_program_check_vocab(m->prog, err, sizeof(err));
	if (r)
		return lpu_error(r, "%s: %s", m->name, err[0] ? err :
				 strerror(-r));
	return 0;
}

static void gem_close(struct lpu_device *dev, uint32_t handle)
{
	struct drm_gem_close gc = { .handle = handle };

	if (handle)
		lpu_ioctl(dev->fd, DRM_IOCTL_GEM_CLOSE, &gc);
}

/* DMA @size bytes of @st to window offset @win_off: one job, in @pc. */
static int stage_submit(struct lpu_model *m, const struct stage *st,
			struct piece *pc, uint64_t size, uint64_t win_off)
{
	struct drm_lpu_cmd cmds[DRM_LPU_MAX_CMDS];
	uint32_t n;

	memset(cmds, 0, sizeof(cmds));
	n = lpu_load_add_dma(cmds, 0, st, m->sram_handle, 0, win_off, size);
	return lpu_load_submit(m, cmds, n, &pc->done);
}

/*
 * DMA @size bytes at @src (in pages of this process) to window offset
 * @win_off through a read-only userptr buffer: one job, recorded in @pc.
 * 0; 1 when the pages cannot be pinned (RLIMIT_MEMLOCK, a driver without
 * userptr, pages that went away: nothing done, no message); or -errno
 * with a message.
 */
static int piece_submit(struct lpu_model *m, struct piece *pc,
			const uint8_t *src, uint64_t size, uint64_t win_off)
{
	const uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)src & ~(pg - 1);
	uintptr_t end = ((uintptr_t)src + size + pg - 1) & ~(pg - 1);
	struct drm_lpu_bo_userptr u = {
		.addr = start,
		.size = end - start,
		.flags = DRM_LPU_BO_USERPTR_READ_ONLY,
	};
	struct drm_lpu_cmd cmd = { .op = DRM_LPU_CMD_DMA_TO_SRAM };

	if (lpu_ioctl(m->dev->fd, DRM_IOCTL_LPU_BO_USERPTR, &u))
		return 1;
	pc->bo = u.handle;
	cmd.dma.bo_handle = u.handle;
	cmd.dma.sram_handle = m->sram_handle;
	cmd.dma.bo_offset = (uintptr_t)src - start;
	cmd.dma.sram_offset = win_off;
	cmd.dma.size = size;
	return lpu_load_submit(m, &cmd, 1, &pc->done);
}

/* Wait for the submitted pieces and let go of them; 0 or the first error. */
static int pieces_finish(struct lpu_model *m, struct piece *pcs, uint32_t n)
{
	int r = 0, r2;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (pcs[i].done) {
			r2 = lpu_load_wait(m, pcs[i].done);
			if (!r)
				r = r2;
			lpu_syncobj_destroy(m->dev->fd, pcs[i].done);
		}
		gem_close(m->dev, pcs[i].bo);
	}
	return r;
}

/* Bytes per piece for an image of @size bytes. */
static uint64_t piece_size(const struct lpu_device *dev, uint64_t size)
{
	const uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t max = lpu_stage_max(dev) / 2 & ~(pg - 1);
	uint64_t piece = (size / LPU_LOAD_PIECES + pg - 1) & ~(pg - 1);

	if (piece < LPU_LOAD_PIECE)
		piece = LPU_LOAD_PIECE;
	return piece < max ? piece : max;
}

/*
 * The image from @from on, when its pages could not be pinned: copied
 * into a staging buffer (pread(): the file may have shrunk) and DMAed in
 * one job, recorded in @pc. 0 or -errno with a message.
 */
static int staged_rest(struct lpu_model *m, struct mapped *f, uint64_t from,
		       struct stage *st, struct piece *pc)
{
	const struct lpu_program *p = m->prog;
	uint64_t size = p->image_size - from;
	int r;

	if (lpu_load_chunks(size) > DRM_LPU_MAX_CMDS)
		return lpu_error(-E2BIG, "%s: %llu bytes to load", m->name,
				 (unsigned long long)size);
	r = lpu_stage_get(m->dev, size, st);
	if (r)
		return lpu_error(r, "%s: a staging buffer of %llu bytes: %s",
				 m->name, (unsigned long long)size,
				 strerror(-r));
	r = src_read(f, st->map, size, f->image_off + from);
	if (r)
		return lpu_error(r, "%s: reading the SRAM image: %s", m->name,
				 r == -EIO ? "the file shrank while loading" :
				 strerror(-r));
	return stage_submit(m, st, pc, size, p->image_offset + from);
}

/*
 * .text from the private copy, through a userptr buffer, or copied into
 * the staging buffer @st when that fails. 0 or -errno with a message.
 */
static int text_submit(struct lpu_model *m, struct mapped *f,
		       struct stage *st, struct piece *pc)
{
	const struct lpu_program *p = m->prog;
	int r;

	r = piece_submit(m, pc, f->priv + p->text_file_offset, p->text_size,
			 p->text_offset);
	if (r <= 0)
		return r;
	r = lpu_stage_get(m->dev, p->text_size, st);
	if (r)
		return lpu_error(r, "%s: a staging buffer: %s", m->name,
				 strerror(-r));
	memcpy(st->map, p->text, p->text_size);
	return stage_submit(m, st, pc, p->text_size, p->text_offset);
}

/*
 * Upload a model validated in f->priv: .text from there, the image piece
 * by piece from the file's pages; while the card copies, the vocabulary
 * is read and checked. 0 or -errno with a message.
 */
static int upload_mapped(struct lpu_model *m, struct mapped *f)
{
	const struct lpu_program *p = m->prog;
	const uint64_t piece = piece_size(m->dev, p->image_size);
	uint32_t n = 0, count = (p->image_size + piece - 1) / piece + 1;
	struct stage st[2] = { 0 };	/* for the image's rest, for .text */
	struct piece *pcs;
	uint64_t off;
	int r = 0, r2;

	pcs = calloc(count, sizeof(*pcs));
	if (!pcs)
		return lpu_error(-ENOMEM, "%s: out of memory", m->name);
	r = text_submit(m, f, &st[1], &pcs[n++]);
	for (off = 0; off < p->image_size && !r; off += piece) {
		uint64_t size = p->image_size - off < piece ?
				p->image_size - off : piece;

		r = piece_submit(m, &pcs[n], f->map + f->image_off + off, size,
				 p->image_offset + off);
		if (r > 0)	/* cannot pin: copy the rest */
			r = staged_rest(m, f, off, &st[0], &pcs[n]);
		n++;
		if (r || st[0].buf)
			break;
	}
	if (!r)
		r = vocab_read(m, f);
	r2 = pieces_finish(m, pcs, n);
	if (!r)
		r = r2;
	lpu_stage_put(m->dev, &st[0]);
	lpu_stage_put(m->dev, &st[1]);
	free(pcs);
	return r;
}

static void mapped_release(struct mapped *f)
{
	if (f->map && !f->mem)
		munmap((void *)f->map, f->len);
	if (f->priv)
		munmap(f->priv, f->len);
	f->map = NULL;
	f->priv = NULL;
}

/*
 * Load the regular file @fd (or, with @fd -1, the caller's bytes @mem) of
 * @len bytes from its pages (see the top of this file). 0, LPU_LOAD_STAGED
 * (nothing done, no message: use the staging path), or -errno with a
 * message.
 */
int lpu_model_load_mapped(struct lpu_device *dev, int fd, const void *mem,
			  size_t len, const char *name, struct lpu_model **out)
{
	struct mapped f = { .fd = fd, .mem = mem, .len = len };
	struct lpu_program *prog = NULL;
	struct lpu_model *m;
	void *map = (void *)mem;
	int r;

	if (!(dev->info.caps & DRM_LPU_CAP_USERPTR) || image_locate(&f))
		return LPU_LOAD_STAGED;
	r = mapped_validate(dev, &f, name, &prog);
	if (r)
		goto out;
	if (!mem)
		map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		lpu_program_free(prog);
		r = LPU_LOAD_STAGED;
		goto out;
	}
	f.map = map;
	r = lpu_model_new(dev, prog, name, &m);
	if (r)
		goto out;
	/* the program borrows the private copy: the model keeps it */
	m->keep = f.priv;
	m->keep_len = f.len;
	r = upload_mapped(m, &f);
	f.priv = NULL;
	if (r)
		lpu_model_unload(m);
	else
		*out = m;
out:
	mapped_release(&f);
	return r;
}
