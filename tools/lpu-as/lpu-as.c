// SPDX-License-Identifier: MIT
/*
 * lpu-as: assemble an LPU program from text.
 *
 * Two passes over the source: the first defines the labels and the layout
 * (how many instructions, where the data goes), the second parses every
 * instruction with lpu_insn_parse_ex() (labels resolved through a
 * callback) and encodes the data. The result is checked instruction by
 * instruction (errors point at the source line) and then written with
 * lpu_program_write(), which runs the program validator.
 *
 * The syntax is in usage() below and in Documentation/program-format.rst.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpu_insn.h"
#include "lpu_program.h"

#define MAX_ERRORS	20

static void usage(FILE *f)
{
	fputs(
"NAME\n"
"    lpu-as - assemble an LPU program file\n"
"\n"
"SYNOPSIS\n"
"    lpu-as [-o OUT] FILE.s\n"
"    lpu-as --help\n"
"\n"
"DESCRIPTION\n"
"    Reads LPU assembly from FILE.s (\"-\" for standard input) and writes\n"
"    an LPU program file (an ELF64 file, see uapi/lpu/lpu_prog.h and\n"
"    Documentation/program-format.rst). The program is validated exactly\n"
"    as a loader validates it before anything is written.\n"
"\n"
"OPTIONS\n"
"    -o, --output OUT   the program file to write (default: FILE with its\n"
"                       .s extension replaced by .lpu; a.lpu for stdin)\n"
"    -h, --help         this text\n"
"\n"
"SOURCE SYNTAX\n"
"    One statement a line. A ';' or '#' starts a comment to the end of the\n"
"    line. A line may begin with labels (\"loop:\"); a label is letters,\n"
"    digits, '_' and '.', not starting with a digit. In .text a label is\n"
"    the window offset of the next instruction, in .data the current data\n"
"    offset. Wherever a number is expected, a label or .equ name may be\n"
"    used, optionally followed by +N or -N. Numbers are decimal or 0x hex\n"
"    (no octal: 010 is ten); in directives they may end in K, M or G\n"
"    (KiB, MiB, GiB).\n"
"\n"
"    Instructions use the one-line syntax of the disassembler (the output\n"
"    of lpu-objdump and lpu_insn_format(), see Documentation/isa.rst), e.g.\n"
"        li r1, 5\n"
"        emit r1\n"
"        jmp loop\n"
"\n"
"  Layout and note directives\n"
"    .text [OFFSET]          switch to instructions; OFFSET (default 0,\n"
"                            32-byte aligned) is the window offset of\n"
"                            .text, set before the first instruction\n"
"    .data OFFSET            switch to data, continuing at window OFFSET;\n"
"                            data fills .lpu.sram, gaps are zero\n"
"    .scratch OFFSET SIZE    .lpu.scratch (zeroed at load); also sets the\n"
"                            note's scratch_size\n"
"    .footprint SIZE         sram_footprint (default: the end of the\n"
"                            highest section rounded up to 4 KiB)\n"
"    .entry LABEL|OFFSET     entry point (default: the start of .text)\n"
"    .prompt OFFSET MAX      prompt area: MAX u32 tokens at OFFSET\n"
"    .logits OFFSET          logits area: vocab_size f32 at OFFSET\n"
"    .vocab_size N           tokens in the vocabulary (default: the\n"
"                            number of .token entries or .vocab records)\n"
"    .context N              context_len\n"
"    .flags N                note flags (LPU_PROG_INT8 = 1)\n"
"    .cycles PROLOGUE PER_TOKEN EPILOGUE\n"
"                            the note's predicted cycles; without this\n"
"                            directive they are 0 (lpu-as does not\n"
"                            simulate hand-written control flow)\n"
"    .note FIELD VALUE       any numeric note field by its name in\n"
"                            struct lpu_prog_note (dim, n_layers, ...)\n"
"    .equ NAME VALUE         a named constant\n"
"\n"
"  Data directives (after .data)\n"
"    .word V, ...            u32 values (little-endian; labels allowed)\n"
"    .float F, ...           f32 values\n"
"    .byte V, ...            bytes\n"
"    .zero N                 N zero bytes\n"
"    .align N                pad with zeros to a multiple of N (a power\n"
"                            of two)\n"
"\n"
"  Vocabulary (optional .lpu.vocab section)\n"
"    .vocab FILE             a tokenizer.bin file (llama2.c layout), path\n"
"                            relative to the source file\n"
"    .token \"TEXT\" [SCORE]   one entry, in token id order (C escapes)\n"
"\n"
"EXIT STATUS\n"
"    0 on success; 1 on any error, with messages \"FILE:LINE: message\"\n"
"    (or \"FILE: message\" for a program-wide problem) on stderr, and no\n"
"    output file written; 2 on bad usage.\n"
"\n"
"EXAMPLE\n"
"        .footprint 64K\n"
"        .scratch 0x8000 0x1000\n"
"        .prompt 0x8000 256\n"
"        .text\n"
"        li r5, 0\n"
"    loop:\n"
"        bltu r5, r1, body      ; r1 = prompt length at start\n"
"        halt\n"
"    body:\n"
"        ...\n", f);
}

/* ---- Source and errors ------------------------------------------------- */

struct as;

struct sym {
	char *name;
	uint64_t value;
	int line;
	bool text;		/* value is an instruction index in .text */
};

struct chunk {			/* one data statement's bytes */
	uint64_t offset;
	uint8_t *bytes;
	size_t len;
	int line;
};

struct insn_src {
	char *text;
	int line;
};

struct as {
	const char *file;
	int line;
	int errors;
	int pass;

	struct sym *syms;
	size_t nsyms;

	bool in_data;
	bool text_set;		/* .text OFFSET seen */
	uint64_t text_offset;
	size_t n_insns;
	size_t n_src;		/* entries of insns */
	struct insn_src *insns;
	struct lpu_insn *text;

	uint64_t dpos;		/* current data offset */
	struct chunk *chunks;
	size_t nchunks;

	bool have_footprint, have_entry, have_vocab_size, have_scratch;

	uint8_t *vocab;		/* .lpu.vocab being built */
	size_t vocab_len;
	uint32_t vocab_count;
	uint32_t vocab_max;
	bool vocab_file;

	struct lpu_program_desc d;
};

__attribute__((format(printf, 2, 3)))
static void error(struct as *as, const char *fmt, ...)
{
	va_list ap;

	as->errors++;
	if (as->errors > MAX_ERRORS)
		return;
	if (as->line)
		fprintf(stderr, "%s:%d: ", as->file, as->line);
	else
		fprintf(stderr, "%s: ", as->file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (as->errors == MAX_ERRORS)
		fprintf(stderr, "%s: too many errors, stopping\n", as->file);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "lpu-as: out of memory\n");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		fprintf(stderr, "lpu-as: out of memory\n");
		exit(1);
	}
	return d;
}

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0, r;
	char *buf = xrealloc(NULL, cap);

	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n - 1 == 0) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	if (ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

/* ---- Values ------------------------------------------------------------ */

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static bool is_ident_start(int c)
{
	return isalpha(c) || c == '_' || c == '.';
}

static bool is_ident(int c)
{
	return isalnum(c) || c == '_' || c == '.';
}

static struct sym *sym_find(struct as *as, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < as->nsyms; i++) {
		if (strlen(as->syms[i].name) == len &&
		    !memcmp(as->syms[i].name, name, len))
			return &as->syms[i];
	}
	return NULL;
}

static uint64_t sym_value(const struct as *as, const struct sym *s)
{
	return s->text ? as->text_offset + s->value * LPU_INSN_SIZE : s->value;
}

/* A number: decimal or 0x hex (as in instructions), optional '-', K/M/G. */
static bool parse_number(const char *s, uint64_t *v)
{
	unsigned long long u;
	bool neg = false;
	char *end;

	if (*s == '-') {
		neg = true;
		s++;
	} else if (*s == '+') {
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		u = isxdigit((unsigned char)s[2]) ? strtoull(s + 2, &end, 16) :
		    (errno = EINVAL, 0);
	else
		u = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case 'K': case 'k':
		u = u > (UINT64_MAX >> 10) ? UINT64_MAX : u << 10;
		end++;
		break;
	case 'M': case 'm':
		u = u > (UINT64_MAX >> 20) ? UINT64_MAX : u << 20;
		end++;
		break;
	case 'G': case 'g':
		u = u > (UINT64_MAX >> 30) ? UINT64_MAX : u << 30;
		end++;
		break;
	}
	if (*end)
		return false;
	*v = neg ? -(uint64_t)u : u;
	return true;
}

/*
 * NUMBER, or SYMBOL, SYMBOL+NUMBER, SYMBOL-NUMBER. Returns 0, -ENOENT for
 * an undefined symbol (not an error in pass 1), -EINVAL for bad syntax.
 */
static int eval(struct as *as, const char *expr, uint64_t *v)
{
	const char *p = expr;
	struct sym *s;
	uint64_t add = 0;
	size_t n;

	while (isspace((unsigned char)*p))
		p++;
	if (parse_number(p, v))
		return 0;
	if (!is_ident_start((unsigned char)*p))
		return -EINVAL;
	n = 1;
	while (is_ident((unsigned char)p[n]))
		n++;
	if (p[n]) {
		const char *q = p + n;
		char tmp[64];
		size_t l;

		while (isspace((unsigned char)*q))
			q++;
		if (*q != '+' && *q != '-')
			return -EINVAL;
		tmp[0] = *q++;
		while (isspace((unsigned char)*q))
			q++;
		l = strlen(q);
		while (l && isspace((unsigned char)q[l - 1]))
			l--;
		if (!l || l >= sizeof(tmp) - 1 || q[0] == '-' || q[0] == '+')
			return -EINVAL;
		memcpy(tmp + 1, q, l);
		tmp[l + 1] = 0;
		if (!parse_number(tmp, &add))
			return -EINVAL;
	}
	s = sym_find(as, p, n);
	if (!s)
		return -ENOENT;
	*v = sym_value(as, s) + add;
	return 0;
}

/* eval() with an error message; false on failure. */
static bool value(struct as *as, const char *what, const char *expr,
		  uint64_t *v)
{
	int rc = eval(as, expr, v);

	if (!rc)
		return true;
	if (rc == -ENOENT)
		error(as, "%s: undefined symbol in '%s'", what, expr);
	else
		error(as, "%s: bad value '%s'", what, expr);
	return false;
}

/* Like value(), but the result must fit in max. */
static bool value_max(struct as *as, const char *what, const char *expr,
		      uint64_t max, uint64_t *v)
{
	if (!value(as, what, expr, v))
		return false;
	if (*v > max) {
		error(as, "%s: %s is out of range (at most %llu)", what, expr,
		      (unsigned long long)max);
		return false;
	}
	return true;
}

static int resolve(void *opaque, const char *sym, uint32_t field,
		   uint64_t *v)
{
	(void)field;
	return eval(opaque, sym, v);
}

/* ---- Statements -------------------------------------------------------- */

/* Split directive arguments on commas and blanks (no quoting). */
static int split_args(char *s, char **argv, int max)
{
	int n = 0;

	for (;;) {
		while (*s && (isspace((unsigned char)*s) || *s == ','))
			s++;
		if (!*s)
			return n;
		if (n == max)
			return -1;
		argv[n++] = s;
		while (*s && !isspace((unsigned char)*s) && *s != ',')
			s++;
		if (*s)
			*s++ = 0;
	}
}

static void define(struct as *as, const char *name, uint64_t v, bool text)
{
	struct sym *s = sym_find(as, name, strlen(name));

	if (as->pass == 2)
		return;
	if (s) {
		error(as, "'%s' is already defined (line %d)", name, s->line);
		return;
	}
	as->syms = xrealloc(as->syms, (as->nsyms + 1) * sizeof(*as->syms));
	as->syms[as->nsyms++] = (struct sym){ xstrdup(name), v, as->line,
					      text };
}

static void add_chunk(struct as *as, const void *bytes, size_t len)
{
	struct chunk *c;

	if (!len)
		return;
	if (as->pass == 1 || as->errors) {
		as->dpos += len;
		return;
	}
	if (as->dpos > UINT64_MAX - len) {
		error(as, "data offset overflows");
		return;
	}
	as->chunks = xrealloc(as->chunks,
			      (as->nchunks + 1) * sizeof(*as->chunks));
	c = &as->chunks[as->nchunks++];
	c->offset = as->dpos;
	c->len = len;
	c->line = as->line;
	c->bytes = xrealloc(NULL, len);
	memcpy(c->bytes, bytes, len);
	as->dpos += len;
}

static bool need_data(struct as *as, const char *dir)
{
	if (!as->in_data) {
		error(as, "%s outside .data", dir);
		return false;
	}
	return true;
}

static void dir_values(struct as *as, const char *dir, char **argv, int argc,
		       unsigned int size, bool is_float)
{
	uint8_t buf[8];
	uint64_t v;
	int i;

	if (!need_data(as, dir))
		return;
	if (!argc)
		error(as, "%s needs at least one value", dir);
	for (i = 0; i < argc; i++) {
		if (as->pass == 1) {
			add_chunk(as, NULL, size);
			continue;
		}
		if (is_float) {
			char *end;
			float f;

			errno = 0;
			f = strtof(argv[i], &end);
			if (end == argv[i] || *end || errno) {
				error(as, ".float: bad value '%s'", argv[i]);
				continue;
			}
			lpu_put_le32(buf, lpu_f32_bits(f));
		} else {
			if (!value(as, dir, argv[i], &v))
				continue;
			if (size == 1 && v > 0xff && v < (uint64_t)-128) {
				error(as, ".byte: %s does not fit in a byte",
				      argv[i]);
				continue;
			}
			if (size == 4 && v > 0xffffffffull &&
			    v < (uint64_t)INT32_MIN) {
				error(as, ".word: %s does not fit in 32 bits",
				      argv[i]);
				continue;
			}
			if (size == 1)
				buf[0] = (uint8_t)v;
			else
				lpu_put_le32(buf, (uint32_t)v);
		}
		add_chunk(as, buf, size);
	}
}

static void dir_zero(struct as *as, uint64_t n)
{
	uint8_t *z;

	if (n > (64ull << 30)) {
		error(as, ".zero/.align: %llu bytes is too many",
		      (unsigned long long)n);
		return;
	}
	if (as->pass == 1) {
		as->dpos += n;
		return;
	}
	z = calloc(1, n ? n : 1);
	if (!z) {
		error(as, "out of memory");
		return;
	}
	add_chunk(as, z, n);
	free(z);
}

/* The note's numeric fields, for .note FIELD VALUE. */
#define NF(f) { #f, offsetof(struct lpu_program_note, f), \
		sizeof(((struct lpu_program_note *)0)->f) }
static const struct {
	const char *name;
	size_t off, size;
} note_fields[] = {
	NF(isa_version), NF(flags), NF(sram_footprint), NF(entry),
	NF(scratch_size), NF(prompt_offset), NF(logits_offset),
	NF(prompt_max), NF(vocab_size), NF(context_len), NF(dim),
	NF(hidden_dim), NF(n_layers), NF(n_heads), NF(n_kv_heads),
	NF(cycles_prologue), NF(cycles_per_token), NF(cycles_epilogue),
};

static bool set_note(struct as *as, const char *field, const char *expr)
{
	uint8_t *base = (uint8_t *)&as->d.note;
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(note_fields) / sizeof(note_fields[0]); i++) {
		if (strcmp(note_fields[i].name, field))
			continue;
		if (!value_max(as, field, expr,
			       note_fields[i].size == 4 ? UINT32_MAX :
			       UINT64_MAX, &v))
			return false;
		if (note_fields[i].size == 4) {
			uint32_t w = (uint32_t)v;

			memcpy(base + note_fields[i].off, &w, 4);
		} else {
			memcpy(base + note_fields[i].off, &v, 8);
		}
		if (!strcmp(field, "sram_footprint"))
			as->have_footprint = true;
		if (!strcmp(field, "vocab_size"))
			as->have_vocab_size = true;
		if (!strcmp(field, "entry"))
			as->have_entry = true;
		return true;
	}
	error(as, ".note: unknown field '%s'", field);
	return false;
}

/* Append bytes to the vocabulary under construction. */
static void vocab_add(struct as *as, const void *b, size_t n)
{
	as->vocab = xrealloc(as->vocab, as->vocab_len + n);
	memcpy(as->vocab + as->vocab_len, b, n);
	as->vocab_len += n;
}

/* .token "TEXT" [SCORE] (pass 2 only; the vocabulary is not laid out). */
static void dir_token(struct as *as, char *args)
{
	char text[1024], *p = args, *end;
	uint8_t rec[8];
	size_t n = 0;
	float score = 0;

	if (as->vocab_file) {
		error(as, ".token after .vocab");
		return;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p++ != '"') {
		error(as, ".token: expected a quoted string");
		return;
	}
	while (*p && *p != '"') {
		int c = (unsigned char)*p++;

		if (c == '\\') {
			c = (unsigned char)*p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case '0':
				c = 0;
				break;
			case '\\':
			case '"':
			case '\'':
				break;
			case 'x': {
				char hex[3] = { 0 };

				if (!isxdigit((unsigned char)p[0]) ||
				    !isxdigit((unsigned char)p[1])) {
					error(as, ".token: bad \\x escape");
					return;
				}
				hex[0] = p[0];
				hex[1] = p[1];
				p += 2;
				c = (int)strtol(hex, NULL, 16);
				break;
			}
			default:
				error(as, ".token: unknown escape '\\%c'",
				      c ? c : '0');
				return;
			}
		}
		if (n == sizeof(text)) {
			error(as, ".token: string too long");
			return;
		}
		text[n++] = (char)c;
	}
	if (*p++ != '"') {
		error(as, ".token: unterminated string");
		return;
	}
	p = trim(p);
	if (*p) {
		errno = 0;
		score = strtof(p, &end);
		if (end == p || *end || errno) {
			error(as, ".token: bad score '%s'", p);
			return;
		}
	}
	if (as->pass == 1)
		return;
	if (!as->vocab_len) {
		uint8_t hdr[4] = { 0 };

		vocab_add(as, hdr, 4);
	}
	lpu_put_le32(rec, lpu_f32_bits(score));
	lpu_put_le32(rec + 4, (uint32_t)n);
	vocab_add(as, rec, 8);
	vocab_add(as, text, n);
	as->vocab_count++;
	if (n > as->vocab_max)
		as->vocab_max = (uint32_t)n;
}

/* .vocab FILE: a tokenizer.bin; count its records. */
static void dir_vocab(struct as *as, const char *name)
{
	char *path = NULL;
	const char *slash = strrchr(as->file, '/');
	size_t len, off = 4;
	uint32_t count = 0;
	char *buf;
	FILE *f;

	if (as->pass == 1)
		return;
	if (as->vocab_len) {
		error(as, ".vocab: the vocabulary is already given");
		return;
	}
	if (name[0] != '/' && slash) {
		if (asprintf(&path, "%.*s/%s", (int)(slash - as->file),
			     as->file, name) < 0)
			path = NULL;
	} else {
		path = xstrdup(name);
	}
	if (!path) {
		error(as, "out of memory");
		return;
	}
	f = fopen(path, "rb");
	if (!f) {
		error(as, ".vocab: %s: %s", path, strerror(errno));
		free(path);
		return;
	}
	buf = read_all(f, &len);
	fclose(f);
	if (!buf) {
		error(as, ".vocab: %s: read error", path);
		free(path);
		return;
	}
	if (len < 4) {
		error(as, ".vocab: %s: too short for a tokenizer file", path);
		goto out;
	}
	while (off < len) {
		uint32_t n;

		if (len - off < 8) {
			error(as, ".vocab: %s: truncated record %u", path,
			      count);
			goto out;
		}
		n = lpu_get_le32(buf + off + 4);
		if (n > len - off - 8) {
			error(as, ".vocab: %s: truncated record %u", path,
			      count);
			goto out;
		}
		off += 8 + (size_t)n;
		count++;
	}
	vocab_add(as, buf, len);
	as->vocab_count = count;
	as->vocab_file = true;
out:
	free(buf);
	free(path);
}

/* Directive arguments; returns false (with an error) if argc is wrong. */
static bool nargs(struct as *as, const char *dir, int argc, int min, int max)
{
	if (argc >= min && argc <= max)
		return true;
	if (min == max)
		error(as, "%s takes %d argument%s", dir, min,
		      min == 1 ? "" : "s");
	else
		error(as, "%s takes %d to %d arguments", dir, min, max);
	return false;
}

static void directive(struct as *as, char *line)
{
	char *args, *argv[64], dir[32];
	uint64_t v, w, x;
	size_t n;
	int argc;

	n = strcspn(line, " \t");
	if (n >= sizeof(dir)) {
		error(as, "unknown directive '%s'", line);
		return;
	}
	memcpy(dir, line, n);
	dir[n] = 0;
	args = line + n;

	/* Pass 1 lays out: only what moves offsets or defines symbols. */
	if (as->pass == 1 && strcmp(dir, ".text") && strcmp(dir, ".data") &&
	    strcmp(dir, ".word") && strcmp(dir, ".float") &&
	    strcmp(dir, ".byte") && strcmp(dir, ".zero") &&
	    strcmp(dir, ".align") && strcmp(dir, ".equ") &&
	    strcmp(dir, ".set"))
		return;
	if (!strcmp(dir, ".token")) {
		dir_token(as, args);
		return;
	}
	argc = split_args(args, argv, 64);
	if (argc < 0) {
		error(as, "%s: too many arguments (at most 64 a line)", dir);
		return;
	}

	if (!strcmp(dir, ".text")) {
		if (!nargs(as, dir, argc, 0, 1))
			return;
		as->in_data = false;
		if (!argc)
			return;
		if (!value_max(as, dir, argv[0], UINT32_MAX, &v))
			return;
		if (as->text_set && v != as->text_offset) {
			error(as, ".text: the offset of .text is already set");
			return;
		}
		if (as->n_insns && v != as->text_offset) {
			error(as, ".text OFFSET must come before the first instruction");
			return;
		}
		if (v % LPU_INSN_SIZE) {
			error(as, ".text: offset 0x%llx is not %d-byte aligned",
			      (unsigned long long)v, LPU_INSN_SIZE);
			return;
		}
		as->text_offset = v;
		as->text_set = true;
	} else if (!strcmp(dir, ".data")) {
		if (!nargs(as, dir, argc, 1, 1) ||
		    !value_max(as, dir, argv[0], UINT32_MAX, &v))
			return;
		as->in_data = true;
		as->dpos = v;
	} else if (!strcmp(dir, ".word")) {
		dir_values(as, dir, argv, argc, 4, false);
	} else if (!strcmp(dir, ".float")) {
		dir_values(as, dir, argv, argc, 4, true);
	} else if (!strcmp(dir, ".byte")) {
		dir_values(as, dir, argv, argc, 1, false);
	} else if (!strcmp(dir, ".zero")) {
		if (need_data(as, dir) && nargs(as, dir, argc, 1, 1) &&
		    value(as, dir, argv[0], &v))
			dir_zero(as, v);
	} else if (!strcmp(dir, ".align")) {
		if (!need_data(as, dir) || !nargs(as, dir, argc, 1, 1) ||
		    !value(as, dir, argv[0], &v))
			return;
		if (!v || (v & (v - 1)) || v > (1u << 20)) {
			error(as, ".align: %s is not a power of two up to 1M",
			      argv[0]);
			return;
		}
		dir_zero(as, (v - as->dpos % v) % v);
	} else if (!strcmp(dir, ".equ") || !strcmp(dir, ".set")) {
		if (!nargs(as, dir, argc, 2, 2))
			return;
		if (!is_ident_start((unsigned char)argv[0][0])) {
			error(as, "%s: bad name '%s'", dir, argv[0]);
			return;
		}
		if (as->pass == 1 && value(as, dir, argv[1], &v))
			define(as, argv[0], v, false);
	} else if (!strcmp(dir, ".scratch")) {
		if (!nargs(as, dir, argc, 2, 2) ||
		    !value_max(as, dir, argv[0], UINT32_MAX, &v) ||
		    !value_max(as, dir, argv[1], UINT32_MAX, &w))
			return;
		as->d.scratch_offset = v;
		as->d.scratch_size = w;
		as->d.note.scratch_size = w;
		as->have_scratch = true;
	} else if (!strcmp(dir, ".footprint")) {
		if (nargs(as, dir, argc, 1, 1))
			set_note(as, "sram_footprint", argv[0]);
	} else if (!strcmp(dir, ".entry")) {
		if (nargs(as, dir, argc, 1, 1))
			set_note(as, "entry", argv[0]);
	} else if (!strcmp(dir, ".prompt")) {
		if (nargs(as, dir, argc, 2, 2) &&
		    set_note(as, "prompt_offset", argv[0]))
			set_note(as, "prompt_max", argv[1]);
	} else if (!strcmp(dir, ".logits")) {
		if (nargs(as, dir, argc, 1, 1))
			set_note(as, "logits_offset", argv[0]);
	} else if (!strcmp(dir, ".vocab_size")) {
		if (nargs(as, dir, argc, 1, 1))
			set_note(as, "vocab_size", argv[0]);
	} else if (!strcmp(dir, ".context")) {
		if (nargs(as, dir, argc, 1, 1))
			set_note(as, "context_len", argv[0]);
	} else if (!strcmp(dir, ".flags")) {
		if (nargs(as, dir, argc, 1, 1))
			set_note(as, "flags", argv[0]);
	} else if (!strcmp(dir, ".cycles")) {
		if (!nargs(as, dir, argc, 3, 3) ||
		    !value(as, dir, argv[0], &v) ||
		    !value(as, dir, argv[1], &w) ||
		    !value(as, dir, argv[2], &x))
			return;
		as->d.note.cycles_prologue = v;
		as->d.note.cycles_per_token = w;
		as->d.note.cycles_epilogue = x;
	} else if (!strcmp(dir, ".note")) {
		if (nargs(as, dir, argc, 2, 2))
			set_note(as, argv[0], argv[1]);
	} else if (!strcmp(dir, ".vocab")) {
		if (nargs(as, dir, argc, 1, 1))
			dir_vocab(as, argv[0]);
	} else {
		error(as, "unknown directive '%s'", dir);
	}
}

/* Remove a ';' or '#' comment (outside double quotes). */
static void strip_comment(char *s)
{
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '\\' && quoted && s[1]) {
			s++;
		} else if (*s == '"') {
			quoted = !quoted;
		} else if (!quoted && (*s == ';' || *s == '#')) {
			*s = 0;
			return;
		}
	}
}

static void instruction(struct as *as, char *s)
{
	struct lpu_insn insn;
	char err[256];

	if (as->in_data) {
		error(as, "instruction in .data (switch back with .text)");
		return;
	}
	if (as->pass == 1) {
		as->insns = xrealloc(as->insns,
				     (as->n_insns + 1) * sizeof(*as->insns));
		as->insns[as->n_insns].text = xstrdup(s);
		as->insns[as->n_insns].line = as->line;
		as->n_insns++;
		return;
	}
	if (lpu_insn_parse_ex(s, &insn, resolve, as, err, sizeof(err))) {
		error(as, "%s", err);
		return;
	}
	as->text[as->n_insns++] = insn;
}

static void statement(struct as *as, char *s)
{
	strip_comment(s);
	s = trim(s);
	/* Labels */
	for (;;) {
		size_t n = 0;

		if (!is_ident_start((unsigned char)*s))
			break;
		while (is_ident((unsigned char)s[n]))
			n++;
		if (s[n] != ':')
			break;
		s[n] = 0;
		if (as->in_data)
			define(as, s, as->dpos, false);
		else
			define(as, s, as->n_insns, true);
		s = trim(s + n + 1);
	}
	if (!*s)
		return;
	if (*s == '.' && strncmp(s, ".insn", 5))
		directive(as, s);
	else
		instruction(as, s);
}

static void pass(struct as *as, const char *src, int which)
{
	const char *p = src;

	as->pass = which;
	as->line = 0;
	as->in_data = false;
	as->dpos = 0;
	as->n_insns = 0;
	as->text_set = false;
	while (*p) {
		size_t n = strcspn(p, "\n");
		char *line = xrealloc(NULL, n + 1);

		memcpy(line, p, n);
		line[n] = 0;
		as->line++;
		statement(as, line);
		free(line);
		p += n;
		if (*p)
			p++;
	}
	as->line = 0;
}

/* ---- Layout ------------------------------------------------------------ */

static int cmp_chunk(const void *a, const void *b)
{
	const struct chunk *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->line - y->line;
}

/* Merge the data chunks into one image; report overlaps. */
static uint8_t *build_image(struct as *as)
{
	uint64_t lo, hi = 0;
	uint8_t *img;
	size_t i;

	if (!as->nchunks)
		return NULL;
	qsort(as->chunks, as->nchunks, sizeof(*as->chunks), cmp_chunk);
	lo = as->chunks[0].offset;
	for (i = 0; i < as->nchunks; i++) {
		const struct chunk *c = &as->chunks[i];

		if (i && c->offset < hi) {
			as->line = c->line;
			error(as, "data at 0x%llx overlaps data already placed there",
			      (unsigned long long)c->offset);
			as->line = 0;
		}
		if (c->offset + c->len > hi)
			hi = c->offset + c->len;
	}
	if (as->errors)
		return NULL;
	if (hi - lo > (64ull << 30)) {
		error(as, ".lpu.sram would be %llu bytes",
		      (unsigned long long)(hi - lo));
		return NULL;
	}
	img = calloc(1, hi - lo);
	if (!img) {
		error(as, "out of memory");
		return NULL;
	}
	for (i = 0; i < as->nchunks; i++)
		memcpy(img + as->chunks[i].offset - lo, as->chunks[i].bytes,
		       as->chunks[i].len);
	as->d.image_offset = lo;
	as->d.image_size = hi - lo;
	return img;
}

/* Per-instruction static checks, reported at their source lines. */
static void check_insns(struct as *as)
{
	const uint64_t fp = as->d.note.sram_footprint;
	const uint64_t t0 = as->text_offset;
	const uint64_t t1 = t0 + (uint64_t)as->n_insns * LPU_INSN_SIZE;
	char msg[256];
	size_t i;

	for (i = 0; i < as->n_insns; i++) {
		const struct lpu_insn *in = &as->text[i];
		const struct lpu_op_info *oi = lpu_op_info(in->op);

		as->line = as->insns[i].line;
		if (lpu_insn_check(in, fp, msg, sizeof(msg))) {
			error(as, "%s (window of %llu bytes)", msg,
			      (unsigned long long)fp);
		} else if (oi && (oi->flags & LPU_OPF_BRANCH)) {
			uint32_t t = lpu_get_le32(&in->imm);

			if (t < t0 || t >= t1)
				error(as, "branch target 0x%x is outside .text [0x%llx, 0x%llx)",
				      t, (unsigned long long)t0,
				      (unsigned long long)t1);
		}
	}
	as->line = 0;
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static void layout(struct as *as)
{
	struct lpu_program_desc *d = &as->d;
	uint64_t end, e;

	d->text = as->text;
	d->n_insns = as->n_insns;
	d->text_offset = as->text_offset;
	if (!as->n_insns)
		error(as, "no instructions");

	if (!as->have_entry)
		d->note.entry = as->text_offset;
	/* Empty sections sit after .text (any place would do). */
	end = as->text_offset + (uint64_t)as->n_insns * LPU_INSN_SIZE;
	if (!d->image_size)
		d->image_offset = end;
	if (!as->have_scratch)
		d->scratch_offset = d->image_offset + d->image_size > end ?
				    d->image_offset + d->image_size : end;
	if (as->vocab_len) {
		if (!as->vocab_file)
			lpu_put_le32(as->vocab, as->vocab_max);
		d->vocab = as->vocab;
		d->vocab_size = as->vocab_len;
		if (!as->have_vocab_size)
			d->note.vocab_size = as->vocab_count;
	}
	if (!as->have_footprint) {
		end = as->text_offset + (uint64_t)as->n_insns * LPU_INSN_SIZE;
		e = d->image_offset + d->image_size;
		if (d->image_size && e > end)
			end = e;
		e = d->scratch_offset + d->scratch_size;
		if (d->scratch_size && e > end)
			end = e;
		d->note.sram_footprint = round_up(end, 4096);
	}
}

static char *default_output(const char *in)
{
	const char *base = strrchr(in, '/');
	size_t n = strlen(in);
	char *out;

	if (!strcmp(in, "-"))
		return xstrdup("a.lpu");
	base = base ? base + 1 : in;
	if (n >= 2 && !strcmp(in + n - 2, ".s") && in + n - 2 > base)
		n -= 2;
	out = xrealloc(NULL, n + 5);
	memcpy(out, in, n);
	strcpy(out + n, ".lpu");
	return out;
}

static void as_free(struct as *as)
{
	size_t i;

	free(as->text);
	free(as->vocab);
	for (i = 0; i < as->n_src; i++)
		free(as->insns[i].text);
	free(as->insns);
	for (i = 0; i < as->nsyms; i++)
		free(as->syms[i].name);
	free(as->syms);
	for (i = 0; i < as->nchunks; i++)
		free(as->chunks[i].bytes);
	free(as->chunks);
	free((void *)as->d.image);
}

/* Assemble src into out; 0 or 1 (errors printed). */
static int assemble(struct as *as, const char *src, const char *out)
{
	struct lpu_program *prog = NULL;
	void *built = NULL;
	size_t built_len;
	char err[1024];
	int rc;

	pass(as, src, 1);
	as->n_src = as->n_insns;
	if (as->errors)
		return 1;
	as->text = xrealloc(NULL, as->n_insns * sizeof(*as->text));
	memset(&as->d, 0, sizeof(as->d));
	as->d.note.isa_version = LPU_ISA_VERSION;
	pass(as, src, 2);
	if (as->errors)
		return 1;

	as->d.image = build_image(as);
	layout(as);
	if (as->errors)
		return 1;
	check_insns(as);
	if (as->errors)
		return 1;

	/*
	 * Validate first, to report a layout problem against the source
	 * (lpu_program_write() validates again and names the output).
	 */
	rc = lpu_program_build(&as->d, LPU_PROGRAM_NO_VALIDATE, &built,
			       &built_len, err, sizeof(err));
	if (!rc) {
		rc = lpu_program_from_memory(built, built_len, 0, &prog, err,
					     sizeof(err));
		free(built);
		lpu_program_free(prog);
	}
	if (!rc)
		rc = lpu_program_write(out, &as->d, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s: %s\n", as->file, err);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct as as = { 0 };
	char *out = NULL, *out_arg = NULL, *src;
	int c, status;
	size_t len;
	FILE *f;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out_arg = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'lpu-as --help'.\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "lpu-as: expected one input file\n"
			"Try 'lpu-as --help'.\n");
		return 2;
	}
	as.file = argv[optind];

	f = strcmp(as.file, "-") ? fopen(as.file, "r") : stdin;
	if (!f) {
		fprintf(stderr, "%s: %s\n", as.file, strerror(errno));
		return 1;
	}
	src = read_all(f, &len);
	if (f != stdin)
		fclose(f);
	if (!src) {
		fprintf(stderr, "%s: read error\n", as.file);
		return 1;
	}
	if (strlen(src) != len) {
		fprintf(stderr, "%s: contains a NUL byte (not a text file)\n",
			as.file);
		free(src);
		return 1;
	}

	out = out_arg ? out_arg : default_output(as.file);
	status = assemble(&as, src, out);
	as_free(&as);
	free(src);
	if (out != out_arg)
		free(out);
	return status;
}
