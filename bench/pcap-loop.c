/*
 * pcap-loop.c - the floor under `vfuctl dissect`: read every record of a
 * pcap file through libpcap and touch its bytes, nothing else.
 *
 * usage: pcap-loop FILE
 */
#include <pcap/pcap.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const unsigned char *d;
	unsigned long n = 0, sum = 0;
	pcap_t *p;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap-loop FILE\n");
		return 2;
	}
	p = pcap_open_offline_with_tstamp_precision(argv[1],
	    PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL) {
		fprintf(stderr, "pcap-loop: %s\n", err);
		return 2;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		n++;
		sum += h->caplen + d[0];
	}
	pcap_close(p);
	printf("records=%lu sum=%lu\n", n, sum);
	return 0;
}
