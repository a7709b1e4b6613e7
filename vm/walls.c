/* walls.c -- the kernel's walls of nnlua --sandbox (walls.h): no_new_privs,
 * Landlock and a seccomp filter, put up once the script is about to run.
 *
 * Defence in depth against a memory-safety bug in nnlua itself: the Lua-level
 * checks (sandbox.c, nn/io/gate.c) are what a script meets; these make the
 * kernel refuse the same things to code that would get round them.
 *
 * - PR_SET_NO_NEW_PRIVS: no set-uid gain through exec (and what Landlock
 *   and seccomp need to be allowed without privileges).
 * - Landlock (Linux 5.13+): files may be written, made, removed or renamed
 *   only under DIR, and read only in DIR, the folders the gate reads (the
 *   script's folder, the datasets, --allow-read) and what nnlua itself opens
 *   while the script runs: its stdlib folder, shared libraries (oneDNN probes
 *   for one lazily), Lua's system folders (argparse), fonts, the time zone,
 *   /proc/self, /proc/stat and /proc/cpuinfo (thread count, the report's
 *   machine line), /sys/devices/system/cpu, /dev/null and /dev/urandom. No
 *   file may be executed, no symbolic link, FIFO, socket or device made.
 *   From ABI 4, TCP bind and connect are refused too; from ABI 6, abstract
 *   Unix sockets and signals to processes outside the sandbox. Only the
 *   access rights the running kernel knows are asked for; without Landlock
 *   (ENOSYS, EOPNOTSUPP: disabled at boot) the rest still goes up.
 * - seccomp: these system calls fail with EPERM: starting programs (execve,
 *   execveat), the network (socket), other processes' memory (ptrace,
 *   process_vm_readv/writev), and what only an administrator does (mount,
 *   namespaces, modules, kexec, reboot, bpf, perf_event_open, keys,
 *   open_by_handle_at, chroot, pivot_root). Under AddressSanitizer ptrace
 *   stays allowed: its leak checker attaches to the process's threads at exit.
 *
 * Landlock binds the calling thread and the threads it starts afterwards, so
 * the walls go up while the process has one thread (before any OpenMP pool).
 *
 * The kernel's constants are written out here: Debian's linux-libc-dev may
 * be older than the running kernel (its landlock.h stops at ABI 2). */
#define _GNU_SOURCE                 /* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include "walls.h"

/* ---- Landlock ---- */

#ifndef SYS_landlock_create_ruleset      /* the same numbers on every architecture */
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#define LL_VERSION (1U << 0)             /* LANDLOCK_CREATE_RULESET_VERSION */
#define LL_PATH_BENEATH 1                /* LANDLOCK_RULE_PATH_BENEATH */

enum {                                   /* LANDLOCK_ACCESS_FS_*, with the ABI that added them */
  FS_EXECUTE = 1 << 0, FS_WRITE_FILE = 1 << 1, FS_READ_FILE = 1 << 2, FS_READ_DIR = 1 << 3,
  FS_REMOVE_DIR = 1 << 4, FS_REMOVE_FILE = 1 << 5, FS_MAKE_CHAR = 1 << 6, FS_MAKE_DIR = 1 << 7,
  FS_MAKE_REG = 1 << 8, FS_MAKE_SOCK = 1 << 9, FS_MAKE_FIFO = 1 << 10, FS_MAKE_BLOCK = 1 << 11,
  FS_MAKE_SYM = 1 << 12,                 /* ABI 1 */
  FS_REFER = 1 << 13,                    /* ABI 2: link or rename across folders */
  FS_TRUNCATE = 1 << 14,                 /* ABI 3 */
  FS_IOCTL_DEV = 1 << 15,                /* ABI 5 */
  NET_BIND_TCP = 1 << 0, NET_CONNECT_TCP = 1 << 1,              /* ABI 4 */
  SCOPE_ABSTRACT_UNIX = 1 << 0, SCOPE_SIGNAL = 1 << 1           /* ABI 6 */
};

struct ll_ruleset {                      /* struct landlock_ruleset_attr, as of ABI 6 */
  uint64_t handled_access_fs;
  uint64_t handled_access_net;           /* ABI 4 */
  uint64_t scoped;                       /* ABI 6 */
};

struct ll_path_beneath {                 /* struct landlock_path_beneath_attr */
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

/* what a rule on a file (not a folder) may grant */
#define FS_FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)

/* The access rights of ABI abi that the ruleset handles: all of them. */
static uint64_t handled_fs(int abi) {
  uint64_t fs = ((uint64_t)FS_MAKE_SYM << 1) - 1;
  if (abi >= 2) fs |= FS_REFER;
  if (abi >= 3) fs |= FS_TRUNCATE;
  if (abi >= 5) fs |= FS_IOCTL_DEV;
  return fs;
}

/* Folders and files nnlua itself reads while a script runs, besides those the
 * caller names. Missing ones are skipped. */
static const char *const system_reads[] = {
  "/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/etc/ld.so.cache",
  "/usr/share/lua", "/usr/local/share/lua",
  "/usr/share/fonts", "/usr/local/share/fonts", "/etc/fonts", "/usr/share/fontconfig",
  "/var/cache/fontconfig",
  "/etc/localtime", "/usr/share/zoneinfo",
  "/proc/self", "/proc/stat", "/proc/cpuinfo", "/sys/devices/system/cpu",
  "/dev/null", "/dev/urandom",
  NULL
};

/* Adds a rule granting access (masked to what a file may be granted when
 * path is not a folder) beneath path. A path that does not exist is skipped;
 * returns -1 on another failure. */
static int allow(int ruleset, const char *path, uint64_t access) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : -1;
  struct stat st;
  struct ll_path_beneath rule = {access, fd};
  if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) rule.allowed_access &= FS_FILE_RIGHTS;
  int rc = rule.allowed_access == 0 ? 0 :
           (int)syscall(SYS_landlock_add_rule, ruleset, LL_PATH_BENEATH, &rule, 0);
  close(fd);
  return rc;
}

/* Applies the Landlock ruleset; writes what happened ("Landlock ABI 7", or
 * why not) to what (n bytes). Returns 1 when in force. */
static int landlock(const vm_walls *w, char *what, size_t n) {
  int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LL_VERSION);
  if (abi < 1) {
    snprintf(what, n, "no Landlock (%s)", errno == ENOSYS ? "the kernel has none" :
             errno == EOPNOTSUPP ? "disabled in this kernel" : strerror(errno));
    return 0;
  }
  const char *cap = getenv("NNLUA_SANDBOX_LANDLOCK_ABI");     /* to test older kernels' rules */
  if (cap != NULL && atoi(cap) >= 1 && atoi(cap) < abi) abi = atoi(cap);
  struct ll_ruleset attr = {handled_fs(abi), 0, 0};
  size_t size = offsetof(struct ll_ruleset, handled_access_net);
  if (abi >= 4) {
    attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
    size = offsetof(struct ll_ruleset, scoped);
  }
  if (abi >= 6) {
    attr.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL;
    size = sizeof attr;
  }
  int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (rs < 0) {
    snprintf(what, n, "no Landlock (ruleset refused: %s)", strerror(errno));
    return 0;
  }
  uint64_t read = FS_READ_FILE | FS_READ_DIR;
  uint64_t write = read | FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG |
                   (attr.handled_access_fs & (FS_REFER | FS_TRUNCATE));
  int rc = 0;
  for (int i = 0; rc == 0 && system_reads[i] != NULL; i++) rc = allow(rs, system_reads[i], read);
  for (int i = 0; rc == 0 && i < w->nread; i++) rc = allow(rs, w->read[i], read);
  if (rc == 0 && w->write != NULL) rc = allow(rs, w->write, write);
  if (rc == 0 && syscall(SYS_landlock_restrict_self, rs, 0) != 0) rc = -1;
  int err = errno;
  close(rs);
  if (rc != 0) {
    snprintf(what, n, "no Landlock (%s)", strerror(err));
    return 0;
  }
  snprintf(what, n, "Landlock ABI %d", abi);
  return 1;
}

/* ---- seccomp ---- */

#if defined(__SANITIZE_ADDRESS__)
#define WALLS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WALLS_ASAN 1
#endif
#endif

#if defined(__x86_64__)
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
                 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
static const struct sock_filter filter[] = {
  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),           /* another ABI: no */
  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
  BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),         /* x32 numbers */
  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
  DENY(SYS_execve), DENY(SYS_execveat), DENY(SYS_socket),
#ifndef WALLS_ASAN
  DENY(SYS_ptrace),
#endif
  DENY(SYS_process_vm_readv), DENY(SYS_process_vm_writev),
  DENY(SYS_mount), DENY(SYS_umount2), DENY(SYS_pivot_root), DENY(SYS_chroot),
  DENY(SYS_unshare), DENY(SYS_setns), DENY(SYS_init_module), DENY(SYS_finit_module),
  DENY(SYS_delete_module), DENY(SYS_kexec_load), DENY(SYS_kexec_file_load), DENY(SYS_reboot),
  DENY(SYS_bpf), DENY(SYS_perf_event_open), DENY(SYS_keyctl), DENY(SYS_add_key),
  DENY(SYS_request_key), DENY(SYS_open_by_handle_at), DENY(SYS_name_to_handle_at),
  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
#endif

/* Installs the filter; writes "seccomp" or why not to what. Returns 1 when in force. */
static int seccomp(char *what, size_t n) {
#if defined(__x86_64__)
  struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]),
                            (struct sock_filter *)filter};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    snprintf(what, n, "no seccomp (%s)", strerror(errno));
    return 0;
  }
  snprintf(what, n, "seccomp");
  return 1;
#else
  snprintf(what, n, "no seccomp (no filter for this architecture)");
  return 0;
#endif
}

/* ---- both ---- */

void vm_walls_up(const vm_walls *w, char *desc, size_t n) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    snprintf(desc, n, "none (no_new_privs refused: %s)", strerror(errno));
    return;
  }
  char ll[96], sc[96];
  const char *off = getenv("NNLUA_SANDBOX_NO_LANDLOCK");
  if (off != NULL && off[0] != '\0') snprintf(ll, sizeof ll, "no Landlock (NNLUA_SANDBOX_NO_LANDLOCK)");
  else landlock(w, ll, sizeof ll);
  off = getenv("NNLUA_SANDBOX_NO_SECCOMP");
  if (off != NULL && off[0] != '\0') snprintf(sc, sizeof sc, "no seccomp (NNLUA_SANDBOX_NO_SECCOMP)");
  else seccomp(sc, sizeof sc);
  snprintf(desc, n, "%s + %s", sc, ll);
}
