// SPDX-License-Identifier: MIT
/*
 * LPU program files: ELF64 reader, validator and writer, on libelf.
 *
 * The reader copies the file (or, for lpu_program_from_memory_borrowed(),
 * works on the caller's bytes in place), checks the ELF header by hand (so
 * that every offset is known to lie inside the file before libelf looks at
 * it), then walks the sections with libelf. Only the headers, the section
 * names, the note, .text and .lpu.vocab are read: the bytes of .lpu.sram
 * are never touched. The writer lays the file out itself (ELF_F_LAYOUT)
 * and lets libelf write it to a memory file, then runs the result through
 * the same validator. The rules and their error codes are
 * listed in Documentation/program-format.rst.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "lpu_program.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpu_insn.h"

#define MIB		(1024.0 * 1024.0)
#define NOTE_NAMESZ	4	/* "LPU" and its NUL */
#define NOTE_DESCSZ	sizeof(struct lpu_prog_note)
#define MAX_FILE	(64ULL << 30)	/* lpu_program_open() reads at most */

/* The program and what it owns. */
struct lpu_program_priv {
	struct lpu_program pub;	/* first: lpu_program_free() casts back */
	const uint8_t *buf;	/* the file: our copy or the caller's */
	size_t len;
	bool owned;		/* buf is ours (malloc()ed) */
	struct lpu_insn *text;	/* aligned copy of .text, or NULL */
	uint8_t *vocab;		/* .lpu.vocab copied by detach or NULL */
	size_t *vocab_index;	/* offset of each vocab record in .lpu.vocab */
	bool vocab_pending;	/* LPU_PROGRAM_DEFER_VOCAB: not checked yet */
};

static struct lpu_program_priv *to_priv(const struct lpu_program *p)
{
	return (struct lpu_program_priv *)p;
}

/* ---- Note encoding ----------------------------------------------------- */

void lpu_program_note_decode(const struct lpu_prog_note *in,
			     struct lpu_program_note *out)
{
	unsigned int i;

	out->isa_version = le32toh(in->isa_version);
	out->flags = le32toh(in->flags);
	out->sram_footprint = le64toh(in->sram_footprint);
	out->entry = le64toh(in->entry);
	out->scratch_size = le64toh(in->scratch_size);
	out->prompt_offset = le64toh(in->prompt_offset);
	out->logits_offset = le64toh(in->logits_offset);
	out->prompt_max = le32toh(in->prompt_max);
	out->vocab_size = le32toh(in->vocab_size);
	out->context_len = le32toh(in->context_len);
	out->dim = le32toh(in->dim);
	out->hidden_dim = le32toh(in->hidden_dim);
	out->n_layers = le32toh(in->n_layers);
	out->n_heads = le32toh(in->n_heads);
	out->n_kv_heads = le32toh(in->n_kv_heads);
	out->cycles_prologue = le64toh(in->cycles_prologue);
	out->cycles_per_token = le64toh(in->cycles_per_token);
	out->cycles_epilogue = le64toh(in->cycles_epilogue);
	for (i = 0; i < 4; i++)
		out->reserved[i] = le64toh(in->reserved[i]);
}

void lpu_program_note_encode(const struct lpu_program_note *in,
			     struct lpu_prog_note *out)
{
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->isa_version = htole32(in->isa_version);
	out->flags = htole32(in->flags);
	out->sram_footprint = htole64(in->sram_footprint);
	out->entry = htole64(in->entry);
	out->scratch_size = htole64(in->scratch_size);
	out->prompt_offset = htole64(in->prompt_offset);
	out->logits_offset = htole64(in->logits_offset);
	out->prompt_max = htole32(in->prompt_max);
	out->vocab_size = htole32(in->vocab_size);
	out->context_len = htole32(in->context_len);
	out->dim = htole32(in->dim);
	out->hidden_dim = htole32(in->hidden_dim);
	out->n_layers = htole32(in->n_layers);
	out->n_heads = htole32(in->n_heads);
	out->n_kv_heads = htole32(in->n_kv_heads);
	out->cycles_prologue = htole64(in->cycles_prologue);
	out->cycles_per_token = htole64(in->cycles_per_token);
	out->cycles_epilogue = htole64(in->cycles_epilogue);
	for (i = 0; i < 4; i++)
		out->reserved[i] = htole64(in->reserved[i]);
}

/* ---- Helpers ----------------------------------------------------------- */

/* Error reporting: one line, "PREFIX: message" when there is a prefix. */
struct ctx {
	const char *prefix;	/* file name, or NULL */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail(const struct ctx *c, int rc, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!c->err || !c->errlen)
		return rc;
	if (c->prefix)
		n = snprintf(c->err, c->errlen, "%s: ", c->prefix);
	if (n < 0 || (size_t)n >= c->errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return rc;
}

/* Does [off, off + size) lie inside [0, limit)? Overflow-safe. */
static bool range_ok(uint64_t off, uint64_t size, uint64_t limit)
{
	return off <= limit && size <= limit - off;
}

/* Do the non-empty ranges [a, a + as) and [b, b + bs) overlap? */
static bool ranges_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	if (!as || !bs)
		return false;
	return a < b + bs && b < a + as;
}

static bool libelf_ready(void)
{
	static int ready;	/* 0 unknown, 1 ok, -1 failed */

	if (!ready)
		ready = elf_version(EV_CURRENT) == EV_NONE ? -1 : 1;
	return ready > 0;
}

static const char *elf_type_name(unsigned int t)
{
	switch (t) {
	case ET_NONE: return "ET_NONE";
	case ET_REL: return "ET_REL";
	case ET_EXEC: return "ET_EXEC";
	case ET_DYN: return "ET_DYN";
	case ET_CORE: return "ET_CORE";
	default: return "unknown";
	}
}

static const char *sh_type_name(unsigned int t)
{
	switch (t) {
	case SHT_NULL: return "NULL";
	case SHT_PROGBITS: return "PROGBITS";
	case SHT_SYMTAB: return "SYMTAB";
	case SHT_STRTAB: return "STRTAB";
	case SHT_NOTE: return "NOTE";
	case SHT_NOBITS: return "NOBITS";
	default: return "other";
	}
}

/* ---- Validator --------------------------------------------------------- */

enum { SEC_TEXT, SEC_SRAM, SEC_SCRATCH, SEC_VOCAB, SEC_NOTE, SEC_COUNT };

static const struct {
	const char *name;
	unsigned int type;
	bool required;
} sec_spec[SEC_COUNT] = {
	[SEC_TEXT] = { LPU_SECTION_TEXT, SHT_PROGBITS, true },
	[SEC_SRAM] = { LPU_SECTION_SRAM, SHT_PROGBITS, false },
	[SEC_SCRATCH] = { LPU_SECTION_SCRATCH, SHT_NOBITS, false },
	[SEC_VOCAB] = { LPU_SECTION_VOCAB, SHT_PROGBITS, false },
	[SEC_NOTE] = { LPU_SECTION_NOTE, SHT_NOTE, true },
};

struct sec {
	size_t index;		/* 0: absent */
	Elf_Scn *scn;
	GElf_Shdr shdr;
};

/* Check the ELF identification and header by hand. */
static int check_ehdr(const struct ctx *c, const uint8_t *b, size_t len,
		      Elf64_Ehdr *eh)
{
	uint64_t tab;

	if (len < SELFMAG || memcmp(b, ELFMAG, SELFMAG))
		return fail(c, -ENOEXEC, len ? "not an ELF file (bad magic)"
				: "not an ELF file (empty)");
	if (len < EI_NIDENT)
		return fail(c, -EINVAL,
			    "truncated: %zu bytes, shorter than the ELF identification (%d bytes)",
			    len, EI_NIDENT);
	if (b[EI_CLASS] != ELFCLASS64)
		return fail(c, -ENOEXEC,
			    "not an LPU program: ELF class %u, expected ELFCLASS64 (%u)",
			    b[EI_CLASS], ELFCLASS64);
	if (b[EI_DATA] != ELFDATA2LSB)
		return fail(c, -ENOEXEC,
			    "not an LPU program: ELF data encoding %u, expected little-endian (ELFDATA2LSB)",
			    b[EI_DATA]);
	if (b[EI_VERSION] != EV_CURRENT)
		return fail(c, -ENOEXEC,
			    "not an LPU program: ELF identification version %u, expected %u",
			    b[EI_VERSION], EV_CURRENT);
	if (b[EI_OSABI] != ELFOSABI_NONE)
		return fail(c, -ENOEXEC,
			    "not an LPU program: OS ABI %u, expected ELFOSABI_NONE (0)",
			    b[EI_OSABI]);
	if (len < sizeof(*eh))
		return fail(c, -EINVAL,
			    "truncated: %zu bytes, shorter than the ELF header (%zu bytes)",
			    len, sizeof(*eh));

	memcpy(eh, b, sizeof(*eh));
	eh->e_type = le16toh(eh->e_type);
	eh->e_machine = le16toh(eh->e_machine);
	eh->e_version = le32toh(eh->e_version);
	eh->e_entry = le64toh(eh->e_entry);
	eh->e_phoff = le64toh(eh->e_phoff);
	eh->e_shoff = le64toh(eh->e_shoff);
	eh->e_flags = le32toh(eh->e_flags);
	eh->e_ehsize = le16toh(eh->e_ehsize);
	eh->e_phentsize = le16toh(eh->e_phentsize);
	eh->e_phnum = le16toh(eh->e_phnum);
	eh->e_shentsize = le16toh(eh->e_shentsize);
	eh->e_shnum = le16toh(eh->e_shnum);
	eh->e_shstrndx = le16toh(eh->e_shstrndx);

	if (eh->e_type != ET_EXEC)
		return fail(c, -ENOEXEC,
			    "not an LPU program: ELF type %s (%u), expected ET_EXEC",
			    elf_type_name(eh->e_type), eh->e_type);
	if (eh->e_machine != LPU_ELF_MACHINE)
		return fail(c, -ENOEXEC,
			    "not an LPU program: ELF machine 0x%x, expected 0x%x (LPU)",
			    eh->e_machine, LPU_ELF_MACHINE);
	if (eh->e_version != EV_CURRENT)
		return fail(c, -EINVAL, "bad ELF header: e_version %u, expected %u",
			    eh->e_version, EV_CURRENT);
	if (eh->e_ehsize != sizeof(Elf64_Ehdr))
		return fail(c, -EINVAL, "bad ELF header: e_ehsize %u, expected %zu",
			    eh->e_ehsize, sizeof(Elf64_Ehdr));
	if (eh->e_flags)
		return fail(c, -EINVAL,
			    "bad ELF header: e_flags 0x%x, must be 0 (reserved)",
			    eh->e_flags);

	if (eh->e_phnum) {
		if (eh->e_phentsize != sizeof(Elf64_Phdr))
			return fail(c, -EINVAL,
				    "bad ELF header: e_phentsize %u, expected %zu",
				    eh->e_phentsize, sizeof(Elf64_Phdr));
		if (eh->e_phnum == PN_XNUM)
			return fail(c, -EINVAL,
				    "bad ELF header: extended program header numbering (e_phnum PN_XNUM) is not supported");
		tab = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
		if (!range_ok(eh->e_phoff, tab, len))
			return fail(c, -EINVAL,
				    "truncated: program header table (offset %llu, %u entries, %llu bytes) extends past the end of the file (%zu bytes)",
				    (unsigned long long)eh->e_phoff, eh->e_phnum,
				    (unsigned long long)tab, len);
	}

	if (!eh->e_shnum)
		return fail(c, -EINVAL,
			    "bad ELF header: no section headers (e_shnum 0; extended section numbering is not supported)");
	if (eh->e_shentsize != sizeof(Elf64_Shdr))
		return fail(c, -EINVAL,
			    "bad ELF header: e_shentsize %u, expected %zu",
			    eh->e_shentsize, sizeof(Elf64_Shdr));
	tab = (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr);
	if (!range_ok(eh->e_shoff, tab, len))
		return fail(c, -EINVAL,
			    "truncated: section header table (offset %llu, %u entries, %llu bytes) extends past the end of the file (%zu bytes)",
			    (unsigned long long)eh->e_shoff, eh->e_shnum,
			    (unsigned long long)tab, len);
	if (eh->e_shstrndx == SHN_UNDEF || eh->e_shstrndx >= eh->e_shnum)
		return fail(c, -EINVAL,
			    "bad ELF header: section name table index %u is not a section (e_shnum %u)",
			    eh->e_shstrndx, eh->e_shnum);
	return 0;
}

/* Program headers are informational; they must only lie inside the file. */
static int check_phdrs(const struct ctx *c, const uint8_t *b, size_t len,
		       const Elf64_Ehdr *eh)
{
	Elf64_Phdr ph;
	unsigned int i;

	for (i = 0; i < eh->e_phnum; i++) {
		memcpy(&ph, b + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		ph.p_type = le32toh(ph.p_type);
		ph.p_offset = le64toh(ph.p_offset);
		ph.p_filesz = le64toh(ph.p_filesz);
		if (ph.p_type == PT_NULL)
			continue;
		if (!range_ok(ph.p_offset, ph.p_filesz, len))
			return fail(c, -EINVAL,
				    "truncated: program header %u (offset %llu, %llu bytes) extends past the end of the file (%zu bytes)",
				    i, (unsigned long long)ph.p_offset,
				    (unsigned long long)ph.p_filesz, len);
	}
	return 0;
}

/* Find our sections by name, check their types and file ranges. */
static int find_sections(const struct ctx *c, Elf *elf, const Elf64_Ehdr *eh,
			 size_t len, struct sec *secs)
{
	GElf_Shdr strsh;
	Elf_Scn *scn;
	size_t i;
	int k;

	scn = elf_getscn(elf, eh->e_shstrndx);
	if (!scn || !gelf_getshdr(scn, &strsh))
		return fail(c, -EINVAL, "bad section name table: %s",
			    elf_errmsg(-1));
	if (strsh.sh_type != SHT_STRTAB)
		return fail(c, -EINVAL,
			    "bad section name table: section %u has type %s (%u), expected STRTAB",
			    eh->e_shstrndx, sh_type_name(strsh.sh_type),
			    strsh.sh_type);
	if (!range_ok(strsh.sh_offset, strsh.sh_size, len))
		return fail(c, -EINVAL,
			    "truncated: section name table (offset %llu, size %llu) extends past the end of the file (%zu bytes)",
			    (unsigned long long)strsh.sh_offset,
			    (unsigned long long)strsh.sh_size, len);

	for (i = 1; i < eh->e_shnum; i++) {
		GElf_Shdr sh;
		const char *name;

		scn = elf_getscn(elf, i);
		if (!scn || !gelf_getshdr(scn, &sh))
			return fail(c, -EINVAL, "bad section header %zu: %s",
				    i, elf_errmsg(-1));
		if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
		    !range_ok(sh.sh_offset, sh.sh_size, len))
			return fail(c, -EINVAL,
				    "truncated: section %zu (offset %llu, size %llu) extends past the end of the file (%zu bytes)",
				    i, (unsigned long long)sh.sh_offset,
				    (unsigned long long)sh.sh_size, len);
		if (sh.sh_name >= strsh.sh_size)
			return fail(c, -EINVAL,
				    "bad section header %zu: name offset %u is past the section name table (%llu bytes)",
				    i, sh.sh_name,
				    (unsigned long long)strsh.sh_size);
		name = elf_strptr(elf, eh->e_shstrndx, sh.sh_name);
		if (!name)
			return fail(c, -EINVAL,
				    "bad section header %zu: unterminated name",
				    i);
		for (k = 0; k < SEC_COUNT; k++) {
			if (strcmp(name, sec_spec[k].name))
				continue;
			if (secs[k].index)
				return fail(c, -EINVAL,
					    "duplicate section %s (sections %zu and %zu)",
					    name, secs[k].index, i);
			if (sh.sh_type != sec_spec[k].type)
				return fail(c, -EINVAL,
					    "section %s has type %s (%u), expected %s",
					    name, sh_type_name(sh.sh_type),
					    sh.sh_type,
					    sh_type_name(sec_spec[k].type));
			secs[k].index = i;
			secs[k].scn = scn;
			secs[k].shdr = sh;
		}
	}
	for (k = 0; k < SEC_COUNT; k++) {
		if (sec_spec[k].required && !secs[k].index)
			return fail(c, -EINVAL, "missing section %s",
				    sec_spec[k].name);
	}
	return 0;
}

static int read_note(const struct ctx *c, const struct sec *s,
		     struct lpu_program_note *note)
{
	struct lpu_prog_note raw;
	size_t name_off, desc_off, next;
	Elf_Data *d;
	GElf_Nhdr nh;

	if (!s->shdr.sh_size)
		return fail(c, -EINVAL, "malformed note: section %s is empty",
			    LPU_SECTION_NOTE);
	d = elf_getdata(s->scn, NULL);
	if (!d || !d->d_buf)
		return fail(c, -EINVAL, "malformed note: cannot read %s: %s",
			    LPU_SECTION_NOTE, elf_errmsg(-1));
	next = gelf_getnote(d, 0, &nh, &name_off, &desc_off);
	if (!next)
		return fail(c, -EINVAL,
			    "malformed note: %s (%llu bytes) does not hold a whole note",
			    LPU_SECTION_NOTE,
			    (unsigned long long)s->shdr.sh_size);
	if (nh.n_namesz != NOTE_NAMESZ ||
	    memcmp((const char *)d->d_buf + name_off, LPU_NOTE_NAME,
		   NOTE_NAMESZ))
		return fail(c, -EINVAL,
			    "malformed note: name is not \"%s\" (namesz %u)",
			    LPU_NOTE_NAME, nh.n_namesz);
	if (nh.n_type != LPU_NOTE_PROGRAM)
		return fail(c, -EINVAL,
			    "malformed note: type %u, expected LPU_NOTE_PROGRAM (%u)",
			    nh.n_type, LPU_NOTE_PROGRAM);
	if (nh.n_descsz != NOTE_DESCSZ)
		return fail(c, -EINVAL,
			    "malformed note: descsz %u, expected %zu (struct lpu_prog_note)",
			    nh.n_descsz, NOTE_DESCSZ);
	if (next != d->d_size)
		return fail(c, -EINVAL,
			    "malformed note: %s has %zu bytes after the LPU note (one note expected)",
			    LPU_SECTION_NOTE, d->d_size - next);
	memcpy(&raw, (const char *)d->d_buf + desc_off, sizeof(raw));
	lpu_program_note_decode(&raw, note);
	return 0;
}

static int check_note(const struct ctx *c, const struct lpu_program_note *n,
		      uint64_t card_sram)
{
	unsigned int i;

	if (n->isa_version != LPU_ISA_VERSION)
		return fail(c, -EPROTONOSUPPORT,
			    "unsupported ISA version %u (this build supports version %u)",
			    n->isa_version, LPU_ISA_VERSION);
	for (i = 0; i < 4; i++) {
		if (n->reserved[i])
			return fail(c, -EINVAL,
				    "note field reserved[%u] is 0x%llx, must be 0",
				    i, (unsigned long long)n->reserved[i]);
	}
	if (n->flags & ~(uint32_t)LPU_PROG_INT8)
		return fail(c, -EINVAL, "note flags 0x%x has unknown bits 0x%x",
			    n->flags, n->flags & ~(uint32_t)LPU_PROG_INT8);
	if (!n->sram_footprint)
		return fail(c, -EINVAL, "note sram_footprint is 0");
	if (card_sram && n->sram_footprint > card_sram)
		return fail(c, -E2BIG,
			    "program needs %.4g MiB of SRAM (sram_footprint %llu bytes) but the card has %.4g MiB (%llu bytes)",
			    n->sram_footprint / MIB,
			    (unsigned long long)n->sram_footprint,
			    card_sram / MIB, (unsigned long long)card_sram);
	return 0;
}

/* The window layout: sections, entry, prompt and logits areas. */
static int check_layout(const struct ctx *c, struct lpu_program *p,
			const Elf64_Ehdr *eh)
{
	const struct lpu_program_note *n = &p->note;
	const uint64_t fp = n->sram_footprint;
	const struct {
		const char *name;
		uint64_t off, size;
	} ld[3] = {
		{ LPU_SECTION_TEXT, p->text_offset, p->text_size },
		{ LPU_SECTION_SRAM, p->image_offset, p->image_size },
		{ LPU_SECTION_SCRATCH, p->scratch_offset, p->scratch_size },
	};
	uint64_t area;
	int i, j;

	if (!p->text_size)
		return fail(c, -EINVAL, "section .text is empty");
	if (p->text_offset % LPU_INSN_SIZE)
		return fail(c, -EINVAL,
			    "section .text at window offset 0x%llx is not %d-byte aligned",
			    (unsigned long long)p->text_offset, LPU_INSN_SIZE);
	if (p->text_size % LPU_INSN_SIZE)
		return fail(c, -EINVAL,
			    "section .text size %llu is not a whole number of %d-byte instructions",
			    (unsigned long long)p->text_size, LPU_INSN_SIZE);
	for (i = 0; i < 3; i++) {
		if (!range_ok(ld[i].off, ld[i].size, fp))
			return fail(c, -EOVERFLOW,
				    "section %s [0x%llx, +0x%llx) is outside the window [0, 0x%llx) of sram_footprint",
				    ld[i].name, (unsigned long long)ld[i].off,
				    (unsigned long long)ld[i].size,
				    (unsigned long long)fp);
	}
	for (i = 0; i < 3; i++) {
		for (j = i + 1; j < 3; j++) {
			if (ranges_overlap(ld[i].off, ld[i].size, ld[j].off,
					   ld[j].size))
				return fail(c, -EINVAL,
					    "sections %s [0x%llx, 0x%llx) and %s [0x%llx, 0x%llx) overlap",
					    ld[i].name,
					    (unsigned long long)ld[i].off,
					    (unsigned long long)(ld[i].off + ld[i].size),
					    ld[j].name,
					    (unsigned long long)ld[j].off,
					    (unsigned long long)(ld[j].off + ld[j].size));
		}
	}
	if (n->scratch_size != p->scratch_size)
		return fail(c, -EINVAL,
			    "note scratch_size %llu does not match section %s (%llu bytes)",
			    (unsigned long long)n->scratch_size,
			    LPU_SECTION_SCRATCH,
			    (unsigned long long)p->scratch_size);

	if (n->entry % LPU_INSN_SIZE)
		return fail(c, -EINVAL,
			    "entry 0x%llx is not %d-byte aligned",
			    (unsigned long long)n->entry, LPU_INSN_SIZE);
	if (n->entry < p->text_offset ||
	    n->entry - p->text_offset >= p->text_size)
		return fail(c, -EOVERFLOW,
			    "entry 0x%llx is outside .text [0x%llx, 0x%llx)",
			    (unsigned long long)n->entry,
			    (unsigned long long)p->text_offset,
			    (unsigned long long)(p->text_offset + p->text_size));
	if (eh->e_entry != n->entry)
		return fail(c, -EINVAL,
			    "ELF e_entry 0x%llx differs from the note's entry 0x%llx",
			    (unsigned long long)eh->e_entry,
			    (unsigned long long)n->entry);

	area = (uint64_t)n->prompt_max * 4;
	if (area) {
		if (n->prompt_offset % 4)
			return fail(c, -EINVAL,
				    "prompt_offset 0x%llx is not 4-byte aligned",
				    (unsigned long long)n->prompt_offset);
		if (n->prompt_offset < p->scratch_offset ||
		    !range_ok(n->prompt_offset - p->scratch_offset, area,
			      p->scratch_size))
			return fail(c, -EOVERFLOW,
				    "prompt area [0x%llx, +%llu) (prompt_max %u tokens) is outside .lpu.scratch [0x%llx, 0x%llx)",
				    (unsigned long long)n->prompt_offset,
				    (unsigned long long)area, n->prompt_max,
				    (unsigned long long)p->scratch_offset,
				    (unsigned long long)(p->scratch_offset + p->scratch_size));
	}
	area = (uint64_t)n->vocab_size * 4;
	if (area) {
		if (n->logits_offset % 4)
			return fail(c, -EINVAL,
				    "logits_offset 0x%llx is not 4-byte aligned",
				    (unsigned long long)n->logits_offset);
		if (n->logits_offset < p->scratch_offset ||
		    !range_ok(n->logits_offset - p->scratch_offset, area,
			      p->scratch_size))
			return fail(c, -EOVERFLOW,
				    "logits area [0x%llx, +%llu) (vocab_size %u floats) is outside .lpu.scratch [0x%llx, 0x%llx)",
				    (unsigned long long)n->logits_offset,
				    (unsigned long long)area, n->vocab_size,
				    (unsigned long long)p->scratch_offset,
				    (unsigned long long)(p->scratch_offset + p->scratch_size));
	}
	return 0;
}

static bool is_branch(uint8_t op)
{
	const struct lpu_op_info *oi = lpu_op_info(op);

	return oi && (oi->flags & LPU_OPF_BRANCH);
}

/* Every instruction passes the static check; branches stay in .text. */
static int check_text(const struct ctx *c, const struct lpu_program *p)
{
	const uint64_t fp = p->note.sram_footprint;
	char msg[256], dis[LPU_INSN_FMT_MAX];
	uint64_t i;

	for (i = 0; i < p->n_insns; i++) {
		const struct lpu_insn *in = &p->text[i];
		uint64_t at = p->text_offset + i * LPU_INSN_SIZE;
		uint32_t tgt;
		int f;

		msg[0] = 0;
		f = lpu_insn_check(in, fp, msg, sizeof(msg));
		if (f) {
			if (lpu_insn_format(in, dis, sizeof(dis)) < 0)
				snprintf(dis, sizeof(dis), "op 0x%02x", in->op);
			return fail(c, f == LPU_FAULT_SRAM || f == LPU_FAULT_PC ?
				    -EOVERFLOW : -EINVAL,
				    "instruction %llu at 0x%llx `%s`: %s",
				    (unsigned long long)i,
				    (unsigned long long)at, dis,
				    msg[0] ? msg : "invalid");
		}
		if (!is_branch(in->op))
			continue;
		tgt = le32toh(in->imm);
		if (tgt < p->text_offset || tgt - p->text_offset >= p->text_size) {
			if (lpu_insn_format(in, dis, sizeof(dis)) < 0)
				snprintf(dis, sizeof(dis), "op 0x%02x", in->op);
			return fail(c, -EOVERFLOW,
				    "instruction %llu at 0x%llx `%s`: branch target 0x%x is outside .text [0x%llx, 0x%llx)",
				    (unsigned long long)i,
				    (unsigned long long)at, dis, tgt,
				    (unsigned long long)p->text_offset,
				    (unsigned long long)(p->text_offset + p->text_size));
		}
	}
	return 0;
}

static uint32_t get_le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

/* .lpu.vocab: u32 max_token_length, vocab_size { f32, u32 len, bytes }. */
static int check_vocab(const struct ctx *c, struct lpu_program_priv *pp)
{
	struct lpu_program *p = &pp->pub;
	const uint64_t size = p->vocab_size;
	const uint32_t count = p->note.vocab_size;
	uint64_t off = 4;
	uint32_t i, len;

	if (size < 4)
		return fail(c, -EINVAL,
			    "malformed %s: %llu bytes, too short for its header",
			    LPU_SECTION_VOCAB, (unsigned long long)size);
	p->vocab_max_token_len = get_le32(p->vocab);
	for (i = 0; i < count; i++) {
		if (size - off < 8)
			return fail(c, -EINVAL,
				    "malformed %s: record %u of %u (note vocab_size) starts past the end of the section (%llu bytes)",
				    LPU_SECTION_VOCAB, i, count,
				    (unsigned long long)size);
		len = get_le32(p->vocab + off + 4);
		if (len > size - off - 8)
			return fail(c, -EINVAL,
				    "malformed %s: record %u of %u: its %u bytes run past the end of the section (%llu bytes)",
				    LPU_SECTION_VOCAB, i, count, len,
				    (unsigned long long)size);
		if (len > p->vocab_max_token_len)
			return fail(c, -EINVAL,
				    "malformed %s: record %u is %u bytes long, more than max_token_length %u",
				    LPU_SECTION_VOCAB, i, len,
				    p->vocab_max_token_len);
		off += 8 + (uint64_t)len;
	}
	if (off != size)
		return fail(c, -EINVAL,
			    "malformed %s: %llu bytes after the last of %u records (the note's vocab_size)",
			    LPU_SECTION_VOCAB, (unsigned long long)(size - off),
			    count);

	/* Valid: count records of at least 8 bytes exist, index them. */
	pp->vocab_index = calloc(count ? count : 1, sizeof(size_t));
	if (!pp->vocab_index)
		return fail(c, -ENOMEM, "out of memory");
	for (i = 0, off = 4; i < count; i++) {
		pp->vocab_index[i] = off;
		off += 8 + (uint64_t)get_le32(p->vocab + off + 4);
	}
	return 0;
}

static const uint8_t *sec_bytes(const struct lpu_program_priv *pp,
				const struct sec *s)
{
	return pp->buf + s->shdr.sh_offset;
}

/* Validate pp->buf and fill in pp; @flags LPU_PROGRAM_*. */
static int validate(const struct ctx *c, struct lpu_program_priv *pp,
		    uint64_t card_sram, unsigned int flags)
{
	struct lpu_program *p = &pp->pub;
	struct sec secs[SEC_COUNT] = { 0 };
	Elf64_Ehdr eh;
	Elf *elf;
	int rc;

	if (!libelf_ready())
		return fail(c, -ENOTSUP, "libelf: %s", elf_errmsg(-1));
	rc = check_ehdr(c, pp->buf, pp->len, &eh);
	if (rc)
		return rc;
	rc = check_phdrs(c, pp->buf, pp->len, &eh);
	if (rc)
		return rc;

	elf = elf_memory((char *)pp->buf, pp->len);
	if (!elf)
		return fail(c, -EINVAL, "libelf cannot read the file: %s",
			    elf_errmsg(-1));
	if (elf_kind(elf) != ELF_K_ELF) {
		rc = fail(c, -ENOEXEC, "not an ELF file");
		goto out;
	}
	rc = find_sections(c, elf, &eh, pp->len, secs);
	if (rc)
		goto out;
	rc = read_note(c, &secs[SEC_NOTE], &p->note);
	if (rc)
		goto out;
	rc = check_note(c, &p->note, card_sram);
	if (rc)
		goto out;

	p->file_size = pp->len;
	p->text_offset = secs[SEC_TEXT].shdr.sh_addr;
	p->text_size = secs[SEC_TEXT].shdr.sh_size;
	p->n_insns = p->text_size / LPU_INSN_SIZE;
	p->text_file_offset = secs[SEC_TEXT].shdr.sh_offset;
	if (secs[SEC_SRAM].index) {
		p->image_file_offset = secs[SEC_SRAM].shdr.sh_offset;
		p->image = sec_bytes(pp, &secs[SEC_SRAM]);
		p->image_offset = secs[SEC_SRAM].shdr.sh_addr;
		p->image_size = secs[SEC_SRAM].shdr.sh_size;
	} else {
		p->image = pp->buf;	/* no bytes (NULL after a detach) */
	}
	if (secs[SEC_SCRATCH].index) {
		p->scratch_offset = secs[SEC_SCRATCH].shdr.sh_addr;
		p->scratch_size = secs[SEC_SCRATCH].shdr.sh_size;
	}
	rc = check_layout(c, p, &eh);
	if (rc)
		goto out;

	/* .text in place when it is aligned for struct lpu_insn, else a copy */
	if ((uintptr_t)sec_bytes(pp, &secs[SEC_TEXT]) %
	    _Alignof(struct lpu_insn)) {
		pp->text = malloc(p->text_size);
		if (!pp->text) {
			rc = fail(c, -ENOMEM, "out of memory");
			goto out;
		}
		memcpy(pp->text, sec_bytes(pp, &secs[SEC_TEXT]), p->text_size);
		p->text = pp->text;
	} else {
		p->text = (const struct lpu_insn *)sec_bytes(pp,
							     &secs[SEC_TEXT]);
	}
	rc = check_text(c, p);
	if (rc)
		goto out;

	if (secs[SEC_VOCAB].index) {
		p->vocab = sec_bytes(pp, &secs[SEC_VOCAB]);
		p->vocab_size = secs[SEC_VOCAB].shdr.sh_size;
		if (flags & LPU_PROGRAM_DEFER_VOCAB)
			pp->vocab_pending = true;
		else
			rc = check_vocab(c, pp);
	}
out:
	elf_end(elf);
	return rc;
}

static void priv_free(struct lpu_program_priv *pp)
{
	if (!pp)
		return;
	free(pp->vocab_index);
	free(pp->vocab);
	free(pp->text);
	if (pp->owned)
		free((void *)pp->buf);
	free(pp);
}

/*
 * Validate len bytes at buf. owned: buf was malloc()ed and the program
 * takes it in every case; else the caller keeps it (borrowed).
 */
static int load(const struct ctx *c, const uint8_t *buf, size_t len,
		bool owned, uint64_t card_sram, unsigned int flags,
		struct lpu_program **out)
{
	struct lpu_program_priv *pp;
	int rc;

	pp = calloc(1, sizeof(*pp));
	if (!pp) {
		if (owned)
			free((void *)buf);
		return fail(c, -ENOMEM, "out of memory");
	}
	pp->buf = buf;
	pp->len = len;
	pp->owned = owned;
	rc = validate(c, pp, card_sram, flags);
	if (rc) {
		priv_free(pp);
		return rc;
	}
	*out = &pp->pub;
	return 0;
}

/* ---- Reader ------------------------------------------------------------ */

int lpu_program_from_memory(const void *buf, size_t len, uint64_t card_sram,
			    struct lpu_program **out, char *err,
			    size_t errlen)
{
	const struct ctx c = { NULL, err, errlen };
	uint8_t *copy;

	if (!buf && len)
		return fail(&c, -EINVAL, "no buffer");
	copy = malloc(len ? len : 1);
	if (!copy)
		return fail(&c, -ENOMEM, "out of memory (%zu bytes)", len);
	if (len)
		memcpy(copy, buf, len);
	return load(&c, copy, len, true, card_sram, 0, out);
}

int lpu_program_from_memory_borrowed_flags(const void *buf, size_t len,
					   uint64_t card_sram,
					   unsigned int flags,
					   struct lpu_program **out, char *err,
					   size_t errlen)
{
	const struct ctx c = { NULL, err, errlen };

	if (!buf && len)
		return fail(&c, -EINVAL, "no buffer");
	if (flags & ~LPU_PROGRAM_DEFER_VOCAB)
		return fail(&c, -EINVAL, "unknown flags 0x%x", flags);
	/* never a NULL buffer, even for 0 bytes: image must point somewhere */
	return load(&c, buf ? buf : (const uint8_t *)"", len, false,
		    card_sram, flags, out);
}

int lpu_program_from_memory_borrowed(const void *buf, size_t len,
				     uint64_t card_sram,
				     struct lpu_program **out, char *err,
				     size_t errlen)
{
	return lpu_program_from_memory_borrowed_flags(buf, len, card_sram, 0,
						      out, err, errlen);
}

int lpu_program_check_vocab(struct lpu_program *p, char *err, size_t errlen)
{
	const struct ctx c = { NULL, err, errlen };
	struct lpu_program_priv *pp = to_priv(p);
	int rc;

	if (!pp->vocab_pending)
		return 0;
	rc = check_vocab(&c, pp);
	if (!rc)
		pp->vocab_pending = false;
	return rc;
}

int lpu_program_open(const char *path, uint64_t card_sram,
		     struct lpu_program **out, char *err, size_t errlen)
{
	const struct ctx c = { path, err, errlen };
	uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0, cap;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(&c, -errno, "%s", strerror(errno));
	if (fstat(fd, &st)) {
		rc = fail(&c, -errno, "%s", strerror(errno));
		goto err_close;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = fail(&c, -EISDIR, "%s", strerror(EISDIR));
		goto err_close;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > MAX_FILE) {
		rc = fail(&c, -EFBIG, "larger than %llu GiB, not a program",
			  MAX_FILE >> 30);
		goto err_close;
	}
	/* Read to the end: the size of a pipe or a /proc file is unknown. */
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ?
	      (size_t)st.st_size + 1 : 65536;
	for (;;) {
		ssize_t r;

		if (len == cap || !buf) {
			uint8_t *nb;

			if (len >= MAX_FILE) {
				rc = fail(&c, -EFBIG,
					  "larger than %llu GiB, not a program",
					  MAX_FILE >> 30);
				goto err_free;
			}
			if (buf)
				cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = fail(&c, -ENOMEM, "out of memory");
				goto err_free;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = fail(&c, -errno, "%s", strerror(errno));
			goto err_free;
		}
		if (!r)
			break;
		len += r;
	}
	close(fd);
	return load(&c, buf, len, true, card_sram, 0, out);

err_free:
	free(buf);
err_close:
	close(fd);
	return rc;
}

void lpu_program_free(struct lpu_program *p)
{
	if (p)
		priv_free(to_priv(p));
}

int lpu_program_detach(struct lpu_program *p)
{
	struct lpu_program_priv *pp = to_priv(p);
	struct lpu_insn *text = NULL;
	uint8_t *vocab = NULL;

	if (!pp->buf)
		return 0;	/* detached already */
	/* everything that can fail first: on -ENOMEM nothing changes */
	if (!pp->text) {
		text = malloc(p->text_size);
		if (!text)
			return -ENOMEM;
		memcpy(text, p->text, p->text_size);
	}
	if (p->vocab) {
		vocab = malloc(p->vocab_size);
		if (!vocab) {
			free(text);
			return -ENOMEM;
		}
		memcpy(vocab, p->vocab, p->vocab_size);
	}
	if (text) {
		pp->text = text;
		p->text = text;
	}
	if (vocab) {
		pp->vocab = vocab;
		p->vocab = vocab;
	}
	p->image = NULL;
	if (pp->owned)
		free((void *)pp->buf);
	pp->buf = NULL;
	pp->len = 0;
	pp->owned = false;
	return 0;
}

int lpu_program_fill_window(const struct lpu_program *p, uint8_t *window,
			    uint64_t window_size)
{
	if (window_size < p->note.sram_footprint)
		return -EINVAL;
	if (p->image_size && !p->image)
		return -ENODATA;	/* detached: the image is gone */
	memset(window, 0, window_size);
	memcpy(window + p->text_offset, p->text, p->text_size);
	if (p->image_size)
		memcpy(window + p->image_offset, p->image, p->image_size);
	return 0;
}

const uint8_t *lpu_program_vocab_token(const struct lpu_program *p,
				       uint32_t id, size_t *len, float *score)
{
	const struct lpu_program_priv *pp = to_priv(p);
	const uint8_t *rec;
	uint32_t bits;

	if (!p->vocab || id >= p->note.vocab_size || pp->vocab_pending)
		return NULL;
	rec = p->vocab + pp->vocab_index[id];
	if (score) {
		bits = get_le32(rec);
		memcpy(score, &bits, sizeof(*score));
	}
	*len = get_le32(rec + 4);
	return rec + 8;
}

/* ---- Writer ------------------------------------------------------------ */

/* Section indices in the written file (.lpu.vocab only when present). */
enum { W_NOTE = 1, W_TEXT, W_SRAM, W_SCRATCH, W_VOCAB };

static const char w_strtab[] =
	"\0" LPU_SECTION_NOTE "\0" LPU_SECTION_TEXT "\0" LPU_SECTION_SRAM
	"\0" LPU_SECTION_SCRATCH "\0" LPU_SECTION_VOCAB "\0.shstrtab";

static uint32_t w_name(const char *name)
{
	size_t i = 1;

	while (i < sizeof(w_strtab)) {
		if (!strcmp(w_strtab + i, name))
			return i;
		i += strlen(w_strtab + i) + 1;
	}
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Largest power of two <= max that divides addr (max when addr is 0). */
static uint64_t addr_align(uint64_t addr, uint64_t max)
{
	uint64_t a = 1;

	while (a < max && !(addr & a))
		a <<= 1;
	return a;
}

struct w_sec {
	const char *name;
	unsigned int type;
	uint64_t flags, addr, size, align;
	const void *bytes;	/* NULL for NOBITS */
	uint64_t offset;	/* file offset, computed */
};

static int add_section(const struct ctx *c, Elf *elf, struct w_sec *s)
{
	Elf_Scn *scn;
	Elf_Data *d;
	GElf_Shdr sh;

	scn = elf_newscn(elf);
	if (!scn)
		return fail(c, -ENOMEM, "libelf: %s", elf_errmsg(-1));
	d = elf_newdata(scn);
	if (!d)
		return fail(c, -ENOMEM, "libelf: %s", elf_errmsg(-1));
	d->d_buf = (void *)s->bytes;
	d->d_type = ELF_T_BYTE;
	d->d_size = s->size;
	d->d_off = 0;
	d->d_align = s->align;
	d->d_version = EV_CURRENT;
	if (!gelf_getshdr(scn, &sh))
		return fail(c, -EINVAL, "libelf: %s", elf_errmsg(-1));
	sh.sh_name = w_name(s->name);
	sh.sh_type = s->type;
	sh.sh_flags = s->flags;
	sh.sh_addr = s->addr;
	sh.sh_offset = s->offset;
	sh.sh_size = s->size;
	sh.sh_link = 0;
	sh.sh_info = 0;
	sh.sh_addralign = s->align;
	sh.sh_entsize = 0;
	if (!gelf_update_shdr(scn, &sh))
		return fail(c, -EINVAL, "libelf: %s", elf_errmsg(-1));
	return 0;
}

static int set_phdr(const struct ctx *c, Elf *elf, int i, uint32_t type,
		    uint32_t flags, const struct w_sec *s, uint64_t filesz)
{
	GElf_Phdr ph = {
		.p_type = type,
		.p_flags = flags,
		.p_offset = s->offset,
		.p_vaddr = s->addr,
		.p_paddr = s->addr,
		.p_filesz = filesz,
		.p_memsz = type == PT_NOTE ? 0 : s->size,
		.p_align = s->align,
	};

	if (!gelf_update_phdr(elf, i, &ph))
		return fail(c, -EINVAL, "libelf: %s", elf_errmsg(-1));
	return 0;
}

/* Write the ELF file described by d to fd with libelf; size to *size. */
static int emit_elf(const struct ctx *c, int fd,
		    const struct lpu_program_desc *d, uint64_t *size)
{
	struct {
		uint32_t namesz, descsz, type;
		char name[NOTE_NAMESZ];
		struct lpu_prog_note desc;
	} note;
	struct w_sec secs[6];
	GElf_Ehdr eh;
	uint64_t off;
	int nsec = 0, nph = 0, i, rc;
	Elf *elf;
	off_t r;

	memset(&note, 0, sizeof(note));
	note.namesz = htole32(NOTE_NAMESZ);
	note.descsz = htole32(NOTE_DESCSZ);
	note.type = htole32(LPU_NOTE_PROGRAM);
	memcpy(note.name, LPU_NOTE_NAME, NOTE_NAMESZ);
	lpu_program_note_encode(&d->note, &note.desc);

	secs[nsec++] = (struct w_sec){ LPU_SECTION_NOTE, SHT_NOTE, 0,
		0, sizeof(note), 4, &note, 0 };
	secs[nsec++] = (struct w_sec){ LPU_SECTION_TEXT, SHT_PROGBITS,
		SHF_ALLOC | SHF_EXECINSTR, d->text_offset,
		(uint64_t)d->n_insns * LPU_INSN_SIZE,
		addr_align(d->text_offset, LPU_INSN_SIZE), d->text, 0 };
	secs[nsec++] = (struct w_sec){ LPU_SECTION_SRAM, SHT_PROGBITS,
		SHF_ALLOC, d->image_offset, d->image_size,
		addr_align(d->image_offset, 64), d->image, 0 };
	secs[nsec++] = (struct w_sec){ LPU_SECTION_SCRATCH, SHT_NOBITS,
		SHF_ALLOC | SHF_WRITE, d->scratch_offset, d->scratch_size,
		addr_align(d->scratch_offset, 64), NULL, 0 };
	if (d->vocab)
		secs[nsec++] = (struct w_sec){ LPU_SECTION_VOCAB, SHT_PROGBITS,
			0, 0, d->vocab_size, 4, d->vocab, 0 };
	secs[nsec++] = (struct w_sec){ ".shstrtab", SHT_STRTAB, 0, 0,
		sizeof(w_strtab), 1, w_strtab, 0 };

	/* One PT_LOAD per non-empty loaded section, plus PT_NOTE. */
	nph = 1;
	for (i = 0; i < nsec; i++)
		if ((secs[i].flags & SHF_ALLOC) && secs[i].size)
			nph++;

	off = sizeof(Elf64_Ehdr) + (uint64_t)nph * sizeof(Elf64_Phdr);
	for (i = 0; i < nsec; i++) {
		off = align_up(off, secs[i].align);
		secs[i].offset = off;
		if (secs[i].type != SHT_NOBITS)
			off += secs[i].size;
	}
	off = align_up(off, 8);

	elf = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!elf)
		return fail(c, -EINVAL, "libelf: %s", elf_errmsg(-1));
	rc = -EINVAL;
	if (!gelf_newehdr(elf, ELFCLASS64) || !gelf_getehdr(elf, &eh)) {
		rc = fail(c, -EINVAL, "libelf: %s", elf_errmsg(-1));
		goto out;
	}
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_EXEC;
	eh.e_machine = LPU_ELF_MACHINE;
	eh.e_version = EV_CURRENT;
	eh.e_entry = d->note.entry;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_shoff = off;
	eh.e_flags = 0;
	eh.e_shstrndx = nsec;	/* .shstrtab is last; section 0 is NULL */
	if (!gelf_update_ehdr(elf, &eh) || !gelf_newphdr(elf, nph)) {
		rc = fail(c, -EINVAL, "libelf: %s", elf_errmsg(-1));
		goto out;
	}
	for (i = 0; i < nsec; i++) {
		rc = add_section(c, elf, &secs[i]);
		if (rc)
			goto out;
	}
	nph = 0;
	for (i = 0; i < nsec; i++) {
		uint32_t pf;

		if (!(secs[i].flags & SHF_ALLOC) || !secs[i].size)
			continue;
		pf = PF_R | (secs[i].flags & SHF_EXECINSTR ? PF_X : 0) |
		     (secs[i].flags & SHF_WRITE ? PF_W : 0);
		rc = set_phdr(c, elf, nph++, PT_LOAD, pf, &secs[i],
			      secs[i].type == SHT_NOBITS ? 0 : secs[i].size);
		if (rc)
			goto out;
	}
	rc = set_phdr(c, elf, nph, PT_NOTE, PF_R, &secs[0], secs[0].size);
	if (rc)
		goto out;

	elf_flagelf(elf, ELF_C_SET, ELF_F_LAYOUT);
	r = elf_update(elf, ELF_C_WRITE);
	if (r < 0) {
		rc = fail(c, -EIO, "libelf: cannot write the file: %s",
			  elf_errmsg(-1));
		goto out;
	}
	*size = r;
	rc = 0;
out:
	elf_end(elf);
	return rc;
}

static int read_back(const struct ctx *c, int fd, uint64_t size,
		     uint8_t **buf)
{
	uint64_t done = 0;
	uint8_t *b;

	b = malloc(size ? size : 1);
	if (!b)
		return fail(c, -ENOMEM, "out of memory");
	while (done < size) {
		ssize_t r = pread(fd, b + done, size - done, done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(b);
			return fail(c, r < 0 ? -errno : -EIO,
				    "cannot read back the program: %s",
				    r < 0 ? strerror(errno) : "short file");
		}
		done += r;
	}
	*buf = b;
	return 0;
}

static int build(const struct ctx *c, const struct lpu_program_desc *d,
		 unsigned int flags, void **buf, size_t *len)
{
	struct lpu_program *p;
	uint8_t *b = NULL;
	uint64_t size = 0;
	char verr[512];
	int fd, rc;

	if (flags & ~LPU_PROGRAM_NO_VALIDATE)
		return fail(c, -EINVAL, "unknown flags 0x%x", flags);
	if ((!d->text && d->n_insns) || (!d->image && d->image_size))
		return fail(c, -EINVAL, "NULL text or image with a size");
	if (d->n_insns > (SIZE_MAX - 4096) / LPU_INSN_SIZE)
		return fail(c, -EOVERFLOW, "too many instructions (%zu)",
			    d->n_insns);
	if (!libelf_ready())
		return fail(c, -ENOTSUP, "libelf: %s", elf_errmsg(-1));

	fd = memfd_create("lpu-program", MFD_CLOEXEC);
	if (fd < 0) {
		FILE *f = tmpfile();

		if (!f)
			return fail(c, -errno, "cannot create a temporary file: %s",
				    strerror(errno));
		fd = dup(fileno(f));
		fclose(f);
		if (fd < 0)
			return fail(c, -errno, "cannot create a temporary file: %s",
				    strerror(errno));
	}
	rc = emit_elf(c, fd, d, &size);
	if (!rc)
		rc = read_back(c, fd, size, &b);
	close(fd);
	if (rc)
		return rc;

	if (!(flags & LPU_PROGRAM_NO_VALIDATE)) {
		rc = lpu_program_from_memory(b, size, 0, &p, verr,
					     sizeof(verr));
		if (rc) {
			free(b);
			return fail(c, rc, "invalid program: %s", verr);
		}
		lpu_program_free(p);
	}
	*buf = b;
	*len = size;
	return 0;
}

int lpu_program_build(const struct lpu_program_desc *d, unsigned int flags,
		      void **buf, size_t *len, char *err, size_t errlen)
{
	const struct ctx c = { NULL, err, errlen };

	return build(&c, d, flags, buf, len);
}

int lpu_program_write(const char *path, const struct lpu_program_desc *d,
		      char *err, size_t errlen)
{
	const struct ctx c = { path, err, errlen };
	size_t len = 0, done = 0;
	char *tmp = NULL;
	void *buf = NULL;
	int fd = -1, rc;

	rc = build(&c, d, 0, &buf, &len);
	if (rc)
		return rc;
	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0) {
		tmp = NULL;
		rc = fail(&c, -ENOMEM, "out of memory");
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = fail(&c, -errno, "cannot create %s: %s", tmp,
			  strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t r = write(fd, (const char *)buf + done, len - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fail(&c, -errno, "write: %s", strerror(errno));
			goto err_unlink;
		}
		done += r;
	}
	if (fchmod(fd, 0644) || close(fd)) {
		fd = -1;
		rc = fail(&c, -errno, "write: %s", strerror(errno));
		goto err_unlink;
	}
	fd = -1;
	if (rename(tmp, path)) {
		rc = fail(&c, -errno, "cannot rename %s: %s", tmp,
			  strerror(errno));
		goto err_unlink;
	}
	rc = 0;
	goto out;

err_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(buf);
	return rc;
}
