/* l_std.h -- what nnlua adds to Lua's own libraries (l_std.c). */
#ifndef NN_L_STD_H
#define NN_L_STD_H

#include <lua.h>

/* Adds os.monotime, wraps print, io.write and the write method of files so
 * that they step around a status line, and sets package.loaded
 * ["nnlua.statusline"], through which data.progress draws that line. Call
 * after luaL_openlibs; calling it again on the same state changes nothing. */
void nnlua_openstd(lua_State *L);

/* nnlua --report (vm/report.c): while a report is set, everything print,
 * io.write and io.stdout:write write to stdout is also handed to
 * nn_report_output, and figure and image saves (l_plot.c) to the report.
 * NULL unsets it. The report stays the caller's. */
struct nn_report;
void nnlua_setreport(lua_State *L, struct nn_report *r);
struct nn_report *nnlua_getreport(lua_State *L);

#endif
