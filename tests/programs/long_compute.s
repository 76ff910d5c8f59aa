; SPDX-License-Identifier: MIT
;
; long_compute.s: compute without emitting for a long time, then emit one
; token and halt. It runs r2 (the token budget) iterations of a MATVEC of
; a 512 x 512 f32 matrix (28 cycles, about a quarter of a million
; multiply-adds on the host), then emits the iteration count. Used to
; test the watchdog: a run longer than the queue timeout survives with a
; cycle limit (the card's cycle count shows progress) and is aborted
; without one (no token within the timeout).
;
; Cycles: 1 + 31 * r2 + 66 (li; per iteration bltu, matvec, addi, jmp;
; at the end bltu, emit, halt).
;
; Assemble: lpu-as -o long_compute.lpu long_compute.s

	.equ	MAT, 0x1000	; 512 x 512 f32 (1 MiB), zero
	.equ	X, 0x101000	; 512 f32, zero
	.equ	Y, 0x101800	; 512 f32, the result

	.footprint 0x102000
	.scratch MAT, 0x101000

	.text
	li	r5, 0		; r5: iterations done
loop:
	bltu	r5, r2, body	; while done < budget
	emit	r5		; the one token: the iteration count
	halt
body:
	matvec	dst=Y src0=MAT src1=X n=512 m=512
	addi	r5, r5, 1
	jmp	loop
