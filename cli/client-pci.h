/*
 * client-pci.h - what client-pci.c (header, BARs, capability list) and
 * client-pcie.c (PCI Express and extended capabilities) share: bounded
 * little-endian reads of a config space (0xff past its end, as a missing
 * register reads) and lspci's "Name+"/"Name-" flag lists.
 */
#ifndef CLIENT_PCI_H
#define CLIENT_PCI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A config space being decoded, and what lspci learns besides. */
struct pci_cfg {
	const uint8_t *c;
	size_t len;
	int has_mem_bar;	/* a memory BAR is set or has a known size */
};

static inline unsigned
pci_b8(const struct pci_cfg *p, size_t o)
{
	return o < p->len ? p->c[o] : 0xff;
}

static inline unsigned
pci_w16(const struct pci_cfg *p, size_t o)
{
	return pci_b8(p, o) | pci_b8(p, o + 1) << 8;
}

static inline uint32_t
pci_l32(const struct pci_cfg *p, size_t o)
{
	return (uint32_t)pci_w16(p, o) | (uint32_t)pci_w16(p, o + 2) << 16;
}

static inline char
pci_pm(uint32_t v)
{
	return v ? '+' : '-';
}

/* Bits [lo, lo+n) of v. */
static inline unsigned
pci_bits(uint32_t v, unsigned lo, unsigned n)
{
	return (v >> lo) & ((1u << n) - 1);
}

struct pci_flag {
	const char *name;
	uint32_t bit;
};

/* A flag list for "A+ B- C+" lines, ended by a NULL name. */
#define PCI_FLAGS(...) ((const struct pci_flag[]){ __VA_ARGS__, { NULL, 0 } })

/* What the decoder knows besides the config space. */
struct cl_pci_opts {
	int numeric;		/* 0 names, 1 numbers (-n), 2 both (-nn) */
	int sizes;		/* bar_size[] comes from region info */
	uint64_t bar_size[7];	/* BAR0-5 and the ROM; 0 if absent */
};

/* cl_pci_print with names, numbers and BAR sizes as o asks. */
void cl_pci_print_opts(FILE *fp, const uint8_t *cfg, size_t len,
    const struct cl_pci_opts *o);

/* "Express (vN) TYPE, MSI nn" and the lines after; returns the port type. */
unsigned pcie_cap_print(FILE *fp, const struct pci_cfg *p, unsigned at);
/* One extended capability's text after "[xxx vN] "; type: the port type. */
void pcie_ext_print(FILE *fp, const struct pci_cfg *p, unsigned at, int type);

#endif /* CLIENT_PCI_H */
