-- Errors that point at the user's script, not at stdlib/. (The argument
-- checks the stdlib modules share are in nnlua.args.)
--
-- stdlib code raises errors plainly (error(msg, 2), or from C). One message
-- handler, in C (bindings/errors.c), runs before the stack unwinds: it moves a
-- location inside stdlib/ to the first line of the user's code above it, adds
-- the context of containers (a stdlib frame's string local _where), and lists
-- the user's frames only. The host runs every chunk under it; xpcall can too:
--
--   xpcall(f, errors.handler)   the message and a traceback of the user's frames
--   xpcall(f, errors.message)   the message alone (what tests compare)
local C = require "nnlua._C"
local errors = {}

-- this file is <stdlib>/nnlua/errors.lua: everything under <stdlib>/ is nnlua's own
local source = debug.getinfo(1, "S").source
C.set_stdlib((source:gsub("nnlua[/\\]errors%.lua$", "")))

errors.handler = C.handler
errors.message = C.message

return errors
