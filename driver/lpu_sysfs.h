/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: sysfs attributes and hwmon sensors.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_SYSFS_H__
#define __LPU_SYSFS_H__

struct attribute_group;
struct lpu_device;

extern const struct attribute_group *lpu_dev_groups[];
int lpu_hwmon_init(struct lpu_device *ldev);

#endif /* __LPU_SYSFS_H__ */
