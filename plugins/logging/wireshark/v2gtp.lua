-- V2GTP (ISO 15118-2 section 7.8.3 / DIN 70121) dissector for Wireshark and tshark.
-- Wireshark 4.0 ships none. Use: tshark -X lua_script:v2gtp.lua -r trace.pcapng
-- or copy this file into ~/.local/lib/wireshark/plugins/.
-- Registered on TCP and UDP port 15118 and as a TCP heuristic (SECCs choose their TCP port in SDP).
-- The decoded message travels as the packet comment of `secc trace export --format pcapng`.

local v2gtp = Proto("v2gtp", "V2G Transfer Protocol")

local payload_types = {
  [0x8001] = "EXI encoded V2G message",
  [0x8002] = "ISO 15118-20 main stream",
  [0x8003] = "ISO 15118-20 AC stream",
  [0x8004] = "ISO 15118-20 DC stream",
  [0x8005] = "ISO 15118-20 ACDP stream",
  [0x8006] = "ISO 15118-20 WPT stream",
  [0x9000] = "SDP request",
  [0x9001] = "SDP response",
  [0x9002] = "SDP request wireless",
  [0x9003] = "SDP response wireless",
}

local f_version = ProtoField.uint8("v2gtp.version", "Protocol version", base.HEX)
local f_inverse = ProtoField.uint8("v2gtp.inverse_version", "Inverse protocol version", base.HEX)
local f_type = ProtoField.uint16("v2gtp.payload_type", "Payload type", base.HEX, payload_types)
local f_length = ProtoField.uint32("v2gtp.payload_length", "Payload length", base.DEC)
local f_payload = ProtoField.bytes("v2gtp.payload", "Payload")
v2gtp.fields = { f_version, f_inverse, f_type, f_length, f_payload }

local HEADER = 8

local function pdu_length(tvb, pinfo, offset)
  return HEADER + tvb(offset + 4, 4):uint()
end

local function dissect_pdu(tvb, pinfo, tree)
  pinfo.cols.protocol = "V2GTP"
  local length = tvb(4, 4):uint()
  local kind = tvb(2, 2):uint()
  local subtree = tree:add(v2gtp, tvb(0, HEADER + length))
  subtree:add(f_version, tvb(0, 1))
  subtree:add(f_inverse, tvb(1, 1))
  subtree:add(f_type, tvb(2, 2))
  subtree:add(f_length, tvb(4, 4))
  if length > 0 then subtree:add(f_payload, tvb(HEADER, length)) end
  pinfo.cols.info = string.format("V2GTP %s, %d bytes", payload_types[kind] or string.format("0x%04x", kind), length)
  return HEADER + length
end

local function looks_like_v2gtp(tvb)
  if tvb:len() < HEADER then return false end
  return tvb(0, 1):uint() == 0x01 and tvb(1, 1):uint() == 0xfe and payload_types[tvb(2, 2):uint()] ~= nil
end

function v2gtp.dissector(tvb, pinfo, tree)
  if not looks_like_v2gtp(tvb) then return 0 end
  if pinfo.port_type == 2 then -- TCP: messages may span or share segments
    dissect_tcp_pdus(tvb, tree, HEADER, pdu_length, dissect_pdu)
    return tvb:len()
  end
  return dissect_pdu(tvb, pinfo, tree)
end

local function heuristic(tvb, pinfo, tree)
  if not looks_like_v2gtp(tvb) then return false end
  v2gtp.dissector(tvb, pinfo, tree)
  return true
end

DissectorTable.get("tcp.port"):add(15118, v2gtp)
DissectorTable.get("udp.port"):add(15118, v2gtp)
v2gtp:register_heuristic("tcp", heuristic)
