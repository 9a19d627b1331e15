/* fileio.c: checked input opens, capped whole-file reads, atomic output writes and the output
 * directory lock (fileio.h). */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

/* O_NONBLOCK only served the open (a FIFO without a writer would block it); reads block as usual. */
static int clear_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

int rl_open_regular(const char *path, int64_t *size_bytes, rl_err *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return rl_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return rl_fail(err, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return rl_fail(err, "%s: is %s, expected a regular file", path, kind_of(st.st_mode));
    }
    if (clear_nonblock(fd) != 0) {
        int e = errno;
        close(fd);
        return rl_fail(err, "%s: fcntl failed: %s", path, strerror(e));
    }
    if (size_bytes) *size_bytes = (int64_t)st.st_size;
    return fd;
}

char *rl_read_file_max(const char *path, size_t max_bytes, size_t *len_out, rl_err *err)
{
    int64_t size;
    int fd = rl_open_regular(path, &size, err);
    if (fd < 0) return NULL;
    if ((uint64_t)size > max_bytes) {
        close(fd);
        rl_fail(err, "%s: %.1f MiB is over the %.0f MiB limit for this kind of file (is it the right file?)", path,
                (double)size / 1048576.0, (double)max_bytes / 1048576.0);
        return NULL;
    }
    char *buf = malloc((size_t)size + 1);
    if (!buf) {
        close(fd);
        rl_fail(err, "%s: out of memory reading %lld bytes", path, (long long)size);
        return NULL;
    }
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t r = read(fd, buf + got, (size_t)size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            rl_fail(err, "%s: read failed: %s", path, strerror(e));
            return NULL;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != (size_t)size) {
        free(buf);
        rl_fail(err, "%s: short read (%zu of %lld bytes; did the file shrink while it was read?)", path, got,
                (long long)size);
        return NULL;
    }
    buf[got] = 0;
    if (len_out) *len_out = got;
    return buf;
}

char *rl_read_file(const char *path, size_t *len_out, rl_err *err)
{
    return rl_read_file_max(path, RL_READ_MAX_BYTES, len_out, err);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A device or FIFO the user named as the output: write into it, never replace it with a file.
 * Non-blocking open: a FIFO nobody reads fails (ENXIO) instead of hanging. */
static int write_in_place(const char *path, const char *text, size_t len, mode_t mode, rl_err *err)
{
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return rl_fail(err, "%s: cannot write to %s: %s%s", path, kind_of(mode), strerror(errno),
                       errno == ENXIO && S_ISFIFO(mode) ? " (no process reads the FIFO)" : "");
    int rc = clear_nonblock(fd) == 0 && write_all(fd, text, len) == 0 ? 0 : -1;
    int e = errno;
    if (close(fd) != 0 && !rc) rc = -1, e = errno;
    return rc ? rl_fail(err, "%s: write failed: %s", path, strerror(e)) : 0;
}

static mode_t new_file_mode(void)
{
    mode_t mask = umask(022); /* read the umask (there is no other way) and put it back */
    umask(mask);
    return 0666 & ~mask;
}

/* The rename is durable once the directory entry is: best effort, some file systems refuse. */
static void sync_parent(const char *tmp, size_t dir_len)
{
    char dir[4096];
    if (dir_len >= sizeof dir) return;
    if (dir_len) memcpy(dir, tmp, dir_len), dir[dir_len] = 0;
    else snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

int rl_write_file_atomic(const char *path, const char *text, rl_err *err)
{
    size_t len = strlen(text);
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) return rl_fail(err, "%s: is a directory; give a file name to write", path);
    if (exists && !S_ISREG(st.st_mode)) return write_in_place(path, text, len, st.st_mode, err);
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return rl_fail(err, "%s: out of memory", path);
    snprintf(tmp, n, "%.*s.%s.XXXXXX", (int)dir_len, path, path + dir_len);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rl_fail(err, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)fchmod(fd, exists ? st.st_mode & 07777 : new_file_mode()); /* mkstemp made it 0600 */
    int ok = write_all(fd, text, len) == 0 && fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && ok) ok = 0, e = errno;
    if (ok && rename(tmp, path) != 0) ok = 0, e = errno;
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return rl_fail(err, "%s: write failed: %s", path, strerror(e));
    }
    sync_parent(tmp, dir_len);
    free(tmp);
    return 0;
}

int rl_dir_lock(const char *dir, rl_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.ridgeline.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) return rl_fail(err, "%s: cannot create the output lock: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rl_fail(err, "%s: the output lock is not a regular file; remove it", path);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char holder[32] = "";
        ssize_t r = pread(fd, holder, sizeof holder - 1, 0);
        holder[r > 0 ? r : 0] = 0;
        holder[strcspn(holder, "\n")] = 0;
        close(fd);
        if (e == EWOULDBLOCK)
            return rl_fail(err, "%s is in use by another ridgeline run (pid %s holds %s): wait for it to finish or "
                                "choose another --out directory",
                           dir, holder[0] ? holder : "unknown", path);
        return rl_fail(err, "%s: flock failed: %s", path, strerror(e));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return rl_fail(err, "%s: cannot write the output lock: %s", path, strerror(e));
    }
    return fd;
}

void rl_dir_unlock(int fd)
{
    if (fd >= 0) close(fd);
}
