/* l_std.h -- what nnlua adds to Lua's own libraries (l_std.c). */
#ifndef NN_L_STD_H
#define NN_L_STD_H

#include <lua.h>

/* Adds os.monotime, wraps print, io.write and the write method of files so
 * that they step around a status line, and sets package.loaded
 * ["nnlua.statusline"], through which data.progress draws that line. Call
 * after luaL_openlibs; calling it again on the same state changes nothing. */
void nnlua_openstd(lua_State *L);

#endif
