; SPDX-License-Identifier: MIT
;
; fault_sram.s: an access that would leave the window through a register
; index. The LOADW below reads a 4-entry table that sits at the very end of
; the window, so its static footprint [table, table + 16) is inside the
; window and the program passes the validator. At run time its index
; register holds 1000: table + 4 * 1000 is far outside the window, and the
; engine stops the run with LPU_FAULT_INDEX (index past the bound n = 4)
; before any byte is read. The token emitted first shows that the run
; really started.
;
; Assemble: lpu-as -o fault_sram.lpu fault_sram.s

	.footprint 4K

	.data	0xff0		; the last 16 bytes of the 4 KiB window
table:
	.word	10, 11, 12, 13

	.text
	li	r5, 7
	emit	r5		; token 7: the run got this far
	li	r5, 1000	; an index far past the table
	loadw	r6, r5, table, 4	; FAULT_INDEX: r5 >= 4
	emit	r6		; never reached
	halt
