/* report.h -- nnlua --report (report.c): the run of a script that also writes
 * the hand-in report of it (docs/report.md). main.c parses the options. */
#ifndef NN_VM_REPORT_H
#define NN_VM_REPORT_H

#include <lua.h>

/* The FILE of "--report FILE" among argv[1 .. script), or NULL. */
const char *vm_report_path(char **argv, int script);

/* Runs the script argv[0] with arguments argv[1..] (after the libraries are
 * open) as main.c's runscript does, capturing its output, seeds and figures,
 * then writes the report to out (with the date when dated) even when the
 * script fails. Errors are printed as runscript prints them. Returns the
 * script's Lua status; LUA_ERRRUN when it succeeded but the report could not
 * be written (the reason is on stderr). */
int vm_report_script(lua_State *L, char **argv, const char *out, int dated);

#endif
