; SPDX-License-Identifier: MIT
;
; emit_slow.s: emit the tokens 1, 2, ..., N (N = the token budget, r2),
; each after a delay loop of 50000 iterations (100 000 cycles, about 6 ms
; on the host engine), then halt. A stream of it runs for a long time and
; shows progress all the while: the runtime tests (runtime.c) cancel it
; mid-stream, kill the process reading it and wait on it with timeouts.
;
; Assembled by tests/guest/runtime.mk into runtime/emit_slow.lpu.

	.equ	DELAY, 50000
	.equ	PROMPT, 0x800	; window offset of the prompt (unused)

	.footprint 4K
	.scratch PROMPT, 2K
	.prompt	PROMPT, 256
	.vocab_size 16		; prompt tokens are below 16
	.logits	PROMPT+0x400	; (unused: 16 floats)

	.text
	li	r5, 1		; r5: the next token
	li	r6, 0		; r6: tokens emitted so far
	li	r8, DELAY
loop:
	bltu	r6, r2, wait	; while emitted < budget
	halt
wait:
	li	r7, 0
delay:
	addi	r7, r7, 1
	bltu	r7, r8, delay
	emit	r5
	addi	r5, r5, 1
	addi	r6, r6, 1
	jmp	loop
