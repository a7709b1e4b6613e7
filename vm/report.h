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

/* vm_report_script in two halves, for a host that loads and calls the script
 * itself (vm/sandbox.c): vm_report_begin starts capturing (output, seeds,
 * figures, os.exit), reads the source from file (argv[0] is the name shown)
 * and pushes the run's state; it returns that stack index, or 0 after
 * printing why not (nothing pushed). After the script ran with Lua status
 * (its error message on top when not LUA_OK), vm_report_end writes the
 * report, prints the error as runscript does, pops everything from runidx
 * up and returns what vm_report_script returns. */
int vm_report_begin(lua_State *L, char **argv, const char *file, const char *out, int dated);
int vm_report_end(lua_State *L, int runidx, int status);

#endif
