/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: PCI driver.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_PCI_H__
#define __LPU_PCI_H__

#include <linux/pci.h>

extern struct pci_driver lpu_pci_driver;

#endif /* __LPU_PCI_H__ */
