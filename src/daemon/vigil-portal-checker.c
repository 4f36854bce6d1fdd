/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "VigilPortalChecker"

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <malloc.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "vigil-dns-parser.h"
#include "vigil-error.h"
#include "vigil-portal-checker.h"
#include "vigil-portal-parse.h"

/* back-off of the re-checks in every state but full: 30 s, doubling up to 10 min */
#define RECHECK_MIN_S 30
#define RECHECK_MAX_S 600
/* a session end announced by the RFC 8908 API is re-checked at most this late */
#define SESSION_RECHECK_MAX_S 86400
/* CheckConnectivity() starts at most one check per interface and family this often */
#define REQUEST_INTERVAL_US (5 * G_USEC_PER_SEC)
/* how much of an answer is read: the probe pages are tiny, the API JSON is small */
#define PROBE_BODY_MAX 16384
#define API_BODY_MAX   65536
#define DNS_ANSWER_MAX 4096
#define READ_CHUNK     4096
#define RA_BATCH       16
#define RESOLVED_CONF  "/run/systemd/resolve/resolv.conf"
#define SYSTEM_CONF    "/etc/resolv.conf"
#define DNS_TYPE_A     1
#define DNS_TYPE_AAAA  28
#define CAPTIVE_JSON   "application/captive+json"

typedef struct _VigilPortalRun VigilPortalRun;
typedef void (*VigilPortalFetchDone)(VigilPortalRun *run);

typedef struct {
	VigilPortalChecker *self;
	gchar *ifname;
	guint ifindex;
	guint family;
	VigilConnectivity state;
	gchar *portal_url;
	gchar *venue_url;
	gchar *api_url;
	gchar *detail;
	gint64 seconds_remaining;
	gint64 bytes_remaining;
	gboolean can_extend;
	gint64 checked;	 /* unix seconds, 0 before the first check */
	gint64 rtt_usec; /* the HTTP probe's connect time, -1 unknown */
	gint64 started;	 /* monotonic time the last check started */
	guint backoff_s;
	guint timer_id;
	gboolean again;	     /* check again when the check in progress ends */
	VigilPortalRun *run; /* the check in progress, or NULL */
} VigilPortalEntry;

typedef enum {
	STEP_API_RESOLVE,
	STEP_API_FETCH,
	STEP_DNS,
	STEP_HTTP,
	STEP_HTTPS_RESOLVE,
	STEP_HTTPS,
	STEP_DONE,
} VigilPortalStep;

/* one check of one interface and family: a chain of asynchronous operations, one at a time,
 * which owns itself; the entry only points at it and sets entry to NULL to abandon it */
struct _VigilPortalRun {
	VigilPortalChecker *self;
	VigilPortalEntry *entry; /* NULL once abandoned */
	gchar *ifname;
	guint family;
	VigilPortalStep step;
	GCancellable *cancellable; /* the current operation */
	guint timeout_id;
	gboolean timed_out;
	VigilPortalOutcome outcome;
	GPtrArray *details;   /* of gchar *: what each probe saw, in words */
	GHashTable *resolved; /* host -> GPtrArray of GInetAddress (empty: did not resolve) */
	gchar *api_url;
	VigilCaptiveInfo captive;
	gchar *portal_url;
	gint64 rtt_usec;

	/* the DNS query in flight */
	gchar *dns_host;
	guint16 dns_id;
	GPtrArray *dns_sources; /* of GSource */
	guint dns_pending;
	gchar *dns_problem;

	/* the HTTP(S) request in flight */
	const gchar *fetch_label;
	gchar *fetch_request;
	gchar *fetch_host;
	guint16 fetch_port;
	gboolean fetch_tls;
	GTlsDatabase *database; /* the system's CAs, read for this run alone */
	gsize fetch_max;
	VigilPortalFetchDone fetch_done;
	GIOStream *stream;
	GByteArray *buffer;
	guint8 chunk[READ_CHUNK];
	gint64 connect_start;
	gint64 fetch_rtt;
	gchar *option_error;
	VigilHttpResponse *response;
	gchar *fetch_error;
};

struct _VigilPortalChecker {
	GObject parent_instance;
	gboolean enabled;
	guint32 mark;
	gchar *http_url;
	guint http_status;
	gchar *http_body;
	gchar *https_url;
	gchar *ca_file;
	guint timeout_s;
	gchar *fallback4;
	gchar *fallback6;
	gchar *resolv_conf;
	gchar *lease_dir;
	GTlsDatabase *database; /* from CaFile; NULL for the system's */
	GHashTable *entries;	/* ifindex * 2 + (family == 6) -> VigilPortalEntry */
	GHashTable *ra_urls;	/* ifindex -> gchar *, RFC 8910 API URLs from RAs */
	gint ra_fd;
	guint ra_watch_id;
	guint trim_id;
};

G_DEFINE_FINAL_TYPE(VigilPortalChecker, vigil_portal_checker, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

static void
vigil_portal_run_continue(VigilPortalRun *run);
static void
vigil_portal_entry_start(VigilPortalEntry *entry);

static gpointer
vigil_portal_entry_key(guint ifindex, guint family)
{
	return GUINT_TO_POINTER(ifindex * 2 + (family == 6 ? 1 : 0));
}

static gboolean
vigil_portal_checker_trim_cb(gpointer user_data)
{
	VigilPortalChecker *self = VIGIL_PORTAL_CHECKER(user_data);

	self->trim_id = 0;
	malloc_trim(0);
	return G_SOURCE_REMOVE;
}

static void
vigil_portal_run_free(VigilPortalRun *run)
{
	/* give the CAs the run parsed back to the system, not just to malloc, once the TLS
	 * threads let go of them too: a second later, once for all the runs that end together */
	if (run->database != NULL && run->self->trim_id == 0)
		run->self->trim_id =
		    g_timeout_add_seconds(1, vigil_portal_checker_trim_cb, run->self);
	g_clear_handle_id(&run->timeout_id, g_source_remove);
	g_clear_object(&run->cancellable);
	g_ptr_array_unref(run->details);
	g_hash_table_unref(run->resolved);
	g_free(run->api_url);
	vigil_captive_info_clear(&run->captive);
	g_free(run->portal_url);
	g_free(run->ifname);
	g_free(run->dns_host);
	g_free(run->dns_problem);
	if (run->dns_sources != NULL)
		g_ptr_array_unref(run->dns_sources);
	g_free(run->fetch_request);
	g_free(run->fetch_host);
	g_clear_object(&run->stream);
	g_clear_object(&run->database);
	if (run->buffer != NULL)
		g_byte_array_unref(run->buffer);
	g_free(run->option_error);
	vigil_http_response_free(run->response);
	g_free(run->fetch_error);
	g_object_unref(run->self);
	g_free(run);
}

/* ends the run at the next callback; nothing it does afterwards reaches the entry */
static void
vigil_portal_run_abandon(VigilPortalRun *run)
{
	run->entry = NULL;
	g_cancellable_cancel(run->cancellable);
}

static void
vigil_portal_entry_free(VigilPortalEntry *entry)
{
	if (entry->run != NULL)
		vigil_portal_run_abandon(entry->run);
	g_clear_handle_id(&entry->timer_id, g_source_remove);
	g_free(entry->ifname);
	g_free(entry->portal_url);
	g_free(entry->venue_url);
	g_free(entry->api_url);
	g_free(entry->detail);
	g_free(entry);
}

static void
vigil_portal_run_add_detail(VigilPortalRun *run, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
vigil_portal_run_add_detail(VigilPortalRun *run, const gchar *format, ...)
{
	va_list args;

	va_start(args, format);
	g_ptr_array_add(run->details, g_strdup_vprintf(format, args));
	va_end(args);
}

static gboolean
vigil_portal_op_timeout_cb(gpointer user_data)
{
	VigilPortalRun *run = user_data;

	run->timeout_id = 0;
	run->timed_out = TRUE;
	g_cancellable_cancel(run->cancellable);
	return G_SOURCE_REMOVE;
}

/* every operation of a run has its own cancellable and the configured timeout */
static void
vigil_portal_op_begin(VigilPortalRun *run)
{
	g_clear_object(&run->cancellable);
	run->cancellable = g_cancellable_new();
	run->timed_out = FALSE;
	run->timeout_id =
	    g_timeout_add_seconds(run->self->timeout_s, vigil_portal_op_timeout_cb, run);
}

static void
vigil_portal_op_end(VigilPortalRun *run)
{
	g_clear_handle_id(&run->timeout_id, g_source_remove);
}

/* vigild's own mark, so that its table lets the probe pass in every mode; and the
 * interface, so that the probe leaves through the interface it is about */
static gboolean
vigil_portal_set_socket_options(gint fd,
				const gchar *ifname,
				guint32 mark,
				gboolean bind_device,
				GError **error)
{
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		int errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "cannot mark the probe socket: %s",
			    g_strerror(errsv));
		return FALSE;
	}
	if (bind_device &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname) + 1) < 0) {
		int errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "cannot bind the probe socket to %s: %s",
			    ifname,
			    g_strerror(errsv));
		return FALSE;
	}
	return TRUE;
}

static GSocketFamily
vigil_portal_socket_family(guint family)
{
	return family == 6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4;
}

/* TRUE when @host still needs a DNS query; literal addresses are entered at once */
static gboolean
vigil_portal_run_needs_dns(VigilPortalRun *run, const gchar *host)
{
	g_autoptr(GInetAddress) literal = NULL;
	GPtrArray *addresses;

	if (g_hash_table_contains(run->resolved, host))
		return FALSE;
	literal = g_inet_address_new_from_string(host);
	if (literal == NULL)
		return TRUE;
	addresses = g_ptr_array_new_with_free_func(g_object_unref);
	if (g_inet_address_get_family(literal) == vigil_portal_socket_family(run->family))
		g_ptr_array_add(addresses, g_steal_pointer(&literal));
	g_hash_table_insert(run->resolved, g_strdup(host), addresses);
	return FALSE;
}

static GInetAddress *
vigil_portal_run_get_address(VigilPortalRun *run, const gchar *host)
{
	GPtrArray *addresses = g_hash_table_lookup(run->resolved, host);

	if (addresses == NULL || addresses->len == 0)
		return NULL;
	return g_ptr_array_index(addresses, 0);
}

static gchar *
vigil_portal_url_get_host(const gchar *url)
{
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);

	if (uri == NULL || g_uri_get_host(uri) == NULL)
		return NULL;
	return g_strdup(g_uri_get_host(uri));
}

/* DNS */

static void
vigil_portal_dns_end(VigilPortalRun *run, GPtrArray *addresses)
{
	g_autoptr(GPtrArray) sources = g_steal_pointer(&run->dns_sources);
	GPtrArray *list =
	    addresses != NULL ? addresses : g_ptr_array_new_with_free_func(g_object_unref);

	for (guint i = 0; sources != NULL && i < sources->len; i++)
		g_source_destroy(g_ptr_array_index(sources, i));
	vigil_portal_op_end(run);
	if (run->entry == NULL) {
		g_ptr_array_unref(list);
		vigil_portal_run_free(run);
		return;
	}
	if (list->len > 0) {
		g_autofree gchar *first = g_inet_address_to_string(g_ptr_array_index(list, 0));
		vigil_portal_run_add_detail(run, "DNS: %s is %s", run->dns_host, first);
	} else if (run->dns_problem != NULL) {
		vigil_portal_run_add_detail(run, "DNS: %s: %s", run->dns_host, run->dns_problem);
	} else {
		vigil_portal_run_add_detail(run,
					    "DNS: no answer for %s within %u s",
					    run->dns_host,
					    run->self->timeout_s);
	}
	g_hash_table_insert(run->resolved, g_strdup(run->dns_host), list);
	vigil_portal_run_continue(run);
}

static void
vigil_portal_dns_set_problem(VigilPortalRun *run, gchar *problem)
{
	g_free(run->dns_problem);
	run->dns_problem = problem;
}

static gboolean
vigil_portal_dns_readable_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	VigilPortalRun *run = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) answers = NULL;
	g_autoptr(GPtrArray) addresses = NULL;
	guint8 buf[DNS_ANSWER_MAX];
	gssize n;
	guint rcode;

	if (g_cancellable_is_cancelled(run->cancellable)) {
		vigil_portal_dns_end(run, NULL);
		return G_SOURCE_REMOVE;
	}
	n = g_socket_receive(socket, (gchar *)buf, sizeof(buf), NULL, &error);
	if (n < 0) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
			return G_SOURCE_CONTINUE;
		vigil_portal_dns_set_problem(run, g_strdup(error->message));
		if (--run->dns_pending == 0) {
			vigil_portal_dns_end(run, NULL);
			return G_SOURCE_REMOVE;
		}
		return G_SOURCE_REMOVE;
	}
	/* someone else's message, or garbage: keep waiting for ours */
	if (n < 12 || (buf[2] & 0x80) == 0 || ((buf[0] << 8) | buf[1]) != run->dns_id)
		return G_SOURCE_CONTINUE;
	rcode = buf[3] & 0x0f;
	if (rcode != 0) {
		vigil_portal_dns_set_problem(
		    run,
		    rcode == 3 ? g_strdup("the name does not exist (NXDOMAIN)")
			       : g_strdup_printf("the nameserver failed (rcode %u)", rcode));
	} else {
		answers = vigil_dns_parse_message(buf, n, &error);
		if (answers == NULL) {
			vigil_portal_dns_set_problem(
			    run,
			    g_strdup_printf("malformed answer: %s", error->message));
		} else {
			addresses = g_ptr_array_new_with_free_func(g_object_unref);
			for (guint i = 0; i < answers->len; i++) {
				VigilDnsAnswer *answer = g_ptr_array_index(answers, i);
				if (answer->family != run->family ||
				    g_ascii_strcasecmp(answer->name, run->dns_host) != 0)
					continue;
				g_ptr_array_add(addresses,
						g_inet_address_new_from_bytes(
						    answer->address,
						    vigil_portal_socket_family(run->family)));
			}
			if (addresses->len > 0) {
				vigil_portal_dns_end(run, g_steal_pointer(&addresses));
				return G_SOURCE_REMOVE;
			}
			vigil_portal_dns_set_problem(
			    run,
			    g_strdup_printf("no %s record", run->family == 6 ? "AAAA" : "A"));
		}
	}
	if (--run->dns_pending == 0) {
		vigil_portal_dns_end(run, NULL);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_REMOVE;
}

static gchar *
vigil_portal_read_resolv_conf(VigilPortalChecker *self, gchar **path_out)
{
	const gchar *path = self->resolv_conf;
	gchar *contents = NULL;

	/* systemd-resolved's list of the real upstream servers beats its stub */
	if (path == NULL)
		path = g_file_test(RESOLVED_CONF, G_FILE_TEST_EXISTS) ? RESOLVED_CONF : SYSTEM_CONF;
	*path_out = g_strdup(path);
	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return NULL;
	return contents;
}

/* our own query to each nameserver of resolv.conf at once; the first usable answer wins */
static void
vigil_portal_run_resolve(VigilPortalRun *run, const gchar *host)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *contents = vigil_portal_read_resolv_conf(run->self, &path);
	g_autoptr(GPtrArray) servers = NULL;
	g_autoptr(GBytes) query = NULL;
	g_autoptr(GError) error = NULL;

	g_free(run->dns_host);
	run->dns_host = g_strdup(host);
	g_clear_pointer(&run->dns_problem, g_free);
	run->dns_id = g_random_int_range(0, 0x10000);
	query = vigil_portal_build_dns_query(host,
					     run->family == 6 ? DNS_TYPE_AAAA : DNS_TYPE_A,
					     run->dns_id,
					     &error);
	servers = contents != NULL ? vigil_portal_parse_resolv_conf(contents)
				   : g_ptr_array_new_with_free_func(g_object_unref);
	vigil_portal_op_begin(run);
	run->dns_sources = g_ptr_array_new_with_free_func((GDestroyNotify)g_source_unref);
	run->dns_pending = 0;
	if (query == NULL)
		vigil_portal_dns_set_problem(run, g_strdup(error->message));
	else if (servers->len == 0)
		vigil_portal_dns_set_problem(run, g_strdup_printf("no nameserver in %s", path));
	for (guint i = 0; query != NULL && i < servers->len; i++) {
		GInetAddress *server = g_ptr_array_index(servers, i);
		g_autoptr(GSocket) socket = NULL;
		g_autoptr(GSocketAddress) address = NULL;
		g_autoptr(GError) error_local = NULL;
		GSource *source;

		socket = g_socket_new(g_inet_address_get_family(server),
				      G_SOCKET_TYPE_DATAGRAM,
				      G_SOCKET_PROTOCOL_UDP,
				      &error_local);
		/* a local stub (systemd-resolved, dnsmasq) is reached over loopback */
		if (socket != NULL &&
		    !vigil_portal_set_socket_options(g_socket_get_fd(socket),
						     run->ifname,
						     run->self->mark,
						     !g_inet_address_get_is_loopback(server),
						     &error_local))
			g_clear_object(&socket);
		address = g_inet_socket_address_new(server, 53);
		if (socket != NULL && (!g_socket_connect(socket, address, NULL, &error_local) ||
				       g_socket_send(socket,
						     g_bytes_get_data(query, NULL),
						     g_bytes_get_size(query),
						     NULL,
						     &error_local) < 0))
			g_clear_object(&socket);
		if (socket == NULL) {
			vigil_portal_dns_set_problem(run, g_strdup(error_local->message));
			continue;
		}
		source = g_socket_create_source(socket, G_IO_IN, run->cancellable);
		g_source_set_callback(source,
				      G_SOURCE_FUNC(vigil_portal_dns_readable_cb),
				      run,
				      NULL);
		g_source_attach(source, NULL);
		g_ptr_array_add(run->dns_sources, source);
		run->dns_pending++;
	}
	if (run->dns_pending == 0)
		vigil_portal_dns_end(run, NULL);
}

/* HTTP and HTTPS */

static void
vigil_portal_fetch_end(VigilPortalRun *run, VigilHttpResponse *response, const gchar *problem)
{
	vigil_portal_op_end(run);
	g_clear_object(&run->stream);
	g_clear_pointer(&run->buffer, g_byte_array_unref);
	g_clear_pointer(&run->response, vigil_http_response_free);
	g_clear_pointer(&run->fetch_error, g_free);
	if (run->entry == NULL) {
		vigil_http_response_free(response);
		vigil_portal_run_free(run);
		return;
	}
	run->response = response;
	if (response == NULL)
		run->fetch_error = g_strdup(problem);
	run->fetch_done(run);
	vigil_portal_run_continue(run);
}

static void
vigil_portal_fetch_fail(VigilPortalRun *run, GError *error)
{
	g_autofree gchar *problem = NULL;

	if (run->timed_out)
		problem = g_strdup_printf("no answer within %u s", run->self->timeout_s);
	else if (run->option_error != NULL)
		problem = g_strdup(run->option_error);
	else
		problem = g_strdup(error->message);
	vigil_portal_fetch_end(run, NULL, problem);
}

static void
vigil_portal_fetch_read(VigilPortalRun *run);

static void
vigil_portal_fetch_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilPortalRun *run = user_data;
	g_autoptr(GError) error = NULL;
	VigilHttpResponse *response = NULL;
	VigilHttpParse ret;
	gssize n;
	gsize room;

	n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);
	if (n < 0 || run->entry == NULL) {
		if (error == NULL)
			error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "abandoned");
		vigil_portal_fetch_fail(run, error);
		return;
	}
	room = run->fetch_max - run->buffer->len;
	g_byte_array_append(run->buffer, run->chunk, MIN((gsize)n, room));
	ret = vigil_http_response_parse(run->buffer->data,
					run->buffer->len,
					n == 0,
					&response,
					&error);
	if (ret == VIGIL_HTTP_PARSE_DONE) {
		vigil_portal_fetch_end(run, response, NULL);
		return;
	}
	if (ret == VIGIL_HTTP_PARSE_ERROR) {
		vigil_portal_fetch_end(run, NULL, error->message);
		return;
	}
	if ((gsize)n > room || run->buffer->len >= run->fetch_max) {
		g_autofree gchar *problem =
		    g_strdup_printf("the answer is longer than %" G_GSIZE_FORMAT " bytes",
				    run->fetch_max);
		vigil_portal_fetch_end(run, NULL, problem);
		return;
	}
	vigil_portal_fetch_read(run);
}

static void
vigil_portal_fetch_read(VigilPortalRun *run)
{
	g_input_stream_read_async(g_io_stream_get_input_stream(run->stream),
				  run->chunk,
				  sizeof(run->chunk),
				  G_PRIORITY_DEFAULT,
				  run->cancellable,
				  vigil_portal_fetch_read_cb,
				  run);
}

static void
vigil_portal_fetch_written_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilPortalRun *run = user_data;
	g_autoptr(GError) error = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
		vigil_portal_fetch_fail(run, error);
		return;
	}
	run->buffer = g_byte_array_new();
	vigil_portal_fetch_read(run);
}

static void
vigil_portal_fetch_write(VigilPortalRun *run)
{
	g_output_stream_write_all_async(g_io_stream_get_output_stream(run->stream),
					run->fetch_request,
					strlen(run->fetch_request),
					G_PRIORITY_DEFAULT,
					run->cancellable,
					vigil_portal_fetch_written_cb,
					run);
}

static void
vigil_portal_fetch_handshake_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilPortalRun *run = user_data;
	g_autoptr(GError) error = NULL;

	if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &error)) {
		if (!run->timed_out && run->entry != NULL)
			g_prefix_error(&error, "TLS: ");
		vigil_portal_fetch_fail(run, error);
		return;
	}
	vigil_portal_fetch_write(run);
}

/*
 * The CAs an HTTPS fetch trusts: CaFile's, or else the system's bundle, read for this run
 * alone and dropped with it. A connection made without a database makes glib-networking
 * load its default one, which then stays for the life of the process: 8 MB here, more
 * than an idle vigild should keep for a check that runs now and then. NULL (where no
 * bundle is found or it cannot be read) leaves the choice to glib-networking.
 */
static GTlsDatabase *
vigil_portal_run_get_database(VigilPortalRun *run)
{
	static const gchar *const bundles[] = {
	    "/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Arch */
	    "/etc/pki/tls/certs/ca-bundle.crt",	  /* Fedora, RHEL */
	    "/etc/ssl/ca-bundle.pem",		  /* openSUSE */
	    "/etc/ssl/cert.pem",		  /* Alpine */
	    NULL};

	if (run->self->database != NULL)
		return run->self->database;
	for (guint i = 0; run->database == NULL && bundles[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;

		if (!g_file_test(bundles[i], G_FILE_TEST_IS_REGULAR))
			continue;
		run->database = g_tls_file_database_new(bundles[i], &error);
		if (run->database == NULL)
			g_debug("cannot read the CAs of %s: %s", bundles[i], error->message);
	}
	return run->database;
}

static GIOStream *
vigil_portal_run_new_tls(VigilPortalRun *run,
			 GSocketConnection *connection,
			 GSocketConnectable *identity,
			 GError **error)
{
	GTlsBackend *backend = g_tls_backend_get_default();
	GTlsDatabase *database = NULL;

	if (g_tls_backend_supports_tls(backend))
		database = vigil_portal_run_get_database(run);
	if (database == NULL)
		return g_tls_client_connection_new(G_IO_STREAM(connection), identity, error);
	/* given at construction, so that the default database is never loaded */
	return g_initable_new(g_tls_backend_get_client_connection_type(backend),
			      NULL,
			      error,
			      "base-io-stream",
			      connection,
			      "server-identity",
			      identity,
			      "database",
			      database,
			      NULL);
}

static void
vigil_portal_fetch_connected_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VigilPortalRun *run = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) connection = NULL;
	g_autoptr(GIOStream) tls = NULL;
	g_autoptr(GSocketConnectable) identity = NULL;

	connection = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);
	if (connection == NULL || run->option_error != NULL) {
		if (error == NULL)
			error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED, "");
		vigil_portal_fetch_fail(run, error);
		return;
	}
	run->fetch_rtt = g_get_monotonic_time() - run->connect_start;
	if (!run->fetch_tls) {
		run->stream = G_IO_STREAM(g_steal_pointer(&connection));
		vigil_portal_fetch_write(run);
		return;
	}
	/* the certificate must name the host of the URL, not the address we connected to */
	identity = g_network_address_new(run->fetch_host, run->fetch_port);
	/* the default validation flags check everything: chain, name, dates */
	tls = vigil_portal_run_new_tls(run, connection, identity, &error);
	if (tls == NULL) {
		g_prefix_error(&error, "TLS: ");
		vigil_portal_fetch_fail(run, error);
		return;
	}
	run->stream = g_steal_pointer(&tls);
	g_tls_connection_handshake_async(G_TLS_CONNECTION(run->stream),
					 G_PRIORITY_DEFAULT,
					 run->cancellable,
					 vigil_portal_fetch_handshake_cb,
					 run);
}

static void
vigil_portal_fetch_event_cb(GSocketClient *client,
			    GSocketClientEvent event,
			    GSocketConnectable *connectable,
			    GIOStream *connection,
			    gpointer user_data)
{
	VigilPortalRun *run = user_data;
	g_autoptr(GError) error = NULL;
	GSocket *socket;

	if (event != G_SOCKET_CLIENT_CONNECTING)
		return;
	/* the socket exists but has not connected yet: the last moment to bind it */
	socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(connection));
	run->connect_start = g_get_monotonic_time();
	if (!vigil_portal_set_socket_options(g_socket_get_fd(socket),
					     run->ifname,
					     run->self->mark,
					     TRUE,
					     &error)) {
		g_free(run->option_error);
		run->option_error = g_strdup(error->message);
		g_cancellable_cancel(run->cancellable);
	}
}

static void
vigil_portal_run_fetch(VigilPortalRun *run,
		       const gchar *label,
		       const gchar *url,
		       GInetAddress *address,
		       const gchar *accept,
		       gsize max,
		       VigilPortalFetchDone done)
{
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketAddress) socket_address = NULL;
	g_autofree gchar *host_header = NULL;
	const gchar *path;
	const gchar *query;
	gint port;

	run->fetch_label = label;
	run->fetch_done = done;
	run->fetch_max = max;
	run->fetch_rtt = -1;
	g_clear_pointer(&run->option_error, g_free);
	run->fetch_tls = g_ascii_strcasecmp(g_uri_get_scheme(uri), "https") == 0;
	port = g_uri_get_port(uri);
	if (port <= 0)
		port = run->fetch_tls ? 443 : 80;
	run->fetch_port = port;
	g_free(run->fetch_host);
	run->fetch_host = g_strdup(g_uri_get_host(uri));
	if (strchr(run->fetch_host, ':') != NULL)
		host_header = g_strdup_printf("[%s]", run->fetch_host);
	else
		host_header = g_strdup(run->fetch_host);
	if (g_uri_get_port(uri) > 0) {
		gchar *tmp = g_strdup_printf("%s:%d", host_header, port);
		g_free(host_header);
		host_header = tmp;
	}
	path = g_uri_get_path(uri);
	query = g_uri_get_query(uri);
	g_free(run->fetch_request);
	run->fetch_request = g_strdup_printf("GET %s%s%s HTTP/1.1\r\n"
					     "Host: %s\r\n"
					     "User-Agent: vigild/" PACKAGE_VERSION "\r\n"
					     "Accept: %s\r\n"
					     "Cache-Control: no-cache\r\n"
					     "Connection: close\r\n"
					     "\r\n",
					     path[0] != '\0' ? path : "/",
					     query != NULL ? "?" : "",
					     query != NULL ? query : "",
					     host_header,
					     accept);

	vigil_portal_op_begin(run);
	/* no proxy: the probe is about this network, not about a proxy's */
	g_socket_client_set_enable_proxy(client, FALSE);
	g_socket_client_set_family(client, vigil_portal_socket_family(run->family));
	g_signal_connect(client, "event", G_CALLBACK(vigil_portal_fetch_event_cb), run);
	socket_address = g_inet_socket_address_new(address, port);
	g_socket_client_connect_async(client,
				      G_SOCKET_CONNECTABLE(socket_address),
				      run->cancellable,
				      vigil_portal_fetch_connected_cb,
				      run);
}

/* what each step makes of its fetch */

static void
vigil_portal_api_fetched(VigilPortalRun *run)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const gchar *data;

	if (run->response == NULL) {
		run->outcome.api = VIGIL_PROBE_FAIL;
		vigil_portal_run_add_detail(run, "API %s: %s", run->api_url, run->fetch_error);
		return;
	}
	if (run->response->status != 200) {
		run->outcome.api = VIGIL_PROBE_FAIL;
		vigil_portal_run_add_detail(run,
					    "API %s: answered %u",
					    run->api_url,
					    run->response->status);
		return;
	}
	data = g_bytes_get_data(run->response->body, &len);
	if (!vigil_portal_parse_captive_json(data, len, &run->captive, &error)) {
		run->outcome.api = VIGIL_PROBE_FAIL;
		vigil_portal_run_add_detail(run,
					    "API %s: malformed answer: %s",
					    run->api_url,
					    error->message);
		return;
	}
	if (run->captive.captive) {
		run->outcome.api = VIGIL_PROBE_PORTAL;
		vigil_portal_run_add_detail(run, "API: captive, sign-in needed");
		/* a portal needs no more probes */
		run->step = STEP_DONE;
	} else {
		run->outcome.api = VIGIL_PROBE_PASS;
		vigil_portal_run_add_detail(run, "API: not captive");
	}
}

static void
vigil_portal_fallback_fetched(VigilPortalRun *run)
{
	if (run->response == NULL) {
		run->outcome.fallback = VIGIL_PROBE_FAIL;
		vigil_portal_run_add_detail(run,
					    "HTTP to the fallback address: %s",
					    run->fetch_error);
		return;
	}
	run->outcome.fallback = VIGIL_PROBE_PASS;
	vigil_portal_run_add_detail(run,
				    "HTTP to the fallback address: answered %u",
				    run->response->status);
}

static void
vigil_portal_http_fetched(VigilPortalRun *run)
{
	g_autofree gchar *detail = NULL;
	g_autofree gchar *portal_url = NULL;

	run->rtt_usec = run->fetch_rtt;
	if (run->response == NULL) {
		run->outcome.http = VIGIL_PROBE_FAIL;
		vigil_portal_run_add_detail(run, "HTTP: %s", run->fetch_error);
		return;
	}
	run->outcome.http = vigil_portal_judge_http(run->response,
						    run->self->http_status,
						    run->self->http_body,
						    run->self->http_url,
						    &portal_url,
						    &detail);
	vigil_portal_run_add_detail(run, "HTTP: %s", detail);
	if (run->outcome.http == VIGIL_PROBE_PORTAL) {
		g_free(run->portal_url);
		run->portal_url = g_steal_pointer(&portal_url);
		run->step = STEP_DONE;
	}
}

static void
vigil_portal_https_fetched(VigilPortalRun *run)
{
	if (run->response == NULL) {
		run->outcome.https = VIGIL_PROBE_FAIL;
		vigil_portal_run_add_detail(run, "HTTPS: %s", run->fetch_error);
		return;
	}
	if (run->response->status >= 200 && run->response->status < 400) {
		run->outcome.https = VIGIL_PROBE_PASS;
		vigil_portal_run_add_detail(run,
					    "HTTPS: certificate valid, answered %u",
					    run->response->status);
	} else {
		run->outcome.https = VIGIL_PROBE_FAIL;
		vigil_portal_run_add_detail(run, "HTTPS: answered %u", run->response->status);
	}
}

/* the end of a check */

static gboolean
vigil_portal_entry_timer_cb(gpointer user_data)
{
	VigilPortalEntry *entry = user_data;

	entry->timer_id = 0;
	/* the interface went away (or its index is another's now) while nobody told us */
	if (if_nametoindex(entry->ifname) != entry->ifindex) {
		g_debug("forgetting %s (%u): it is gone", entry->ifname, entry->ifindex);
		vigil_portal_checker_forget(entry->self, entry->ifindex, 0);
		return G_SOURCE_REMOVE;
	}
	vigil_portal_entry_start(entry);
	return G_SOURCE_REMOVE;
}

/* full needs no timer at all: an idle daemon sleeps, and the network monitor asks again
 * when links, addresses or routes change. Only an RFC 8908 session end sets one there */
static void
vigil_portal_entry_schedule(VigilPortalEntry *entry)
{
	guint delay = 0;

	g_clear_handle_id(&entry->timer_id, g_source_remove);
	if (entry->state == VIGIL_CONNECTIVITY_FULL || entry->state == VIGIL_CONNECTIVITY_UNKNOWN) {
		entry->backoff_s = 0;
	} else {
		entry->backoff_s = entry->backoff_s == 0 ? RECHECK_MIN_S
							 : MIN(entry->backoff_s * 2, RECHECK_MAX_S);
		delay = entry->backoff_s;
	}
	if (entry->seconds_remaining >= 0) {
		guint session = CLAMP(entry->seconds_remaining, 1, SESSION_RECHECK_MAX_S);
		delay = delay == 0 ? session : MIN(delay, session);
	}
	if (delay > 0)
		entry->timer_id = g_timeout_add_seconds(delay, vigil_portal_entry_timer_cb, entry);
}

/* news from the network, which anyone on the link can send: a check in progress is done
 * again once it ends, and checks start at most once every REQUEST_INTERVAL_US */
static void
vigil_portal_entry_kick(VigilPortalEntry *entry)
{
	gint64 since = g_get_monotonic_time() - entry->started;

	entry->backoff_s = 0;
	if (entry->run != NULL) {
		entry->again = TRUE;
		return;
	}
	if (entry->started != 0 && since < REQUEST_INTERVAL_US) {
		g_clear_handle_id(&entry->timer_id, g_source_remove);
		entry->timer_id = g_timeout_add((REQUEST_INTERVAL_US - since) / 1000 + 1,
						vigil_portal_entry_timer_cb,
						entry);
		return;
	}
	vigil_portal_entry_start(entry);
}

static void
vigil_portal_run_finish(VigilPortalRun *run)
{
	VigilPortalEntry *entry = run->entry;
	VigilPortalChecker *self = run->self;
	gboolean api_known =
	    run->outcome.api == VIGIL_PROBE_PASS || run->outcome.api == VIGIL_PROBE_PORTAL;

	g_ptr_array_add(run->details, NULL);
	entry->state = vigil_portal_decide(&run->outcome);
	g_free(entry->detail);
	entry->detail = g_strjoinv("; ", (gchar **)run->details->pdata);
	g_free(entry->portal_url);
	entry->portal_url = NULL;
	if (entry->state == VIGIL_CONNECTIVITY_PORTAL) {
		if (run->outcome.api == VIGIL_PROBE_PORTAL && run->captive.user_portal_url != NULL)
			entry->portal_url = g_strdup(run->captive.user_portal_url);
		else
			entry->portal_url = g_strdup(run->portal_url);
	}
	g_free(entry->venue_url);
	entry->venue_url = api_known ? g_strdup(run->captive.venue_info_url) : NULL;
	g_free(entry->api_url);
	entry->api_url = g_strdup(run->api_url);
	entry->seconds_remaining = api_known ? run->captive.seconds_remaining : -1;
	entry->bytes_remaining = api_known ? run->captive.bytes_remaining : -1;
	entry->can_extend = api_known && run->captive.can_extend_session;
	entry->rtt_usec = run->rtt_usec;
	entry->checked = g_get_real_time() / G_USEC_PER_SEC;
	entry->run = NULL;
	g_info("connectivity of %s over IPv%u: %s: %s",
	       entry->ifname,
	       entry->family,
	       vigil_connectivity_to_string(entry->state),
	       entry->detail);
	vigil_portal_run_free(run);
	vigil_portal_entry_schedule(entry);
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
	if (entry->again) {
		entry->again = FALSE;
		vigil_portal_entry_kick(entry);
	}
}

/* the steps of a check, in order; each either starts one operation, whose callback comes
 * back here, or moves on */
static void
vigil_portal_run_continue(VigilPortalRun *run)
{
	VigilPortalChecker *self = run->self;
	g_autofree gchar *host = NULL;
	GInetAddress *address;

	for (;;) {
		g_clear_pointer(&host, g_free);
		switch (run->step) {
		case STEP_API_RESOLVE:
			run->step = STEP_API_FETCH;
			if (run->api_url == NULL)
				continue;
			host = vigil_portal_url_get_host(run->api_url);
			if (vigil_portal_run_needs_dns(run, host)) {
				vigil_portal_run_resolve(run, host);
				return;
			}
			continue;
		case STEP_API_FETCH:
			run->step = STEP_DNS;
			if (run->api_url == NULL)
				continue;
			host = vigil_portal_url_get_host(run->api_url);
			address = vigil_portal_run_get_address(run, host);
			if (address == NULL) {
				run->outcome.api = VIGIL_PROBE_FAIL;
				vigil_portal_run_add_detail(run,
							    "API %s: no IPv%u address",
							    run->api_url,
							    run->family);
				continue;
			}
			vigil_portal_run_fetch(run,
					       "API",
					       run->api_url,
					       address,
					       CAPTIVE_JSON,
					       API_BODY_MAX,
					       vigil_portal_api_fetched);
			return;
		case STEP_DNS:
			run->step = STEP_HTTP;
			host = vigil_portal_url_get_host(self->http_url);
			if (vigil_portal_run_needs_dns(run, host)) {
				vigil_portal_run_resolve(run, host);
				return;
			}
			continue;
		case STEP_HTTP: {
			const gchar *fallback =
			    run->family == 6 ? self->fallback6 : self->fallback4;
			host = vigil_portal_url_get_host(self->http_url);
			address = vigil_portal_run_get_address(run, host);
			if (address != NULL) {
				run->outcome.dns = VIGIL_PROBE_PASS;
				run->step = STEP_HTTPS_RESOLVE;
				vigil_portal_run_fetch(run,
						       "HTTP",
						       self->http_url,
						       address,
						       "*/*",
						       PROBE_BODY_MAX,
						       vigil_portal_http_fetched);
				return;
			}
			/* names do not resolve: does the network answer at all? */
			run->outcome.dns = VIGIL_PROBE_FAIL;
			run->step = STEP_DONE;
			if (fallback == NULL) {
				vigil_portal_run_add_detail(
				    run,
				    "no fallback address for IPv%u to tell a DNS failure from "
				    "no connection",
				    run->family);
				continue;
			}
			{
				g_autoptr(GInetAddress) direct =
				    g_inet_address_new_from_string(fallback);
				vigil_portal_run_fetch(run,
						       "HTTP",
						       self->http_url,
						       direct,
						       "*/*",
						       PROBE_BODY_MAX,
						       vigil_portal_fallback_fetched);
			}
			return;
		}
		case STEP_HTTPS_RESOLVE:
			run->step = STEP_HTTPS;
			if (self->https_url[0] == '\0')
				continue;
			host = vigil_portal_url_get_host(self->https_url);
			if (vigil_portal_run_needs_dns(run, host)) {
				vigil_portal_run_resolve(run, host);
				return;
			}
			continue;
		case STEP_HTTPS:
			run->step = STEP_DONE;
			if (self->https_url[0] == '\0')
				continue;
			host = vigil_portal_url_get_host(self->https_url);
			address = vigil_portal_run_get_address(run, host);
			if (address == NULL) {
				run->outcome.https = VIGIL_PROBE_FAIL;
				vigil_portal_run_add_detail(run, "HTTPS: %s did not resolve", host);
				continue;
			}
			vigil_portal_run_fetch(run,
					       "HTTPS",
					       self->https_url,
					       address,
					       "*/*",
					       PROBE_BODY_MAX,
					       vigil_portal_https_fetched);
			return;
		case STEP_DONE:
			vigil_portal_run_finish(run);
			return;
		default:
			g_assert_not_reached();
		}
	}
}

/* RFC 8910: the API URL from an RA (any family's check may use it), else from networkd's
 * DHCPv4 lease; RFC 8908 wants https, anything else is ignored */
static gchar *
vigil_portal_checker_find_api_url(VigilPortalChecker *self, guint ifindex, gchar **problem)
{
	const gchar *ra_url = g_hash_table_lookup(self->ra_urls, GUINT_TO_POINTER(ifindex));
	g_autofree gchar *lease_path = g_strdup_printf("%s/%u", self->lease_dir, ifindex);
	g_autofree gchar *contents = NULL;
	g_autofree gchar *url = NULL;

	if (ra_url != NULL)
		url = g_strdup(ra_url);
	else if (g_file_get_contents(lease_path, &contents, NULL, NULL))
		url = vigil_portal_parse_lease(contents);
	if (url == NULL || g_str_equal(url, VIGIL_CAPPORT_UNRESTRICTED))
		return NULL;
	if (!vigil_portal_url_is_acceptable(url, TRUE)) {
		*problem = g_strdup_printf("API: ignoring %s, which is not an https URL", url);
		return NULL;
	}
	return g_steal_pointer(&url);
}

static void
vigil_portal_entry_start(VigilPortalEntry *entry)
{
	VigilPortalChecker *self = entry->self;
	VigilPortalRun *run;
	g_autofree gchar *problem = NULL;

	if (entry->run != NULL) {
		vigil_portal_run_abandon(entry->run);
		entry->run = NULL;
	}
	g_clear_handle_id(&entry->timer_id, g_source_remove);
	entry->started = g_get_monotonic_time();
	entry->again = FALSE;
	if (!self->enabled) {
		entry->state = VIGIL_CONNECTIVITY_UNKNOWN;
		g_free(entry->detail);
		entry->detail = g_strdup("connectivity probing is switched off (Enabled=false in "
					 "vigild.conf, or vigild --no-probes)");
		g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
		return;
	}
	run = g_new0(VigilPortalRun, 1);
	run->self = g_object_ref(self);
	run->entry = entry;
	run->ifname = g_strdup(entry->ifname);
	run->family = entry->family;
	run->step = STEP_API_RESOLVE;
	run->cancellable = g_cancellable_new();
	run->details = g_ptr_array_new_with_free_func(g_free);
	run->resolved = g_hash_table_new_full(g_str_hash,
					      g_str_equal,
					      g_free,
					      (GDestroyNotify)g_ptr_array_unref);
	run->rtt_usec = -1;
	run->captive.seconds_remaining = -1;
	run->captive.bytes_remaining = -1;
	run->api_url = vigil_portal_checker_find_api_url(self, entry->ifindex, &problem);
	if (problem != NULL)
		g_ptr_array_add(run->details, g_steal_pointer(&problem));
	entry->run = run;
	entry->state = VIGIL_CONNECTIVITY_CHECKING;
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
	vigil_portal_run_continue(run);
}

static VigilPortalEntry *
vigil_portal_checker_ensure_entry(VigilPortalChecker *self,
				  const gchar *ifname,
				  guint ifindex,
				  guint family)
{
	VigilPortalEntry *entry =
	    g_hash_table_lookup(self->entries, vigil_portal_entry_key(ifindex, family));

	if (entry == NULL) {
		entry = g_new0(VigilPortalEntry, 1);
		entry->self = self;
		entry->ifindex = ifindex;
		entry->family = family;
		entry->seconds_remaining = -1;
		entry->bytes_remaining = -1;
		entry->rtt_usec = -1;
		g_hash_table_insert(self->entries, vigil_portal_entry_key(ifindex, family), entry);
	}
	if (g_strcmp0(entry->ifname, ifname) != 0) {
		g_free(entry->ifname);
		entry->ifname = g_strdup(ifname);
	}
	return entry;
}

/**
 * vigil_portal_checker_check:
 * @ifname: the interface's name
 * @ifindex: its index
 * @family: 4 or 6
 *
 * Starts a check of that interface and family now, abandoning one in progress: for the
 * network monitor, when a link, an address or a route changed. Results come through
 * "changed".
 */
void
vigil_portal_checker_check(VigilPortalChecker *self,
			   const gchar *ifname,
			   guint ifindex,
			   guint family)
{
	VigilPortalEntry *entry;

	g_return_if_fail(VIGIL_IS_PORTAL_CHECKER(self));
	g_return_if_fail(ifname != NULL && ifindex > 0);
	g_return_if_fail(family == 4 || family == 6);

	entry = vigil_portal_checker_ensure_entry(self, ifname, ifindex, family);
	/* something changed: the back-off starts over */
	entry->backoff_s = 0;
	vigil_portal_entry_start(entry);
}

/**
 * vigil_portal_checker_request:
 *
 * Like vigil_portal_checker_check() for a user's request: a check in progress is left to
 * finish, and one started less than 5 seconds ago is not repeated. Returns whether a check
 * started.
 */
gboolean
vigil_portal_checker_request(VigilPortalChecker *self,
			     const gchar *ifname,
			     guint ifindex,
			     guint family)
{
	VigilPortalEntry *entry;

	g_return_val_if_fail(VIGIL_IS_PORTAL_CHECKER(self), FALSE);
	g_return_val_if_fail(ifname != NULL && ifindex > 0, FALSE);
	g_return_val_if_fail(family == 4 || family == 6, FALSE);

	entry = g_hash_table_lookup(self->entries, vigil_portal_entry_key(ifindex, family));
	if (entry != NULL && entry->run != NULL)
		return FALSE;
	if (entry != NULL && entry->started != 0 &&
	    g_get_monotonic_time() - entry->started < REQUEST_INTERVAL_US)
		return FALSE;
	vigil_portal_checker_check(self, ifname, ifindex, family);
	return TRUE;
}

/* an interface (@family 0) or one of its families (4 or 6) is no uplink any more: its
 * entries go, and with them any check in progress */
void
vigil_portal_checker_forget(VigilPortalChecker *self, guint ifindex, guint family)
{
	gboolean changed = FALSE;

	g_return_if_fail(VIGIL_IS_PORTAL_CHECKER(self));

	if (family != 6)
		changed |= g_hash_table_remove(self->entries, vigil_portal_entry_key(ifindex, 4));
	if (family != 4)
		changed |= g_hash_table_remove(self->entries, vigil_portal_entry_key(ifindex, 6));
	/* the portal API a router advertised goes with the interface */
	if (family == 0)
		g_hash_table_remove(self->ra_urls, GUINT_TO_POINTER(ifindex));
	if (changed)
		g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

VigilConnectivity
vigil_portal_checker_get_state(VigilPortalChecker *self,
			       guint ifindex,
			       guint family,
			       gint64 *rtt_usec)
{
	VigilPortalEntry *entry;

	g_return_val_if_fail(VIGIL_IS_PORTAL_CHECKER(self), VIGIL_CONNECTIVITY_UNKNOWN);

	entry = g_hash_table_lookup(self->entries, vigil_portal_entry_key(ifindex, family));
	if (rtt_usec != NULL)
		*rtt_usec = entry != NULL ? entry->rtt_usec : -1;
	return entry != NULL ? entry->state : VIGIL_CONNECTIVITY_UNKNOWN;
}

gboolean
vigil_portal_checker_get_enabled(VigilPortalChecker *self)
{
	g_return_val_if_fail(VIGIL_IS_PORTAL_CHECKER(self), FALSE);
	return self->enabled;
}

static gint
vigil_portal_entry_compare(gconstpointer a, gconstpointer b)
{
	const VigilPortalEntry *ea = *(VigilPortalEntry *const *)a;
	const VigilPortalEntry *eb = *(VigilPortalEntry *const *)b;
	gint ret = g_strcmp0(ea->ifname, eb->ifname);

	if (ret != 0)
		return ret;
	return (gint)ea->family - (gint)eb->family;
}

/* the D-Bus Connectivity property, sorted by interface name then family */
GVariant *
vigil_portal_checker_to_variant(VigilPortalChecker *self)
{
	g_autoptr(GPtrArray) entries = g_ptr_array_new();
	GVariantBuilder builder;
	GHashTableIter iter;
	gpointer value;

	g_return_val_if_fail(VIGIL_IS_PORTAL_CHECKER(self), NULL);

	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(entries, value);
	g_ptr_array_sort(entries, vigil_portal_entry_compare);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < entries->len; i++) {
		VigilPortalEntry *entry = g_ptr_array_index(entries, i);
		GVariantBuilder dict;

		g_variant_builder_init(&dict, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add(&dict,
				      "{sv}",
				      "interface",
				      g_variant_new_string(entry->ifname));
		g_variant_builder_add(&dict, "{sv}", "family", g_variant_new_uint32(entry->family));
		g_variant_builder_add(
		    &dict,
		    "{sv}",
		    "state",
		    g_variant_new_string(vigil_connectivity_to_string(entry->state)));
		g_variant_builder_add(
		    &dict,
		    "{sv}",
		    "portal-url",
		    g_variant_new_string(entry->portal_url != NULL ? entry->portal_url : ""));
		g_variant_builder_add(
		    &dict,
		    "{sv}",
		    "venue-url",
		    g_variant_new_string(entry->venue_url != NULL ? entry->venue_url : ""));
		g_variant_builder_add(&dict,
				      "{sv}",
				      "seconds-remaining",
				      g_variant_new_int64(entry->seconds_remaining));
		g_variant_builder_add(&dict,
				      "{sv}",
				      "bytes-remaining",
				      g_variant_new_int64(entry->bytes_remaining));
		g_variant_builder_add(&dict,
				      "{sv}",
				      "can-extend",
				      g_variant_new_boolean(entry->can_extend));
		g_variant_builder_add(&dict,
				      "{sv}",
				      "checked",
				      g_variant_new_int64(entry->checked));
		g_variant_builder_add(
		    &dict,
		    "{sv}",
		    "detail",
		    g_variant_new_string(entry->detail != NULL ? entry->detail : ""));
		g_variant_builder_add(&dict,
				      "{sv}",
				      "rtt-usec",
				      g_variant_new_int64(entry->rtt_usec));
		g_variant_builder_add(
		    &dict,
		    "{sv}",
		    "api-url",
		    g_variant_new_string(entry->api_url != NULL ? entry->api_url : ""));
		g_variant_builder_add_value(&builder, g_variant_builder_end(&dict));
	}
	return g_variant_builder_end(&builder);
}

/* RFC 8910 option 37 from Router Advertisements */

static void
vigil_portal_checker_set_ra_url(VigilPortalChecker *self, guint ifindex, gchar *url)
{
	g_autoptr(GPtrArray) affected = g_ptr_array_new();
	const gchar *old = g_hash_table_lookup(self->ra_urls, GUINT_TO_POINTER(ifindex));
	gchar ifname[IF_NAMESIZE] = {0};
	GHashTableIter iter;
	gpointer value;

	if (g_strcmp0(old, url) == 0) {
		g_free(url);
		return;
	}
	g_info("interface %u announces the captive portal API %s", ifindex, url ? url : "(none)");
	if (url != NULL)
		g_hash_table_insert(self->ra_urls, GUINT_TO_POINTER(ifindex), url);
	else
		g_hash_table_remove(self->ra_urls, GUINT_TO_POINTER(ifindex));

	/* news from the network: check that interface again */
	g_hash_table_iter_init(&iter, self->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VigilPortalEntry *entry = value;
		if (entry->ifindex == ifindex)
			g_ptr_array_add(affected, entry);
	}
	for (guint i = 0; i < affected->len; i++)
		vigil_portal_entry_kick(g_ptr_array_index(affected, i));
	if (affected->len == 0 && url != NULL && if_indextoname(ifindex, ifname) != NULL)
		vigil_portal_checker_check(self, ifname, ifindex, 6);
}

static gboolean
vigil_portal_checker_ra_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	VigilPortalChecker *self = VIGIL_PORTAL_CHECKER(user_data);

	for (guint i = 0; i < RA_BATCH; i++) {
		guint8 buf[2048];
		guint8 control[256];
		struct sockaddr_in6 source = {0};
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr msg = {0};
		struct cmsghdr *cmsg;
		g_autoptr(GError) error = NULL;
		gchar *url = NULL;
		guint ifindex = 0;
		gint hop_limit = -1;
		gssize n;

		msg.msg_name = &source;
		msg.msg_namelen = sizeof(source);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		n = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (n < 0)
			break;
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
			if (cmsg->cmsg_level != IPPROTO_IPV6)
				continue;
			if (cmsg->cmsg_type == IPV6_PKTINFO &&
			    cmsg->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
				struct in6_pktinfo info;
				memcpy(&info, CMSG_DATA(cmsg), sizeof(info));
				ifindex = info.ipi6_ifindex;
			} else if (cmsg->cmsg_type == IPV6_HOPLIMIT &&
				   cmsg->cmsg_len >= CMSG_LEN(sizeof(gint))) {
				memcpy(&hop_limit, CMSG_DATA(cmsg), sizeof(hop_limit));
			}
		}
		/* RFC 4861 6.1.2: from a link-local router, never forwarded */
		if (ifindex == 0 || hop_limit != 255 || !IN6_IS_ADDR_LINKLOCAL(&source.sin6_addr) ||
		    (msg.msg_flags & MSG_TRUNC)) {
			g_debug("ignoring a router advertisement that fails RFC 4861 checks");
			continue;
		}
		if (!vigil_portal_parse_ra(buf, n, &url, &error)) {
			g_debug("ignoring a router advertisement on %u: %s",
				ifindex,
				error->message);
			continue;
		}
		if (url != NULL && g_str_equal(url, VIGIL_CAPPORT_UNRESTRICTED))
			g_clear_pointer(&url, g_free);
		vigil_portal_checker_set_ra_url(self, ifindex, url);
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
vigil_portal_checker_open_ra(VigilPortalChecker *self, GError **error)
{
	struct icmp6_filter filter;
	gint on = 1;
	gint fd;

	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0) {
		int errsv = errno;
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "cannot open an ICMPv6 socket for router advertisements: %s",
			    g_strerror(errsv));
		return FALSE;
	}
	ICMP6_FILTER_SETBLOCKALL(&filter);
	ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &filter);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) < 0) {
		int errsv = errno;
		g_close(fd, NULL);
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errsv),
			    "cannot set up the router advertisement socket: %s",
			    g_strerror(errsv));
		return FALSE;
	}
	self->ra_fd = fd;
	self->ra_watch_id = g_unix_fd_add(fd, G_IO_IN, vigil_portal_checker_ra_cb, self);
	return TRUE;
}

/**
 * vigil_portal_checker_load:
 *
 * Reads the CA file and starts listening for router advertisements (RFC 8910). Nothing is
 * opened when probing is switched off.
 */
gboolean
vigil_portal_checker_load(VigilPortalChecker *self, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	g_return_val_if_fail(VIGIL_IS_PORTAL_CHECKER(self), FALSE);

	if (!self->enabled)
		return TRUE;
	/* load the TLS module now rather than in the middle of the first probe */
	if (!g_tls_backend_supports_tls(g_tls_backend_get_default()))
		g_warning("no TLS support (is glib-networking installed?): HTTPS probes will fail");
	if (self->ca_file != NULL && self->database == NULL) {
		self->database = g_tls_file_database_new(self->ca_file, error);
		if (self->database == NULL) {
			g_prefix_error(error, "CaFile %s: ", self->ca_file);
			return FALSE;
		}
	}
	/* without RAs the probes still work; only RFC 8910 over IPv6 is missing */
	if (self->ra_fd < 0 && !vigil_portal_checker_open_ra(self, &error_local))
		g_warning("no captive portal API from router advertisements: %s",
			  error_local->message);
	return TRUE;
}

static void
vigil_portal_checker_dispose(GObject *object)
{
	VigilPortalChecker *self = VIGIL_PORTAL_CHECKER(object);

	g_clear_handle_id(&self->ra_watch_id, g_source_remove);
	g_clear_handle_id(&self->trim_id, g_source_remove);
	g_hash_table_remove_all(self->entries);
	g_clear_object(&self->database);
	G_OBJECT_CLASS(vigil_portal_checker_parent_class)->dispose(object);
}

static void
vigil_portal_checker_finalize(GObject *object)
{
	VigilPortalChecker *self = VIGIL_PORTAL_CHECKER(object);

	if (self->ra_fd >= 0)
		g_close(self->ra_fd, NULL);
	g_hash_table_unref(self->entries);
	g_hash_table_unref(self->ra_urls);
	g_free(self->http_url);
	g_free(self->http_body);
	g_free(self->https_url);
	g_free(self->ca_file);
	g_free(self->fallback4);
	g_free(self->fallback6);
	g_free(self->resolv_conf);
	g_free(self->lease_dir);
	G_OBJECT_CLASS(vigil_portal_checker_parent_class)->finalize(object);
}

static void
vigil_portal_checker_class_init(VigilPortalCheckerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = vigil_portal_checker_dispose;
	object_class->finalize = vigil_portal_checker_finalize;

	/**
	 * VigilPortalChecker::changed:
	 *
	 * The state of an interface changed, a check started or one was forgotten; read
	 * vigil_portal_checker_to_variant() or vigil_portal_checker_get_state().
	 */
	signals[SIGNAL_CHANGED] = g_signal_new("changed",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       0);
}

static void
vigil_portal_checker_init(VigilPortalChecker *self)
{
	self->ra_fd = -1;
	self->entries = g_hash_table_new_full(g_direct_hash,
					      g_direct_equal,
					      NULL,
					      (GDestroyNotify)vigil_portal_entry_free);
	self->ra_urls = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
}

/**
 * vigil_portal_checker_new:
 * @config: the [connectivity] settings and OwnMark are copied from it
 */
VigilPortalChecker *
vigil_portal_checker_new(const VigilConfig *config)
{
	VigilPortalChecker *self = g_object_new(VIGIL_TYPE_PORTAL_CHECKER, NULL);

	self->enabled = config->connectivity_enabled;
	self->mark = config->own_mark;
	self->http_url = g_strdup(config->http_url);
	self->http_status = config->http_status;
	self->http_body = g_strdup(config->http_body != NULL ? config->http_body : "");
	self->https_url = g_strdup(config->https_url != NULL ? config->https_url : "");
	self->ca_file = g_strdup(config->ca_file);
	self->timeout_s = MAX(config->probe_timeout, 1);
	self->fallback4 = g_strdup(config->fallback4);
	self->fallback6 = g_strdup(config->fallback6);
	self->resolv_conf = g_strdup(config->resolv_conf);
	self->lease_dir =
	    g_strdup(config->lease_dir != NULL ? config->lease_dir : VIGIL_CONFIG_LEASE_DIR);
	return self;
}
