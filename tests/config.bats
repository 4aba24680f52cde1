#!/usr/bin/env bats
# config.bats - vfuctl config (and the client's config command) against
# lspci: the output of `vfuctl config -F DUMP` must be that of
# `lspci -vv -F DUMP` line for line, with -n and -nn too, for every shipped
# device (tests/devices/*.json, dumped with `vfuctl config -x` from a live
# `vfuctl server`), for recorded dumps and for random PCI Express dumps;
# a live device adds BAR sizes from region info.
#
# The only lines lspci may print that vfuctl does not are those lspci takes
# from the running kernel, not from the config space: "Kernel driver in
# use", "Kernel modules", "IOMMU group", "NUMA node", "Physical Slot" and
# "Device tree node" (sysfs and udev of the host lspci runs on).  With -F
# lspci prints none of them today; lspci_kernel_lines drops them so that a
# future lspci or a dump of a bound device cannot fail the comparison for
# a difference that is not vfuctl's.  Its "Unable to load libkmod" warning
# goes to standard error, which is not compared.

load helpers

golden=$BATS_TEST_DIRNAME/golden/client

setup() {
	srv_pid=
	command -v lspci >/dev/null || skip "lspci is not installed (tests/deps.sh)"
}

teardown() {
	if [ -n "$srv_pid" ]; then
		kill "$srv_pid" 2>/dev/null || true
		wait "$srv_pid" 2>/dev/null || true
	fi
}

lspci_kernel_lines() {
	grep -a -v -E '^	(Kernel driver in use|Kernel modules|IOMMU group|NUMA node|Physical Slot|Device tree node):'
}

# compare_lspci DUMP [OPTION]: vfuctl config and lspci -vv agree on DUMP,
# every line, with OPTION (-n or -nn) given to both.
compare_lspci() {
	local dump=$1 opt=${2:-}
	lspci $opt -vv -F "$dump" 2>/dev/null | lspci_kernel_lines >"$TEST_TMP/lspci.txt"
	"$VFUCTL" config $opt -F "$dump" >"$TEST_TMP/vfuctl.txt" 2>/dev/null
	[ "$(wc -l <"$TEST_TMP/lspci.txt")" -gt 5 ]
	diff -u "$TEST_TMP/lspci.txt" "$TEST_TMP/vfuctl.txt"
}

@test "config -F is lspci -vv -F line for line for every shipped device, with -n and -nn" {
	local dev n=0
	for dev in "$repo"/tests/devices/*.json; do
		dev=$(basename "$dev" .json)
		start_server "$dev"
		"$VFUCTL" config -x "$sock" >"$TEST_TMP/$dev.lspci-x"
		kill "$srv_pid"
		wait "$srv_pid" || true
		srv_pid=
		compare_lspci "$TEST_TMP/$dev.lspci-x"
		compare_lspci "$TEST_TMP/$dev.lspci-x" -n
		compare_lspci "$TEST_TMP/$dev.lspci-x" -nn
		n=$((n + 1))
	done
	[ "$n" -ge 3 ]
}

@test "config decodes the PCIe device's Express registers and extended capabilities" {
	start_server pcie
	run "$VFUCTL" config "$sock"
	assert_status 0
	assert_contains "Non-Volatile memory controller: ACCES I/O Products, Inc. Device 0dcc (rev 02) (prog-if 02 [NVM Express])"
	assert_contains "LnkSta:	Speed 8GT/s (downgraded), Width x8"
	assert_contains "DevCap2: Completion Timeout: Range ABCD, TimeoutDis+ NROPrPrP- LTR+"
	assert_contains "LnkCap2: Supported Link Speeds: 2.5-16GT/s"
	local cap
	for cap in "[100 v2] Advanced Error Reporting" \
	    "Device Serial Number 08-07-06-05-04-03-02-01" "Power Budgeting <?>" \
	    "(ARI)" "Access Control Services" "(SR-IOV)" \
	    "Latency Tolerance Reporting" "L1 PM Substates" \
	    "Secondary PCI Express" "Physical Resizable BAR" "(PASID)" "(ATS)" \
	    "(PRI)" "Downstream Port Containment" "Transaction Processing Hints" \
	    "Vendor Specific Information: ID=1234 Rev=1 Len=00c <?>" \
	    "Extended Capability ID 0x2a"; do
		assert_contains "$cap"
	done
	assert_contains "Max snoop latency: 3145728ns"
	assert_contains "BAR 0: current size: 4MB, supported: 1MB 2MB 4MB 8MB 16MB"
}

@test "config of a live device adds region sizes and the BARs that read 0" {
	start_server pcie
	run "$VFUCTL" config "$sock"
	assert_status 0
	assert_contains "Region 0: Memory at <unassigned> (32-bit, non-prefetchable) [disabled] [size=16K]"
	assert_contains "Region 2: Memory at <unassigned> (64-bit, prefetchable) [disabled] [size=1M]"
	assert_contains "Region 4: I/O ports at <unassigned> [disabled] [size=64]"
	assert_contains "Expansion ROM at <unassigned> [disabled] [size=4K]"
	# a BAR and a ROM that read 0: only region info knows them
	printf '%s\n' "$output" | grep -v -e '^	Region 0:' -e '^	Expansion ROM' |
		sed 's/ \[size=[0-9]*[KMGT]\?\]$//' >"$TEST_TMP/live.txt"
	"$VFUCTL" config -x "$sock" >"$TEST_TMP/pcie.lspci-x"
	# without a server: no sizes, no BAR 0 and no ROM (they read 0), and a
	# note saying so
	run "$VFUCTL" config -F "$TEST_TMP/pcie.lspci-x"
	assert_status 0
	assert_not_contains $'\n\tRegion 0:'
	assert_not_contains "Expansion ROM"
	assert_not_contains "[size="
	assert_contains "note: -F has no region info: no BAR sizes, and a BAR that reads 0 is not shown"
	"$VFUCTL" config -F "$TEST_TMP/pcie.lspci-x" 2>/dev/null >"$TEST_TMP/dump.txt"
	diff -u "$TEST_TMP/dump.txt" <(cat "$TEST_TMP/live.txt"; echo)
}

@test "config -n and -nn in the client and the one-shot, as lspci's" {
	start_server gpio
	run "$VFUCTL" config -n "$sock"
	assert_status 0
	assert_contains "00:00.0 0880: 494f:0dc8 (rev 01)"
	assert_contains "Subsystem: 494f:0001"
	run "$VFUCTL" client -c 'config -nn' "$sock"
	assert_status 0
	assert_contains "00:00.0 System peripheral [0880]: ACCES I/O Products, Inc. PCI-IDIO-16 Isolated Digital Input / FET Output Card [494f:0dc8] (rev 01)"
	run "$VFUCTL" config -nnn "$sock"
	assert_status 2
	assert_contains "-n at most twice"
	run "$VFUCTL" client -c 'config -q' "$sock"
	assert_status 2
}

@test "config agrees with lspci on 40 random PCI Express dumps" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	local seed
	for seed in $(seq 1 40); do
		python3 "$BATS_TEST_DIRNAME/pcidump.py" "$seed" >"$TEST_TMP/r.lspci-x"
		compare_lspci "$TEST_TMP/r.lspci-x" || { echo "seed $seed" >&2; return 1; }
	done
}

@test "config decodes a PCIe dump like lspci -vv, line for line" {
	compare_lspci "$golden/pcie-nvme.lspci-x"
	compare_lspci "$golden/pcie-nvme.lspci-x" -nn
	run "$VFUCTL" config -F "$golden/pcie-nvme.lspci-x"
	assert_contains "Capabilities: [100 v2] Advanced Error Reporting"
	assert_contains "Capabilities: [180 v1] Alternative Routing-ID Interpretation (ARI)"
}

@test "config stops a looping capability list as lspci does" {
	compare_lspci "$golden/loop.lspci-x"
	run "$VFUCTL" config -F "$golden/loop.lspci-x"
	assert_status 0
	assert_contains "Capabilities: [40] <chain looped>"
}

@test "config of the DMA device: MSI-X, Express and vendor capabilities; --json" {
	start_server dma
	run "$VFUCTL" config "$sock"
	assert_contains "MSI-X: Enable- Count=4 Masked-"
	assert_contains "Express (v2) Endpoint"
	assert_contains "Region 0: Memory at <unassigned> (32-bit, non-prefetchable) [disabled] [size=8K]"
	run "$VFUCTL" config --json "$sock"
	printf '%s\n' "$output" | jq -e '[.config.capabilities[].name] | index("MSI-X") != null'
}

@test "config -F rejects what is no dump" {
	echo hello >"$TEST_TMP/junk"
	run "$VFUCTL" config -F "$TEST_TMP/junk"
	assert_status 2
	assert_contains "no config space dump"
}

@test "server: extended capabilities need the pcie capability, and must fit" {
	cat >"$TEST_TMP/bad.json" <<-'EOF'
	{ "name": "bad", "pci": { "vendor": 1, "device": 2,
	  "extended_capabilities": [ { "id": 3, "data": "0102030405060708" } ] },
	  "regions": {} }
	EOF
	run "$VFUCTL" server --socket-path "$TEST_TMP/s" --device "$TEST_TMP/bad.json"
	assert_status 2
	assert_contains "extended capabilities need the pcie capability"
	sed -e 's/"extended_capabilities"/"capabilities": [ { "type": "pcie" } ], &/' \
	    -e "s/\"0102030405060708\"/\"$(head -c 4000 /dev/zero | xxd -p | tr -d '\n')\"/" \
	    "$TEST_TMP/bad.json" >"$TEST_TMP/big.json"
	run "$VFUCTL" server --socket-path "$TEST_TMP/s" --device "$TEST_TMP/big.json"
	assert_status 2
	assert_contains "extended_capabilities[0].data"
}

@test "config completion offers -n and -nn" {
	run complete_words vfuctl config -
	assert_contains -nn
	assert_contains -F
}
