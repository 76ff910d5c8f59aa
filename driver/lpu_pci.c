// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: PCI probe and remove, hardware identification and reset.
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/dma-mapping.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <drm/drm_drv.h>
#include <drm/drm_print.h>

#include "lpu_drv.h"
#include "lpu_queue.h"
#include "lpu_pci.h"
#include "lpu_sysfs.h"

#define LPU_RESET_TIMEOUT_US	(100 * USEC_PER_MSEC)

int lpu_hw_reset(struct lpu_device *ldev)
{
	u32 status;
	int ret;

	lpu_write(ldev, LPU_REG_CTRL, LPU_CTRL_RESET);
	ret = readl_poll_timeout(ldev->regs + LPU_REG_STATUS, status,
				 status & LPU_STATUS_READY, 10,
				 LPU_RESET_TIMEOUT_US);
	if (ret)
		drm_err(&ldev->drm, "card did not come out of reset\n");
	return ret;
}

/* Program every queue and unmask the interrupts the driver handles. */
void lpu_hw_start(struct lpu_device *ldev)
{
	u32 mask = LPU_IRQ_EVENT;
	u32 i;

	for (i = 0; i < ldev->queue_count; i++) {
		lpu_queue_hw_init(&ldev->queues[i]);
		mask |= LPU_IRQ_QUEUE(i);
	}
	lpu_write(ldev, LPU_REG_IRQ_CAUSE, ~0u);
	lpu_write(ldev, LPU_REG_IRQ_MASK, mask);
}

static int lpu_hw_identify(struct lpu_device *ldev)
{
	u32 id = lpu_read(ldev, LPU_REG_ID);
	u32 major;

	if (id != LPU_ID_MAGIC) {
		drm_err(&ldev->drm, "unexpected ID register 0x%08x\n", id);
		return -ENODEV;
	}
	ldev->hw_version = lpu_read(ldev, LPU_REG_VERSION);
	major = ldev->hw_version >> LPU_VERSION_MAJOR_SHIFT;
	if (major != LPU_HW_VERSION_MAJOR) {
		drm_err(&ldev->drm, "unsupported hardware interface %u.%u\n",
			major, ldev->hw_version & LPU_VERSION_MINOR_MASK);
		return -ENODEV;
	}
	ldev->hw_caps = lpu_read(ldev, LPU_REG_CAPS);
	ldev->queue_count = lpu_read(ldev, LPU_REG_QUEUE_COUNT);
	if (!ldev->queue_count || ldev->queue_count > LPU_MAX_QUEUES) {
		drm_err(&ldev->drm, "bad queue count %u\n", ldev->queue_count);
		return -ENODEV;
	}
	ldev->sram_size = lpu_read(ldev, LPU_REG_SRAM_SIZE_LO) |
			  (u64)lpu_read(ldev, LPU_REG_SRAM_SIZE_HI) << 32;
	if (ldev->sram_size < LPU_SRAM_ALIGN) {
		drm_err(&ldev->drm, "bad SRAM size %llu\n", ldev->sram_size);
		return -ENODEV;
	}
	ldev->clock_mhz = lpu_read(ldev, LPU_REG_CLOCK);
	/* SRAM is cleared before it changes owner: the card must do it. */
	if (!(ldev->hw_caps & LPU_CAP_SRAM_CLEAR)) {
		drm_err(&ldev->drm, "card cannot clear SRAM\n");
		return -ENODEV;
	}
	return 0;
}

static int lpu_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct lpu_device *ldev;
	int ret;

	ldev = devm_drm_dev_alloc(&pdev->dev, &lpu_drm_driver,
				  struct lpu_device, drm);
	if (IS_ERR(ldev))
		return PTR_ERR(ldev);
	ldev->pdev = pdev;
	pci_set_drvdata(pdev, ldev);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;

	ldev->regs = pcim_iomap_region(pdev, LPU_BAR_REGS, LPU_DRIVER_NAME);
	if (IS_ERR(ldev->regs))
		return PTR_ERR(ldev->regs);

	ret = lpu_hw_identify(ldev);
	if (ret)
		return ret;

	ret = lpu_device_init(ldev);
	if (ret)
		return ret;

	ret = drm_dev_register(&ldev->drm, 0);
	if (ret) {
		lpu_device_fini(ldev);
		return ret;
	}

	drm_info(&ldev->drm, "LPU %u.%u, %llu MiB SRAM, %u queues, %s\n",
		 ldev->hw_version >> LPU_VERSION_MAJOR_SHIFT,
		 ldev->hw_version & LPU_VERSION_MINOR_MASK,
		 ldev->sram_size >> 20, ldev->queue_count,
		 ldev->msix ? "MSI-X" : "single interrupt");
	return 0;
}

static void lpu_pci_remove(struct pci_dev *pdev)
{
	struct lpu_device *ldev = pci_get_drvdata(pdev);

	/* No ioctl or job reaches the card after this returns. */
	drm_dev_unplug(&ldev->drm);
	lpu_device_fini(ldev);
}

static void lpu_pci_reset_prepare(struct pci_dev *pdev)
{
	struct lpu_device *ldev = pci_get_drvdata(pdev);

	lpu_device_reset_prepare(ldev);
}

static void lpu_pci_reset_done(struct pci_dev *pdev)
{
	struct lpu_device *ldev = pci_get_drvdata(pdev);

	lpu_device_reset_done(ldev);
}

static const struct pci_error_handlers lpu_pci_err_handlers = {
	.reset_prepare = lpu_pci_reset_prepare,
	.reset_done = lpu_pci_reset_done,
};

static const struct pci_device_id lpu_pci_ids[] = {
	{ PCI_DEVICE(LPU_PCI_VENDOR_ID, LPU_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, lpu_pci_ids);

struct pci_driver lpu_pci_driver = {
	.name = LPU_DRIVER_NAME,
	.id_table = lpu_pci_ids,
	.probe = lpu_pci_probe,
	.remove = lpu_pci_remove,
	.err_handler = &lpu_pci_err_handlers,
	.dev_groups = lpu_dev_groups,
};
