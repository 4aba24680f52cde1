-- fake-wireshark.lua PLUGIN TRACE FIELD... - run the plugin outside Wireshark, under
-- a plain Lua interpreter (lua5.2, lua5.4), on a classic pcap trace, with
-- just enough of Wireshark's Lua API reimplemented, and print for every
-- record that shows a vfio-user message one line: FIELD values separated
-- by TABs, all occurrences of one field joined by \x1f - the format
-- compare.py reads from `tshark -T fields` (PLAIN_LUA=lua5.4 makes
-- compare.py use this instead of tshark).  "frame.number" is the record
-- number; "_ws.expert" the expert infos, as ABBREV=MESSAGE (asked for, it
-- prints the other records with findings too).  This checks the decoding logic under each Lua version's number
-- semantics (integers and floats in 5.4); the Wireshark API itself is only
-- exercised by the tshark tests.
local plugin, trace = arg[1], arg[2]
local want = {}
local experts = false
for i = 3, #arg do
	want[#want + 1] = arg[i]
	experts = experts or arg[i] == "_ws.expert"
end

local TWO32 = 4294967296.0

-- one frame's field values, by abbreviation
local values

local function le(s, i, n)
	local v = 0
	for k = n, 1, -1 do v = v * 256 + s:byte(i + k - 1) end
	return v
end
local function be(s, i, n)
	local v = 0
	for k = 1, n do v = v * 256 + s:byte(i + k - 1) end
	return v
end

-- Tvb, TvbRange, ByteArray ------------------------------------------------
local Tvb, Range = {}, {}
Tvb.__index, Range.__index = Tvb, Range
local function new_tvb(s, reported) return setmetatable({ s = s, rep = reported or #s }, Tvb) end
Tvb.__call = function(t, off, len)
	off = off or 0
	len = len or (#t.s - off)
	if off < 0 or len < 0 or off + len > #t.s then error("tvb range out of bounds", 2) end
	return setmetatable({ t = t, off = off, n = len }, Range)
end
function Tvb:len() return #self.s end
function Tvb:reported_length_remaining(off) return self.rep - (off or 0) end
function Tvb:raw(off, len) return self.s:sub((off or 0) + 1, (off or 0) + (len or #self.s)) end
function Range:raw() return self.t.s:sub(self.off + 1, self.off + self.n) end
function Range:len() return self.n end
function Range:uint() return be(self.t.s, self.off + 1, self.n) end
function Range:le_uint() return le(self.t.s, self.off + 1, self.n) end
function Range:tvb() return new_tvb(self:raw()) end
local BA = {}
BA.__index = BA
function Range:bytes() return setmetatable({ s = self:raw() }, BA) end
function BA:append(o) self.s = self.s .. o.s end
function BA:tvb() return new_tvb(self.s) end
ByteArray = { new = function(s, raw) return setmetatable({ s = raw and s or "" }, BA) end }

UInt64 = { new = function(lo, hi) return (hi or 0) * TWO32 + lo end }

-- fields and tree ------------------------------------------------------------
base = { DEC = 1, HEX = 2, NONE = 0 }
local function pfield(ftype)
	return function(abbr, label, b) return { abbr = abbr, ftype = ftype, hex = b == base.HEX } end
end
ProtoField = {
	uint8 = pfield("uint"), uint16 = pfield("uint"), uint32 = pfield("uint"),
	uint64 = pfield("uint"), bool = pfield("bool"), bytes = pfield("bytes"),
	string = pfield("string"), none = pfield("none"), framenum = pfield("uint"),
}
local Item = {}
Item.__index = Item
local function record(pf, v)
	if pf.abbr == nil or values == nil then return end
	local l = values[pf.abbr]
	if l == nil then l = {}; values[pf.abbr] = l end
	l[#l + 1] = v
end
local function add(self, pf, r, little)
	if type(pf) == "table" and pf.abbr then
		local v
		if getmetatable(r) == Range then
			if pf.ftype == "uint" then
				if r.n <= 4 then v = little and r:le_uint() or r:uint()
				else
					local a = setmetatable({ t = r.t, off = r.off, n = 4 }, Range)
					local b = setmetatable({ t = r.t, off = r.off + 4, n = 4 }, Range)
					-- as hex: a double would round values past 2^53
					if little then v = string.format("0x%x%08x", b:le_uint(), a:le_uint())
					else v = string.format("0x%x%08x", a:uint(), b:uint()) end
				end
				if type(v) == "number" then v = string.format("%.0f", v) end
			elseif pf.ftype == "bytes" then
				v = (r:raw():gsub(".", function(c) return string.format("%02x", c:byte()) end))
			elseif pf.ftype == "string" then
				v = r:raw():match("^[^%z]*")
			end
		elseif r ~= nil then
			if pf.ftype == "bool" then v = (r and r ~= 0) and "1" or "0"
			elseif pf.ftype == "uint" then v = string.format("%.0f", r)
			else v = tostring(r) end
		end
		if pf.ftype ~= "none" then record(pf, v) end
	end
	return setmetatable({}, Item)
end
function Item:add(pf, r) return add(self, pf, r, false) end
function Item:add_le(pf, r) return add(self, pf, r, true) end
function Item:append_text() return self end
function Item:set_generated() return self end
function Item:set_len() return self end
-- expert info as the pseudo-field "_ws.expert": "ABBREV=MESSAGE"
function Item:add_proto_expert_info(e, text)
	record({ abbr = "_ws.expert" }, e.abbr .. "=" .. tostring(text))
	return self
end

-- Proto and the rest ---------------------------------------------------------
local protos = {}
function Proto(name)
	local p = { name = name, prefs = {}, fields = {}, experts = {} }
	protos[#protos + 1] = p
	return p
end
ProtoExpert = { new = function(abbr) return { abbr = abbr } end }
expert = { group = setmetatable({}, { __index = function() return 0 end }),
	severity = setmetatable({}, { __index = function() return 0 end }) }
Pref = {
	enum = function(_, default) return default end,
	uint = function(_, default) return default end,
	string = function(_, default) return default end,
}
local registered = {}
DissectorTable = { get = function() return { add = function(_, e, p) registered[e] = p end } end }
Field = { new = function() return function() return nil end end }
wtap_encaps = { USER0 = 45 }

dofile(plugin)
local vu = protos[1]
-- prefs: Pref.* above returned the defaults, which the plugin reads back
if vu.init then vu.init() end

-- the pcap ----------------------------------------------------------------
local f = assert(io.open(trace, "rb"))
local data = f:read("*a")
f:close()
local magic = le(data, 1, 4)
local rd, nano
if magic == 0xa1b23c4d or magic == 0xa1b2c3d4 then rd = le
else rd = be end
nano = (rd(data, 1, 4) == 0xa1b23c4d)
local pos, frame = 25, 0
local first_ts
local cols = setmetatable({}, { __index = function()
	return { set = function() end, append = function() end }
end })
local out = {}
while pos + 16 <= #data do
	local sec, frac = rd(data, pos, 4), rd(data, pos + 4, 4)
	local incl, orig = rd(data, pos + 8, 4), rd(data, pos + 12, 4)
	local rec = data:sub(pos + 16, pos + 15 + incl)
	pos = pos + 16 + incl
	frame = frame + 1
	if not nano then frac = frac * 1000 end
	first_ts = first_ts or { sec, frac }
	values = {}
	local rel = (sec - first_ts[1]) + (frac - first_ts[2]) / 1e9
	local pinfo = { number = frame, visited = false, rel_ts = rel, abs_ts = sec + frac / 1e9,
		cols = cols }
	vu.dissector(new_tvb(rec, orig), pinfo, setmetatable({}, Item))
	-- messages; records with findings too when asked for _ws.expert
	if values["vfio_user.summary"] or (experts and values["vfio_user.finding"]) then
		local line = {}
		for i, k in ipairs(want) do
			if k == "frame.number" then line[i] = tostring(frame)
			else line[i] = table.concat(values[k] or {}, "\31") end
		end
		out[#out + 1] = table.concat(line, "\t")
	end
end
io.write(table.concat(out, "\n"), #out > 0 and "\n" or "")
