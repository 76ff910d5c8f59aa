// SPDX-License-Identifier: MIT
/*
 * Unit tests of the program file library (lib/lpu_program.c) and of the
 * assembler and disassembler (tools/lpu-as, tools/lpu-objdump).
 *
 * Suites:
 *   program  core: write/read round trip of every field, the window,
 *                  the vocabulary, the writer; validation in place
 *                  (lpu_program_from_memory_borrowed()) and
 *                  lpu_program_detach();
 *            errors: a corpus of malformed files, made here by corrupting
 *                  a valid file, each asserting the exact -errno and a
 *                  substring of the message (and that the in-place
 *                  validator, run on a read-only copy, says exactly the
 *                  same); the committed fixtures in
 *                  tests/programs/malformed/.
 *   lpu-as   core: the example programs assemble, disassemble back to the
 *                  same instructions and round-trip through
 *                  lpu-objdump --source; labels and data directives;
 *            errors: bad lines give "file:line:" errors and exit 1.
 *
 * `check_program --write-fixtures DIR` (re)writes the malformed fixtures.
 * LPU_TOOL_WRAPPER, when set, is put before every tool command (e.g.
 * "valgrind -q --error-exitcode=99").
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <check.h>
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lpu_insn.h"
#include "lpu_program.h"

#ifndef LPU_AS
#define LPU_AS		"build/tools/lpu-as"
#endif
#ifndef LPU_OBJDUMP
#define LPU_OBJDUMP	"build/tools/lpu-objdump"
#endif
#ifndef PROGRAMS_DIR
#define PROGRAMS_DIR	"tests/programs"
#endif

#define ERRLEN		1024
#define FOOTPRINT	0x10000u
#define TEXT_OFF	0x400u
#define IMAGE_OFF	0x1000u
#define SCRATCH_OFF	0x2000u
#define SCRATCH_SIZE	0x2000u
#define PROMPT_OFF	0x2000u
#define PROMPT_MAX	16u
#define LOGITS_OFF	0x2100u
#define VOCAB_N		3u

static char tmpdir[64];

/* ---- A valid program --------------------------------------------------- */

static struct lpu_insn text[8];
static size_t n_text;
static float image[16];
static uint8_t vocab[64];
static size_t vocab_len;

static void vocab_put(const void *b, size_t n)
{
	memcpy(vocab + vocab_len, b, n);
	vocab_len += n;
}

/* tokenizer.bin layout: max_token_length, then { score, len, bytes } */
static void make_vocab(void)
{
	static const char *const toks[VOCAB_N] = { "<s>", "hello", " wo" };
	uint8_t w[4];
	unsigned int i;

	vocab_len = 0;
	lpu_put_le32(w, 5);
	vocab_put(w, 4);
	for (i = 0; i < VOCAB_N; i++) {
		lpu_put_le32(w, lpu_f32_bits(-1.5f * i));
		vocab_put(w, 4);
		lpu_put_le32(w, strlen(toks[i]));
		vocab_put(w, 4);
		vocab_put(toks[i], strlen(toks[i]));
	}
}

/* Text at window offset base; branch targets follow it. */
static void make_text(uint32_t base)
{
	n_text = 0;
	/* 0: li r5, 0 */
	text[n_text++] = lpu_insn_make(LPU_OP_LI, 5, 0, 0, 0, 0, 0, 0, 0, 0,
				       0);
	/* 1: bltu r5, r1, body (3) */
	text[n_text++] = lpu_insn_make(LPU_OP_BLTU, 0, 5, 1, base + 3 * 32,
				       0, 0, 0, 0, 0, 0);
	/* 2: halt */
	text[n_text++] = lpu_insn_make(LPU_OP_HALT, 0, 0, 0, 0, 0, 0, 0, 0,
				       0, 0);
	/* 3: vcopy dst=logits src0=image n=3 */
	text[n_text++] = lpu_insn_make(LPU_OP_VCOPY, 0, 0, 0, 0, LOGITS_OFF,
				       IMAGE_OFF, 0, 0, 3, 0);
	/* 4: emit r5 */
	text[n_text++] = lpu_insn_make(LPU_OP_EMIT, 0, 5, 0, 0, 0, 0, 0, 0,
				       0, 0);
	/* 5: addi r5, r5, 1 */
	text[n_text++] = lpu_insn_make(LPU_OP_ADDI, 5, 5, 0, 1, 0, 0, 0, 0,
				       0, 0);
	/* 6: jmp loop (1) */
	text[n_text++] = lpu_insn_make(LPU_OP_JMP, 0, 0, 0, base + 32, 0, 0,
				       0, 0, 0, 0);
}

/* Every field set, every one different. */
static struct lpu_program_desc base_desc(void)
{
	struct lpu_program_desc d;
	unsigned int i;

	make_text(TEXT_OFF);
	make_vocab();
	for (i = 0; i < 16; i++)
		image[i] = 0.25f * (float)(i + 1);
	memset(&d, 0, sizeof(d));
	d.note.isa_version = LPU_ISA_VERSION;
	d.note.flags = LPU_PROG_INT8;
	d.note.sram_footprint = FOOTPRINT;
	d.note.entry = TEXT_OFF + 32;
	d.note.scratch_size = SCRATCH_SIZE;
	d.note.prompt_offset = PROMPT_OFF;
	d.note.logits_offset = LOGITS_OFF;
	d.note.prompt_max = PROMPT_MAX;
	d.note.vocab_size = VOCAB_N;
	d.note.context_len = 77;
	d.note.dim = 8;
	d.note.hidden_dim = 24;
	d.note.n_layers = 2;
	d.note.n_heads = 4;
	d.note.n_kv_heads = 2;
	d.note.cycles_prologue = 111;
	d.note.cycles_per_token = 222;
	d.note.cycles_epilogue = 333;
	d.text = text;
	d.n_insns = n_text;
	d.text_offset = TEXT_OFF;
	d.image = image;
	d.image_size = sizeof(image);
	d.image_offset = IMAGE_OFF;
	d.scratch_offset = SCRATCH_OFF;
	d.scratch_size = SCRATCH_SIZE;
	d.vocab = vocab;
	d.vocab_size = vocab_len;
	return d;
}

/* Build d without validation; the caller frees *len bytes. */
static uint8_t *build_raw(const struct lpu_program_desc *d, size_t *len)
{
	char err[ERRLEN];
	void *buf = NULL;
	int rc;

	rc = lpu_program_build(d, LPU_PROGRAM_NO_VALIDATE, &buf, len, err,
			       sizeof(err));
	ck_assert_msg(rc == 0, "build: %d %s", rc, err);
	return buf;
}

static uint8_t *base_file(size_t *len)
{
	struct lpu_program_desc d = base_desc();

	return build_raw(&d, len);
}

/* A read-only, page-aligned copy of len bytes; ro_free() it. */
static uint8_t *ro_copy(const void *b, size_t len)
{
	uint8_t *m = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(m, MAP_FAILED);
	if (len)
		memcpy(m, b, len);
	ck_assert_int_eq(mprotect(m, len ? len : 1, PROT_READ), 0);
	return m;
}

static void ro_free(uint8_t *m, size_t len)
{
	munmap(m, len ? len : 1);
}

static bool inside(const void *p, const void *buf, size_t len)
{
	return (const uint8_t *)p >= (const uint8_t *)buf &&
	       (const uint8_t *)p < (const uint8_t *)buf + len;
}

/* Two programs parsed from the same bytes say the same. */
static void same_program(const struct lpu_program *a,
			 const struct lpu_program *b)
{
	ck_assert_mem_eq(&a->note, &b->note, sizeof(a->note));
	ck_assert_uint_eq(a->text_offset, b->text_offset);
	ck_assert_uint_eq(a->text_size, b->text_size);
	ck_assert_uint_eq(a->n_insns, b->n_insns);
	ck_assert_mem_eq(a->text, b->text, a->text_size);
	ck_assert_uint_eq(a->image_offset, b->image_offset);
	ck_assert_uint_eq(a->image_size, b->image_size);
	if (a->image_size)
		ck_assert_mem_eq(a->image, b->image, a->image_size);
	ck_assert_uint_eq(a->scratch_offset, b->scratch_offset);
	ck_assert_uint_eq(a->scratch_size, b->scratch_size);
	ck_assert_uint_eq(a->vocab_size, b->vocab_size);
	ck_assert_uint_eq(!a->vocab, !b->vocab);
	if (a->vocab)
		ck_assert_mem_eq(a->vocab, b->vocab, a->vocab_size);
	ck_assert_uint_eq(a->vocab_max_token_len, b->vocab_max_token_len);
	ck_assert_uint_eq(a->file_size, b->file_size);
	ck_assert_uint_eq(a->text_file_offset, b->text_file_offset);
	ck_assert_uint_eq(a->image_file_offset, b->image_file_offset);
}

/*
 * Parse; assert rc and (if not NULL) a substring of the message. The
 * in-place validator runs on a read-only copy of the same bytes and must
 * give the same result, message and program.
 */
static void expect_mem(const void *buf, size_t len, uint64_t card, int rc,
		       const char *substr)
{
	struct lpu_program *p = NULL, *q = NULL;
	char err[ERRLEN] = "", err2[ERRLEN] = "";
	uint8_t *ro;
	int r, r2;

	r = lpu_program_from_memory(buf, len, card, &p, err, sizeof(err));
	ck_assert_msg(r == rc, "expected %d (%s), got %d: %s", rc,
		      substr ? substr : "", r, err);
	ro = ro_copy(buf, len);
	r2 = lpu_program_from_memory_borrowed(ro, len, card, &q, err2,
					      sizeof(err2));
	ck_assert_msg(r2 == r, "in place: %d (%s), copying: %d (%s)", r2,
		      err2, r, err);
	ck_assert_str_eq(err2, err);
	if (r) {
		ck_assert_ptr_null(p);
		ck_assert_ptr_null(q);
		ck_assert_msg(strchr(err, '\n') == NULL, "multi-line: %s", err);
		ck_assert_msg(err[0], "no message");
	} else {
		same_program(p, q);
		ck_assert(inside(q->image, ro, len) || !q->image_size);
		lpu_program_free(p);
		lpu_program_free(q);
	}
	ro_free(ro, len);
	if (substr)
		ck_assert_msg(strstr(err, substr), "expected '%s' in '%s'",
			      substr, err);
}

static void expect_desc(const struct lpu_program_desc *d, uint64_t card,
			int rc, const char *substr)
{
	size_t len;
	uint8_t *b = build_raw(d, &len);

	expect_mem(b, len, card, rc, substr);
	free(b);
}

/* ---- Raw ELF access for corruption ------------------------------------- */

static Elf64_Ehdr *ehdr(uint8_t *b)
{
	return (Elf64_Ehdr *)b;
}

static Elf64_Shdr *shdr_at(uint8_t *b, unsigned int i)
{
	return (Elf64_Shdr *)(b + ehdr(b)->e_shoff) + i;
}

static Elf64_Shdr *shdr_named(uint8_t *b, const char *name)
{
	Elf64_Ehdr *eh = ehdr(b);
	const char *strtab = (const char *)b +
			     shdr_at(b, eh->e_shstrndx)->sh_offset;
	unsigned int i;

	for (i = 1; i < eh->e_shnum; i++) {
		if (!strcmp(strtab + shdr_at(b, i)->sh_name, name))
			return shdr_at(b, i);
	}
	ck_abort_msg("no section %s", name);
	return NULL;
}

static char *sh_name(uint8_t *b, Elf64_Shdr *sh)
{
	return (char *)b + shdr_at(b, ehdr(b)->e_shstrndx)->sh_offset +
	       sh->sh_name;
}

static Elf64_Nhdr *note_hdr(uint8_t *b)
{
	return (Elf64_Nhdr *)(b + shdr_named(b, LPU_SECTION_NOTE)->sh_offset);
}

static struct lpu_prog_note *note_desc(uint8_t *b)
{
	return (struct lpu_prog_note *)((uint8_t *)note_hdr(b) + 16);
}

/* ---- Helpers for the tools --------------------------------------------- */

static char *path_in_tmp(const char *name)
{
	static char p[8][256];
	static int k;
	char *r = p[k++ % 8];

	snprintf(r, sizeof(p[0]), "%s/%s", tmpdir, name);
	return r;
}

static void write_file(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(n + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, n, f), (size_t)n);
	b[n] = 0;
	fclose(f);
	if (len)
		*len = n;
	return b;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool run_unwrapped;	/* not one of our tools: no wrapper */

/* Run a shell command; stdout and stderr go to files; returns exit code. */
static int run(char **out, char **err, const char *fmt, ...)
{
	char cmd[2048], o[256], e[256];
	va_list ap;
	int n, st;

	snprintf(o, sizeof(o), "%s/run.out", tmpdir);
	snprintf(e, sizeof(e), "%s/run.err", tmpdir);

	/* e.g. LPU_TOOL_WRAPPER="valgrind -q --error-exitcode=99" */
	n = snprintf(cmd, sizeof(cmd), "%s ",
		     getenv("LPU_TOOL_WRAPPER") && !run_unwrapped ?
		     getenv("LPU_TOOL_WRAPPER") : "");
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);
	ck_assert_int_lt(n, (int)sizeof(cmd) - 64);
	snprintf(cmd + n, sizeof(cmd) - n, " >%s 2>%s", o, e);
	st = system(cmd);
	ck_assert_msg(st != -1 && WIFEXITED(st), "cannot run %s", cmd);
	if (out)
		*out = read_file(o, NULL);
	if (err)
		*err = read_file(e, NULL);
	return WEXITSTATUS(st);
}

static void setup_tmp(void)
{
	strcpy(tmpdir, "/tmp/check_program.XXXXXX");
	if (!mkdtemp(tmpdir))
		abort();
}

static void teardown_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* ---- program: core ----------------------------------------------------- */

START_TEST(test_roundtrip_every_field)
{
	struct lpu_program_desc d = base_desc();
	const char *path = path_in_tmp("rt.lpu");
	struct lpu_program *p = NULL;
	char err[ERRLEN];
	const uint8_t *t;
	size_t len;
	float score;

	ck_assert_int_eq(lpu_program_write(path, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(lpu_program_open(path, FOOTPRINT, &p, err,
					  sizeof(err)), 0);
	ck_assert_mem_eq(&p->note, &d.note, sizeof(d.note));
	ck_assert_uint_eq(p->note.isa_version, LPU_ISA_VERSION);
	ck_assert_uint_eq(p->note.flags, LPU_PROG_INT8);
	ck_assert_uint_eq(p->note.sram_footprint, FOOTPRINT);
	ck_assert_uint_eq(p->note.entry, TEXT_OFF + 32);
	ck_assert_uint_eq(p->note.scratch_size, SCRATCH_SIZE);
	ck_assert_uint_eq(p->note.prompt_offset, PROMPT_OFF);
	ck_assert_uint_eq(p->note.logits_offset, LOGITS_OFF);
	ck_assert_uint_eq(p->note.prompt_max, PROMPT_MAX);
	ck_assert_uint_eq(p->note.vocab_size, VOCAB_N);
	ck_assert_uint_eq(p->note.context_len, 77);
	ck_assert_uint_eq(p->note.dim, 8);
	ck_assert_uint_eq(p->note.hidden_dim, 24);
	ck_assert_uint_eq(p->note.n_layers, 2);
	ck_assert_uint_eq(p->note.n_heads, 4);
	ck_assert_uint_eq(p->note.n_kv_heads, 2);
	ck_assert_uint_eq(p->note.cycles_prologue, 111);
	ck_assert_uint_eq(p->note.cycles_per_token, 222);
	ck_assert_uint_eq(p->note.cycles_epilogue, 333);
	ck_assert_uint_eq(p->note.reserved[0] | p->note.reserved[1] |
			  p->note.reserved[2] | p->note.reserved[3], 0);

	ck_assert_uint_eq(p->text_offset, TEXT_OFF);
	ck_assert_uint_eq(p->n_insns, n_text);
	ck_assert_uint_eq(p->text_size, n_text * LPU_INSN_SIZE);
	ck_assert_mem_eq(p->text, text, n_text * LPU_INSN_SIZE);
	ck_assert_uint_eq((uintptr_t)p->text % 4, 0);
	ck_assert_uint_eq(p->image_offset, IMAGE_OFF);
	ck_assert_uint_eq(p->image_size, sizeof(image));
	ck_assert_mem_eq(p->image, image, sizeof(image));
	ck_assert_uint_eq(p->scratch_offset, SCRATCH_OFF);
	ck_assert_uint_eq(p->scratch_size, SCRATCH_SIZE);
	ck_assert_ptr_nonnull(p->vocab);
	ck_assert_uint_eq(p->vocab_size, vocab_len);
	ck_assert_mem_eq(p->vocab, vocab, vocab_len);
	ck_assert_uint_eq(p->vocab_max_token_len, 5);
	ck_assert_uint_gt(p->file_size, 0);

	t = lpu_program_vocab_token(p, 1, &len, &score);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(t, "hello", 5);
	ck_assert(score == -1.5f);
	t = lpu_program_vocab_token(p, 2, &len, NULL);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(t, " wo", 3);
	ck_assert_ptr_null(lpu_program_vocab_token(p, VOCAB_N, &len, NULL));
	lpu_program_free(p);
}
END_TEST

START_TEST(test_note_encoding)
{
	struct lpu_program_desc d = base_desc();
	struct lpu_program_note back;
	struct lpu_prog_note raw;

	lpu_program_note_encode(&d.note, &raw);
	ck_assert_uint_eq(sizeof(raw), 136);
	/* Byte offsets of Documentation/program-format.rst */
	ck_assert_uint_eq(((uint8_t *)&raw)[0], LPU_ISA_VERSION);
	ck_assert_uint_eq(lpu_get_le32((uint8_t *)&raw + 8), FOOTPRINT);
	ck_assert_uint_eq(lpu_get_le32((uint8_t *)&raw + 16), TEXT_OFF + 32);
	ck_assert_uint_eq(lpu_get_le32((uint8_t *)&raw + 48), PROMPT_MAX);
	ck_assert_uint_eq(lpu_get_le32((uint8_t *)&raw + 52), VOCAB_N);
	ck_assert_uint_eq(lpu_get_le32((uint8_t *)&raw + 80), 111);
	ck_assert_uint_eq(lpu_get_le32((uint8_t *)&raw + 96), 333);
	lpu_program_note_decode(&raw, &back);
	ck_assert_mem_eq(&back, &d.note, sizeof(back));
}
END_TEST

START_TEST(test_build_equals_write)
{
	struct lpu_program_desc d = base_desc();
	const char *path = path_in_tmp("bw.lpu");
	char err[ERRLEN], *f;
	void *buf;
	size_t len, flen;

	ck_assert_int_eq(lpu_program_build(&d, 0, &buf, &len, err,
					   sizeof(err)), 0);
	ck_assert_int_eq(lpu_program_write(path, &d, err, sizeof(err)), 0);
	f = read_file(path, &flen);
	ck_assert_uint_eq(flen, len);
	ck_assert_mem_eq(f, buf, len);
	free(f);
	/* layout facts the format documents */
	ck_assert_uint_eq(ehdr(buf)->e_entry, TEXT_OFF + 32);
	ck_assert_uint_eq(ehdr(buf)->e_phnum, 4);
	ck_assert_uint_eq(shdr_named(buf, ".text")->sh_offset % 32, 0);
	ck_assert_uint_eq(shdr_named(buf, ".text")->sh_flags,
			  SHF_ALLOC | SHF_EXECINSTR);
	ck_assert_uint_eq(shdr_named(buf, ".lpu.scratch")->sh_type,
			  SHT_NOBITS);
	ck_assert_uint_eq(note_hdr(buf)->n_descsz, 136);
	free(buf);
}
END_TEST

START_TEST(test_fill_window)
{
	struct lpu_program_desc d = base_desc();
	struct lpu_program *p;
	char err[ERRLEN];
	uint8_t *w;
	size_t len, i;
	uint8_t *b = build_raw(&d, &len);

	ck_assert_int_eq(lpu_program_from_memory(b, len, 0, &p, err,
						 sizeof(err)), 0);
	free(b);	/* the program keeps its own copy */
	w = malloc(FOOTPRINT + 64);
	memset(w, 0xaa, FOOTPRINT + 64);
	ck_assert_int_eq(lpu_program_fill_window(p, w, FOOTPRINT - 1),
			 -EINVAL);
	ck_assert_uint_eq(w[0], 0xaa);
	ck_assert_int_eq(lpu_program_fill_window(p, w, FOOTPRINT + 64), 0);
	ck_assert_mem_eq(w + TEXT_OFF, text, n_text * LPU_INSN_SIZE);
	ck_assert_mem_eq(w + IMAGE_OFF, image, sizeof(image));
	for (i = 0; i < FOOTPRINT + 64; i++) {
		if (i >= TEXT_OFF && i < TEXT_OFF + n_text * LPU_INSN_SIZE)
			continue;
		if (i >= IMAGE_OFF && i < IMAGE_OFF + sizeof(image))
			continue;
		ck_assert_msg(w[i] == 0, "byte 0x%zx not zeroed", i);
	}
	free(w);
	lpu_program_free(p);
}
END_TEST

/*
 * lpu_program_from_memory_borrowed(): the program points into the
 * caller's bytes (nothing of the file is copied when .text is aligned);
 * lpu_program_detach() then lets go of them and keeps .text and the
 * vocabulary.
 */
START_TEST(test_borrowed_in_place)
{
	struct lpu_program_desc d = base_desc();
	struct lpu_program *p, *c;
	char err[ERRLEN];
	const uint8_t *t;
	uint8_t *b, *w;
	size_t len, n;
	float score;
	uint8_t *raw = build_raw(&d, &len);

	/* page-aligned, as a mapped buffer is */
	b = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(b, MAP_FAILED);
	memcpy(b, raw, len);
	ck_assert_int_eq(lpu_program_from_memory_borrowed(b, len, FOOTPRINT,
							  &p, err,
							  sizeof(err)), 0);
	ck_assert_int_eq(lpu_program_from_memory(raw, len, FOOTPRINT, &c,
						 err, sizeof(err)), 0);
	same_program(p, c);
	ck_assert_uint_eq(p->text_file_offset,
			  shdr_named(b, ".text")->sh_offset);
	ck_assert_uint_eq(p->image_file_offset,
			  shdr_named(b, ".lpu.sram")->sh_offset);
	ck_assert_ptr_eq(p->text, b + p->text_file_offset);
	ck_assert_ptr_eq(p->image, b + p->image_file_offset);
	ck_assert_ptr_eq(p->vocab, b + shdr_named(b, ".lpu.vocab")->sh_offset);
	ck_assert_mem_eq(p->image, image, sizeof(image));
	/* the copying reader's pointers are its own */
	ck_assert(!inside(c->image, raw, len) && !inside(c->text, raw, len));
	free(raw);

	/* fill_window works while the bytes are there */
	w = malloc(FOOTPRINT);
	ck_assert_int_eq(lpu_program_fill_window(p, w, FOOTPRINT), 0);
	ck_assert_mem_eq(w + IMAGE_OFF, image, sizeof(image));

	ck_assert_int_eq(lpu_program_detach(p), 0);
	ck_assert_ptr_null(p->image);
	ck_assert_uint_eq(p->image_size, sizeof(image));
	ck_assert_uint_eq(p->image_offset, IMAGE_OFF);
	ck_assert(!inside(p->text, b, len) && !inside(p->vocab, b, len));
	/* the caller's bytes may go now */
	memset(b, 0xee, len);
	munmap(b, len);
	ck_assert_mem_eq(p->text, text, n_text * LPU_INSN_SIZE);
	ck_assert_uint_eq((uintptr_t)p->text % 4, 0);
	ck_assert_mem_eq(p->vocab, vocab, vocab_len);
	t = lpu_program_vocab_token(p, 1, &n, &score);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(t, "hello", 5);
	ck_assert(score == -1.5f);
	ck_assert_mem_eq(&p->note, &c->note, sizeof(p->note));
	ck_assert_int_eq(lpu_program_fill_window(p, w, FOOTPRINT), -ENODATA);
	ck_assert_int_eq(lpu_program_detach(p), 0);	/* twice: no-op */
	ck_assert_mem_eq(p->vocab, vocab, vocab_len);
	free(w);
	lpu_program_free(p);
	lpu_program_free(c);
}
END_TEST

/*
 * LPU_PROGRAM_DEFER_VOCAB: everything but the vocabulary is checked, its
 * bytes are not read (garbage there does not matter) until
 * lpu_program_check_vocab(), which gives the verdict and message the
 * whole check gives; vocab_token() answers only after it passed.
 */
START_TEST(test_borrowed_defer_vocab)
{
	struct lpu_program_desc d = base_desc();
	char err[ERRLEN], err2[ERRLEN];
	struct lpu_program *p, *q;
	size_t len, voff, n;
	uint8_t *raw = build_raw(&d, &len), *b = malloc(len);

	voff = shdr_named(raw, ".lpu.vocab")->sh_offset;
	memcpy(b, raw, len);
	memset(b + voff, 0xee, vocab_len);	/* not read yet */
	ck_assert_int_eq(lpu_program_from_memory_borrowed_flags(
			 b, len, FOOTPRINT, LPU_PROGRAM_DEFER_VOCAB, &p, err,
			 sizeof(err)), 0);
	ck_assert_ptr_eq(p->vocab, b + voff);
	ck_assert_ptr_null(lpu_program_vocab_token(p, 1, &n, NULL));
	/* malformed: the verdict and message of the whole check */
	ck_assert_int_eq(lpu_program_check_vocab(p, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(lpu_program_from_memory(b, len, FOOTPRINT, &q, err2,
						 sizeof(err2)), -EINVAL);
	ck_assert_str_eq(err, err2);
	ck_assert_ptr_null(lpu_program_vocab_token(p, 1, &n, NULL));
	/* the bytes arrive: checked, and the tokens are there */
	memcpy(b + voff, raw + voff, vocab_len);
	ck_assert_int_eq(lpu_program_check_vocab(p, err, sizeof(err)), 0);
	ck_assert_mem_eq(lpu_program_vocab_token(p, 1, &n, NULL), "hello", 5);
	ck_assert_int_eq(lpu_program_check_vocab(p, err, sizeof(err)), 0);
	lpu_program_free(p);

	/* without the flag the bytes are checked at once; unknown flags */
	memset(b + voff, 0xee, vocab_len);
	ck_assert_int_eq(lpu_program_from_memory_borrowed_flags(
			 b, len, FOOTPRINT, 0, &p, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(lpu_program_from_memory_borrowed_flags(
			 raw, len, FOOTPRINT, 0x2, &p, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "unknown flags 0x2");
	free(b);
	free(raw);
}
END_TEST

/* .text at an address that is not 4-byte aligned: copied, nothing else. */
START_TEST(test_borrowed_misaligned)
{
	struct lpu_program_desc d = base_desc();
	struct lpu_program *p;
	char err[ERRLEN];
	size_t len;
	uint8_t *raw = build_raw(&d, &len), *b = malloc(len + 1);

	memcpy(b + 1, raw, len);
	ck_assert_int_eq(lpu_program_from_memory_borrowed(b + 1, len, 0, &p,
							  err,
							  sizeof(err)), 0);
	ck_assert(!inside(p->text, b, len + 1));
	ck_assert_uint_eq((uintptr_t)p->text % 4, 0);
	ck_assert_mem_eq(p->text, text, n_text * LPU_INSN_SIZE);
	ck_assert_ptr_eq(p->image, b + 1 + p->image_file_offset);
	ck_assert_int_eq(lpu_program_detach(p), 0);
	free(b);
	ck_assert_mem_eq(p->text, text, n_text * LPU_INSN_SIZE);
	ck_assert_mem_eq(p->vocab, vocab, vocab_len);
	lpu_program_free(p);
	free(raw);
	/* on error nothing is kept, NULL with 0 bytes is an empty file */
	p = (void *)1;
	ck_assert_int_eq(lpu_program_from_memory_borrowed(NULL, 0, 0, &p, err,
							  sizeof(err)),
			 -ENOEXEC);
	ck_assert_str_eq(err, "not an ELF file (empty)");
	ck_assert_int_eq(lpu_program_from_memory_borrowed(NULL, 4, 0, &p, err,
							  sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_eq(p, (void *)1);
}
END_TEST

/*
 * Detaching a program that owns its copy of the file frees the copy
 * (valgrind checks): what stays is .text and the vocabulary; a program
 * without image and vocabulary still fills its window.
 */
START_TEST(test_detach_owned)
{
	struct lpu_insn halt = lpu_insn_make(LPU_OP_HALT, 0, 0, 0, 0, 0, 0, 0,
					     0, 0, 0);
	struct lpu_program_desc d = base_desc();
	const char *path = path_in_tmp("detach.lpu");
	struct lpu_program *p;
	char err[ERRLEN];
	uint8_t w[64];
	size_t n;

	ck_assert_int_eq(lpu_program_write(path, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(lpu_program_open(path, 0, &p, err, sizeof(err)), 0);
	ck_assert_int_eq(lpu_program_detach(p), 0);
	ck_assert_ptr_null(p->image);
	ck_assert_mem_eq(p->text, text, n_text * LPU_INSN_SIZE);
	ck_assert_mem_eq(p->vocab, vocab, vocab_len);
	ck_assert_ptr_nonnull(lpu_program_vocab_token(p, 2, &n, NULL));
	ck_assert_uint_eq(n, 3);
	lpu_program_free(p);

	memset(&d, 0, sizeof(d));
	d.note.isa_version = LPU_ISA_VERSION;
	d.note.sram_footprint = 64;
	d.text = &halt;
	d.n_insns = 1;
	ck_assert_int_eq(lpu_program_write(path, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(lpu_program_open(path, 0, &p, err, sizeof(err)), 0);
	ck_assert_int_eq(lpu_program_detach(p), 0);
	ck_assert_ptr_null(p->vocab);
	memset(w, 0xaa, sizeof(w));
	ck_assert_int_eq(lpu_program_fill_window(p, w, sizeof(w)), 0);
	ck_assert_mem_eq(w, &halt, sizeof(halt));
	ck_assert_uint_eq(w[63], 0);
	lpu_program_free(p);
}
END_TEST

START_TEST(test_minimal)
{
	struct lpu_insn halt = lpu_insn_make(LPU_OP_HALT, 0, 0, 0, 0, 0, 0, 0,
					     0, 0, 0);
	struct lpu_program_desc d;
	struct lpu_program *p;
	char err[ERRLEN];
	void *buf;
	size_t len;

	memset(&d, 0, sizeof(d));
	d.note.isa_version = LPU_ISA_VERSION;
	d.note.sram_footprint = 32;
	d.text = &halt;
	d.n_insns = 1;
	ck_assert_int_eq(lpu_program_build(&d, 0, &buf, &len, err,
					   sizeof(err)), 0);
	ck_assert_int_eq(lpu_program_from_memory(buf, len, 32, &p, err,
						 sizeof(err)), 0);
	ck_assert_uint_eq(p->image_size, 0);
	ck_assert_uint_eq(p->scratch_size, 0);
	ck_assert_ptr_null(p->vocab);
	ck_assert_ptr_null(lpu_program_vocab_token(p, 0, &len, NULL));
	ck_assert_uint_eq(ehdr(buf)->e_phnum, 2);	/* .text + note */
	lpu_program_free(p);
	free(buf);
	lpu_program_free(NULL);
}
END_TEST

START_TEST(test_card_fit_exact)
{
	struct lpu_program_desc d = base_desc();

	expect_desc(&d, FOOTPRINT, 0, NULL);
	expect_desc(&d, 0, 0, NULL);
	expect_desc(&d, FOOTPRINT - 1, -E2BIG, "MiB");
}
END_TEST

START_TEST(test_write_refuses_invalid)
{
	struct lpu_program_desc d = base_desc();
	const char *path = path_in_tmp("bad.lpu");
	char err[ERRLEN], *f;

	d.note.isa_version = 9;
	ck_assert_int_eq(lpu_program_write(path, &d, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	ck_assert_msg(strstr(err, path) && strstr(err, "ISA version 9"),
		      "%s", err);
	ck_assert(!exists(path));
	/* an existing file is left as it was */
	write_file(path, "old", 3);
	ck_assert_int_eq(lpu_program_write(path, &d, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	f = read_file(path, NULL);
	ck_assert_str_eq(f, "old");
	free(f);
	d = base_desc();
	ck_assert_int_eq(lpu_program_write("/nonexistent/dir/x.lpu", &d, err,
					   sizeof(err)), -ENOENT);
	ck_assert_int_eq(lpu_program_build(&d, 0x80, NULL, NULL, err,
					   sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(test_err_buffer_optional)
{
	struct lpu_program *p;
	char small[8];

	ck_assert_int_eq(lpu_program_from_memory("xx", 2, 0, &p, NULL, 0),
			 -ENOEXEC);
	ck_assert_int_eq(lpu_program_from_memory("xx", 2, 0, &p, small,
						 sizeof(small)), -ENOEXEC);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(lpu_program_open("/nonexistent.lpu", 0, &p, small,
					  1), -ENOENT);
	ck_assert_uint_eq(small[0], 0);
}
END_TEST

/* ---- program: errors --------------------------------------------------- */

START_TEST(test_truncated_everywhere)
{
	size_t len, cut;
	uint8_t *b = base_file(&len);

	expect_mem(b, len, 0, 0, NULL);
	for (cut = 0; cut < len; cut++) {
		if (cut < SELFMAG)
			expect_mem(b, cut, 0, -ENOEXEC, "not an ELF file");
		else
			expect_mem(b, cut, 0, -EINVAL, "truncated");
	}
	free(b);
}
END_TEST

/* Each section's data runs one byte past the end of the file. */
START_TEST(test_truncated_sections)
{
	static const char *const names[] = {
		".note.lpu", ".text", ".lpu.sram", ".lpu.vocab", ".shstrtab",
	};
	size_t len, i;
	uint8_t *b = base_file(&len);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		Elf64_Shdr *sh = shdr_named(b, names[i]);
		uint64_t off = sh->sh_offset, size = sh->sh_size;

		sh->sh_size = len - off + 1;
		expect_mem(b, len, 0, -EINVAL, "extends past the end of the file");
		sh->sh_size = size;
		/* offset + size wraps around 2^64 */
		sh->sh_offset = UINT64_MAX - 8;
		expect_mem(b, len, 0, -EINVAL, "truncated");
		sh->sh_offset = off;
	}
	expect_mem(b, len, 0, 0, NULL);
	free(b);
}
END_TEST

START_TEST(test_not_elf)
{
	size_t len;
	uint8_t *b = base_file(&len);

	expect_mem(NULL, 0, 0, -ENOEXEC, "not an ELF file (empty)");
	expect_mem("hello world", 11, 0, -ENOEXEC, "bad magic");
	b[1] = 'X';
	expect_mem(b, len, 0, -ENOEXEC, "not an ELF file (bad magic)");
	b[1] = 'E';
	b[EI_CLASS] = ELFCLASS32;
	expect_mem(b, len, 0, -ENOEXEC, "ELF class 1, expected ELFCLASS64");
	b[EI_CLASS] = ELFCLASS64;
	b[EI_DATA] = ELFDATA2MSB;
	expect_mem(b, len, 0, -ENOEXEC, "little-endian");
	b[EI_DATA] = ELFDATA2LSB;
	b[EI_VERSION] = 0;
	expect_mem(b, len, 0, -ENOEXEC, "identification version 0");
	b[EI_VERSION] = EV_CURRENT;
	b[EI_OSABI] = ELFOSABI_LINUX;
	expect_mem(b, len, 0, -ENOEXEC, "OS ABI 3");
	b[EI_OSABI] = 0;
	ehdr(b)->e_type = ET_REL;
	expect_mem(b, len, 0, -ENOEXEC, "ELF type ET_REL (1), expected ET_EXEC");
	ehdr(b)->e_type = ET_DYN;
	expect_mem(b, len, 0, -ENOEXEC, "ET_DYN");
	ehdr(b)->e_type = ET_EXEC;
	ehdr(b)->e_machine = EM_X86_64;
	expect_mem(b, len, 0, -ENOEXEC, "ELF machine 0x3e, expected 0x4c50");
	ehdr(b)->e_machine = LPU_ELF_MACHINE;
	expect_mem(b, len, 0, 0, NULL);
	free(b);
}
END_TEST

START_TEST(test_bad_ehdr)
{
	size_t len;
	uint8_t *b = base_file(&len);
	Elf64_Ehdr *eh = ehdr(b), save = *eh;

	eh->e_version = 2;
	expect_mem(b, len, 0, -EINVAL, "e_version 2");
	*eh = save;
	eh->e_ehsize = 52;
	expect_mem(b, len, 0, -EINVAL, "e_ehsize 52");
	*eh = save;
	eh->e_flags = 1;
	expect_mem(b, len, 0, -EINVAL, "e_flags 0x1, must be 0");
	*eh = save;
	eh->e_phentsize = 32;
	expect_mem(b, len, 0, -EINVAL, "e_phentsize 32");
	*eh = save;
	eh->e_phoff = len - 8;
	expect_mem(b, len, 0, -EINVAL, "program header table");
	*eh = save;
	eh->e_phnum = PN_XNUM;
	expect_mem(b, len, 0, -EINVAL, "PN_XNUM");
	*eh = save;
	eh->e_shentsize = 40;
	expect_mem(b, len, 0, -EINVAL, "e_shentsize 40");
	*eh = save;
	eh->e_shnum = 0;
	expect_mem(b, len, 0, -EINVAL, "no section headers");
	*eh = save;
	eh->e_shoff = len;
	expect_mem(b, len, 0, -EINVAL, "section header table");
	*eh = save;
	eh->e_shoff = UINT64_MAX - 63;
	expect_mem(b, len, 0, -EINVAL, "truncated");
	*eh = save;
	eh->e_shstrndx = 0;
	expect_mem(b, len, 0, -EINVAL, "section name table index 0");
	*eh = save;
	eh->e_shstrndx = eh->e_shnum;
	expect_mem(b, len, 0, -EINVAL, "section name table index");
	*eh = save;
	eh->e_shstrndx = 2;	/* .text: not a string table */
	expect_mem(b, len, 0, -EINVAL, "expected STRTAB");
	*eh = save;
	/* a program header past the end of the file */
	((Elf64_Phdr *)(b + eh->e_phoff))[1].p_offset = len;
	expect_mem(b, len, 0, -EINVAL, "program header 1");
	free(b);
}
END_TEST

START_TEST(test_bad_sections)
{
	size_t len;
	uint8_t *b = base_file(&len);
	Elf64_Shdr *text_sh = shdr_named(b, ".text");
	Elf64_Shdr *sram = shdr_named(b, ".lpu.sram");
	Elf64_Shdr *scratch = shdr_named(b, ".lpu.scratch");
	Elf64_Shdr *note = shdr_named(b, ".note.lpu");
	Elf64_Shdr save;
	uint32_t name;
	char *s;

	/* missing .text: rename it */
	s = sh_name(b, text_sh);
	s[1] = 'T';
	expect_mem(b, len, 0, -EINVAL, "missing section .text");
	s[1] = 't';
	s = sh_name(b, note);
	s[1] = 'N';
	expect_mem(b, len, 0, -EINVAL, "missing section .note.lpu");
	s[1] = 'n';
	/* duplicate: .lpu.sram renamed .text */
	name = sram->sh_name;
	sram->sh_name = text_sh->sh_name;
	expect_mem(b, len, 0, -EINVAL, "duplicate section .text (sections 2 and 3)");
	sram->sh_name = name;
	/* name offset past the string table */
	sram->sh_name = 100000;
	expect_mem(b, len, 0, -EINVAL, "name offset 100000");
	sram->sh_name = name;
	/* wrong types */
	save = *scratch;
	scratch->sh_type = SHT_PROGBITS;
	scratch->sh_size = 16;
	expect_mem(b, len, 0, -EINVAL,
		   "section .lpu.scratch has type PROGBITS (1), expected NOBITS");
	*scratch = save;
	text_sh->sh_type = SHT_NOBITS;
	expect_mem(b, len, 0, -EINVAL, "section .text has type NOBITS");
	text_sh->sh_type = SHT_PROGBITS;
	note->sh_type = SHT_PROGBITS;
	expect_mem(b, len, 0, -EINVAL, "expected NOTE");
	note->sh_type = SHT_NOTE;
	expect_mem(b, len, 0, 0, NULL);
	free(b);
}
END_TEST

START_TEST(test_bad_note)
{
	size_t len;
	uint8_t *b = base_file(&len);
	Elf64_Shdr *note = shdr_named(b, ".note.lpu");
	Elf64_Nhdr *nh = note_hdr(b);
	uint64_t size = note->sh_size;

	note->sh_size = 0;
	expect_mem(b, len, 0, -EINVAL, "section .note.lpu is empty");
	note->sh_size = 8;
	expect_mem(b, len, 0, -EINVAL, "does not hold a whole note");
	note->sh_size = size - 4;
	expect_mem(b, len, 0, -EINVAL, "does not hold a whole note");
	note->sh_size = size + 4;
	expect_mem(b, len, 0, -EINVAL, "4 bytes after the LPU note");
	note->sh_size = size;
	((char *)(nh + 1))[2] = 'X';
	expect_mem(b, len, 0, -EINVAL, "name is not \"LPU\"");
	((char *)(nh + 1))[2] = 'U';
	nh->n_namesz = 3;
	expect_mem(b, len, 0, -EINVAL, "namesz 3");
	nh->n_namesz = 4;
	nh->n_type = 2;
	expect_mem(b, len, 0, -EINVAL, "type 2, expected LPU_NOTE_PROGRAM");
	nh->n_type = LPU_NOTE_PROGRAM;
	nh->n_descsz = 128;
	expect_mem(b, len, 0, -EINVAL, "descsz 128, expected 136");
	nh->n_descsz = 136;
	expect_mem(b, len, 0, 0, NULL);
	free(b);
}
END_TEST

START_TEST(test_note_fields)
{
	size_t len;
	uint8_t *b = base_file(&len);
	struct lpu_prog_note *n = note_desc(b), save = *n;
	unsigned int i;

	n->isa_version = 2;
	expect_mem(b, len, 0, -EPROTONOSUPPORT, "unsupported ISA version 2");
	*n = save;
	for (i = 0; i < 4; i++) {
		char msg[64];

		n->reserved[i] = 0x100;
		snprintf(msg, sizeof(msg), "reserved[%u] is 0x100, must be 0",
			 i);
		expect_mem(b, len, 0, -EINVAL, msg);
		n->reserved[i] = 0;
	}
	n->flags = 0x6;
	expect_mem(b, len, 0, -EINVAL, "unknown bits 0x6");
	*n = save;
	n->sram_footprint = 0;
	expect_mem(b, len, 0, -EINVAL, "sram_footprint is 0");
	*n = save;
	n->sram_footprint = 300ull << 20;
	expect_mem(b, len, 230ull << 20, -E2BIG,
		   "program needs 300 MiB of SRAM (sram_footprint 314572800 bytes) but the card has 230 MiB (241172480 bytes)");
	expect_mem(b, len, 0, 0, NULL);	/* 0: no card to fit */
	*n = save;
	n->scratch_size = SCRATCH_SIZE + 4;
	expect_mem(b, len, 0, -EINVAL,
		   "note scratch_size 8196 does not match section .lpu.scratch (8192 bytes)");
	*n = save;
	expect_mem(b, len, 0, 0, NULL);
	free(b);
}
END_TEST

START_TEST(test_layout)
{
	struct lpu_program_desc d = base_desc();

	/* sections outside the window */
	d.note.sram_footprint = SCRATCH_OFF + SCRATCH_SIZE - 1;
	expect_desc(&d, 0, -EOVERFLOW,
		    "section .lpu.scratch [0x2000, +0x2000) is outside the window [0, 0x3fff)");
	d = base_desc();
	d.image_offset = 0xfffffffffffffff0ull;
	expect_desc(&d, 0, -EOVERFLOW, "section .lpu.sram");
	d = base_desc();
	d.note.sram_footprint = TEXT_OFF;
	expect_desc(&d, 0, -EOVERFLOW, "section .text");
	/* overlaps */
	d = base_desc();
	d.image_offset = TEXT_OFF + 32;
	expect_desc(&d, 0, -EINVAL,
		    "sections .text [0x400, 0x4e0) and .lpu.sram [0x420, 0x460) overlap");
	d = base_desc();
	d.scratch_offset = IMAGE_OFF + 60;	/* prompt stays inside? no */
	d.note.prompt_max = 0;
	d.note.vocab_size = 0;
	d.vocab = NULL;
	d.vocab_size = 0;
	expect_desc(&d, 0, -EINVAL, "and .lpu.scratch");
	/* zero-size sections overlap nothing */
	d = base_desc();
	d.image_offset = TEXT_OFF;
	d.image_size = 0;
	text[3] = lpu_insn_make(LPU_OP_INOP, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_desc(&d, 0, 0, NULL);
	/* .text */
	d = base_desc();
	d.text_offset = TEXT_OFF + 16;
	d.note.entry = TEXT_OFF + 32 + 16;
	expect_desc(&d, 0, -EINVAL,
		    "section .text at window offset 0x410 is not 32-byte aligned");
	d = base_desc();
	d.n_insns = 0;
	expect_desc(&d, 0, -EINVAL, "section .text is empty");
	/* entry */
	d = base_desc();
	d.note.entry = TEXT_OFF + 8;
	expect_desc(&d, 0, -EINVAL, "entry 0x408 is not 32-byte aligned");
	d.note.entry = TEXT_OFF + n_text * 32;
	expect_desc(&d, 0, -EOVERFLOW, "entry 0x4e0 is outside .text [0x400, 0x4e0)");
	d.note.entry = 0;
	expect_desc(&d, 0, -EOVERFLOW, "outside .text");
	/* prompt and logits */
	d = base_desc();
	d.note.prompt_offset = SCRATCH_OFF + SCRATCH_SIZE - 4 * PROMPT_MAX + 4;
	expect_desc(&d, 0, -EOVERFLOW, "prompt area [0x3fc4, +64) (prompt_max 16 tokens) is outside .lpu.scratch [0x2000, 0x4000)");
	d.note.prompt_offset = SCRATCH_OFF - 4;
	expect_desc(&d, 0, -EOVERFLOW, "prompt area");
	d.note.prompt_offset = SCRATCH_OFF + 2;
	expect_desc(&d, 0, -EINVAL, "prompt_offset 0x2002 is not 4-byte aligned");
	d = base_desc();
	d.note.prompt_max = 0;	/* an empty area is not checked */
	d.note.prompt_offset = 0x7777;
	expect_desc(&d, 0, 0, NULL);
	d = base_desc();
	d.note.logits_offset = SCRATCH_OFF + SCRATCH_SIZE - 8;
	expect_desc(&d, 0, -EOVERFLOW, "logits area [0x3ff8, +12) (vocab_size 3 floats) is outside .lpu.scratch");
	d.note.logits_offset = 0x2101;
	expect_desc(&d, 0, -EINVAL, "logits_offset 0x2101 is not 4-byte aligned");
}
END_TEST

START_TEST(test_raw_layout)
{
	size_t len;
	uint8_t *b = base_file(&len);
	Elf64_Shdr *t = shdr_named(b, ".text");

	t->sh_size -= 16;
	expect_mem(b, len, 0, -EINVAL,
		   "section .text size 208 is not a whole number of 32-byte instructions");
	t->sh_size += 16;
	ehdr(b)->e_entry = TEXT_OFF;
	expect_mem(b, len, 0, -EINVAL,
		   "ELF e_entry 0x400 differs from the note's entry 0x420");
	free(b);
}
END_TEST

START_TEST(test_bad_instructions)
{
	struct lpu_program_desc d = base_desc();

	/* unknown opcode */
	text[2] = lpu_insn_make(0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_desc(&d, 0, -EINVAL, "instruction 2 at 0x440 `.insn op=0x77");
	/* bad register, non-zero unused field */
	d = base_desc();
	text[0] = lpu_insn_make(LPU_OP_LI, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	expect_desc(&d, 0, -EINVAL, "instruction 0 at 0x400");
	text[0] = lpu_insn_make(LPU_OP_LI, 5, 0, 0, 0, 0, 0, 0, 0, 9, 0);
	expect_desc(&d, 0, -EINVAL, "instruction 0 at 0x400");
	/* an operand outside the window */
	d = base_desc();
	text[3] = lpu_insn_make(LPU_OP_VCOPY, 0, 0, 0, 0, FOOTPRINT - 8,
				IMAGE_OFF, 0, 0, 3, 0);
	expect_desc(&d, 0, -EOVERFLOW,
		    "instruction 3 at 0x460 `vcopy dst=0xfff8 src0=0x1000 n=3`");
	/* a branch target outside the window, misaligned, outside .text */
	d = base_desc();
	text[6] = lpu_insn_make(LPU_OP_JMP, 0, 0, 0, FOOTPRINT, 0, 0, 0, 0, 0,
				0);
	expect_desc(&d, 0, -EOVERFLOW, "instruction 6 at 0x4c0 `jmp 0x10000`");
	text[6] = lpu_insn_make(LPU_OP_JMP, 0, 0, 0, TEXT_OFF + 4, 0, 0, 0,
				0, 0, 0);
	expect_desc(&d, 0, -EOVERFLOW, "instruction 6 at 0x4c0");
	text[6] = lpu_insn_make(LPU_OP_JMP, 0, 0, 0, IMAGE_OFF, 0, 0, 0, 0, 0,
				0);
	expect_desc(&d, 0, -EOVERFLOW,
		    "instruction 6 at 0x4c0 `jmp 0x1000`: branch target 0x1000 is outside .text [0x400, 0x4e0)");
	text[6] = lpu_insn_make(LPU_OP_BNE, 0, 1, 2, TEXT_OFF - 32, 0, 0, 0,
				0, 0, 0);
	expect_desc(&d, 0, -EOVERFLOW, "branch target 0x3e0 is outside .text");
	text[6] = lpu_insn_make(LPU_OP_JMP, 0, 0, 0, TEXT_OFF + n_text * 32 - 32,
				0, 0, 0, 0, 0, 0);
	expect_desc(&d, 0, 0, NULL);
}
END_TEST

static void vocab_len32(size_t off, uint32_t v)
{
	lpu_put_le32(vocab + off, v);
}

START_TEST(test_bad_vocab)
{
	struct lpu_program_desc d = base_desc();

	d.vocab_size = 3;
	expect_desc(&d, 0, -EINVAL, "malformed .lpu.vocab: 3 bytes, too short");
	d = base_desc();
	d.note.vocab_size = VOCAB_N + 1;
	expect_desc(&d, 0, -EINVAL,
		    "record 3 of 4 (note vocab_size) starts past the end of the section");
	d = base_desc();
	d.note.vocab_size = VOCAB_N - 1;
	expect_desc(&d, 0, -EINVAL, "11 bytes after the last of 2 records");
	d = base_desc();
	d.vocab_size = vocab_len - 1;
	expect_desc(&d, 0, -EINVAL,
		    "record 2 of 3: its 3 bytes run past the end of the section");
	d = base_desc();
	vocab_len32(4 + 11 + 4, 0xffffffff);	/* record 1's length */
	expect_desc(&d, 0, -EINVAL, "record 1 of 3: its 4294967295 bytes");
	d = base_desc();
	vocab_len32(0, 4);	/* max_token_length below "hello" */
	expect_desc(&d, 0, -EINVAL,
		    "record 1 is 5 bytes long, more than max_token_length 4");
	/* a huge vocab_size (logits fit a 32 GiB scratch) fails cheaply */
	d = base_desc();
	d.note.sram_footprint = 1ull << 36;
	d.scratch_size = d.note.scratch_size = 1ull << 35;
	d.note.vocab_size = 0xffffffff;
	expect_desc(&d, 0, -EINVAL, "record 3 of 4294967295 (note vocab_size)");
	/* a vocabulary without tokens is fine when vocab_size is 0 */
	d = base_desc();
	d.vocab_size = 4;
	d.note.vocab_size = 0;
	expect_desc(&d, 0, 0, NULL);
}
END_TEST

START_TEST(test_open_errors)
{
	struct lpu_program *p = (void *)1;
	char err[ERRLEN];
	const char *path = path_in_tmp("short.lpu");

	ck_assert_int_eq(lpu_program_open("/nonexistent/x.lpu", 0, &p, err,
					  sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "/nonexistent/x.lpu: No such file or directory");
	ck_assert_ptr_eq(p, (void *)1);
	ck_assert_int_eq(lpu_program_open(tmpdir, 0, &p, err, sizeof(err)),
			 -EISDIR);
	write_file(path, "\177ELF\2\1\1", 7);
	ck_assert_int_eq(lpu_program_open(path, 0, &p, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(!strncmp(err, path, strlen(path)) &&
		      strstr(err, ": truncated: 7 bytes"), "%s", err);
	write_file(path, "", 0);
	ck_assert_int_eq(lpu_program_open(path, 0, &p, err, sizeof(err)),
			 -ENOEXEC);
	ck_assert_msg(strstr(err, "not an ELF file (empty)"), "%s", err);
	ck_assert_int_eq(lpu_program_open("/proc/self/status", 0, &p, err,
					  sizeof(err)), -ENOEXEC);
}
END_TEST

/* ---- Fixtures: committed malformed files ------------------------------- */

struct fixture {
	const char *name;
	int rc;
	const char *substr;
	void (*make)(uint8_t *b, size_t *len);
};

static void fx_not_elf(uint8_t *b, size_t *len)
{
	*len = sprintf((char *)b, "#!/bin/sh\necho not a program\n");
}

static void fx_elf32(uint8_t *b, size_t *len)
{
	(void)len;
	b[EI_CLASS] = ELFCLASS32;
}

static void fx_x86_64(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_machine = EM_X86_64;
}

static void fx_truncated(uint8_t *b, size_t *len)
{
	(void)b;
	*len = ehdr(b)->e_shoff + 100;
}

static void fx_bad_note(uint8_t *b, size_t *len)
{
	(void)len;
	note_hdr(b)->n_type = 7;
}

static void fx_isa_v2(uint8_t *b, size_t *len)
{
	(void)len;
	note_desc(b)->isa_version = 2;
}

static void fx_reserved(uint8_t *b, size_t *len)
{
	(void)len;
	note_desc(b)->reserved[3] = 1;
}

static void fx_huge(uint8_t *b, size_t *len)
{
	(void)len;
	note_desc(b)->sram_footprint = 1ull << 40;
}

static void fx_overlap(uint8_t *b, size_t *len)
{
	(void)len;
	shdr_named(b, ".lpu.sram")->sh_addr = TEXT_OFF;
}

static void fx_out_of_window(uint8_t *b, size_t *len)
{
	struct lpu_insn *t;

	(void)len;
	t = (struct lpu_insn *)(b + shdr_named(b, ".text")->sh_offset);
	t[3] = lpu_insn_make(LPU_OP_VCOPY, 0, 0, 0, 0, FOOTPRINT, IMAGE_OFF,
			     0, 0, 3, 0);
}

static void fx_misaligned_text(uint8_t *b, size_t *len)
{
	(void)len;
	shdr_named(b, ".text")->sh_addr += 8;
}

static const struct fixture fixtures[] = {
	{ "not_elf.lpu", -ENOEXEC, "not an ELF file", fx_not_elf },
	{ "elf32.lpu", -ENOEXEC, "ELFCLASS64", fx_elf32 },
	{ "x86_64.lpu", -ENOEXEC, "ELF machine 0x3e", fx_x86_64 },
	{ "truncated.lpu", -EINVAL, "truncated", fx_truncated },
	{ "bad_note_type.lpu", -EINVAL, "type 7, expected LPU_NOTE_PROGRAM",
	  fx_bad_note },
	{ "isa_v2.lpu", -EPROTONOSUPPORT, "ISA version 2", fx_isa_v2 },
	{ "reserved.lpu", -EINVAL, "reserved[3]", fx_reserved },
	{ "huge_footprint.lpu", -E2BIG, "MiB of SRAM", fx_huge },
	{ "overlap.lpu", -EINVAL, "overlap", fx_overlap },
	{ "out_of_window.lpu", -EOVERFLOW, "instruction 3", fx_out_of_window },
	{ "misaligned_text.lpu", -EINVAL, "not 32-byte aligned",
	  fx_misaligned_text },
};

#define N_FIXTURES	(sizeof(fixtures) / sizeof(fixtures[0]))
#define FIXTURE_CARD	(256u << 20)

static uint8_t *make_fixture(const struct fixture *fx, size_t *len)
{
	struct lpu_program_desc d = base_desc();
	void *b = NULL;

	/* no ck_assert here: --write-fixtures runs outside Check */
	if (lpu_program_build(&d, 0, &b, len, NULL, 0))
		abort();

	b = realloc(b, *len + 256);
	fx->make(b, len);
	return b;
}

static int write_fixtures(const char *dir)
{
	char path[512];
	unsigned int i;
	size_t len;

	for (i = 0; i < N_FIXTURES; i++) {
		uint8_t *b = make_fixture(&fixtures[i], &len);
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, fixtures[i].name);
		f = fopen(path, "wb");
		if (!f || fwrite(b, 1, len, f) != len || fclose(f)) {
			perror(path);
			return 1;
		}
		printf("wrote %s (%zu bytes)\n", path, len);
		free(b);
	}
	return 0;
}

/* The committed fixtures fail as they should, with lpu-objdump too. */
START_TEST(test_fixtures)
{
	const struct fixture *fx = &fixtures[_i];
	struct lpu_program *p;
	char path[512], err[ERRLEN], *e;
	size_t len, flen;
	uint8_t *b;
	char *f;

	snprintf(path, sizeof(path), "%s/malformed/%s", PROGRAMS_DIR,
		 fx->name);
	ck_assert_int_eq(lpu_program_open(path, FIXTURE_CARD, &p, err,
					  sizeof(err)), fx->rc);
	ck_assert_msg(strstr(err, fx->substr) && !strncmp(err, path,
							  strlen(path)),
		      "%s: %s", fx->name, err);
	/* the committed file is what this test generates */
	b = make_fixture(fx, &len);
	f = read_file(path, &flen);
	ck_assert_msg(flen == len && !memcmp(f, b, len),
		      "%s differs from the generated fixture (rerun check_program --write-fixtures)",
		      path);
	free(f);
	free(b);
	ck_assert_int_eq(run(NULL, &e, "%s --card-sram %u %s", LPU_OBJDUMP,
			     FIXTURE_CARD, path), 1);
	ck_assert_msg(!strncmp(e, err, strlen(err)) &&
		      e[strlen(err)] == '\n', "objdump said '%s', not '%s'",
		      e, err);
	free(e);
}
END_TEST

/* ---- lpu-as ------------------------------------------------------------ */

static const char *const examples[] = {
	"loop_forever", "emit_n", "emit_prompt", "fault_sram", "emit_hello",
};

/* Assemble an example, disassemble it, parse the listing back. */
START_TEST(test_example)
{
	const char *name = examples[_i];
	char *out, *err, *line, *save;
	char *lpu = path_in_tmp("ex.lpu"), *s2 = path_in_tmp("ex2.s");
	char *lpu2 = path_in_tmp("ex2.lpu");
	struct lpu_program *p;
	char msg[ERRLEN];
	uint64_t k = 0;
	size_t l1, l2;
	char *f1, *f2;

	ck_assert_int_eq(run(NULL, &err, "%s -o %s %s/%s.s", LPU_AS, lpu,
			     PROGRAMS_DIR, name), 0);
	ck_assert_str_eq(err, "");
	free(err);
	ck_assert_int_eq(lpu_program_open(lpu, 4u << 20, &p, msg,
					  sizeof(msg)), 0);

	ck_assert_int_eq(run(&out, NULL, "%s -d %s", LPU_OBJDUMP, lpu), 0);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long off, cyc;
		struct lpu_insn in;
		int pos = 0;

		if (sscanf(line, " %llx %llu %n", &off, &cyc, &pos) != 2 ||
		    !pos)
			continue;
		ck_assert_uint_lt(k, p->n_insns);
		ck_assert_uint_eq(off, p->text_offset + k * 32);
		ck_assert_uint_eq(cyc, lpu_insn_cycles(&p->text[k]));
		ck_assert_msg(lpu_insn_parse(line + pos, &in, msg,
					     sizeof(msg)) == 0, "%s: %s",
			      line, msg);
		ck_assert_mem_eq(&in, &p->text[k], sizeof(in));
		k++;
	}
	ck_assert_uint_eq(k, p->n_insns);
	free(out);
	lpu_program_free(p);

	/* readelf shows it without a warning */
	run_unwrapped = true;
	ck_assert_int_eq(run(&out, &err, "readelf -a -W %s", lpu), 0);
	run_unwrapped = false;
	ck_assert_msg(!strcmp(err, "") && !strstr(out, "Warning"),
		      "readelf: %s", err);
	ck_assert_ptr_nonnull(strstr(out, "<unknown>: 0x4c50"));
	ck_assert_ptr_nonnull(strstr(out, "Displaying notes found in: .note.lpu"));
	free(out);
	free(err);

	/* --source gives back the same file */
	ck_assert_int_eq(run(&out, NULL, "%s -s %s", LPU_OBJDUMP, lpu), 0);
	write_file(s2, out, strlen(out));
	free(out);
	ck_assert_int_eq(run(NULL, &err, "%s -o %s %s", LPU_AS, lpu2, s2), 0);
	free(err);
	f1 = read_file(lpu, &l1);
	f2 = read_file(lpu2, &l2);
	ck_assert_uint_eq(l1, l2);
	ck_assert_mem_eq(f1, f2, l1);
	free(f1);
	free(f2);
}
END_TEST

static char *write_src(const char *name, const char *src)
{
	char *path = path_in_tmp(name);

	write_file(path, src, strlen(src));
	return path;
}

/* Assemble src; return the program (the caller frees) */
static struct lpu_program *assemble(const char *src)
{
	char *s = write_src("t.s", src), *o = path_in_tmp("t.lpu"), *err;
	struct lpu_program *p;
	char msg[ERRLEN];

	ck_assert_msg(run(NULL, &err, "%s -o %s %s", LPU_AS, o, s) == 0,
		      "lpu-as failed: %s", err);
	free(err);
	ck_assert_int_eq(lpu_program_open(o, 0, &p, msg, sizeof(msg)), 0);
	return p;
}

START_TEST(test_as_labels_and_data)
{
	struct lpu_program *p;
	float f;
	size_t len;
	const uint8_t *t;

	p = assemble(
		"; every layout directive\n"
		"\t.equ BASE 0x800\n"
		"\t.footprint 64K\n"
		"\t.scratch 0x4000, 0x1000\n"
		"\t.prompt 0x4000 8\n"
		"\t.logits 0x4020\n"
		"\t.context 100\n"
		"\t.flags 1\n"
		"\t.cycles 5 6 7\n"
		"\t.note dim 16\n"
		"\t.note n_kv_heads 3\n"
		"\t.entry start\n"
		"\t.data BASE\n"
		"tab:\t.word 1, 0xffffffff, -2, end\n"
		"\t.float 1.5 -0.25\n"
		"\t.byte 1 2 3\n"
		"\t.align 8\n"
		"end:\t.zero 4\n"
		"\t.token \"a\\\"b\" 2.5\n"
		"\t.token \"\\x01z\"\n"
		"\t.text 0x100\n"
		"first:\tnop\n"
		"start:\tli r5, tab+4   # comment\n"
		"\tloadw r6, r5, tab, 4\n"
		"\t.data 0x900\n"
		"\t.word first\n"
		"\t.text\n"
		"loop:\tbne r5, r6, loop ; loop\n"
		"\tjmp start\n"
		"\tvcopy dst=0x4020 src0=tab+24 n=2\n"
		"\thalt\n");
	ck_assert_uint_eq(p->note.sram_footprint, 65536);
	ck_assert_uint_eq(p->note.entry, 0x120);
	ck_assert_uint_eq(p->note.scratch_size, 0x1000);
	ck_assert_uint_eq(p->note.prompt_offset, 0x4000);
	ck_assert_uint_eq(p->note.prompt_max, 8);
	ck_assert_uint_eq(p->note.logits_offset, 0x4020);
	ck_assert_uint_eq(p->note.vocab_size, 2);
	ck_assert_uint_eq(p->note.context_len, 100);
	ck_assert_uint_eq(p->note.flags, 1);
	ck_assert_uint_eq(p->note.cycles_prologue, 5);
	ck_assert_uint_eq(p->note.cycles_per_token, 6);
	ck_assert_uint_eq(p->note.cycles_epilogue, 7);
	ck_assert_uint_eq(p->note.dim, 16);
	ck_assert_uint_eq(p->note.n_kv_heads, 3);
	ck_assert_uint_eq(p->text_offset, 0x100);
	ck_assert_uint_eq(p->n_insns, 7);
	ck_assert_uint_eq(p->scratch_offset, 0x4000);
	/* li r5, tab+4 */
	ck_assert_uint_eq(lpu_get_le32(&p->text[1].imm), 0x804);
	ck_assert_uint_eq(lpu_get_le32(&p->text[2].dst), 0x800);
	/* bne r5, r6, loop: itself; jmp start */
	ck_assert_uint_eq(lpu_get_le32(&p->text[3].imm), 0x160);
	ck_assert_uint_eq(lpu_get_le32(&p->text[4].imm), 0x120);
	ck_assert_uint_eq(lpu_get_le32(&p->text[5].src0), 0x818);
	/* data: [0x800, 0x904) */
	ck_assert_uint_eq(p->image_offset, 0x800);
	ck_assert_uint_eq(p->image_size, 0x104);
	ck_assert_uint_eq(lpu_get_le32(p->image + 0), 1);
	ck_assert_uint_eq(lpu_get_le32(p->image + 4), 0xffffffff);
	ck_assert_uint_eq(lpu_get_le32(p->image + 8), 0xfffffffe);
	ck_assert_uint_eq(lpu_get_le32(p->image + 12), 0x820);	/* end */
	f = lpu_bits_f32(lpu_get_le32(p->image + 16));
	ck_assert(f == 1.5f);
	f = lpu_bits_f32(lpu_get_le32(p->image + 20));
	ck_assert(f == -0.25f);
	ck_assert_mem_eq(p->image + 24, "\1\2\3\0\0\0\0\0\0\0\0\0", 12);
	ck_assert_uint_eq(lpu_get_le32(p->image + 0x100), 0x100); /* first */
	/* vocabulary */
	t = lpu_program_vocab_token(p, 0, &len, &f);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(t, "a\"b", 3);
	ck_assert(f == 2.5f);
	t = lpu_program_vocab_token(p, 1, &len, &f);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(t, "\1z", 2);
	ck_assert_uint_eq(p->vocab_max_token_len, 3);
	lpu_program_free(p);
}
END_TEST

START_TEST(test_as_defaults)
{
	struct lpu_program *p = assemble("\thalt\n");

	ck_assert_uint_eq(p->note.isa_version, LPU_ISA_VERSION);
	ck_assert_uint_eq(p->note.sram_footprint, 4096);
	ck_assert_uint_eq(p->note.entry, 0);
	ck_assert_uint_eq(p->note.cycles_per_token, 0);
	ck_assert_uint_eq(p->text_offset, 0);
	ck_assert_uint_eq(p->image_size, 0);
	ck_assert_ptr_null(p->vocab);
	lpu_program_free(p);
	p = assemble("\t.scratch 0x5000 0x100\n\thalt\n");
	ck_assert_uint_eq(p->note.sram_footprint, 0x6000);
	lpu_program_free(p);
}
END_TEST

START_TEST(test_as_help_and_usage)
{
	char *out, *err;

	ck_assert_int_eq(run(&out, NULL, "%s --help", LPU_AS), 0);
	ck_assert_ptr_nonnull(strstr(out, "SYNOPSIS"));
	ck_assert_ptr_nonnull(strstr(out, ".footprint"));
	free(out);
	ck_assert_int_eq(run(&out, NULL, "%s --help", LPU_OBJDUMP), 0);
	ck_assert_ptr_nonnull(strstr(out, "SYNOPSIS"));
	free(out);
	ck_assert_int_eq(run(NULL, &err, "%s", LPU_AS), 2);
	free(err);
	ck_assert_int_eq(run(NULL, &err, "%s --bogus x", LPU_OBJDUMP), 2);
	free(err);
	ck_assert_int_eq(run(NULL, &err, "%s /nonexistent.s", LPU_AS), 1);
	ck_assert_str_eq(err, "/nonexistent.s: No such file or directory\n");
	free(err);
}
END_TEST

static const struct {
	const char *src;
	const char *msg;	/* expected after "FILE:" */
} bad_sources[] = {
	{ "\tnop\n\tfrob r1\n", "2: unknown mnemonic 'frob'" },
	{ "\tnop\n\n\tjmp nowhere\n", "3: unknown symbol 'nowhere'" },
	{ "a:\tnop\na:\thalt\n", "2: 'a' is already defined (line 1)" },
	{ "\t.bogus 1\n\thalt\n", "1: unknown directive '.bogus'" },
	{ "\t.word 1\n\thalt\n", "1: .word outside .data" },
	{ "\t.data 0x100\n\thalt\n", "2: instruction in .data" },
	{ "\tli r16, 1\n\thalt\n", "1: bad register 'r16'" },
	{ "\t.footprint 4K\n\thalt\n\tvcopy dst=0x1000 src0=0 n=4\n",
	  "3: " },
	{ "\t.footprint 8K\n\thalt\n\tjmp 0x1000\n",
	  "3: branch target 0x1000 is outside .text [0x0, 0x40)" },
	{ "\t.data 0x100\n\t.word 1, 2\n\t.data 0x104\n\t.word 3\n\t.text\n\thalt\n",
	  "4: data at 0x104 overlaps" },
	{ "\t.scratch 0x100\n\thalt\n", "1: .scratch takes 2 arguments" },
	{ "\t.text 0x10\n\thalt\n", "1: .text: offset 0x10 is not 32-byte aligned" },
	{ "\thalt\n\t.text 0x40\n", "2: .text OFFSET must come before" },
	{ "\t.note bogus 1\n\thalt\n", "1: .note: unknown field 'bogus'" },
	{ "\t.prompt 0 0x100000000\n\thalt\n", "1: prompt_max: 0x100000000 is out of range" },
	{ "\t.data 0\n\t.byte 300\n\t.text\n\thalt\n", "2: .byte: 300 does not fit" },
	{ "\t.data 0\n\t.float x\n\t.text\n\thalt\n", "2: .float: bad value 'x'" },
	{ "\t.token abc\n\thalt\n", "1: .token: expected a quoted string" },
	{ "\t.token \"abc\n\thalt\n", "1: .token: unterminated string" },
	{ "; nothing\n", "no instructions" },
	{ "\t.footprint 64\n\t.data 0x100\n\t.word 1\n\t.text\n\thalt\n",
	  "section .lpu.sram [0x100, +0x4) is outside the window" },
	{ "\t.note isa_version 3\n\thalt\n", "unsupported ISA version 3" },
};

START_TEST(test_as_errors)
{
	char *src = write_src("bad.s", bad_sources[_i].src);
	char *o = path_in_tmp("bad.lpu"), *err, expect[512];

	unlink(o);
	ck_assert_int_eq(run(NULL, &err, "%s -o %s %s", LPU_AS, o, src), 1);
	snprintf(expect, sizeof(expect), "%s:%s", src, bad_sources[_i].msg);
	if (!isdigit((unsigned char)bad_sources[_i].msg[0]))
		snprintf(expect, sizeof(expect), "%s: %s", src,
			 bad_sources[_i].msg);
	ck_assert_msg(!strncmp(err, expect, strlen(expect)),
		      "expected '%s...', got '%s'", expect, err);
	ck_assert(!exists(o));
	free(err);
}
END_TEST

START_TEST(test_objdump_output)
{
	struct lpu_program_desc d = base_desc();
	const char *path = path_in_tmp("od.lpu");
	char err[ERRLEN], *out;

	ck_assert_int_eq(lpu_program_write(path, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(run(&out, NULL, "%s -V %s", LPU_OBJDUMP, path), 0);
	ck_assert_ptr_nonnull(strstr(out, "cycles_per_token   222"));
	ck_assert_ptr_nonnull(strstr(out, "n_kv_heads         2"));
	ck_assert_ptr_nonnull(strstr(out, "flags              0x1 (INT8)"));
	ck_assert_ptr_nonnull(strstr(out, ".lpu.scratch   [0x00002000, 0x00004000)"));
	ck_assert_ptr_nonnull(strstr(out, "<entry>:\n<L_420>:\n  00000420          1  bltu r5, r1, 0x460"));
	ck_assert_ptr_nonnull(strstr(out, "\"hello\""));
	free(out);
	ck_assert_int_eq(run(&out, NULL, "%s -x %s", LPU_OBJDUMP, path), 0);
	ck_assert_ptr_null(strstr(out, "Disassembly"));
	free(out);
	ck_assert_int_eq(run(&out, NULL, "%s --card-sram 32K %s", LPU_OBJDUMP,
			     path), 1);
	free(out);
}
END_TEST

/* ---- Suites ------------------------------------------------------------ */

static Suite *program_suite(void)
{
	Suite *s = suite_create("program");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_add_test(tc, test_roundtrip_every_field);
	tcase_add_test(tc, test_note_encoding);
	tcase_add_test(tc, test_build_equals_write);
	tcase_add_test(tc, test_fill_window);
	tcase_add_test(tc, test_borrowed_in_place);
	tcase_add_test(tc, test_borrowed_misaligned);
	tcase_add_test(tc, test_borrowed_defer_vocab);
	tcase_add_test(tc, test_detach_owned);
	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_card_fit_exact);
	tcase_add_test(tc, test_write_refuses_invalid);
	tcase_add_test(tc, test_err_buffer_optional);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_unchecked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_truncated_everywhere);
	tcase_add_test(tc, test_truncated_sections);
	tcase_add_test(tc, test_not_elf);
	tcase_add_test(tc, test_bad_ehdr);
	tcase_add_test(tc, test_bad_sections);
	tcase_add_test(tc, test_bad_note);
	tcase_add_test(tc, test_note_fields);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_raw_layout);
	tcase_add_test(tc, test_bad_instructions);
	tcase_add_test(tc, test_bad_vocab);
	tcase_add_test(tc, test_open_errors);
	tcase_add_loop_test(tc, test_fixtures, 0, N_FIXTURES);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *as_suite(void)
{
	Suite *s = suite_create("lpu-as");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_example, 0,
			    sizeof(examples) / sizeof(examples[0]));
	tcase_add_test(tc, test_as_labels_and_data);
	tcase_add_test(tc, test_as_defaults);
	tcase_add_test(tc, test_as_help_and_usage);
	tcase_add_test(tc, test_objdump_output);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_unchecked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_as_errors, 0,
			    sizeof(bad_sources) / sizeof(bad_sources[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc == 3 && !strcmp(argv[1], "--write-fixtures"))
		return write_fixtures(argv[2]);

	sr = srunner_create(program_suite());
	srunner_add_suite(sr, as_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
