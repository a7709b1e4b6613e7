-- nnlua.class: the one way stdlib makes classes.
--
--   local class = require "nnlua.class"
--   local Foo = class("Foo", nil, {receiver = "foo"})  -- a base class
--   local Bar = class("Bar", Foo)                      -- a subclass
--   function Bar:init(a, b) ... end                    -- Bar(a, b) makes an instance, runs init
--   function Bar:work() ... end
--
-- Instances find methods through __index, which is the class table (a class
-- may set its own __index function, as nn.Module does); a class's table
-- chains to its parent's. Metamethods defined on a class (__tostring, __len,
-- __call, ...) are copied to subclasses when they are made, since Lua does not
-- look metamethods up through __index.
--
-- A method of nnlua's own (a function of a stdlib file whose first parameter
-- is named self) assigned to a class checks its self on every call: foo.work() or foo.work(1) raises
--   "work: call it as foo:work(...) with a colon; foo.work(...) passes no foo"
-- at the caller's line. Defining __init raises an error that says to name it
-- init (a Python habit). class.is_object(v) tells whether v is an instance or
-- a class made here.
local tensor = require "tensor"
local class = {}

local classes = setmetatable({}, {__mode = "k"})    -- class table -> its options

local function is_object(v)
  if type(v) ~= "table" then return false end
  if classes[v] then return true end                 -- a class itself: class methods
  local mt = getmetatable(v)
  return mt ~= nil and classes[mt] ~= nil
end
class.is_object = is_object

function class.is_class(v) return classes[v] ~= nil end

-- v is an instance of cls or of a subclass of it
function class.is_instance(v, cls)
  if type(v) ~= "table" then return false end
  local c = getmetatable(v)
  while c ~= nil and classes[c] do
    if c == cls then return true end
    c = rawget(c, "super")
  end
  return false
end

local function dot_error(cls, name, self)
  local r = classes[cls].receiver
  local got = self == nil and "nothing" or tensor.is_tensor(self) and "a tensor"
              or "a " .. type(self)
  error(string.format("%s: call it as %s:%s(...) with a colon; %s.%s(...) passes %s as self, not the %s",
                      name, r, name, r, name, got, r), 3)
end

-- returns its arguments: pass(f(x)) calls f without a tail call, so f's frame
-- keeps its name and its caller in a traceback, with no table per call
local function pass(...) return ... end
class.pass = pass

-- f checking that it is called as a method (is_object inlined: this wraps
-- every call of forward, step, zero_grad, ... of nnlua's own classes)
local function guard(cls, name, f)
  return function(self, ...)
    if classes[getmetatable(self)] == nil and (type(self) ~= "table" or classes[self] == nil) then
      dot_error(cls, name, self)
    end
    return pass(f(self, ...))
  end
end

-- the chunk-name prefix of nnlua's own files: this file is <stdlib>/nnlua/class.lua
local STDLIB = debug.getinfo(1, "S").source:gsub("nnlua[/\\]class%.lua$", "")

-- a method of nnlua's own (a user's methods are left as they are: a wrapper
-- would hide their names in tracebacks)
local function is_method(f)
  if type(f) ~= "function" then return false end
  local info = debug.getinfo(f, "S")
  return info.what == "Lua" and info.source:sub(1, #STDLIB) == STDLIB and debug.getlocal(f, 1) == "self"
end

local function newindex(cls, k, v)
  if k == "__init" then
    error(string.format("%s:__init: nnlua calls init, not __init (a Python habit): "
                        .. "name it function %s:init(...)", classes[cls].name, classes[cls].name), 2)
  end
  if type(k) == "string" and k:sub(1, 2) ~= "__" and is_method(v) then v = guard(cls, k, v) end
  rawset(cls, k, v)
end

-- what every root class inherits: new and an empty init (kept out of the class
-- tables so that a class's own init goes through __newindex and is guarded)
local Object = {}
function Object.new(cls, ...)
  local obj = setmetatable({}, cls)
  obj:init(...)
  return obj
end
function Object.init() end

local function call(cls, ...) return pass(cls:new(...)) end

local function tostring_class(cls) return "class " .. classes[cls].name end

-- class(name [, parent [, {receiver = "x"}]]) -> a new class
setmetatable(class, {__call = function(_, name, parent, opts)
  assert(type(name) == "string", "class: give the class a name")
  local cls = {}
  if parent then
    for k, v in pairs(parent) do                      -- metamethods are not found through __index
      if type(k) == "string" and k:sub(1, 2) == "__" then cls[k] = v end
    end
  end
  local popts = parent and classes[parent] or {}
  classes[cls] = {name = name, receiver = opts and opts.receiver or popts.receiver or "obj"}
  if not parent or rawget(parent, "__index") == parent or rawget(parent, "__index") == nil then
    cls.__index = cls
  end
  cls.__name, cls.super = name, parent
  return setmetatable(cls, {__index = parent or Object, __call = call, __newindex = newindex,
                            __tostring = tostring_class})
end})

return class
