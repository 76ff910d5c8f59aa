; SPDX-License-Identifier: MIT
;
; loop_forever.s: a program that never halts and never emits. Used to
; test the watchdog, cancellation and reset: the run only ends when it is
; stopped from outside.
;
; Assemble: lpu-as -o loop_forever.lpu loop_forever.s

	.footprint 4K		; the smallest window worth allocating

	.text
	li	r5, 0
loop:
	addi	r5, r5, 1	; count iterations, to show progress in r5
	jmp	loop
