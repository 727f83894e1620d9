/*
 * ack_send.c: what an ack costs to send on loopback, as sendmmsg sends them (a message each)
 * and as one segmented send (UDP_SEGMENT: one buffer the kernel cuts into 4-byte datagrams),
 * the two ways the batched engine can send a batch's acks (docs/performance.md, "Acks as one
 * segmented send").
 *
 *   cc -O2 -o ack_send bench/ack_send.c && ./ack_send BATCH sendmmsg|segmented
 *
 * A connected UDP socket sends 200,000 acks in calls of BATCH (at most 64) to a receiver on
 * 127.0.0.1 that drains every datagram after each call. Prints the CPU (user + system) per
 * ack of the sends alone and of sends and receives together. Every error is fatal.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define ACKS 200000
#define MAX_BATCH 64

static double cpu(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

static void fail(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 3 || atoi(argv[1]) < 1 || atoi(argv[1]) > MAX_BATCH
	    || (strcmp(argv[2], "sendmmsg") && strcmp(argv[2], "segmented"))) {
		fprintf(stderr, "usage: ack_send BATCH(1-%d) sendmmsg|segmented\n", MAX_BATCH);
		return 2;
	}
	int batch = atoi(argv[1]), segmented = !strcmp(argv[2], "segmented"), rounds = ACKS / batch;

	int receiver = socket(AF_INET, SOCK_DGRAM, 0), sender = socket(AF_INET, SOCK_DGRAM, 0), big = 64 << 20;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t length = sizeof to;
	if (receiver < 0 || sender < 0)
		fail("socket");
	setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (bind(receiver, (struct sockaddr *)&to, sizeof to) || getsockname(receiver, (struct sockaddr *)&to, &length)
	    || connect(sender, (struct sockaddr *)&to, sizeof to))
		fail("bind/connect");

	unsigned char acks[4 * MAX_BATCH], datagram[64];
	struct iovec vectors[MAX_BATCH], all = { acks, 0 };
	struct mmsghdr messages[MAX_BATCH];
	for (int i = 0; i < batch; i++) {
		vectors[i] = (struct iovec){ acks + 4 * i, 4 };
		memset(&messages[i], 0, sizeof messages[i]);
		messages[i].msg_hdr.msg_iov = &vectors[i];
		messages[i].msg_hdr.msg_iovlen = 1;
	}
	char control[CMSG_SPACE(sizeof(unsigned short))] = { 0 };
	struct msghdr one = { .msg_iov = &all, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
	struct cmsghdr *header = CMSG_FIRSTHDR(&one);
	header->cmsg_level = SOL_UDP;
	header->cmsg_type = UDP_SEGMENT;
	header->cmsg_len = CMSG_LEN(sizeof(unsigned short));
	*(unsigned short *)CMSG_DATA(header) = 4;
	all.iov_len = 4 * batch;

	double start = cpu(), sending = 0;
	for (int round = 0; round < rounds; round++) {
		for (int i = 0; i < batch; i++)
			memcpy(acks + 4 * i, &(uint32_t){ htonl(round * batch + i) }, 4);
		double before = cpu();
		if (segmented ? sendmsg(sender, &one, 0) != 4 * batch : sendmmsg(sender, messages, batch, 0) != batch)
			fail("send");
		sending += cpu() - before;
		for (int i = 0; i < batch; i++)
			if (recv(receiver, datagram, sizeof datagram, 0) != 4)
				fail("recv: not a 4-byte ack");
	}
	printf("%s, %d acks a call: send %.2f us per ack, send and receive %.2f us\n", argv[2], batch,
	    sending / ((double)rounds * batch) * 1e6, (cpu() - start) / ((double)rounds * batch) * 1e6);
	return 0;
}
