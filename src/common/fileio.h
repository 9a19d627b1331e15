/* fileio.h: the one way ridgeline opens the files it reads and writes the files it produces.
 *
 * Inputs are files we did not write: a FIFO, a device or a directory where a file is expected is
 * refused before anything could block on it (the open is non-blocking, the type checked with
 * fstat on the descriptor, so a path swapped between a check and the open cannot hang us), and
 * every read has a size cap.
 * Outputs are written to a unique temporary file beside the target (mkstemp), every write
 * checked, fsync'ed, then renamed over the target: a reader sees the old file or the new one,
 * never half of one, and two runs never share a temporary name. A target that is not a regular
 * file (a character device, a FIFO) is written in place instead of being replaced by a file;
 * a directory is refused. */
#ifndef RL_FILEIO_H
#define RL_FILEIO_H
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Default cap of rl_read_file: far above any results file, CSV or GPU table we read. */
#define RL_READ_MAX_BYTES (1024ull * 1024 * 1024)
/* Cap for Hugging Face config.json and safetensors index files (real ones are a few KB to 100 KB). */
#define RL_CONFIG_MAX_BYTES (16ull * 1024 * 1024)

/* Opens path read-only when it is a regular file; returns the descriptor (close-on-exec) or -1
 * with "PATH: is a directory / a FIFO / ..., expected a regular file". *size_bytes (may be NULL)
 * gets the file's size. */
int rl_open_regular(const char *path, int64_t *size_bytes, rl_err *err);

/* Reads a whole regular file (NUL-terminated) of at most max_bytes. *len_out may be NULL.
 * Caller frees. rl_read_file caps at RL_READ_MAX_BYTES. */
char *rl_read_file_max(const char *path, size_t max_bytes, size_t *len_out, rl_err *err);
char *rl_read_file(const char *path, size_t *len_out, rl_err *err);

/* Writes text to path atomically (see above). */
int rl_write_file_atomic(const char *path, const char *text, rl_err *err);

/* Takes DIR/.ridgeline.lock for this process (flock, exclusive, non-blocking) so two runs never
 * write one output directory at once. Returns the lock's descriptor (held until rl_dir_unlock or
 * exit) or -1 with a message naming the process that holds it. */
int rl_dir_lock(const char *dir, rl_err *err);
void rl_dir_unlock(int fd);

#endif
