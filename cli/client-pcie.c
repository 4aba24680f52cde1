/*
 * client-pcie.c - the PCI Express capability and the extended capabilities
 * decoded in the words of `lspci -vv` (pciutils 3.9), line for line, so
 * that `vfuctl config` and `lspci -vv -F` can be compared on one dump.
 * Register layouts are those of the PCI Express Base Specification; every
 * read is bounded by the config space (client-pci.h).
 */
#include <stdio.h>

#include "client-pci.h"

/* Port types of the Express capability's flags (bits 7:4). */
enum {
	T_ENDPOINT = 0, T_LEG_END = 1, T_ROOT_PORT = 4, T_UPSTREAM = 5,
	T_DOWNSTREAM = 6, T_PCI_BRIDGE = 7, T_PCIE_BRIDGE = 8,
	T_ROOT_INT_EP = 9, T_ROOT_EC = 10,
};

/* "A+ B- C+": the flags of f in v */
static void
flags(FILE *fp, uint32_t v, const struct pci_flag *f)
{
	for (; f->name != NULL; f++)
		fprintf(fp, "%s%c%s", f->name, pci_pm(v & f->bit),
		    f[1].name != NULL ? " " : "");
}

static const char *
pick(const char *const *names, unsigned n, unsigned i, const char *other)
{
	return i < n && names[i] != NULL ? names[i] : other;
}
#define PICK(a, i, other) pick(a, sizeof(a) / sizeof(a[0]), i, other)

static void
power_limit(FILE *fp, unsigned value, unsigned scale)
{
	static const double scales[4] = { 1.0, 0.1, 0.01, 0.001 };

	if (scale == 0 && value == 0xff) {
		fprintf(fp, ">600W");
		return;
	}
	if (scale == 0 && value >= 0xf0)
		value = 250 + 25 * (value - 0xf0);
	fprintf(fp, "%gW", value * scales[scale & 3]);
}

static const char *const l0s_lat[8] = {
	"<64ns", "<128ns", "<256ns", "<512ns", "<1us", "<2us", "<4us",
	"unlimited"
};
static const char *const l1_lat[8] = {
	"<1us", "<2us", "<4us", "<8us", "<16us", "<32us", "<64us", "unlimited"
};

static int
is_endpoint(unsigned t)
{
	return t == T_ENDPOINT || t == T_LEG_END;
}

static void
exp_dev(FILE *fp, const struct pci_cfg *p, unsigned at, unsigned t)
{
	uint32_t cap = pci_l32(p, at + 4);
	unsigned w = pci_w16(p, at + 8);
	int flr = is_endpoint(t) || t == T_ROOT_INT_EP;

	fprintf(fp, "\t\tDevCap:\tMaxPayload %u bytes, PhantFunc %u",
	    128u << (cap & 7), (1u << pci_bits(cap, 3, 2)) - 1);
	if (is_endpoint(t))
		fprintf(fp, ", Latency L0s %s, L1 %s",
		    l0s_lat[pci_bits(cap, 6, 3)], l1_lat[pci_bits(cap, 9, 3)]);
	fprintf(fp, "\n\t\t\tExtTag%c", pci_pm(cap & 0x20));
	if (is_endpoint(t) || t == T_UPSTREAM || t == T_PCI_BRIDGE)
		fprintf(fp, " AttnBtn%c AttnInd%c PwrInd%c",
		    pci_pm(cap & 0x1000), pci_pm(cap & 0x2000),
		    pci_pm(cap & 0x4000));
	fprintf(fp, " RBE%c", pci_pm(cap & 0x8000));
	if (flr)
		fprintf(fp, " FLReset%c", pci_pm(cap & 0x10000000));
	if (t == T_ENDPOINT || t == T_UPSTREAM || t == T_PCI_BRIDGE) {
		fprintf(fp, " SlotPowerLimit ");
		power_limit(fp, pci_bits(cap, 18, 8), pci_bits(cap, 26, 2));
	}
	fprintf(fp, "\n\t\tDevCtl:\t");
	flags(fp, w, PCI_FLAGS({ "CorrErr", 1 }, { "NonFatalErr", 2 },
	    { "FatalErr", 4 }, { "UnsupReq", 8 }));
	fprintf(fp, "\n\t\t\t");
	flags(fp, w, PCI_FLAGS({ "RlxdOrd", 0x10 }, { "ExtTag", 0x100 },
	    { "PhantFunc", 0x200 }, { "AuxPwr", 0x400 },
	    { "NoSnoop", 0x800 }));
	if (t == T_PCI_BRIDGE)
		fprintf(fp, " BrConfRtry%c", pci_pm(w & 0x8000));
	if (flr && (cap & 0x10000000))
		fprintf(fp, " FLReset%c", pci_pm(w & 0x8000));
	fprintf(fp, "\n\t\t\tMaxPayload %u bytes, MaxReadReq %u bytes\n",
	    128u << pci_bits(w, 5, 3), 128u << pci_bits(w, 12, 3));
	fprintf(fp, "\t\tDevSta:\t");
	flags(fp, pci_w16(p, at + 10), PCI_FLAGS({ "CorrErr", 1 },
	    { "NonFatalErr", 2 }, { "FatalErr", 4 }, { "UnsupReq", 8 },
	    { "AuxPwr", 0x10 }, { "TransPend", 0x20 }));
	fputc('\n', fp);
}

static const char *
link_speed(unsigned s)
{
	static const char *const n[] = {
		NULL, "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s"
	};

	return PICK(n, s, "unknown");
}

static const char *
link_compare(unsigned t, unsigned sta, unsigned cap)
{
	if (sta > cap)
		return " (overdriven)";
	if (sta == cap || t == T_ROOT_PORT || t == T_DOWNSTREAM ||
	    t == T_PCIE_BRIDGE)
		return "";
	return " (downgraded)";
}

static void
exp_link(FILE *fp, const struct pci_cfg *p, unsigned at, unsigned t)
{
	static const char *const aspm_sup[4] = {
		"not supported", "L0s", "L1", "L0s L1"
	};
	static const char *const aspm_en[4] = {
		"Disabled", "L0s Enabled", "L1 Enabled", "L0s L1 Enabled"
	};
	uint32_t cap = pci_l32(p, at + 0x0c);
	unsigned ctl = pci_w16(p, at + 0x10), sta = pci_w16(p, at + 0x12);
	unsigned aspm = pci_bits(cap, 10, 2);

	fprintf(fp, "\t\tLnkCap:\tPort #%u, Speed %s, Width x%u, ASPM %s",
	    cap >> 24, link_speed(cap & 0xf), pci_bits(cap, 4, 6),
	    aspm_sup[aspm]);
	if (aspm) {
		fprintf(fp, ", Exit Latency ");
		if (aspm & 1)
			fprintf(fp, "L0s %s", l0s_lat[pci_bits(cap, 12, 3)]);
		if (aspm & 2)
			fprintf(fp, "%sL1 %s", aspm & 1 ? ", " : "",
			    l1_lat[pci_bits(cap, 15, 3)]);
	}
	fprintf(fp, "\n\t\t\t");
	flags(fp, cap, PCI_FLAGS({ "ClockPM", 0x40000 },
	    { "Surprise", 0x80000 }, { "LLActRep", 0x100000 },
	    { "BwNot", 0x200000 }, { "ASPMOptComp", 0x400000 }));
	fprintf(fp, "\n\t\tLnkCtl:\tASPM %s;", aspm_en[ctl & 3]);
	if (t == T_ROOT_PORT || is_endpoint(t) || t == T_PCI_BRIDGE)
		fprintf(fp, " RCB %u bytes,", ctl & 8 ? 128 : 64);
	fprintf(fp, " Disabled%c CommClk%c\n\t\t\t", pci_pm(ctl & 0x10),
	    pci_pm(ctl & 0x40));
	flags(fp, ctl, PCI_FLAGS({ "ExtSynch", 0x80 }, { "ClockPM", 0x100 },
	    { "AutWidDis", 0x200 }, { "BWInt", 0x400 },
	    { "AutBWInt", 0x800 }));
	fprintf(fp, "\n\t\tLnkSta:\tSpeed %s%s, Width x%u%s\n\t\t\t",
	    link_speed(sta & 0xf), link_compare(t, sta & 0xf, cap & 0xf),
	    pci_bits(sta, 4, 6),
	    link_compare(t, pci_bits(sta, 4, 6), pci_bits(cap, 4, 6)));
	flags(fp, sta, PCI_FLAGS({ "TrErr", 0x400 }, { "Train", 0x800 },
	    { "SlotClk", 0x1000 }, { "DLActive", 0x2000 },
	    { "BWMgmt", 0x4000 }, { "ABWMgmt", 0x8000 }));
	fputc('\n', fp);
}

static void
exp_slot(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	static const char *const ind[4] = { "Unknown", "On", "Blink", "Off" };
	uint32_t cap = pci_l32(p, at + 0x14);
	unsigned ctl = pci_w16(p, at + 0x18), sta = pci_w16(p, at + 0x1a);

	fprintf(fp, "\t\tSltCap:\t");
	flags(fp, cap, PCI_FLAGS({ "AttnBtn", 1 }, { "PwrCtrl", 2 },
	    { "MRL", 4 }, { "AttnInd", 8 }, { "PwrInd", 0x10 },
	    { "HotPlug", 0x40 }, { "Surprise", 0x20 }));
	fprintf(fp, "\n\t\t\tSlot #%u, PowerLimit ", cap >> 19);
	power_limit(fp, pci_bits(cap, 7, 8), pci_bits(cap, 15, 2));
	fprintf(fp, "; Interlock%c NoCompl%c\n", pci_pm(cap & 0x20000),
	    pci_pm(cap & 0x40000));
	fprintf(fp, "\t\tSltCtl:\tEnable: ");
	flags(fp, ctl, PCI_FLAGS({ "AttnBtn", 1 }, { "PwrFlt", 2 },
	    { "MRL", 4 }, { "PresDet", 8 }, { "CmdCplt", 0x10 },
	    { "HPIrq", 0x20 }, { "LinkChg", 0x1000 }));
	fprintf(fp, "\n\t\t\tControl: AttnInd %s, PwrInd %s, Power%c "
	    "Interlock%c\n", ind[pci_bits(ctl, 6, 2)], ind[pci_bits(ctl, 8, 2)],
	    pci_pm(ctl & 0x400), pci_pm(ctl & 0x800));
	fprintf(fp, "\t\tSltSta:\tStatus: ");
	flags(fp, sta, PCI_FLAGS({ "AttnBtn", 1 }, { "PowerFlt", 2 },
	    { "MRL", 0x20 }, { "CmdCplt", 0x10 }, { "PresDet", 0x40 },
	    { "Interlock", 0x80 }));
	fprintf(fp, "\n\t\t\tChanged: MRL%c PresDet%c LinkState%c\n",
	    pci_pm(sta & 4), pci_pm(sta & 8), pci_pm(sta & 0x100));
}

static void
exp_root(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	uint32_t sta = pci_l32(p, at + 0x20);

	fprintf(fp, "\t\tRootCap: CRSVisible%c\n", pci_pm(pci_w16(p, at + 0x1e) & 1));
	fprintf(fp, "\t\tRootCtl: ");
	flags(fp, pci_w16(p, at + 0x1c), PCI_FLAGS({ "ErrCorrectable", 1 },
	    { "ErrNon-Fatal", 2 }, { "ErrFatal", 4 }, { "PMEIntEna", 8 },
	    { "CRSVisible", 0x10 }));
	fprintf(fp, "\n\t\tRootSta: PME ReqID %04x, PMEStatus%c PMEPending%c\n",
	    sta & 0xffff, pci_pm(sta & 0x10000), pci_pm(sta & 0x20000));
}

static void
exp_dev2_cap(FILE *fp, const struct pci_cfg *p, unsigned at, unsigned t)
{
	static const char *const range[16] = {
		"Not Supported", "Range A", "Range B", "Range AB", NULL, NULL,
		"Range BC", "Range ABC", NULL, NULL, NULL, NULL, NULL, NULL,
		"Range BCD", "Range ABCD"
	};
	static const char *const obff[4] = {
		"Not Supported", "Via message", "Via WAKE#", "Via message/WAKE#"
	};
	static const char *const epr[4] = {
		"Not Supported", "Dev Specific", "Form Factor Dev Specific",
		"Reserved"
	};
	static const char *const lncls[4] = {
		"Not Supported", "64byte cachelines", "128byte cachelines",
		"Reserved"
	};
	static const char *const tph[4] = {
		"TPHComp- ExtTPHComp-", "TPHComp+ ExtTPHComp-", "",
		"TPHComp+ ExtTPHComp+"
	};
	uint32_t l = pci_l32(p, at + 0x24);
	int port = t == T_ROOT_PORT || t == T_UPSTREAM || t == T_DOWNSTREAM;

	fprintf(fp, "\t\tDevCap2: Completion Timeout: %s, TimeoutDis%c "
	    "NROPrPrP%c LTR%c", PICK(range, l & 0xf, "Unknown"),
	    pci_pm(l & 0x10), pci_pm(l & 0x400), pci_pm(l & 0x800));
	fprintf(fp, "\n\t\t\t 10BitTagComp%c 10BitTagReq%c OBFF %s, ExtFmt%c "
	    "EETLPPrefix%c", pci_pm(l & 0x10000), pci_pm(l & 0x20000),
	    obff[pci_bits(l, 18, 2)], pci_pm(l & 0x100000),
	    pci_pm(l & 0x200000));
	if (l & 0x200000)
		fprintf(fp, ", MaxEETLPPrefixes %u",
		    pci_bits(l, 22, 2) ? pci_bits(l, 22, 2) : 4);
	fprintf(fp, "\n\t\t\t EmergencyPowerReduction %s, "
	    "EmergencyPowerReductionInit%c", epr[pci_bits(l, 24, 2)],
	    pci_pm(l & 0x4000000));
	fprintf(fp, "\n\t\t\t FRS%c", pci_pm(l & 0x80000000u));
	if (t == T_ROOT_PORT)
		fprintf(fp, " LN System CLS %s,", lncls[pci_bits(l, 14, 2)]);
	if (t == T_ROOT_PORT || t == T_ENDPOINT)
		fprintf(fp, " %s", tph[pci_bits(l, 12, 2)]);
	if (t == T_ROOT_PORT || t == T_DOWNSTREAM)
		fprintf(fp, " ARIFwd%c", pci_pm(l & 0x20));
	fputc('\n', fp);
	if (port || p->has_mem_bar) {
		fprintf(fp, "\t\t\t AtomicOpsCap:");
		if (port)
			fprintf(fp, " Routing%c", pci_pm(l & 0x40));
		if (t == T_ROOT_PORT || p->has_mem_bar)
			fprintf(fp, " 32bit%c 64bit%c 128bitCAS%c",
			    pci_pm(l & 0x80), pci_pm(l & 0x100),
			    pci_pm(l & 0x200));
		fputc('\n', fp);
	}
}

static void
exp_dev2_ctl(FILE *fp, const struct pci_cfg *p, unsigned at, unsigned t)
{
	static const char *const tmo[16] = {
		"50us to 50ms", "50us to 100us", "1ms to 10ms", NULL, NULL,
		"16ms to 55ms", "65ms to 210ms", NULL, NULL, "260ms to 900ms",
		"1s to 3.5s", NULL, NULL, "4s to 13s", "17s to 64s", NULL
	};
	static const char *const obff[4] = {
		"Disabled", "Via message A", "Via message B", "Via WAKE#"
	};
	unsigned w = pci_w16(p, at + 0x28);
	int port = t == T_ROOT_PORT || t == T_UPSTREAM || t == T_DOWNSTREAM;
	int req = t == T_ROOT_PORT || t == T_ENDPOINT || t == T_ROOT_INT_EP ||
	    t == T_LEG_END;

	fprintf(fp, "\t\tDevCtl2: Completion Timeout: %s, TimeoutDis%c "
	    "LTR%c 10BitTagReq%c OBFF %s,", PICK(tmo, w & 0xf, "Unknown"),
	    pci_pm(w & 0x10), pci_pm(w & 0x400), pci_pm(w & 0x1000),
	    obff[pci_bits(w, 13, 2)]);
	if (t == T_ROOT_PORT || t == T_DOWNSTREAM)
		fprintf(fp, " ARIFwd%c", pci_pm(w & 0x20));
	fputc('\n', fp);
	if (port || req) {
		fprintf(fp, "\t\t\t AtomicOpsCtl:");
		if (req)
			fprintf(fp, " ReqEn%c", pci_pm(w & 0x40));
		if (port)
			fprintf(fp, " EgressBlck%c", pci_pm(w & 0x80));
		fputc('\n', fp);
	}
}

static const char *
speed_cap(unsigned v)
{
	if (v & 0x60)
		return "RsvdP";
	if (v & 0x10)
		return "2.5-32GT/s";
	if (v & 0x08)
		return "2.5-16GT/s";
	if (v & 0x04)
		return "2.5-8GT/s";
	if (v & 0x02)
		return "2.5-5GT/s";
	return v & 1 ? "2.5GT/s" : "Unknown";
}

static const char *
deemph(unsigned v)
{
	return v == 0 ? "-6dB" : v == 1 ? "-3.5dB" : "Unknown";
}

static void
exp_link2_ctl(FILE *fp, unsigned w, unsigned t)
{
	static const char *const target[7] = {
		"2.5GT/s", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s",
		"64GT/s"
	};
	static const char *const margin[6] = {
		"Normal Operating Range",
		"800-1200mV(full-swing)/400-700mV(half-swing)",
		"200-400mV(full-swing)/100-200mV(half-swing)",
		"200-400mV(full-swing)/100-200mV(half-swing)",
		"200-400mV(full-swing)/100-200mV(half-swing)",
		"200-400mV(full-swing)/100-200mV(half-swing)",
	};
	static const char *const preset[10] = {
		"-6dB de-emphasis, 0dB preshoot",
		"-3.5dB de-emphasis, 0dB preshoot",
		"-4.4dB de-emphasis, 0dB preshoot",
		"-2.5dB de-emphasis, 0dB preshoot",
		"0dB de-emphasis, 0dB preshoot",
		"0dB de-emphasis, 1.9dB preshoot",
		"0dB de-emphasis, 2.5dB preshoot",
		"-6.0dB de-emphasis, 3.5dB preshoot",
		"-3.5dB de-emphasis, 3.5dB preshoot",
		"0dB de-emphasis, 3.5dB preshoot",
	};

	fprintf(fp, "\t\tLnkCtl2: Target Link Speed: %s, EnterCompliance%c "
	    "SpeedDis%c", PICK(target, w & 0xf, "Unknown"), pci_pm(w & 0x10),
	    pci_pm(w & 0x20));
	if (t == T_DOWNSTREAM)
		fprintf(fp, ", Selectable De-emphasis: %s",
		    deemph(pci_bits(w, 6, 1)));
	fprintf(fp, "\n\t\t\t Transmit Margin: %s, EnterModifiedCompliance%c "
	    "ComplianceSOS%c\n", PICK(margin, pci_bits(w, 7, 3), "Unknown"),
	    pci_pm(w & 0x400), pci_pm(w & 0x800));
	fprintf(fp, "\t\t\t Compliance Preset/De-emphasis: %s\n",
	    PICK(preset, pci_bits(w, 12, 4), "Unknown"));
}

static void
exp_link2(FILE *fp, const struct pci_cfg *p, unsigned at, unsigned t)
{
	static const char *const xres[4] = {
		"unsupported", "Upstream Port", "Downstream Port", "incomplete"
	};
	static const char *const comp[8] = {
		"Link Down - Not Determined", "Link Down - Not Present",
		"Link Down - Present", NULL, "Link Up - Present",
		"Link Up - Present and DRS Received", NULL, NULL
	};
	uint32_t l = pci_l32(p, at + 0x2c);
	unsigned w = pci_w16(p, at + 0x32);

	/* the dump is function 0, which always has the link registers */
	if (l)
		fprintf(fp, "\t\tLnkCap2: Supported Link Speeds: %s, "
		    "Crosslink%c Retimer%c 2Retimers%c DRS%c\n",
		    speed_cap(pci_bits(l, 1, 7)), pci_pm(l & 0x100),
		    pci_pm(l & 0x800000), pci_pm(l & 0x1000000),
		    pci_pm(l & 0x80000000u));
	exp_link2_ctl(fp, pci_w16(p, at + 0x30), t);
	fprintf(fp, "\t\tLnkSta2: Current De-emphasis Level: %s, ",
	    deemph(w & 1));
	flags(fp, w, PCI_FLAGS({ "EqualizationComplete", 2 },
	    { "EqualizationPhase1", 4 }));
	fprintf(fp, "\n\t\t\t ");
	flags(fp, w, PCI_FLAGS({ "EqualizationPhase2", 8 },
	    { "EqualizationPhase3", 0x10 },
	    { "LinkEqualizationRequest", 0x20 }));
	fprintf(fp, "\n\t\t\t Retimer%c 2Retimers%c CrosslinkRes: %s",
	    pci_pm(w & 0x40), pci_pm(w & 0x80), xres[pci_bits(w, 8, 2)]);
	if ((t == T_ROOT_PORT || t == T_DOWNSTREAM || t == T_PCIE_BRIDGE) &&
	    (l & 0x80000000u))
		fprintf(fp, ", DRS%c\n\t\t\t DownstreamComp: %s",
		    pci_pm(w & 0x8000), PICK(comp, pci_bits(w, 12, 3),
		    "Reserved"));
	fputc('\n', fp);
}

static const char *const exp_types[11] = {
	"Endpoint", "Legacy Endpoint", NULL, NULL, "Root Port",
	"Upstream Port", "Downstream Port", "PCI-Express to PCI/PCI-X Bridge",
	"PCI/PCI-X to PCI-Express Bridge", "Root Complex Integrated Endpoint",
	"Root Complex Event Collector",
};

unsigned
pcie_cap_print(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	unsigned f = pci_w16(p, at + 2), t = pci_bits(f, 4, 4);
	int slot = 0, link = t != T_ROOT_INT_EP && t != T_ROOT_EC;

	fprintf(fp, "Express (v%u) ", f & 0xf);
	if (PICK(exp_types, t, NULL) == NULL)
		fprintf(fp, "Unknown type %u", t);
	else
		fputs(exp_types[t], fp);
	if (t == T_ROOT_PORT || t == T_DOWNSTREAM || t == T_PCIE_BRIDGE) {
		slot = (f & 0x100) != 0;
		fprintf(fp, " (Slot%c)", pci_pm(slot));
	}
	fprintf(fp, ", MSI %02x\n", pci_bits(f, 9, 5));
	exp_dev(fp, p, at, t);
	if (link)
		exp_link(fp, p, at, t);
	if (slot)
		exp_slot(fp, p, at);
	if (t == T_ROOT_PORT || t == T_ROOT_EC)
		exp_root(fp, p, at);
	if ((f & 0xf) < 2)
		return t;
	exp_dev2_cap(fp, p, at, t);
	exp_dev2_ctl(fp, p, at, t);
	if (link)
		exp_link2(fp, p, at, t);
	return t;
}

/* ---------------------------------------------------------- extended */

static void
aer_unc(FILE *fp, const char *name, uint32_t l)
{
	fprintf(fp, "\t\t%s:\t", name);
	flags(fp, l, PCI_FLAGS({ "DLP", 0x10 }, { "SDES", 0x20 },
	    { "TLP", 0x1000 }, { "FCP", 0x2000 }, { "CmpltTO", 0x4000 },
	    { "CmpltAbrt", 0x8000 }, { "UnxCmplt", 0x10000 },
	    { "RxOF", 0x20000 }, { "MalfTLP", 0x40000 }, { "ECRC", 0x80000 },
	    { "UnsupReq", 0x100000 }, { "ACSViol", 0x200000 }));
	fputc('\n', fp);
}

static void
aer_cor(FILE *fp, const char *name, uint32_t l)
{
	fprintf(fp, "\t\t%s:\t", name);
	flags(fp, l, PCI_FLAGS({ "RxErr", 1 }, { "BadTLP", 0x40 },
	    { "BadDLLP", 0x80 }, { "Rollover", 0x100 }, { "Timeout", 0x1000 },
	    { "AdvNonFatalErr", 0x2000 }));
	fputc('\n', fp);
}

static void
ext_aer(FILE *fp, const struct pci_cfg *p, unsigned at, int type)
{
	uint32_t l = pci_l32(p, at + 24), r;

	fprintf(fp, "Advanced Error Reporting\n");
	aer_unc(fp, "UESta", pci_l32(p, at + 4));
	aer_unc(fp, "UEMsk", pci_l32(p, at + 8));
	aer_unc(fp, "UESvrt", pci_l32(p, at + 12));
	aer_cor(fp, "CESta", pci_l32(p, at + 16));
	aer_cor(fp, "CEMsk", pci_l32(p, at + 20));
	fprintf(fp, "\t\tAERCap:\tFirst Error Pointer: %02x, ", l & 31);
	flags(fp, l, PCI_FLAGS({ "ECRCGenCap", 0x20 }, { "ECRCGenEn", 0x40 },
	    { "ECRCChkCap", 0x80 }, { "ECRCChkEn", 0x100 }));
	fprintf(fp, "\n\t\t\t");
	flags(fp, l, PCI_FLAGS({ "MultHdrRecCap", 0x200 },
	    { "MultHdrRecEn", 0x400 }, { "TLPPfxPres", 0x800 },
	    { "HdrLogCap", 0x1000 }));
	fprintf(fp, "\n\t\tHeaderLog: %08x %08x %08x %08x\n",
	    pci_l32(p, at + 28), pci_l32(p, at + 32), pci_l32(p, at + 36),
	    pci_l32(p, at + 40));
	if (type != T_ROOT_PORT && type != T_ROOT_EC)
		return;
	fprintf(fp, "\t\tRootCmd: ");
	flags(fp, pci_l32(p, at + 44), PCI_FLAGS({ "CERptEn", 1 },
	    { "NFERptEn", 2 }, { "FERptEn", 4 }));
	r = pci_l32(p, at + 48);
	fprintf(fp, "\n\t\tRootSta: ");
	flags(fp, r, PCI_FLAGS({ "CERcvd", 1 }, { "MultCERcvd", 2 },
	    { "UERcvd", 4 }, { "MultUERcvd", 8 }));
	fprintf(fp, "\n\t\t\t ");
	flags(fp, r, PCI_FLAGS({ "FirstFatal", 0x10 }, { "NonFatalMsg", 0x20 },
	    { "FatalMsg", 0x40 }));
	fprintf(fp, " IntMsg %u\n", pci_bits(r, 27, 5));
	fprintf(fp, "\t\tErrorSrc: ERR_COR: %04x ERR_FATAL/NONFATAL: %04x\n",
	    pci_w16(p, at + 52), pci_w16(p, at + 54));
}

static void
ext_dpc(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	unsigned c = pci_w16(p, at + 4), k = pci_w16(p, at + 6);
	unsigned s = pci_w16(p, at + 8);

	fprintf(fp, "Downstream Port Containment\n");
	fprintf(fp, "\t\tDpcCap:\tINT Msg #%u, RPExt%c PoisonedTLP%c "
	    "SwTrigger%c RP PIO Log %u, DL_ActiveErr%c\n", c & 0x1f,
	    pci_pm(c & 0x20), pci_pm(c & 0x40), pci_pm(c & 0x80),
	    pci_bits(c, 8, 4), pci_pm(c & 0x1000));
	fprintf(fp, "\t\tDpcCtl:\tTrigger:%x ", k & 3);
	flags(fp, k, PCI_FLAGS({ "Cmpl", 4 }, { "INT", 8 },
	    { "ErrCor", 0x10 }, { "PoisonedTLP", 0x20 },
	    { "SwTrigger", 0x40 }, { "DL_ActiveErr", 0x80 }));
	fprintf(fp, "\n\t\tDpcSta:\tTrigger%c Reason:%02x INT%c RPBusy%c "
	    "TriggerExt:%02x RP PIO ErrPtr:%02x\n", pci_pm(s & 1),
	    pci_bits(s, 1, 2), pci_pm(s & 8), pci_pm(s & 0x10),
	    pci_bits(s, 5, 2), pci_bits(s, 8, 5));
	fprintf(fp, "\t\tSource:\t%04x\n", pci_w16(p, at + 10));
}

static void
ext_acs(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	static const struct pci_flag acs[] = {
		{ "SrcValid", 1 }, { "TransBlk", 2 }, { "ReqRedir", 4 },
		{ "CmpltRedir", 8 }, { "UpstreamFwd", 0x10 },
		{ "EgressCtrl", 0x20 }, { "DirectTrans", 0x40 }, { NULL, 0 }
	};

	fprintf(fp, "Access Control Services\n\t\tACSCap:\t");
	flags(fp, pci_w16(p, at + 4), acs);
	fprintf(fp, "\n\t\tACSCtl:\t");
	flags(fp, pci_w16(p, at + 6), acs);
	fputc('\n', fp);
}

static void
ext_ari(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	unsigned c = pci_w16(p, at + 4), k = pci_w16(p, at + 6);

	fprintf(fp, "Alternative Routing-ID Interpretation (ARI)\n");
	fprintf(fp, "\t\tARICap:\tMFVC%c ACS%c, Next Function: %u\n",
	    pci_pm(c & 1), pci_pm(c & 2), pci_bits(c, 8, 8));
	fprintf(fp, "\t\tARICtl:\tMFVC%c ACS%c, Function Group: %u\n",
	    pci_pm(k & 1), pci_pm(k & 2), pci_bits(k, 4, 3));
}

static void
ext_ats(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	unsigned k = pci_w16(p, at + 6);

	fprintf(fp, "Address Translation Service (ATS)\n");
	fprintf(fp, "\t\tATSCap:\tInvalidate Queue Depth: %02x\n",
	    pci_w16(p, at + 4) & 0x1f);
	fprintf(fp, "\t\tATSCtl:\tEnable%c, Smallest Translation Unit: %02x\n",
	    pci_pm(k & 0x8000), k & 0x1f);
}

static void
ext_pri(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	unsigned k = pci_w16(p, at + 4), s = pci_w16(p, at + 6);

	fprintf(fp, "Page Request Interface (PRI)\n");
	fprintf(fp, "\t\tPRICtl: Enable%c Reset%c\n", pci_pm(k & 1),
	    pci_pm(k & 2));
	fprintf(fp, "\t\tPRISta: RF%c UPRGI%c Stopped%c\n", pci_pm(s & 1),
	    pci_pm(s & 2), pci_pm(s & 0x100));
	fprintf(fp, "\t\tPage Request Capacity: %08x, Page Request "
	    "Allocation: %08x\n", pci_l32(p, at + 8), pci_l32(p, at + 12));
}

static void
ext_pasid(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	unsigned c = pci_w16(p, at + 4), k = pci_w16(p, at + 6);

	fprintf(fp, "Process Address Space ID (PASID)\n");
	fprintf(fp, "\t\tPASIDCap: Exec%c Priv%c, Max PASID Width: %02x\n",
	    pci_pm(c & 2), pci_pm(c & 4), pci_bits(c, 8, 5));
	fprintf(fp, "\t\tPASIDCtl: Enable%c Exec%c Priv%c\n", pci_pm(k & 1),
	    pci_pm(k & 2), pci_pm(k & 4));
}

static void
sriov_bars(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	unsigned i;

	for (i = 0; i < 6; i++) {
		uint32_t l = pci_l32(p, at + 0x24 + 4 * i);
		int is64 = pci_bits(l, 1, 2) == 2;

		if (l == 0 || l == 0xffffffff)
			continue;
		fprintf(fp, "\t\tRegion %u: Memory at ", i);
		if (is64)
			fprintf(fp, "%08x", pci_l32(p, at + 0x24 + 4 * ++i));
		fprintf(fp, "%08x (%s-bit, %sprefetchable)\n", l & ~0xfu,
		    pci_bits(l, 1, 2) == 0 ? "32" : "64", l & 8 ? "" : "non-");
	}
}

static void
ext_sriov(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	uint32_t c = pci_l32(p, at + 4), m = pci_l32(p, at + 0x3c);

	fprintf(fp, "Single Root I/O Virtualization (SR-IOV)\n");
	fprintf(fp, "\t\tIOVCap:\tMigration%c 10BitTagReq%c Interrupt Message "
	    "Number: %03x\n", pci_pm(c & 1), pci_pm(c & 4), c >> 21);
	fprintf(fp, "\t\tIOVCtl:\t");
	flags(fp, pci_w16(p, at + 8), PCI_FLAGS({ "Enable", 1 },
	    { "Migration", 2 }, { "Interrupt", 4 }, { "MSE", 8 },
	    { "ARIHierarchy", 0x10 }, { "10BitTagReq", 0x20 }));
	fprintf(fp, "\n\t\tIOVSta:\tMigration%c\n", pci_pm(pci_w16(p, at + 0xa) & 1));
	fprintf(fp, "\t\tInitial VFs: %u, Total VFs: %u, Number of VFs: %u, "
	    "Function Dependency Link: %02x\n", pci_w16(p, at + 0xc),
	    pci_w16(p, at + 0xe), pci_w16(p, at + 0x10), pci_b8(p, at + 0x12));
	fprintf(fp, "\t\tVF offset: %u, stride: %u, Device ID: %04x\n",
	    pci_w16(p, at + 0x14), pci_w16(p, at + 0x16), pci_w16(p, at + 0x1a));
	fprintf(fp, "\t\tSupported Page Size: %08x, System Page Size: %08x\n",
	    pci_l32(p, at + 0x1c), pci_l32(p, at + 0x20));
	sriov_bars(fp, p, at);
	fprintf(fp, "\t\tVF Migration: offset: %08x, BIR: %x\n", m & ~7u,
	    m & 7);
}

static unsigned long long
ltr_ns(unsigned v)
{
	unsigned scale = pci_bits(v, 10, 3);

	/* scales 6 and 7 are reserved: lspci's 32-bit shift by 30 or 35
	 * bits, which x86 takes modulo 32 */
	return (unsigned long long)(v & 0x3ff) << ((scale * 5) & 31);
}

static void
ext_ltr(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	fprintf(fp, "Latency Tolerance Reporting\n");
	fprintf(fp, "\t\tMax snoop latency: %lluns\n",
	    ltr_ns(pci_w16(p, at + 4)));
	fprintf(fp, "\t\tMax no snoop latency: %lluns\n",
	    ltr_ns(pci_w16(p, at + 6)));
}

static void
ext_secpci(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	unsigned c = pci_w16(p, at + 4), e = pci_w16(p, at + 8), lane;

	fprintf(fp, "Secondary PCI Express\n");
	fprintf(fp, "\t\tLnkCtl3: LnkEquIntrruptEn%c PerformEqu%c\n",
	    pci_pm(c & 2), pci_pm(c & 1));
	fprintf(fp, "\t\tLaneErrStat: ");
	if (e == 0)
		fputc('0', fp);
	else
		fprintf(fp, "LaneErr at lane:");
	for (lane = 0; e; e >>= 1, lane++)
		if (e & 1)
			fprintf(fp, " %u", lane);
	fputc('\n', fp);
}

static void
pwron(FILE *fp, const char *name, unsigned scale, unsigned value)
{
	static const unsigned mul[3] = { 2, 10, 100 };

	if (scale < 3)
		fprintf(fp, "%s=%uus", name, mul[scale] * value);
	else
		fprintf(fp, "%s=<error>", name);
}

static void
ext_l1pm(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	uint32_t cap = pci_l32(p, at + 4), c1 = pci_l32(p, at + 8);
	int l12 = (cap & 5) != 0;

	fprintf(fp, "L1 PM Substates\n\t\tL1SubCap: ");
	flags(fp, cap, PCI_FLAGS({ "PCI-PM_L1.2", 1 }, { "PCI-PM_L1.1", 2 },
	    { "ASPM_L1.2", 4 }, { "ASPM_L1.1", 8 },
	    { "L1_PM_Substates", 0x10 }));
	fputc('\n', fp);
	if (l12) {
		fprintf(fp, "\t\t\t  PortCommonModeRestoreTime=%uus ",
		    pci_bits(cap, 8, 8));
		pwron(fp, "PortTPowerOnTime", pci_bits(cap, 16, 2),
		    pci_bits(cap, 19, 5));
		fputc('\n', fp);
	}
	fprintf(fp, "\t\tL1SubCtl1: ");
	flags(fp, c1, PCI_FLAGS({ "PCI-PM_L1.2", 1 }, { "PCI-PM_L1.1", 2 },
	    { "ASPM_L1.2", 4 }, { "ASPM_L1.1", 8 }));
	fputc('\n', fp);
	if (l12) {
		fprintf(fp, "\t\t\t   T_CommonMode=%uus", pci_bits(c1, 8, 8));
		if (cap & 4) {
			unsigned s = pci_bits(c1, 29, 3);

			if (s > 5)
				fprintf(fp, " LTR1.2_Threshold=<error>");
			else
				fprintf(fp, " LTR1.2_Threshold=%lluns",
				    (unsigned long long)pci_bits(c1, 16, 10) <<
				    (5 * s));
		}
		fputc('\n', fp);
	}
	fprintf(fp, "\t\tL1SubCtl2:");
	if (l12) {
		uint32_t c2 = pci_l32(p, at + 12);

		fputc(' ', fp);
		pwron(fp, "T_PwrOn", c2 & 3, pci_bits(c2, 3, 5));
	}
	fputc('\n', fp);
}

static void
rebar_size(FILE *fp, unsigned ld2)
{
	static const char *const unit[5] = { "MB", "GB", "TB", "PB", "EB" };

	if (ld2 < 44)
		fprintf(fp, " %u%s", 1u << (ld2 % 10), unit[ld2 / 10]);
	else
		fprintf(fp, " <unknown>");
}

static void
ext_rebar(FILE *fp, const struct pci_cfg *p, unsigned at, int vf)
{
	unsigned n, nbars = 1, i;

	fprintf(fp, "%s Resizable BAR\n", vf ? "Virtual" : "Physical");
	for (n = 0; n < nbars; n++) {
		uint32_t sizes = pci_l32(p, at + 4 + 8 * n) >> 4;
		uint32_t ctl = pci_l32(p, at + 8 + 8 * n);
		unsigned ext = ctl >> 16;

		if (n == 0) {
			nbars = pci_bits(ctl, 5, 3);
			if (nbars < 1 || nbars > 6) {
				fprintf(fp, "\t\t<error in resizable BAR: "
				    "num_bars=%u is out of specification>\n",
				    nbars);
				return;
			}
		}
		fprintf(fp, "\t\tBAR %u: current size:", ctl & 7);
		rebar_size(fp, pci_bits(ctl, 8, 6));
		if (sizes || ext) {
			fprintf(fp, ", supported:");
			for (i = 0; i < 28; i++)
				if (sizes & (1u << i))
					rebar_size(fp, i);
			for (i = 0; i < 16; i++)
				if (ext & (1u << i))
					rebar_size(fp, i + 28);
		}
		fputc('\n', fp);
	}
}

static void
ext_tph(FILE *fp, const struct pci_cfg *p, unsigned at)
{
	static const char *const loc[4] = {
		"No steering table available",
		"Steering table in TPH capability structure",
		"Steering table in MSI-X table",
		"Reserved steering table location"
	};
	uint32_t c = pci_l32(p, at + 4);

	fprintf(fp, "Transaction Processing Hints\n");
	if (c & 2)
		fprintf(fp, "\t\tInterrupt vector mode supported\n");
	if (c & 4)
		fprintf(fp, "\t\tDevice specific mode supported\n");
	if (c & 0x100)
		fprintf(fp, "\t\tExtended requester support\n");
	fprintf(fp, "\t\t%s\n", loc[pci_bits(c, 9, 2)]);
}

/* Extended capabilities lspci names but does not decode ("<?>"). */
static const char *
ext_name(unsigned id)
{
	static const char *const n[] = {
		[0x04] = "Power Budgeting",
		[0x06] = "Root Complex Internal Link",
		[0x08] = "Multi-Function Virtual Channel",
		[0x0a] = "Root Complex Register Block",
		[0x11] = "Multi-Root I/O Virtualization",
		[0x16] = "Dynamic Power Allocation",
		[0x1a] = "Protocol Multiplexing",
		[0x1c] = "LN Requester",
		[0x20] = "PCI Express over M_PHY",
		[0x21] = "FRS Queueing",
		[0x22] = "Readiness Time Reporting",
		[0x25] = "Data Link Feature",
		[0x26] = "Physical Layer 16.0 GT/s",
		[0x27] = "Lane Margining at the Receiver",
		[0x28] = "Hierarchy ID",
		[0x29] = "Native PCIe Enclosure Management",
	};

	return PICK(n, id, NULL);
}

void
pcie_ext_print(FILE *fp, const struct pci_cfg *p, unsigned at, int type)
{
	unsigned id = pci_w16(p, at);
	uint32_t h;

	switch (id) {
	case 0x00: fprintf(fp, "Null\n"); return;
	case 0x01: ext_aer(fp, p, at, type); return;
	case 0x0d: ext_acs(fp, p, at); return;
	case 0x0e: ext_ari(fp, p, at); return;
	case 0x0f: ext_ats(fp, p, at); return;
	case 0x10: ext_sriov(fp, p, at); return;
	case 0x13: ext_pri(fp, p, at); return;
	case 0x15: ext_rebar(fp, p, at, 0); return;
	case 0x17: ext_tph(fp, p, at); return;
	case 0x18: ext_ltr(fp, p, at); return;
	case 0x19: ext_secpci(fp, p, at); return;
	case 0x1b: ext_pasid(fp, p, at); return;
	case 0x1d: ext_dpc(fp, p, at); return;
	case 0x1e: ext_l1pm(fp, p, at); return;
	case 0x24: ext_rebar(fp, p, at, 1); return;
	case 0x03:
		fprintf(fp, "Device Serial Number "
		    "%02x-%02x-%02x-%02x-%02x-%02x-%02x-%02x\n",
		    pci_b8(p, at + 11), pci_b8(p, at + 10), pci_b8(p, at + 9),
		    pci_b8(p, at + 8), pci_b8(p, at + 7), pci_b8(p, at + 6),
		    pci_b8(p, at + 5), pci_b8(p, at + 4));
		return;
	case 0x0b:
		h = pci_l32(p, at + 4);
		fprintf(fp, "Vendor Specific Information: ID=%04x Rev=%u "
		    "Len=%03x <?>\n", h & 0xffff, pci_bits(h, 16, 4), h >> 20);
		return;
	}
	if (ext_name(id) != NULL)
		fprintf(fp, "%s <?>\n", ext_name(id));
	else
		fprintf(fp, "Extended Capability ID %#02x\n", id);
}
