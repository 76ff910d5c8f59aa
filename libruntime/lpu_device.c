// SPDX-License-Identifier: MIT
/*
 * liblpu: finding cards (libudev), hotplug, opening and querying a card.
 *
 * A card is an "accel" class device whose parent PCI device is bound to
 * the "lpu" driver. Its sysfs attributes (sram_size, queue_status, ...)
 * live on the PCI device, its sensors under the PCI device's
 * hwmon/hwmonN/.
 *
 * Copyright (C) 2026 The lpu authors
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libudev.h>

#include "lpu_internal.h"

#define LPU_DRIVER_NAME		"lpu"

/* ---- sysfs ------------------------------------------------------------- */

/* Read a small sysfs file into @buf without its trailing newline. */
static int read_attr(const char *dir, const char *name, char *buf,
		     size_t len)
{
	char path[PATH_MAX + 512];
	ssize_t n;
	int fd;

	if (!dir[0])
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

static int read_attr_ll(const char *dir, const char *name, long long *v)
{
	char buf[64], *end;
	int r = read_attr(dir, name, buf, sizeof(buf));

	if (r)
		return r;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

/* A value of the first hwmon device of the PCI device. */
static int read_hwmon(const char *syspath, const char *name, long long *v)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = -ENOENT;

	if (!syspath[0])
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%s/hwmon", syspath);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char sub[PATH_MAX + 256];

		if (strncmp(de->d_name, "hwmon", 5))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		r = read_attr_ll(sub, name, v);
		break;
	}
	closedir(d);
	return r;
}

int lpu_device_idle_queues(struct lpu_device *dev, uint32_t *mask)
{
	char buf[512], *s, *save = NULL, *word;
	uint32_t q = 0;
	int r = read_attr(dev->syspath, "queue_status", buf, sizeof(buf));

	if (r)
		return r;
	*mask = 0;
	for (s = buf; (word = strtok_r(s, " \t", &save)); s = NULL, q++)
		if (q < 32 && !strcmp(word, "idle"))
			*mask |= 1u << q;
	return 0;
}

uint32_t lpu_device_pick_queue(struct lpu_device *dev)
{
	static atomic_uint counter;
	uint32_t n = dev->info.queue_count, idle = 0, start, k, q;
	bool have_idle;

	if (n <= 1)
		return 0;
	start = ((uint32_t)getpid() + atomic_fetch_add(&counter, 1)) % n;
	have_idle = !lpu_device_idle_queues(dev, &idle);
	/* idle and without a stream of ours, then without a stream of ours */
	for (k = 0; have_idle && k < n; k++) {
		q = (start + k) % n;
		if (q < 32 && (idle & (1u << q)) &&
		    (q >= LPU_MAX_QUEUES || !atomic_load(&dev->queue_streams[q])))
			return q;
	}
	for (k = 0; k < n; k++) {
		q = (start + k) % n;
		if (q >= LPU_MAX_QUEUES || !atomic_load(&dev->queue_streams[q]))
			return q;
	}
	return start;
}

/* ---- discovery --------------------------------------------------------- */

struct lpu_attr_cache {
	struct lpu_attr_cache *next;
	size_t index;
	char *name;
	char *value;
};

struct lpu_card_entry {
	char *node;
	char *pci;
	char *syspath;		/* PCI device */
	dev_t devnum;
};

struct lpu_device_list {
	struct lpu_card_entry *cards;
	size_t count;
	struct lpu_attr_cache *attrs;
};

/*
 * The PCI parent of an accel device when it is bound to the lpu driver,
 * else NULL (not referenced: it lives as long as @dev).
 */
static struct udev_device *lpu_pci_parent(struct udev_device *dev)
{
	struct udev_device *pci;
	const char *drv;

	pci = udev_device_get_parent_with_subsystem_devtype(dev, "pci", NULL);
	if (!pci)
		return NULL;
	drv = udev_device_get_driver(pci);
	if (!drv || strcmp(drv, LPU_DRIVER_NAME))
		return NULL;
	return pci;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct lpu_card_entry *x = a, *y = b;

	if (major(x->devnum) != major(y->devnum))
		return major(x->devnum) < major(y->devnum) ? -1 : 1;
	if (minor(x->devnum) != minor(y->devnum))
		return minor(x->devnum) < minor(y->devnum) ? -1 : 1;
	return strcmp(x->node, y->node);
}

static int list_scan(struct lpu_device_list *list)
{
	struct udev_list_entry *le;
	struct udev_enumerate *en;
	struct udev *udev;
	size_t cap = 0;
	int r;

	udev = udev_new();
	if (!udev)
		return lpu_error(-ENOMEM, "udev_new() failed");
	en = udev_enumerate_new(udev);
	if (!en) {
		udev_unref(udev);
		return lpu_error(-ENOMEM, "udev_enumerate_new() failed");
	}
	r = udev_enumerate_add_match_subsystem(en, "accel");
	if (!r)
		r = udev_enumerate_scan_devices(en);
	if (r < 0) {
		udev_enumerate_unref(en);
		udev_unref(udev);
		return lpu_error(r, "enumerating accel devices: %s",
				 strerror(-r));
	}
	r = 0;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(en)) {
		const char *path = udev_list_entry_get_name(le);
		struct udev_device *dev, *pci;
		struct lpu_card_entry *e;
		const char *devnode;

		dev = udev_device_new_from_syspath(udev, path);
		if (!dev)
			continue;
		pci = lpu_pci_parent(dev);
		devnode = udev_device_get_devnode(dev);
		if (!pci || !devnode) {
			udev_device_unref(dev);
			continue;
		}
		if (list->count == cap) {
			size_t ncap = cap ? 2 * cap : 4;
			void *n = realloc(list->cards, ncap * sizeof(*e));

			if (!n) {
				udev_device_unref(dev);
				r = -ENOMEM;
				break;
			}
			list->cards = n;
			cap = ncap;
		}
		e = &list->cards[list->count];
		e->node = strdup(devnode);
		e->pci = strdup(udev_device_get_sysname(pci));
		e->syspath = strdup(udev_device_get_syspath(pci));
		e->devnum = udev_device_get_devnum(dev);
		udev_device_unref(dev);
		if (!e->node || !e->pci || !e->syspath) {
			free(e->node);
			free(e->pci);
			free(e->syspath);
			r = -ENOMEM;
			break;
		}
		list->count++;
	}
	udev_enumerate_unref(en);
	udev_unref(udev);
	if (r)
		return lpu_error(r, "enumerating accel devices: out of memory");
	qsort(list->cards, list->count, sizeof(*list->cards), entry_cmp);
	return 0;
}

LPU_EXPORT void lpu_device_list_free(struct lpu_device_list *list)
{
	struct lpu_attr_cache *a, *next;
	size_t i;

	if (!list)
		return;
	for (i = 0; i < list->count; i++) {
		free(list->cards[i].node);
		free(list->cards[i].pci);
		free(list->cards[i].syspath);
	}
	for (a = list->attrs; a; a = next) {
		next = a->next;
		free(a->name);
		free(a->value);
		free(a);
	}
	free(list->cards);
	free(list);
}

LPU_EXPORT int lpu_device_list_new(struct lpu_device_list **out)
{
	struct lpu_device_list *list;
	int r;

	if (!out)
		return lpu_error(-EINVAL, "lpu_device_list_new: out is NULL");
	list = calloc(1, sizeof(*list));
	if (!list)
		return lpu_error(-ENOMEM, "lpu_device_list_new: out of memory");
	r = list_scan(list);
	if (r) {
		lpu_device_list_free(list);
		return r;
	}
	*out = list;
	return 0;
}

LPU_EXPORT size_t lpu_device_list_count(const struct lpu_device_list *list)
{
	return list ? list->count : 0;
}

LPU_EXPORT const char *lpu_device_list_node(const struct lpu_device_list *list,
					    size_t i)
{
	return list && i < list->count ? list->cards[i].node : NULL;
}

LPU_EXPORT const char *
lpu_device_list_pci_address(const struct lpu_device_list *list, size_t i)
{
	return list && i < list->count ? list->cards[i].pci : NULL;
}

LPU_EXPORT const char *lpu_device_list_attr(const struct lpu_device_list *list,
					    size_t i, const char *name)
{
	struct lpu_device_list *l = (struct lpu_device_list *)list;
	struct lpu_attr_cache *a;
	char buf[4096];

	if (!list || i >= list->count || !name || !name[0] ||
	    strchr(name, '/') || !strcmp(name, ".."))
		return NULL;
	for (a = l->attrs; a; a = a->next)
		if (a->index == i && !strcmp(a->name, name))
			return a->value;
	if (read_attr(list->cards[i].syspath, name, buf, sizeof(buf)))
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->index = i;
	a->name = strdup(name);
	a->value = strdup(buf);
	if (!a->name || !a->value) {
		free(a->name);
		free(a->value);
		free(a);
		return NULL;
	}
	a->next = l->attrs;
	l->attrs = a;
	return a->value;
}

/* ---- hotplug ----------------------------------------------------------- */

struct lpu_monitor {
	struct udev *udev;
	struct udev_monitor *mon;
	char **known;		/* nodes of the lpu cards seen */
	size_t n_known;
};

static int monitor_remember(struct lpu_monitor *m, const char *node)
{
	char **n;
	size_t i;

	for (i = 0; i < m->n_known; i++)
		if (!strcmp(m->known[i], node))
			return 0;
	n = realloc(m->known, (m->n_known + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->known = n;
	m->known[m->n_known] = strdup(node);
	if (!m->known[m->n_known])
		return -ENOMEM;
	m->n_known++;
	return 0;
}

/* Forget @node; true if it was known. */
static bool monitor_forget(struct lpu_monitor *m, const char *node)
{
	size_t i;

	for (i = 0; i < m->n_known; i++) {
		if (strcmp(m->known[i], node))
			continue;
		free(m->known[i]);
		m->known[i] = m->known[--m->n_known];
		return true;
	}
	return false;
}

LPU_EXPORT void lpu_monitor_free(struct lpu_monitor *mon)
{
	size_t i;

	if (!mon)
		return;
	if (mon->mon)
		udev_monitor_unref(mon->mon);
	if (mon->udev)
		udev_unref(mon->udev);
	for (i = 0; i < mon->n_known; i++)
		free(mon->known[i]);
	free(mon->known);
	free(mon);
}

LPU_EXPORT int lpu_monitor_new(struct lpu_monitor **out)
{
	struct lpu_device_list *list = NULL;
	struct lpu_monitor *m;
	const char *source;
	size_t i;
	int r;

	if (!out)
		return lpu_error(-EINVAL, "lpu_monitor_new: out is NULL");
	m = calloc(1, sizeof(*m));
	if (!m)
		return lpu_error(-ENOMEM, "lpu_monitor_new: out of memory");
	m->udev = udev_new();
	if (!m->udev) {
		r = lpu_error(-ENOMEM, "udev_new() failed");
		goto err;
	}
	/*
	 * Events after udevd has handled them (the node exists with its
	 * permissions); without udevd (a minimal system), the kernel's.
	 */
	source = access("/run/udev/control", F_OK) ? "kernel" : "udev";
	m->mon = udev_monitor_new_from_netlink(m->udev, source);
	if (!m->mon) {
		r = lpu_error(-errno ? -errno : -ENOMEM,
			      "cannot listen to %s device events", source);
		goto err;
	}
	r = udev_monitor_filter_add_match_subsystem_devtype(m->mon, "accel",
							     NULL);
	if (!r)
		r = udev_monitor_enable_receiving(m->mon);
	if (r < 0) {
		r = lpu_error(r, "cannot listen to %s device events: %s",
			      source, strerror(-r));
		goto err;
	}
	/* the cards present now, so that their removal is reported */
	r = lpu_device_list_new(&list);
	if (r)
		goto err;
	for (i = 0; i < list->count && !r; i++)
		r = monitor_remember(m, list->cards[i].node);
	lpu_device_list_free(list);
	if (r) {
		r = lpu_error(r, "lpu_monitor_new: out of memory");
		goto err;
	}
	*out = m;
	return 0;
err:
	lpu_monitor_free(m);
	return r;
}

LPU_EXPORT int lpu_monitor_fd(const struct lpu_monitor *mon)
{
	if (!mon)
		return lpu_error(-EINVAL, "lpu_monitor_fd: mon is NULL");
	return udev_monitor_get_fd(mon->mon);
}

LPU_EXPORT int lpu_monitor_read(struct lpu_monitor *mon, int *event,
				char *node, size_t len)
{
	if (!mon || !event || !node || !len)
		return lpu_error(-EINVAL, "lpu_monitor_read: NULL argument");
	for (;;) {
		struct udev_device *dev;
		const char *action, *devnode;
		int ev = 0, r = 0;

		dev = udev_monitor_receive_device(mon->mon);
		if (!dev)
			return 0;	/* nothing pending */
		action = udev_device_get_action(dev);
		devnode = udev_device_get_devnode(dev);
		if (action && devnode && !strcmp(action, "add") &&
		    lpu_pci_parent(dev)) {
			ev = LPU_MONITOR_ADD;
			r = monitor_remember(mon, devnode);
		} else if (action && devnode && !strcmp(action, "remove") &&
			   monitor_forget(mon, devnode)) {
			ev = LPU_MONITOR_REMOVE;
		}
		if (ev && strlen(devnode) >= len) {
			r = lpu_error(-ERANGE,
				      "lpu_monitor_read: the node name %s needs %zu bytes, the buffer has %zu (event lost)",
				      devnode, strlen(devnode) + 1, len);
			ev = 0;
		} else if (ev) {
			strcpy(node, devnode);
			*event = ev;
		}
		udev_device_unref(dev);
		if (r < 0)
			return r == -ERANGE ? r :
			       lpu_error(r, "lpu_monitor_read: out of memory");
		if (ev)
			return 1;
	}
}

/* ---- devices ----------------------------------------------------------- */

/* PCI address and sysfs path of the card behind an open node. */
static void device_find_pci(struct lpu_device *dev)
{
	struct udev_device *ud, *pci;
	struct udev *udev;
	struct stat st;

	if (fstat(dev->fd, &st) || !S_ISCHR(st.st_mode))
		return;
	udev = udev_new();
	if (!udev)
		return;
	ud = udev_device_new_from_devnum(udev, 'c', st.st_rdev);
	pci = ud ? lpu_pci_parent(ud) : NULL;
	if (pci) {
		snprintf(dev->pci, sizeof(dev->pci), "%s",
			 udev_device_get_sysname(pci));
		snprintf(dev->syspath, sizeof(dev->syspath), "%s",
			 udev_device_get_syspath(pci));
	}
	if (ud)
		udev_device_unref(ud);
	udev_unref(udev);
}

static int device_query(struct lpu_device *dev,
			struct drm_lpu_device_info *info)
{
	struct drm_lpu_query q = {
		.info = (uintptr_t)info,
		.size = sizeof(*info),
	};

	memset(info, 0, sizeof(*info));
	return lpu_ioctl(dev->fd, DRM_IOCTL_LPU_QUERY, &q);
}

int lpu_device_sram_free(struct lpu_device *dev, uint64_t *sram_free)
{
	struct drm_lpu_device_info info;
	int r = device_query(dev, &info);

	if (r)
		return r;
	*sram_free = info.sram_free;
	return 0;
}

/* Open @node and check that it is an lpu accel node. */
static int device_open_node(const char *node, struct lpu_device *dev)
{
	struct drm_version v;
	char name[64] = "";
	int r;

	snprintf(dev->node, sizeof(dev->node), "%s", node);
	dev->fd = lpu_ops->open(node, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		r = -errno;
		return lpu_error(r, "%s: cannot open: %s%s", node,
				 strerror(-r), r == -EACCES ?
				 " (is a udev rule giving access to accel nodes installed?)" :
				 "");
	}
	memset(&v, 0, sizeof(v));
	v.name = name;
	v.name_len = sizeof(name) - 1;
	r = lpu_ioctl(dev->fd, DRM_IOCTL_VERSION, &v);
	if (r)
		return lpu_error(-ENODEV, "%s: not a DRM device (%s)", node,
				 strerror(-r));
	name[sizeof(name) - 1] = '\0';
	if (v.name_len < sizeof(name))
		name[v.name_len] = '\0';
	if (strcmp(name, LPU_DRIVER_NAME))
		return lpu_error(-ENODEV,
				 "%s: a device of the '%s' driver, not an LPU card",
				 node, name);
	r = device_query(dev, &dev->info);
	if (r)
		return lpu_error(r, "%s: DRM_IOCTL_LPU_QUERY: %s", node,
				 strerror(-r));
	if (!dev->info.queue_count)
		return lpu_error(-ENODEV, "%s: the card reports no queues",
				 node);
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

LPU_EXPORT void lpu_device_close(struct lpu_device *dev)
{
	if (!dev)
		return;
	lpu_model_stage_free(dev);	/* model loads' staging buffer */
	if (dev->fd >= 0)
		close(dev->fd);
	free(dev);
}

LPU_EXPORT int lpu_device_open(const char *spec, struct lpu_device **out)
{
	struct lpu_device_list *list = NULL;
	struct lpu_device *dev;
	const char *node = NULL;
	size_t i;
	int r;

	if (!out)
		return lpu_error(-EINVAL, "lpu_device_open: out is NULL");
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return lpu_error(-ENOMEM, "lpu_device_open: out of memory");
	dev->fd = -1;
	if (!spec)
		spec = "";

	if (spec[0] == '/') {
		node = spec;
	} else {
		r = lpu_device_list_new(&list);
		if (r)
			goto err;
		if (!spec[0]) {
			if (list->count)
				i = 0;
			else
				i = SIZE_MAX;
		} else if (all_digits(spec)) {
			errno = 0;
			i = strtoul(spec, NULL, 10);
			if (errno || i >= list->count)
				i = SIZE_MAX;
		} else {
			size_t sl = strlen(spec);

			for (i = 0; i < list->count; i++) {
				const char *p = list->cards[i].pci;
				size_t pl = strlen(p);

				/* "0000:00:04.0", or "00:04.0" for domain 0 */
				if (!strcmp(p, spec) ||
				    (pl == sl + 5 && !strncmp(p, "0000:", 5) &&
				     !strcmp(p + 5, spec)))
					break;
			}
			if (i == list->count)
				i = SIZE_MAX;
		}
		if (i == SIZE_MAX && !list->count) {
			r = lpu_error(-ENODEV,
				      "no LPU card found (no accel device is bound to the lpu driver)");
			goto err;
		}
		if (i == SIZE_MAX) {
			r = lpu_error(-ENODEV,
				      "no LPU card matches '%s' (%zu found: give an index below %zu, a PCI address or a node path)",
				      spec, list->count, list->count);
			goto err;
		}
		node = list->cards[i].node;
		snprintf(dev->pci, sizeof(dev->pci), "%s", list->cards[i].pci);
		snprintf(dev->syspath, sizeof(dev->syspath), "%s",
			 list->cards[i].syspath);
	}

	r = device_open_node(node, dev);
	if (r)
		goto err;
	if (!dev->syspath[0])
		device_find_pci(dev);
	lpu_device_list_free(list);
	*out = dev;
	return 0;
err:
	lpu_device_list_free(list);
	lpu_device_close(dev);
	return r;
}

LPU_EXPORT int lpu_device_fd(const struct lpu_device *dev)
{
	if (!dev)
		return lpu_error(-EINVAL, "lpu_device_fd: dev is NULL");
	return dev->fd;
}

LPU_EXPORT const char *lpu_device_node(const struct lpu_device *dev)
{
	return dev ? dev->node : NULL;
}

LPU_EXPORT const char *lpu_device_pci_address(const struct lpu_device *dev)
{
	return dev ? dev->pci : NULL;
}

LPU_EXPORT int lpu_device_query(struct lpu_device *dev,
				struct lpu_device_status *st)
{
	struct drm_lpu_device_info info;
	size_t size;
	long long v;
	uint32_t idle;
	int r;

	if (!dev || !st)
		return lpu_error(-EINVAL, "lpu_device_query: NULL argument");
	r = lpu_check_size(st->size, sizeof(*st), "lpu_device_query",
			   "lpu_device_status");
	if (r)
		return r;
	r = device_query(dev, &info);
	if (r)
		return lpu_error(r, "%s: DRM_IOCTL_LPU_QUERY: %s", dev->node,
				 strerror(-r));
	size = st->size;
	memset(st, 0, size);
	st->size = size;
	st->hw_version = info.hw_version;
	st->queue_count = info.queue_count;
	st->caps = info.caps;
	st->sram_size = info.sram_size;
	st->sram_free = info.sram_free;
	st->clock_mhz = info.clock_mhz;
	if (!read_attr_ll(dev->syspath, "clock_mhz", &v) && v > 0 &&
	    v <= UINT32_MAX)
		st->clock_mhz = (uint32_t)v;
	st->temperature_mc = INT32_MIN;
	if (!read_hwmon(dev->syspath, "temp1_input", &v) && v > INT32_MIN &&
	    v <= INT32_MAX)
		st->temperature_mc = (int32_t)v;
	st->power_uw = -1;
	if (!read_hwmon(dev->syspath, "power1_input", &v) && v >= 0)
		st->power_uw = v;
	if (!lpu_device_idle_queues(dev, &idle)) {
		uint32_t all = info.queue_count >= 32 ? UINT32_MAX :
			       (1u << info.queue_count) - 1;

		st->queue_busy = ~idle & all;
	}
	return 0;
}
