// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: sysfs attributes of the PCI device and hwmon sensors.
 *
 * Attributes (read-only, one value each, under /sys/bus/pci/devices/BDF/):
 *   sram_size     card SRAM, bytes
 *   sram_used     SRAM allocated by open files, bytes
 *   queue_count   hardware queues
 *   queue_status  one word per queue: idle, busy or halted
 *   hw_version    hardware interface version, MAJOR.MINOR
 *   clock_mhz     current core clock
 * hwmon: temp1_input (millidegrees C) and power1_input (microwatts).
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/device.h>
#include <linux/hwmon.h>
#include <linux/pci.h>
#include <linux/sysfs.h>

#include "lpu_drv.h"
#include "lpu_sram.h"
#include "lpu_sysfs.h"

static struct lpu_device *lpu_from_dev(struct device *dev)
{
	return pci_get_drvdata(to_pci_dev(dev));
}

static ssize_t sram_size_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", lpu_from_dev(dev)->sram_size);
}
static DEVICE_ATTR_RO(sram_size);

static ssize_t sram_used_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct lpu_device *ldev = lpu_from_dev(dev);

	return sysfs_emit(buf, "%llu\n",
			  ldev->sram_size - lpu_sram_free_bytes(ldev));
}
static DEVICE_ATTR_RO(sram_used);

static ssize_t queue_count_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", lpu_from_dev(dev)->queue_count);
}
static DEVICE_ATTR_RO(queue_count);

static const char *lpu_queue_state(struct lpu_queue *q)
{
	u32 status = lpu_qread(q, LPU_Q_STATUS);

	if (status & LPU_Q_STATUS_HALTED)
		return "halted";
	if (status & LPU_Q_STATUS_BUSY)
		return "busy";
	return "idle";
}

static ssize_t queue_status_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct lpu_device *ldev = lpu_from_dev(dev);
	ssize_t len = 0;
	u32 i;

	for (i = 0; i < ldev->queue_count; i++)
		len += sysfs_emit_at(buf, len, "%s%s", i ? " " : "",
				     lpu_queue_state(&ldev->queues[i]));
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}
static DEVICE_ATTR_RO(queue_status);

static ssize_t hw_version_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct lpu_device *ldev = lpu_from_dev(dev);

	return sysfs_emit(buf, "%u.%u\n",
			  ldev->hw_version >> LPU_VERSION_MAJOR_SHIFT,
			  ldev->hw_version & LPU_VERSION_MINOR_MASK);
}
static DEVICE_ATTR_RO(hw_version);

static ssize_t clock_mhz_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  lpu_read(lpu_from_dev(dev), LPU_REG_CLOCK));
}
static DEVICE_ATTR_RO(clock_mhz);

static struct attribute *lpu_dev_attrs[] = {
	&dev_attr_sram_size.attr,
	&dev_attr_sram_used.attr,
	&dev_attr_queue_count.attr,
	&dev_attr_queue_status.attr,
	&dev_attr_hw_version.attr,
	&dev_attr_clock_mhz.attr,
	NULL
};

static const struct attribute_group lpu_dev_group = {
	.attrs = lpu_dev_attrs,
};

const struct attribute_group *lpu_dev_groups[] = {
	&lpu_dev_group,
	NULL
};

static umode_t lpu_hwmon_is_visible(const void *data,
				    enum hwmon_sensor_types type,
				    u32 attr, int channel)
{
	return 0444;
}

static int lpu_hwmon_read(struct device *dev, enum hwmon_sensor_types type,
			  u32 attr, int channel, long *val)
{
	struct lpu_device *ldev = dev_get_drvdata(dev);

	switch (type) {
	case hwmon_temp:
		*val = lpu_read(ldev, LPU_REG_TEMP);
		return 0;
	case hwmon_power:
		*val = (long)lpu_read(ldev, LPU_REG_POWER) * 1000;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static const struct hwmon_channel_info * const lpu_hwmon_info[] = {
	HWMON_CHANNEL_INFO(temp, HWMON_T_INPUT),
	HWMON_CHANNEL_INFO(power, HWMON_P_INPUT),
	NULL
};

static const struct hwmon_ops lpu_hwmon_ops = {
	.is_visible = lpu_hwmon_is_visible,
	.read = lpu_hwmon_read,
};

static const struct hwmon_chip_info lpu_hwmon_chip = {
	.ops = &lpu_hwmon_ops,
	.info = lpu_hwmon_info,
};

int lpu_hwmon_init(struct lpu_device *ldev)
{
	struct device *hwmon;

	hwmon = devm_hwmon_device_register_with_info(ldev->drm.dev, "lpu",
						     ldev, &lpu_hwmon_chip,
						     NULL);
	return PTR_ERR_OR_ZERO(hwmon);
}
