; SPDX-License-Identifier: MIT
;
; emit_n.s: emit the tokens 1, 2, ..., N, then halt, where N is the token
; budget the run was started with (r2). A run with budget 0 emits nothing.
;
; Assemble: lpu-as -o emit_n.lpu emit_n.s

	.footprint 4K

	.text
	li	r5, 1		; r5: the next token
	li	r6, 0		; r6: tokens emitted so far
loop:
	bltu	r6, r2, body	; while emitted < budget
	halt
body:
	emit	r5
	addi	r5, r5, 1
	addi	r6, r6, 1
	jmp	loop
