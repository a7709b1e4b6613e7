/* test_atomic.c -- nn/io/atomic.c: the temporary file is locked while written and
 * removed on failure, a stale one (unlocked) is removed by the next open of
 * the same name while a locked one is kept, long names get a hashed temporary
 * name within NAME_MAX, a character device is written through. Everything
 * happens in a mkdtemp folder, removed at the end. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "check.h"
#include "nn/io/atomic.h"

static char dir[64];

static int nfiles(void) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  if (!d) return -1;
  while ((e = readdir(d))) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  closedir(d);
  return n;
}

static void rm_all(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) {}
}

static int write_str(nn_ctx *ctx, const char *path, const char *s) {
  nn_atomic a;
  int rc = nn_atomic_open(ctx, path, &a);
  if (rc) return rc;
  rc = write(a.fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : NN_EIO;
  return nn_atomic_commit(ctx, &a, rc);
}

TEST(atomic_lock_and_stale) {
  nn_ctx *ctx = nn_ctx_new();
  snprintf(dir, sizeof dir, "/tmp/nn_atomic_XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
  char p[128], stale[160], held[160];
  snprintf(p, sizeof p, "%s/x.st", dir);
  /* while open, the temporary exists and is locked (another open file
   * description cannot take the lock) */
  nn_atomic a;
  CHECK(nn_atomic_open(ctx, p, &a) == 0);
  CHECK(a.tmp && strncmp(a.tmp, "x.st.nntmp", 10) == 0 && strlen(a.tmp) == 16);
  snprintf(held, sizeof held, "%s/%s", dir, a.tmp);
  int other = open(held, O_RDONLY);
  CHECK(other >= 0 && flock(other, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK);
  /* a second writer of the same path keeps the first one's file */
  CHECK(write_str(ctx, p, "second") == 0);
  CHECK(access(held, F_OK) == 0);
  /* the first writer fails: its temporary goes, the second's file stays */
  CHECK(nn_atomic_commit(ctx, &a, NN_EARG) == NN_EARG);
  CHECK(access(held, F_OK) != 0);
  close(other);
  CHECK(nfiles() == 1);
  /* a stale one (nobody holds it) goes at the next open */
  snprintf(stale, sizeof stale, "%s/x.st.nntmpAAAAAA", dir);
  CHECK(check_write_file(stale, "junk", 4) == 0);
  CHECK(write_str(ctx, p, "third") == 0);
  CHECK(access(stale, F_OK) != 0);
  CHECK(nfiles() == 1);
  /* a caller that closed a.fd itself (png.c's fdopen) still commits */
  CHECK(nn_atomic_open(ctx, p, &a) == 0);
  CHECK(write(a.fd, "4th", 3) == 3);
  close(a.fd);
  a.fd = -1;
  CHECK(nn_atomic_commit(ctx, &a, 0) == 0);
  char buf[16] = {0};
  CHECK(check_read_file(p, buf, sizeof buf) == 3 && memcmp(buf, "4th", 3) == 0);
  rm_all();
  nn_ctx_free(ctx);
}

TEST(atomic_long_names_and_modes) {
  nn_ctx *ctx = nn_ctx_new();
  snprintf(dir, sizeof dir, "/tmp/nn_atomic_XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
  char p[512], name[300], stale[600];
  memset(name, 'L', 255);
  name[255] = '\0';
  snprintf(p, sizeof p, "%s/%s", dir, name);
  nn_atomic a;
  CHECK(nn_atomic_open(ctx, p, &a) == 0);
  CHECK(a.tmp && strlen(a.tmp) <= 255 && strstr(a.tmp, ".nntmp") && strchr(a.tmp, '~'));
  /* a copy of its name with other random letters: stale, removed later */
  snprintf(stale, sizeof stale, "%s/%.*sZZZZZZ", dir, (int)strlen(a.tmp) - 6, a.tmp);
  CHECK(nn_atomic_commit(ctx, &a, 0) == 0);
  CHECK(check_write_file(stale, "junk", 4) == 0);
  CHECK(write_str(ctx, p, "again") == 0);
  CHECK(access(stale, F_OK) != 0);
  CHECK(nfiles() == 1);
  /* mode kept */
  CHECK(chmod(p, 0604) == 0);
  CHECK(write_str(ctx, p, "mode") == 0);
  struct stat st;
  CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0604);
  /* an empty name, a folder */
  snprintf(p, sizeof p, "%s/", dir);
  CHECK(write_str(ctx, p, "x") == NN_EIO && strstr(ctx->err, "folder"));
  CHECK(write_str(ctx, "", "x") == NN_EIO && strstr(ctx->err, "empty path"));
  /* a character device (/dev/null's numbers) made here: written through */
  snprintf(p, sizeof p, "%s/null", dir);
  if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0) {
    CHECK(write_str(ctx, p, "discarded") == 0);
    CHECK(stat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
    /* a failed write never touches the device */
    CHECK(nn_atomic_open(ctx, p, &a) == 0);
    CHECK(nn_atomic_commit(ctx, &a, NN_EARG) == NN_EARG);
    CHECK(stat(p, &st) == 0 && S_ISCHR(st.st_mode));
  }
  rm_all();
  nn_ctx_free(ctx);
}
