-- filter-tap.lua FILTERS - a tshark helper for filters.py: one Listener per
-- tshark filter of FILTERS (tests/dissector/filters.txt), each matching
-- "vfio_user.summary && (FILTER)" (FILTER alone on a line marked
-- "records": events too); at the end prints, per filter, its line
-- number and the messages it selected (by first fragment frame).
--   tshark -q -r T -X lua_script:dissector/vfio-user.lua \
--          -X lua_script:filter-tap.lua -X lua_script2:FILTERS
-- The plugin's fields exist only once every script is loaded: the
-- listeners are made in a dummy protocol's init, before the first packet.
local path = ...
local first = Field.new("vfio_user.trace.first_frame")
local taps = {}
local made = false
local function make()
if made then return end
made = true
local n = 0
for line in io.lines(path) do
	n = n + 1
	if line ~= "" and line:sub(1, 1) ~= "#" then
		local flt = line:match("^([^\t]*)\t")
		local t = { line = n, frames = {} }
		-- a third column "records": events too, not only messages
		local all = line:match("\trecords$") ~= nil
		local l = Listener.new(nil, all and flt or "vfio_user.summary && (" .. flt .. ")")
		function l.packet(pinfo)
			local f = first()
			t.frames[#t.frames + 1] = f and f.value or pinfo.number
		end
		t.listener = l
		taps[#taps + 1] = t
	end
end
local printed = false
for _, t in ipairs(taps) do
	function t.listener.draw()
		if printed then return end
		printed = true
		for _, u in ipairs(taps) do
			io.write(u.line, "\t", table.concat(u.frames, ","), "\n")
		end
	end
end
end
local dummy = Proto("vfu_filter_tap", "filters.py helper")
dummy.init = make
