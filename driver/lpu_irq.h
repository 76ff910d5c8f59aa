/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: interrupts.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_IRQ_H__
#define __LPU_IRQ_H__

struct lpu_device;

int lpu_irq_init(struct lpu_device *ldev);

#endif /* __LPU_IRQ_H__ */
