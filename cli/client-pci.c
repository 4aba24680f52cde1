/*
 * client-pci.c - PCI config space as `lspci -vv` shows it: IDs, command
 * and status bits, class, BARs, interrupt pin and line, the capability
 * list and the extended capability list (client-pcie.c).  Line for line
 * the wording is lspci's (pciutils 3.9), so that the two can be compared
 * on one dump; names of vendors, devices and classes come from the pci.ids
 * database through libpci, as lspci's do.
 *
 * A device controls its own config space: every list walk is bounded and
 * remembers where it has been (lspci's "<chain looped>").
 */
#include <ctype.h>
#include <stdarg.h>
#include <jansson.h>
#include <pci/pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client-int.h"
#include "client-pci.h"
#include "vx-pci.h"

static unsigned
b8(const uint8_t *c, size_t len, size_t o)
{
	return o < len ? c[o] : 0xff;
}

static unsigned
w16(const uint8_t *c, size_t len, size_t o)
{
	return b8(c, len, o) | b8(c, len, o + 1) << 8;
}

static uint32_t
l32(const uint8_t *c, size_t len, size_t o)
{
	return (uint32_t)w16(c, len, o) | (uint32_t)w16(c, len, o + 2) << 16;
}

static char
pm(unsigned v)
{
	return v ? '+' : '-';
}

static const char *
cap_name(unsigned id)
{
	switch (id) {
	case 0x01: return "Power Management";
	case 0x02: return "AGP";
	case 0x03: return "Vital Product Data";
	case 0x04: return "Slot ID";
	case 0x05: return "MSI";
	case 0x06: return "CompactPCI hot-swap";
	case 0x07: return "PCI-X";
	case 0x08: return "HyperTransport";
	case 0x09: return "Vendor Specific Information";
	case 0x0a: return "Debug port";
	case 0x0b: return "CompactPCI central resource control";
	case 0x0c: return "Hot-plug capable";
	case 0x0d: return "Subsystem";
	case 0x0e: return "AGP3";
	case 0x0f: return "Secure device";
	case 0x10: return "Express";
	case 0x11: return "MSI-X";
	case 0x12: return "SATA HBA";
	case 0x13: return "PCI Advanced Features";
	case 0x14: return "Enhanced Allocation";
	}
	return NULL;
}

static const char *
ext_cap_name(unsigned id)
{
	switch (id) {
	case 0x0001: return "Advanced Error Reporting";
	case 0x0002: return "Virtual Channel";
	case 0x0003: return "Device Serial Number";
	case 0x0004: return "Power Budgeting";
	case 0x0005: return "Root Complex Link";
	case 0x000b: return "Vendor Specific Information";
	case 0x000d: return "Access Control Services";
	case 0x000e: return "Alternative Routing-ID Interpretation (ARI)";
	case 0x000f: return "Address Translation Service (ATS)";
	case 0x0010: return "Single Root I/O Virtualization (SR-IOV)";
	case 0x0013: return "Page Request Interface (PRI)";
	case 0x0017: return "Transaction Processing Hints";
	case 0x0018: return "Latency Tolerance Reporting";
	case 0x0019: return "Secondary PCI Express";
	case 0x001b: return "Process Address Space ID (PASID)";
	case 0x001e: return "L1 PM Substates";
	}
	return NULL;
}

/*
 * The capability header line's text after "[xx] " and its detail lines;
 * returns the port type of an Express capability, else -1.
 */
static int
cap_line(FILE *fp, const struct pci_cfg *p, unsigned at, unsigned id)
{
	const uint8_t *c = p->c;
	size_t len = p->len;
	unsigned flags = w16(c, len, at + 2);
	const char *n = cap_name(id);

	switch (id) {
	case 0x01: {
		static const unsigned aux[8] = {
			0, 55, 100, 160, 220, 270, 320, 375
		};
		unsigned t = w16(c, len, at + 4), br = b8(c, len, at + 6);

		fprintf(fp, "Power Management version %u\n", flags & 7);
		fprintf(fp, "\t\tFlags: PMEClk%c DSI%c D1%c D2%c "
		    "AuxCurrent=%umA PME(D0%c,D1%c,D2%c,D3hot%c,D3cold%c)\n",
		    pm(flags & 0x8), pm(flags & 0x20), pm(flags & 0x200),
		    pm(flags & 0x400), aux[(flags >> 6) & 7], pm(flags & 0x800),
		    pm(flags & 0x1000), pm(flags & 0x2000), pm(flags & 0x4000),
		    pm(flags & 0x8000));
		fprintf(fp, "\t\tStatus: D%u NoSoftRst%c PME-Enable%c DSel=%u "
		    "DScale=%u PME%c\n", t & 3, pm(t & 0x8), pm(t & 0x100),
		    (t >> 9) & 0xf, (t >> 13) & 3, pm(t & 0x8000));
		if (br)
			fprintf(fp, "\t\tBridge: PM%c B3%c\n", pm(br & 0x80),
			    pm(~br & 0x40));
		break;
	}
	case 0x05: {
		int is64 = (flags & 0x80) != 0;
		unsigned data = w16(c, len, at + (is64 ? 12 : 8));

		fprintf(fp, "MSI: Enable%c Count=%u/%u Maskable%c 64bit%c\n",
		    pm(flags & 1), 1u << ((flags >> 4) & 7),
		    1u << ((flags >> 1) & 7), pm(flags & 0x100), pm(is64));
		fprintf(fp, "\t\tAddress: ");
		if (is64)
			fprintf(fp, "%08x%08x", l32(c, len, at + 8),
			    l32(c, len, at + 4));
		else
			fprintf(fp, "%08x", l32(c, len, at + 4));
		fprintf(fp, "  Data: %04x\n", data);
		if (flags & 0x100)
			fprintf(fp, "\t\tMasking: %08x  Pending: %08x\n",
			    l32(c, len, at + (is64 ? 16 : 12)),
			    l32(c, len, at + (is64 ? 20 : 16)));
		break;
	}
	case 0x10:
		return (int)pcie_cap_print(fp, p, at);
	case 0x11: {
		uint32_t t = l32(c, len, at + 4), pba = l32(c, len, at + 8);

		fprintf(fp, "MSI-X: Enable%c Count=%u Masked%c\n",
		    pm(flags & 0x8000), (flags & 0x7ff) + 1, pm(flags & 0x4000));
		fprintf(fp, "\t\tVector table: BAR=%u offset=%08x\n", t & 7,
		    t & ~7u);
		fprintf(fp, "\t\tPBA: BAR=%u offset=%08x\n", pba & 7, pba & ~7u);
		break;
	}
	case 0x09:
		fprintf(fp, "Vendor Specific Information: Len=%02x <?>\n",
		    b8(c, len, at + 2));
		break;
	case 0x00:
		fprintf(fp, "Null\n");
		break;
	default:
		if (n != NULL)
			fprintf(fp, "%s <?>\n", n);
		else
			fprintf(fp, "Capability ID %#02x [%04x]\n", id, flags);
	}
	return -1;
}

/* " [size=8K]" as lspci prints a size; nothing for 0 */
static void
print_size(FILE *fp, uint64_t x)
{
	static const char *const suffix[] = { "", "K", "M", "G", "T" };
	unsigned i;

	if (x == 0)
		return;
	for (i = 0; i < 4 && x % 1024 == 0; i++)
		x /= 1024;
	fprintf(fp, " [size=%u%s]", (unsigned)x, suffix[i]);
}

static void
print_mem_bar(FILE *fp, uint32_t flg, uint64_t pos, unsigned cmd)
{
	static const char *const type[4] = {
		"32-bit", "low-1M", "64-bit", "type 3"
	};
	uint64_t a = pos & ~0xfull;

	fprintf(fp, "Memory at ");
	if (a)
		fprintf(fp, "%08llx", (unsigned long long)a);
	else
		fprintf(fp, "<unassigned>");
	fprintf(fp, " (%s, %sprefetchable)%s", type[(flg >> 1) & 3],
	    flg & 8 ? "" : "non-", cmd & 2 ? "" : " [disabled]");
}

/*
 * base[]: the BAR addresses libpci reads from a dump: a 64-bit BAR joins
 * its upper half and leaves that slot 0, and one in the last slot is 0.
 */
static void
bar_bases(const uint8_t *c, size_t len, int nbars, uint64_t *base)
{
	int i;

	for (i = 0; i < nbars; i++) {
		uint32_t x = l32(c, len, 0x10 + 4 * i);

		base[i] = 0;
		if (x == 0 || x == 0xffffffff)
			continue;
		if ((x & 1) || ((x >> 1) & 3) != 2)
			base[i] = x;
		else if (i < nbars - 1) {
			base[i] = x | (uint64_t)l32(c, len, 0x14 + 4 * i) << 32;
			base[++i] = 0;
		}
	}
}

/*
 * The BARs as lspci shows them.  From a dump (no sizes) lspci shows every
 * slot whose register is not 0, the upper half of a 64-bit BAR too; with
 * region info it shows a BAR that reads 0 but has a size (an unassigned
 * 32-bit memory BAR) and skips upper halves, as with sysfs.
 */
static void
print_bars(FILE *fp, const uint8_t *c, size_t len, unsigned cmd, int nbars,
    const struct cl_pci_opts *o)
{
	uint64_t base[VX_PCI_NBARS];
	int i;

	bar_bases(c, len, nbars, base);
	for (i = 0; i < nbars; i++) {
		uint32_t flg = l32(c, len, 0x10 + 4 * i);
		uint64_t size = o->sizes ? o->bar_size[i] : 0;
		int n = i;

		if (flg == 0xffffffff)
			flg = 0;
		if (base[i] == 0 && flg == 0 && size == 0)
			continue;
		if (o->sizes && !(flg & 1) && ((flg >> 1) & 3) == 2)
			i++;
		fprintf(fp, "\tRegion %d: ", n);
		if (flg & 1) {
			uint64_t a = base[n] & ~3ull;

			fprintf(fp, "I/O ports at ");
			if (a || (cmd & 1))
				fprintf(fp, "%04llx", (unsigned long long)a);
			else
				fprintf(fp, "<unassigned>");
			fprintf(fp, "%s", cmd & 1 ? "" : " [disabled]");
		} else {
			print_mem_bar(fp, flg, base[n], cmd);
		}
		print_size(fp, size);
		fputc('\n', fp);
	}
}

static void
print_rom(FILE *fp, const uint8_t *c, size_t len, unsigned cmd,
    const struct cl_pci_opts *o)
{
	uint32_t rom = l32(c, len, 0x30);
	uint64_t size = o->sizes ? o->bar_size[VX_PCI_ROM_SLOT] : 0;

	if (rom == 0xffffffff)
		rom = 0;
	if (rom == 0 && size == 0)
		return;
	fprintf(fp, "\tExpansion ROM at ");
	if (rom & ~0x7ffu)
		fprintf(fp, "%08x", rom & ~0x7ffu);
	else
		fprintf(fp, "<unassigned>");
	if (!(rom & 1))
		fprintf(fp, " [disabled]");
	else if (!(cmd & 2))
		fprintf(fp, " [disabled by cmd]");
	print_size(fp, size);
	fputc('\n', fp);
}

static void
pci_quiet(char *msg, ...)
{
	(void)msg;
}

static void __attribute__((noreturn))
pci_fatal(char *msg, ...)
{
	va_list ap;

	fputs("vfuctl: libpci: ", stderr);
	va_start(ap, msg);
	vfprintf(stderr, msg, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(VX_EXIT_FAIL);
}

static struct pci_access *names_pa;
static int names_flags;		/* PCI_LOOKUP_NO_HWDB once it is missing */

/*
 * After a lookup: libpci 3.9 opens udev's hardware database on each lookup
 * until that works, and leaks a udev context each time it does not (no
 * hwdb.bin).  Without one it looks in pci.ids alone, as lspci then does,
 * so stop asking: one context leaks, which leak checkers are told below.
 */
static void
names_hwdb_check(struct pci_access *pa)
{
#ifdef PCI_HAVE_HWDB
	if (pa->id_udev != NULL && pa->id_udev_hwdb == NULL)
		names_flags = PCI_LOOKUP_NO_HWDB;
#else
	(void)pa;
#endif
}

/* LeakSanitizer asks for this (make asan): libpci's udev context above. */
const char *__lsan_default_suppressions(void);
__attribute__((used)) const char *
__lsan_default_suppressions(void)
{
	return "leak:udev_new\n";
}

/* The name cache goes at exit (leak checkers look). */
static void
names_free(void)
{
	pci_cleanup(names_pa);
}

/*
 * libpci for names only: no pci_init, so no access to this host's PCI;
 * pci_init would also set these handlers.  Without pci.ids names fall
 * back to numbers, as lspci's do.
 */
static struct pci_access *
names(int numeric)
{
	struct pci_access *pa = names_pa;

	if (pa == NULL) {
		names_pa = pa = pci_alloc();
		pa->error = pci_fatal;
		pa->warning = pci_quiet;
		pa->debug = pci_quiet;
		atexit(names_free);
	}
	pa->numeric_ids = numeric;
	return pa;
}

/* "00:00.0 CLASS: VENDOR DEVICE (rev r) (prog-if p [name])", Subsystem */
static void
print_ident(FILE *fp, const uint8_t *c, size_t len, int numeric)
{
	struct pci_access *pa = names(numeric);
	unsigned cls = w16(c, len, 0x0a), ven = w16(c, len, 0);
	unsigned dev = w16(c, len, 2), pi = b8(c, len, 9);
	unsigned htype = b8(c, len, 0x0e) & 0x7f;
	char cb[128], db[128], sb[256];
	const char *x;

	fprintf(fp, "00:00.0 %s: ", pci_lookup_name(pa, cb, sizeof(cb),
	    PCI_LOOKUP_CLASS | names_flags, cls));
	names_hwdb_check(pa);
	fputs(pci_lookup_name(pa, db, sizeof(db), PCI_LOOKUP_VENDOR |
	    PCI_LOOKUP_DEVICE | names_flags, ven, dev), fp);
	names_hwdb_check(pa);
	if (b8(c, len, 8))
		fprintf(fp, " (rev %02x)", b8(c, len, 8));
	x = pci_lookup_name(pa, db, sizeof(db), PCI_LOOKUP_PROGIF |
	    PCI_LOOKUP_NO_NUMBERS | names_flags, cls, pi);
	names_hwdb_check(pa);
	if (pi || x) {
		fprintf(fp, " (prog-if %02x", pi);
		if (x)
			fprintf(fp, " [%s]", x);
		fputc(')', fp);
	}
	fputc('\n', fp);
	if (htype == 0) {
		unsigned sv = w16(c, len, 0x2c), sd = w16(c, len, 0x2e);

		if (sv && sv != 0xffff)
			fprintf(fp, "\tSubsystem: %s\n", pci_lookup_name(pa, sb,
			    sizeof(sb), PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_VENDOR |
			    PCI_LOOKUP_DEVICE | names_flags, ven, dev, sv, sd));
		names_hwdb_check(pa);
	}
}

static void
print_control(FILE *fp, const uint8_t *c, size_t len)
{
	unsigned cmd = w16(c, len, 4), st = w16(c, len, 6);
	unsigned htype = b8(c, len, 0x0e) & 0x7f;
	unsigned lat = b8(c, len, 0x0d), cls = b8(c, len, 0x0c);
	static const char *const devsel[] = { "fast", "medium", "slow", "??" };

	fprintf(fp, "\tControl: I/O%c Mem%c BusMaster%c SpecCycle%c "
	    "MemWINV%c VGASnoop%c ParErr%c Stepping%c SERR%c FastB2B%c "
	    "DisINTx%c\n", pm(cmd & 1), pm(cmd & 2), pm(cmd & 4),
	    pm(cmd & 8), pm(cmd & 0x10), pm(cmd & 0x20), pm(cmd & 0x40),
	    pm(cmd & 0x80), pm(cmd & 0x100), pm(cmd & 0x200),
	    pm(cmd & 0x400));
	fprintf(fp, "\tStatus: Cap%c 66MHz%c UDF%c FastB2B%c ParErr%c "
	    "DEVSEL=%s >TAbort%c <TAbort%c <MAbort%c >SERR%c <PERR%c "
	    "INTx%c\n", pm(st & 0x10), pm(st & 0x20), pm(st & 0x40),
	    pm(st & 0x80), pm(st & 0x100), devsel[(st >> 9) & 3],
	    pm(st & 0x800), pm(st & 0x1000), pm(st & 0x2000),
	    pm(st & 0x4000), pm(st & 0x8000), pm(st & 8));
	if (!(cmd & 4))
		return;
	fprintf(fp, "\tLatency: %u", lat);
	if (htype == 0) {
		unsigned mg = b8(c, len, 0x3e), ml = b8(c, len, 0x3f);

		if (mg || ml) {
			fprintf(fp, " (");
			if (mg)
				fprintf(fp, "%uns min", mg * 250);
			if (mg && ml)
				fprintf(fp, ", ");
			if (ml)
				fprintf(fp, "%uns max", ml * 250);
			fputc(')', fp);
		}
	}
	if (cls)
		fprintf(fp, ", Cache Line Size: %u bytes", cls * 4);
	fputc('\n', fp);
}

/* The capability list, at most 48 entries, each visited once; returns
 * the Express port type, -1 without an Express capability. */
static int
print_caps(FILE *fp, const struct pci_cfg *p)
{
	unsigned at, n, htype = b8(p->c, p->len, 0x0e) & 0x7f;
	int type = -1, t;
	char seen[256];

	if (!(w16(p->c, p->len, 6) & 0x10) || p->len < 64)
		return -1;
	memset(seen, 0, sizeof(seen));
	at = b8(p->c, p->len, htype == 2 ? 0x14 : 0x34) & ~3u;
	for (n = 0; at && n < 48; n++) {
		unsigned id = b8(p->c, p->len, at);

		fprintf(fp, "\tCapabilities: [%02x] ", at);
		if (at >= p->len) {
			fprintf(fp, "<access denied>\n");
			break;
		}
		if (seen[at]++) {
			fprintf(fp, "<chain looped>\n");
			break;
		}
		if (id == 0xff) {
			fprintf(fp, "<chain broken>\n");
			break;
		}
		if ((t = cap_line(fp, p, at, id)) >= 0)
			type = t;
		at = b8(p->c, p->len, at + 1) & ~3u;
	}
	return type;
}

/* The extended capabilities of a PCIe function with 4 KiB of config. */
static void
print_ext_caps(FILE *fp, const struct pci_cfg *p, int type)
{
	unsigned at = 0x100, n;
	char seen[4096];

	memset(seen, 0, sizeof(seen));
	for (n = 0; at >= 0x100 && at + 4 <= p->len && n < 1024; n++) {
		uint32_t h = l32(p->c, p->len, at);

		if (h == 0 || h == 0xffffffff)
			break;
		fprintf(fp, "\tCapabilities: [%03x v%u] ", at, (h >> 16) & 0xf);
		if (seen[at]++) {
			fprintf(fp, "<chain looped>\n");
			break;
		}
		pcie_ext_print(fp, p, at, type);
		at = (h >> 20) & ~3u;
	}
}

static void
print_bist(FILE *fp, unsigned bist)
{
	if (!(bist & 0x80))
		return;
	if (bist & 0x40)
		fprintf(fp, "\tBIST is running\n");
	else
		fprintf(fp, "\tBIST result: %02x\n", bist & 0x0f);
}

/* Does a memory BAR have an address or a size?  (lspci's AtomicOpsCap) */
static int
has_mem_bar(const uint8_t *c, size_t len, const struct cl_pci_opts *o)
{
	uint64_t base[VX_PCI_NBARS];
	int i;

	bar_bases(c, len, VX_PCI_NBARS, base);
	for (i = 0; i < VX_PCI_NBARS; i++)
		if ((base[i] || (o->sizes && o->bar_size[i])) && !(base[i] & 1))
			return 1;
	return 0;
}

void
cl_pci_print_opts(FILE *fp, const uint8_t *c, size_t len,
    const struct cl_pci_opts *o)
{
	struct pci_cfg p = { c, len, has_mem_bar(c, len, o) };
	unsigned cmd = w16(c, len, 4), htype = b8(c, len, 0x0e) & 0x7f;
	unsigned pin = b8(c, len, 0x3d), line = b8(c, len, 0x3c);
	int type;

	print_ident(fp, c, len, o->numeric);
	print_control(fp, c, len);
	if (pin || line)
		fprintf(fp, "\tInterrupt: pin %c routed to IRQ %u\n",
		    pin ? 'A' + pin - 1 : '?', line);
	print_bist(fp, htype <= 2 ? b8(c, len, 0x0f) : 0);
	print_bars(fp, c, len, cmd, htype == 0 ? 6 : htype == 1 ? 2 : 0, o);
	if (htype == 0)
		print_rom(fp, c, len, cmd, o);
	type = print_caps(fp, &p);
	if (type >= 0 && len > 256)
		print_ext_caps(fp, &p, type);
	fputc('\n', fp);	/* lspci ends each device with an empty line */
}

void
cl_pci_print(FILE *fp, const uint8_t *c, size_t len)
{
	static const struct cl_pci_opts def;

	cl_pci_print_opts(fp, c, len, &def);
}

void *
cl_pci_json(const uint8_t *c, size_t len)
{
	json_t *o, *bars, *caps, *ecaps;
	unsigned st = w16(c, len, 6), htype = b8(c, len, 0x0e) & 0x7f;
	unsigned at, n, i, express = 0;
	char seen[4096];

	o = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}",
	    "vendor_id", (int)w16(c, len, 0), "device_id", (int)w16(c, len, 2),
	    "command", (int)w16(c, len, 4), "status", (int)st,
	    "revision", (int)b8(c, len, 8),
	    "class", (int)(l32(c, len, 8) >> 8),
	    "header_type", (int)b8(c, len, 0x0e),
	    "interrupt_line", (int)b8(c, len, 0x3c),
	    "interrupt_pin", (int)b8(c, len, 0x3d));
	if (htype == 0) {
		json_object_set_new(o, "subsystem_vendor_id",
		    json_integer(w16(c, len, 0x2c)));
		json_object_set_new(o, "subsystem_id",
		    json_integer(w16(c, len, 0x2e)));
	}
	bars = json_array();
	for (i = 0; htype == 0 && i < 6; i++) {
		uint32_t v = l32(c, len, 0x10 + 4 * i);
		uint64_t a;
		int is64 = !(v & 1) && ((v >> 1) & 3) == 2 && i < 5;

		if (v == 0 || v == 0xffffffff)
			continue;
		a = v & 1 ? v & ~3u : v & ~0xfu;
		if (is64)
			a |= (uint64_t)l32(c, len, 0x14 + 4 * i) << 32;
		json_array_append_new(bars, json_pack("{s:i,s:s,s:I,s:b,s:b}",
		    "index", (int)i, "type", v & 1 ? "io" : "memory",
		    "address", (json_int_t)a, "64bit", is64,
		    "prefetchable", !(v & 1) && (v & 8)));
		if (is64)
			i++;
	}
	json_object_set_new(o, "bars", bars);
	caps = json_array();
	memset(seen, 0, sizeof(seen));
	at = (st & 0x10) ? b8(c, len, 0x34) & ~3u : 0;
	for (n = 0; at >= 0x40 && at < len && n < 48 && !seen[at]++; n++) {
		unsigned id = b8(c, len, at);
		const char *nm = cap_name(id);

		if (id == 0xff)
			break;
		if (id == 0x10)
			express = 1;
		json_array_append_new(caps, json_pack("{s:i,s:i,s:s}",
		    "offset", (int)at, "id", (int)id, "name",
		    nm != NULL ? nm : "unknown"));
		at = b8(c, len, at + 1) & ~3u;
	}
	json_object_set_new(o, "capabilities", caps);
	ecaps = json_array();
	memset(seen, 0, sizeof(seen));
	at = express && len > 256 ? 0x100 : 0;
	for (n = 0; at >= 0x100 && at + 4 <= len && n < 1024 && !seen[at]++;
	    n++) {
		uint32_t h = l32(c, len, at);
		const char *nm = ext_cap_name(h & 0xffff);

		if (h == 0 || h == 0xffffffff)
			break;
		json_array_append_new(ecaps, json_pack("{s:i,s:i,s:i,s:s}",
		    "offset", (int)at, "id", (int)(h & 0xffff), "version",
		    (int)((h >> 16) & 0xf), "name",
		    nm != NULL ? nm : "unknown"));
		at = (h >> 20) & ~3u;
	}
	json_object_set_new(o, "extended_capabilities", ecaps);
	return o;
}

void
cl_pci_dump(FILE *fp, const uint8_t *c, size_t len)
{
	size_t i, j;

	fprintf(fp, "00:00.0 Class [%04x]: Device [%04x:%04x]\n",
	    w16(c, len, 0x0a), w16(c, len, 0), w16(c, len, 2));
	for (i = 0; i < len; i += 16) {
		fprintf(fp, len > 256 ? "%03zx:" : "%02zx:", i);
		for (j = 0; j < 16 && i + j < len; j++)
			fprintf(fp, " %02x", c[i + j]);
		fputc('\n', fp);
	}
	fputc('\n', fp);
}

long
cl_pci_load(FILE *fp, uint8_t *c, size_t cap)
{
	char line[512];
	size_t max = 0;
	int dev = 0;

	memset(c, 0xff, cap);
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line, *e;
		unsigned long off = strtoul(p, &e, 16);

		if (e == p || *e != ':' || strchr(line, '.') != NULL) {
			/* a device header line; only the first device */
			if (isxdigit((unsigned char)line[0]) && dev++)
				break;
			continue;
		}
		p = e + 1;
		for (;;) {
			unsigned long v;

			while (*p == ' ' || *p == '\t')
				p++;
			if (!isxdigit((unsigned char)*p))
				break;
			v = strtoul(p, &e, 16);
			if (e == p || v > 0xff)
				return -1;
			if (off >= cap)
				return -1;
			c[off++] = (uint8_t)v;
			if (off > max)
				max = off;
			p = e;
		}
	}
	return (long)max;
}

/* BAR and ROM sizes from region info; a region the device lacks is 0. */
static void
bar_sizes(struct cl *cl, struct cl_pci_opts *o)
{
	uint32_t i;

	o->sizes = 1;
	for (i = 0; i <= VX_PCI_ROM_SLOT && i < cl->nregions; i++)
		if (cl_ensure_region(cl, i) == 0)
			o->bar_size[i] = cl->regs[i].size;
}

/* -n, -nn (lspci's numbers and names) and -x; 0, or -1 for anything else */
static int
config_args(int argc, char **argv, int *dump, struct cl_pci_opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-x") == 0)
			*dump = 1;
		else if (strcmp(argv[i], "-n") == 0 && o->numeric < 2)
			o->numeric++;
		else if (strcmp(argv[i], "-nn") == 0 && o->numeric == 0)
			o->numeric = 2;
		else
			return -1;
	}
	return 0;
}

/* config [-x] [-n|-nn]: the device's config space, decoded, dumped or
 * in JSON */
int
cl_c_config(struct cl *cl, int argc, char **argv)
{
	struct cl_pci_opts o;
	uint8_t cfg[4096];
	size_t len;
	int r, dump = 0;

	memset(&o, 0, sizeof(o));
	if (config_args(argc, argv, &dump, &o) < 0)
		return cl_usage(cl, "config");
	if ((r = cl_ensure_region(cl, VX_PCI_CONFIG)) != 0)
		return r;
	len = cl->regs[VX_PCI_CONFIG].size > 4096 ? 4096 :
	    (size_t)cl->regs[VX_PCI_CONFIG].size;
	if (len < 64)
		return cl_err(cl, VX_EXIT_FAIL, "config region is %zu bytes, "
		    "too small for a PCI header (64)", len);
	len = len >= 4096 ? 4096 : len >= 256 ? 256 : 64;
	if ((r = cl_region_io(cl, VX_PCI_CONFIG, 0, cfg, len, 0, 0)) != 0)
		return r;
	if (cl->json) {
		cl_print_json(cl, "config", cl_pci_json(cfg, len));
		cl_print_hex(cl, "data", cfg, len);
	} else if (dump) {
		cl_pci_dump(stdout, cfg, len);
	} else {
		bar_sizes(cl, &o);
		cl_pci_print_opts(stdout, cfg, len, &o);
	}
	return 0;
}
