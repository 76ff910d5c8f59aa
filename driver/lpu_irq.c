// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: interrupts.
 *
 * With MSI-X the card has a vector per queue plus one for device events.
 * Otherwise one MSI or INTx vector serves everything and IRQ_CAUSE says
 * which sources are pending.
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/interrupt.h>
#include <linux/pci.h>
#include <drm/drm_print.h>

#include "lpu_drv.h"
#include "lpu_irq.h"
#include "lpu_queue.h"

/*
 * A device event: some queue halted. EVENT keeps only the last event, so
 * every queue's HALTED bit is checked.
 */
static void lpu_irq_handle_event(struct lpu_device *ldev)
{
	u32 event, i;

	lpu_write(ldev, LPU_REG_IRQ_CAUSE, LPU_IRQ_EVENT);
	event = lpu_read(ldev, LPU_REG_EVENT);

	for (i = 0; i < ldev->queue_count; i++) {
		struct lpu_queue *q = &ldev->queues[i];

		if (!(lpu_qread(q, LPU_Q_STATUS) & LPU_Q_STATUS_HALTED))
			continue;
		drm_err_ratelimited(&ldev->drm,
				    "card halted queue %u (last event 0x%x)\n",
				    i, event);
		lpu_queue_halted(q);
	}
}

/* Queue vectors run threaded: signalling progress points may sleep. */
static irqreturn_t lpu_irq_queue_thread(int irq, void *arg)
{
	lpu_queue_irq(arg);
	return IRQ_HANDLED;
}

static irqreturn_t lpu_irq_event(int irq, void *arg)
{
	lpu_irq_handle_event(arg);
	return IRQ_HANDLED;
}

static u32 lpu_irq_pending(struct lpu_device *ldev)
{
	return lpu_read(ldev, LPU_REG_IRQ_CAUSE) &
	       lpu_read(ldev, LPU_REG_IRQ_MASK);
}

/* The single vector of MSI or INTx mode, possibly shared. */
static irqreturn_t lpu_irq_single(int irq, void *arg)
{
	return lpu_irq_pending(arg) ? IRQ_WAKE_THREAD : IRQ_NONE;
}

static irqreturn_t lpu_irq_single_thread(int irq, void *arg)
{
	struct lpu_device *ldev = arg;
	u32 cause = lpu_irq_pending(ldev);
	u32 i;

	for (i = 0; i < ldev->queue_count; i++)
		if (cause & LPU_IRQ_QUEUE(i))
			lpu_queue_irq(&ldev->queues[i]);
	if (cause & LPU_IRQ_EVENT)
		lpu_irq_handle_event(ldev);
	return IRQ_HANDLED;
}

static int lpu_irq_request(struct lpu_device *ldev, u32 vector,
			   irq_handler_t handler, irq_handler_t thread,
			   void *arg, const char *what)
{
	struct device *dev = ldev->drm.dev;
	unsigned long flags = thread ? IRQF_ONESHOT : 0;
	const char *name;

	if (!ldev->msix)
		flags |= IRQF_SHARED;
	name = devm_kasprintf(dev, GFP_KERNEL, "lpu-%s-%s", pci_name(ldev->pdev),
			      what);
	if (!name)
		return -ENOMEM;
	return devm_request_threaded_irq(dev,
					 pci_irq_vector(ldev->pdev, vector),
					 handler, thread, flags, name, arg);
}

int lpu_irq_init(struct lpu_device *ldev)
{
	struct pci_dev *pdev = ldev->pdev;
	u32 nvec = ldev->queue_count + 1;
	char what[16];
	u32 i;
	int ret;

	ret = pci_alloc_irq_vectors(pdev, nvec, nvec, PCI_IRQ_MSIX);
	if (ret < 0) {
		ret = pci_alloc_irq_vectors(pdev, 1, 1,
					    PCI_IRQ_MSI | PCI_IRQ_INTX);
		if (ret < 0)
			return ret;
		return lpu_irq_request(ldev, 0, lpu_irq_single,
				       lpu_irq_single_thread, ldev, "irq");
	}

	ldev->msix = true;
	for (i = 0; i < ldev->queue_count; i++) {
		snprintf(what, sizeof(what), "q%u", i);
		ret = lpu_irq_request(ldev, i, NULL, lpu_irq_queue_thread,
				      &ldev->queues[i], what);
		if (ret)
			return ret;
	}
	return lpu_irq_request(ldev, ldev->queue_count, lpu_irq_event, NULL,
			       ldev, "event");
}
