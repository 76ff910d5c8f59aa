/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: debugfs.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_DEBUGFS_H__
#define __LPU_DEBUGFS_H__

struct lpu_device;

void lpu_debugfs_init(struct lpu_device *ldev);

#endif /* __LPU_DEBUGFS_H__ */
