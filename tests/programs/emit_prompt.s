; SPDX-License-Identifier: MIT
;
; emit_prompt.s: echo the prompt. The runtime writes the prompt (u32
; tokens) at the note's prompt_offset and starts the run with r1 = its
; length and r2 = the token budget; this program emits prompt[0],
; prompt[1], ... until it has emitted all r1 tokens or r2 of them, then
; halts.
;
; Assemble: lpu-as -o emit_prompt.lpu emit_prompt.s

	.equ	PROMPT, 0x1000	; window offset of the prompt
	.equ	PROMPT_MAX, 1024	; at most 1024 tokens (4 KiB)

	.footprint 8K
	.scratch PROMPT, 4K	; .lpu.scratch holds the prompt area
	.prompt	PROMPT, PROMPT_MAX
	.context PROMPT_MAX

	.text
	li	r5, 0		; r5: index of the next prompt token
loop:
	bltu	r5, r1, more	; tokens left in the prompt?
	halt
more:
	bltu	r5, r2, body	; budget left?
	halt
body:
	loadw	r6, r5, PROMPT, PROMPT_MAX	; r6 = prompt[r5]
	emit	r6
	addi	r5, r5, 1
	jmp	loop
