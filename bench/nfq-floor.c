/*
 * Copyright 2026 The Vigil authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* nfq-floor [QUEUE]: the floor of the connection benchmark. The least a queue listener can
 * do: read each queued packet with a blocking recv() and accept it with one sendto(), no
 * main loop, no attribution, no rules. Run against vigild's own table (vigil-nft-tool
 * apply), it shows what NFQUEUE itself costs on this machine, so that vigild's figures can
 * be split into the queue's share and vigild's. Runs until killed. */

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct nlmsghdr *
put_header(char *buf, int type, unsigned int queue)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(queue);
	return nlh;
}

static int
send_or_die(struct mnl_socket *nl, const struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("nfq-floor: sendto");
		exit(1);
	}
	return 0;
}

/* the packet id of a queued packet message, 0 when it has none */
static unsigned int
packet_id(const struct nlmsghdr *nlh)
{
	const struct nlattr *attr;

	if ((nlh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET)
		return 0;
	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(attr) == NFQA_PACKET_HDR &&
		    mnl_attr_get_payload_len(attr) >= sizeof(struct nfqnl_msg_packet_hdr)) {
			const struct nfqnl_msg_packet_hdr *header = mnl_attr_get_payload(attr);
			return ntohl(header->packet_id);
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static char buf[65536];
	char out[256];
	unsigned int queue = argc > 1 ? (unsigned int)atoi(argv[1]) : 0;
	struct nfqnl_msg_config_cmd cmd = {.command = NFQNL_CFG_CMD_BIND};
	struct nfqnl_msg_config_params params = {.copy_range = htonl(512),
						 .copy_mode = NFQNL_COPY_PACKET};
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nlmsghdr *nlh;

	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nfq-floor: netlink");
		return 1;
	}
	nlh = put_header(buf, NFQNL_MSG_CONFIG, queue);
	mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof(cmd), &cmd);
	send_or_die(nl, nlh);
	nlh = put_header(buf, NFQNL_MSG_CONFIG, queue);
	mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof(params), &params);
	send_or_die(nl, nlh);

	for (;;) {
		ssize_t got = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		int len;

		if (got < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			perror("nfq-floor: recv");
			return 1;
		}
		len = (int)got;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			struct nfqnl_msg_verdict_hdr verdict;
			struct nlmsghdr *reply;
			unsigned int id = packet_id(nlh);

			if (id == 0)
				continue;
			reply = put_header(out, NFQNL_MSG_VERDICT, queue);
			verdict.verdict = htonl(NF_ACCEPT);
			verdict.id = htonl(id);
			mnl_attr_put(reply, NFQA_VERDICT_HDR, sizeof(verdict), &verdict);
			send_or_die(nl, reply);
		}
	}
}
