; SPDX-License-Identifier: MIT
;
; emit_hello.s: emit the tokens of "Hello, world!\n" from a table in
; .lpu.sram, at most r2 (the token budget) of them, then halt. The program
; carries its own vocabulary (.lpu.vocab), so tools can print the text;
; it uses every section of the format, and is the example of
; Documentation/program-format.rst.
;
; Assemble: lpu-as -o emit_hello.lpu emit_hello.s

	.footprint 8K
	.scratch 0x1000, 0x1000
	.prompt	0x1000, 256	; prompt area: 256 u32 tokens (unused here)
	.logits	0x1400		; logits area: vocab_size f32 (unused here)
	.context 256

	.data	0x800
msg:	.word	1, 2, 3, 4, 5	; "Hello" "," " world" "!" "\n"

	.token	"<unk>"		; token 0
	.token	"Hello"		; token 1
	.token	","
	.token	" world"
	.token	"!"
	.token	"\n"		; token 5

	.text
	li	r5, 0		; r5: index in msg
	li	r7, 5		; r7: tokens in msg
loop:
	bltu	r5, r7, more
	halt
more:
	bltu	r5, r2, body	; budget left?
	halt
body:
	loadw	r6, r5, msg, 5	; r6 = msg[r5]
	emit	r6
	addi	r5, r5, 1
	jmp	loop
