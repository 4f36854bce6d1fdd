/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilProcConnector"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <libmnl/libmnl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "vigil-cleanups.h"
#include "vigil-error.h"
#include "vigil-proc-connector.h"
#include "vigil-process.h"

/*
 * NETLINK_CONNECTOR proc events: fork, exec, uid change and exit of every process, pushed by
 * the kernel. The connector exists only in the initial network namespace and only answers
 * listeners in the initial user and pid namespaces. When vigild runs in another network
 * namespace (the netns tests, or a host with the firewall in a namespace) the socket is
 * opened from a short-lived thread that joins pid 1's network namespace; a socket keeps the
 * namespace it was made in.
 *
 * The subscription is acknowledged by the kernel with a PROC_EVENT_NONE message; a kernel
 * that ignores a listener (not in the initial namespaces) sends none, which start() reports
 * as an error so that the caller falls back to /proc scans.
 */

#define VIGIL_PROC_CONNECTOR_RCVBUF (4 * 1024 * 1024)

struct _VigilProcConnector {
	VigilProcConnectorFunc func;
	gpointer user_data;
	gint fd;
	GSource *watch;
	gpointer watch_tag; /* of the fd in @watch, for what the last poll saw */
	guint8 *buf;	    /* MNL_SOCKET_BUFFER_SIZE */
};

/* a unix fd source whose fd tag we keep, unlike g_unix_fd_source_new()'s */
static gboolean
vigil_proc_connector_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	return ((GSourceFunc)callback)(user_data);
}

static GSourceFuncs vigil_proc_connector_source_funcs = {
    .dispatch = vigil_proc_connector_source_dispatch,
};

VigilProcConnector *
vigil_proc_connector_new(VigilProcConnectorFunc func, gpointer user_data)
{
	VigilProcConnector *self = g_new0(VigilProcConnector, 1);

	self->func = func;
	self->user_data = user_data;
	self->fd = -1;
	self->buf = g_malloc(MNL_SOCKET_BUFFER_SIZE);
	return self;
}

void
vigil_proc_connector_free(VigilProcConnector *self)
{
	if (self == NULL)
		return;
	if (self->watch != NULL) {
		g_source_destroy(self->watch);
		g_source_unref(self->watch);
	}
	if (self->fd >= 0)
		g_close(self->fd, NULL);
	g_free(self->buf);
	g_free(self);
}

gboolean
vigil_proc_connector_is_running(VigilProcConnector *self)
{
	g_return_val_if_fail(self != NULL, FALSE);
	return self->fd >= 0;
}

static gint
vigil_proc_connector_socket_here(gint *errsv)
{
	gint fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);

	if (fd < 0)
		*errsv = errno;
	return fd;
}

typedef struct {
	gint netns_fd;
	gint fd;
	gint errsv;
} VigilProcConnectorOpen;

static gpointer
vigil_proc_connector_open_thread_cb(gpointer user_data)
{
	VigilProcConnectorOpen *helper = user_data;

	/* only this thread moves; it ends right after, taking the namespace with it */
	if (setns(helper->netns_fd, CLONE_NEWNET) < 0) {
		helper->errsv = errno;
		return NULL;
	}
	helper->fd = vigil_proc_connector_socket_here(&helper->errsv);
	return NULL;
}

/* a NETLINK_CONNECTOR socket in the initial network namespace */
static gint
vigil_proc_connector_socket_open(GError **error)
{
	g_auto(VigilFd) init_netns_fd = -1;
	struct stat st_self;
	struct stat st_init;
	VigilProcConnectorOpen helper = {.fd = -1};
	GThread *thread;
	gint fd;
	gint errsv = 0;

	init_netns_fd = vigil_proc_open_init_ns("net");
	if (init_netns_fd < 0 || fstat(init_netns_fd, &st_init) < 0 ||
	    stat("/proc/self/ns/net", &st_self) < 0 || st_self.st_ino == st_init.st_ino) {
		fd = vigil_proc_connector_socket_here(&errsv);
		if (fd < 0) {
			vigil_error_set_errno(error, errsv, "failed to open the proc connector");
		}
		return fd;
	}

	g_debug("opening the proc connector in the initial network namespace");
	helper.netns_fd = init_netns_fd;
	thread = g_thread_new("vigil-cn-open", vigil_proc_connector_open_thread_cb, &helper);
	g_thread_join(thread);
	if (helper.fd < 0) {
		vigil_error_set_errno(
		    error,
		    helper.errsv,
		    "failed to open the proc connector in the initial network namespace");
	}
	return helper.fd;
}

static gboolean
vigil_proc_connector_send_op(VigilProcConnector *self, guint32 op, GError **error)
{
	guint8 buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(guint32))] = {0};
	struct nlmsghdr *nlh;
	struct cn_msg *msg;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_pid = 0;
	msg = mnl_nlmsg_put_extra_header(nlh, sizeof(struct cn_msg) + sizeof(guint32));
	msg->id.idx = CN_IDX_PROC;
	msg->id.val = CN_VAL_PROC;
	msg->len = sizeof(guint32);
	memcpy(msg->data, &op, sizeof(op));
	if (send(self->fd, nlh, nlh->nlmsg_len, 0) < 0) {
		return vigil_error_set_errno(error, errno, "failed to subscribe to proc events");
	}
	return TRUE;
}

static void
vigil_proc_connector_emit(VigilProcConnector *self, const VigilProcEvent *event)
{
	if (self->func != NULL)
		self->func(event, self->user_data);
}

/* returns TRUE for the subscription's acknowledgement, with its error in @ack_err */
static gboolean
vigil_proc_connector_handle(VigilProcConnector *self, const struct nlmsghdr *nlh, guint32 *ack_err)
{
	const struct cn_msg *msg;
	const struct proc_event *ev;
	VigilProcEvent event = {0};

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct cn_msg))
		return FALSE;
	msg = mnl_nlmsg_get_payload(nlh);
	if (msg->id.idx != CN_IDX_PROC || msg->id.val != CN_VAL_PROC)
		return FALSE;
	if (msg->len < G_STRUCT_OFFSET(struct proc_event, event_data) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct cn_msg) + msg->len)
		return FALSE;
	ev = (const struct proc_event *)msg->data;
	event.timestamp_ns = ev->timestamp_ns;
	switch (ev->what) {
	case PROC_EVENT_NONE:
		*ack_err = ev->event_data.ack.err;
		return TRUE;
	case PROC_EVENT_FORK:
		/* a new thread shares its process's tgid: not a process */
		if (ev->event_data.fork.child_pid != ev->event_data.fork.child_tgid)
			return FALSE;
		event.kind = VIGIL_PROC_EVENT_FORK;
		event.pid = (guint32)ev->event_data.fork.child_tgid;
		event.parent_pid = (guint32)ev->event_data.fork.parent_tgid;
		break;
	case PROC_EVENT_EXEC:
		event.kind = VIGIL_PROC_EVENT_EXEC;
		event.pid = (guint32)ev->event_data.exec.process_tgid;
		break;
	case PROC_EVENT_UID:
		event.kind = VIGIL_PROC_EVENT_UID;
		event.pid = (guint32)ev->event_data.id.process_tgid;
		break;
	case PROC_EVENT_EXIT:
		if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid)
			return FALSE;
		event.kind = VIGIL_PROC_EVENT_EXIT;
		event.pid = (guint32)ev->event_data.exit.process_tgid;
		event.parent_pid = (guint32)ev->event_data.exit.parent_tgid;
		break;
	default:
		return FALSE;
	}
	vigil_proc_connector_emit(self, &event);
	return FALSE;
}

/* reads what is queued and returns the number of events; @got_ack is set when the
 * subscription's acknowledgement was among it */
static guint
vigil_proc_connector_read(VigilProcConnector *self, gboolean *got_ack, guint32 *ack_err)
{
	guint count = 0;

	/* bounded, so that a fork storm cannot starve the rest of the main loop */
	for (guint i = 0; i < 4096; i++) {
		ssize_t n = recv(self->fd, self->buf, MNL_SOCKET_BUFFER_SIZE, 0);
		const struct nlmsghdr *nlh;
		gint len;

		if (n < 0) {
			gint errsv = errno;
			if (errsv == EINTR)
				continue;
			if (errsv == ENOBUFS) {
				VigilProcEvent event = {.kind = VIGIL_PROC_EVENT_OVERRUN};
				g_debug("proc events were lost, resynchronising");
				vigil_proc_connector_emit(self, &event);
				count++;
				continue;
			}
			if (errsv != EAGAIN)
				g_warning("failed to read proc events: %s", g_strerror(errsv));
			break;
		}
		len = (gint)n;
		for (nlh = (const struct nlmsghdr *)self->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			guint32 err = 0;
			if (vigil_proc_connector_handle(self, nlh, &err)) {
				if (got_ack != NULL)
					*got_ack = TRUE;
				if (ack_err != NULL)
					*ack_err = err;
			} else {
				count++;
			}
		}
	}
	return count;
}

/**
 * vigil_proc_connector_dispatch:
 * @self: a #VigilProcConnector
 *
 * Delivers the events the kernel has queued so far, now, without waiting for the main loop:
 * a caller about to trust a cache drains them first.
 *
 * Returns: the number of events read
 */
guint
vigil_proc_connector_dispatch(VigilProcConnector *self)
{
	g_return_val_if_fail(self != NULL, 0);
	if (self->fd < 0)
		return 0;
	return vigil_proc_connector_read(self, NULL, NULL);
}

/**
 * vigil_proc_connector_was_empty:
 * @self: a #VigilProcConnector
 *
 * Whether the main loop's last poll found no event (nor error) waiting, so that every event
 * the kernel queued before that poll has been delivered. Only meaningful to a caller that
 * the same poll woke, dispatched at the connector's priority (the default) or a lower one:
 * the fds of lower priorities than a ready source are left out of a poll.
 *
 * Returns: %FALSE when not known
 */
gboolean
vigil_proc_connector_was_empty(VigilProcConnector *self)
{
	g_return_val_if_fail(self != NULL, FALSE);
	if (self->fd < 0 || self->watch == NULL)
		return FALSE;
	return g_source_query_unix_fd(self->watch, self->watch_tag) == 0;
}

static gboolean
vigil_proc_connector_ready_cb(gpointer user_data)
{
	VigilProcConnector *self = user_data;
	GIOCondition condition = g_source_query_unix_fd(self->watch, self->watch_tag);

	/* an overrun shows as G_IO_ERR; recv() then reports ENOBUFS and clears it */
	if (condition & (G_IO_HUP | G_IO_NVAL)) {
		VigilProcEvent event = {.kind = VIGIL_PROC_EVENT_OVERRUN};
		g_warning("the proc connector failed, falling back to /proc scans");
		g_clear_pointer(&self->watch, g_source_unref);
		g_close(self->fd, NULL);
		self->fd = -1;
		vigil_proc_connector_emit(self, &event);
		return G_SOURCE_REMOVE;
	}
	vigil_proc_connector_read(self, NULL, NULL);
	return G_SOURCE_CONTINUE;
}

/**
 * vigil_proc_connector_start:
 * @self: a #VigilProcConnector
 * @error: a #GError
 *
 * Subscribes to proc events and watches the socket on the thread-default main context.
 * Fails without CAP_NET_ADMIN, outside the initial user and pid namespaces, or on kernels
 * without CONFIG_PROC_EVENTS.
 */
gboolean
vigil_proc_connector_start(VigilProcConnector *self, GError **error)
{
	g_auto(VigilFd) fd = -1;
	struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	gint rcvbuf = VIGIL_PROC_CONNECTOR_RCVBUF;
	gboolean got_ack = FALSE;
	guint32 ack_err = 0;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(self->fd < 0, FALSE);

	fd = vigil_proc_connector_socket_open(error);
	if (fd < 0)
		return FALSE;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		return vigil_error_set_errno(error, errno, "failed to join the proc events group");
	}
	/* a burst of forks must not overrun us while the main loop is busy */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	self->fd = g_steal_fd(&fd);
	if (!vigil_proc_connector_send_op(self, PROC_CN_MCAST_LISTEN, error)) {
		g_close(self->fd, NULL);
		self->fd = -1;
		return FALSE;
	}
	/* the kernel handles the request inside send(): its answer is queued by now */
	vigil_proc_connector_read(self, &got_ack, &ack_err);
	if (!got_ack || ack_err != 0) {
		g_close(self->fd, NULL);
		self->fd = -1;
		if (!got_ack) {
			g_set_error_literal(error,
					    G_IO_ERROR,
					    G_IO_ERROR_NOT_SUPPORTED,
					    "the kernel ignored the proc events subscription "
					    "(not in the initial user and pid namespaces?)");
			return FALSE;
		}
		return vigil_error_set_errno(error,
					     (gint)ack_err,
					     "the kernel refused proc events");
	}
	self->watch = g_source_new(&vigil_proc_connector_source_funcs, sizeof(GSource));
	self->watch_tag =
	    g_source_add_unix_fd(self->watch, self->fd, G_IO_IN | G_IO_ERR | G_IO_HUP);
	g_source_set_callback(self->watch, vigil_proc_connector_ready_cb, self, NULL);
	g_source_set_name(self->watch, "vigil proc connector");
	/* never blocked while dispatched: see vigil_watch_fd() */
	g_source_set_can_recurse(self->watch, TRUE);
	g_source_attach(self->watch, g_main_context_get_thread_default());
	return TRUE;
}
