// The POSIX file calls behind GradFlow's atomic output that Swift cannot reach directly: flags that
// exist only as macros under _GNU_SOURCE (O_TMPFILE, F_OFD_SETLK, RENAME_NOREPLACE,
// FALLOC_FL_KEEP_SIZE) and the resource limit on file size. Each returns 0 (or a descriptor, a size)
// on success and −errno on failure; no function keeps state.
#ifndef GRADFLOW_CFILESYSTEM_H
#define GRADFLOW_CFILESYSTEM_H
#include <stdint.h>

/// An unnamed regular file in `folder` (O_TMPFILE, mode 0644 less the umask), open read-write: it
/// vanishes when closed unless `gf_link_descriptor` gives it a name. Returns the descriptor, or −errno
/// (−EOPNOTSUPP/−EISDIR/−EINVAL where the file system has no O_TMPFILE).
int gf_open_unnamed(const char *folder);

/// Gives the unnamed file open as `fd` the name `path`, failing with −EEXIST if that name exists
/// (linkat through /proc/self/fd, which needs no privilege).
int gf_link_descriptor(int fd, const char *path);

/// rename(2); with `no_replace`, fails with −EEXIST instead of replacing an existing `to`
/// (renameat2 RENAME_NOREPLACE, or link + unlink where the file system lacks it).
int gf_rename(const char *from, const char *to, int no_replace);

/// Takes an exclusive open-file-description lock (F_OFD_SETLK) on the whole file open as `fd`
/// (read-write), without waiting: −EAGAIN when another open file holds a lock. The lock lives as long as
/// this open file (any process, kill -9 included, releases it by ending); HDF5's own flock() locks
/// do not interact with it.
int gf_lock_exclusive(int fd);

/// 1 when some open file holds an F_OFD/POSIX lock on `path` that would conflict with a write lock, 0 when
/// none does, −errno when `path` cannot be opened.
int gf_is_locked(const char *path);

/// Reserves disk blocks for bytes [offset, offset + length) of `fd` without changing its size
/// (fallocate FALLOC_FL_KEEP_SIZE): later writes there cannot fail for lack of space. −ENOSPC when the
/// disk is full, −EOPNOTSUPP where the file system cannot reserve.
int gf_reserve(int fd, int64_t offset, int64_t length);

/// Bytes free for an unprivileged writer on the file system of `fd`, or −errno.
int64_t gf_free_bytes(int fd);

/// The soft limit on the size of a file this process writes (RLIMIT_FSIZE, `ulimit -f`), or −1 when unlimited.
int64_t gf_file_size_limit(void);

/// The size of the file open as `fd`, or −errno.
int64_t gf_descriptor_size(int fd);

/// Truncates `fd` to its current size: frees blocks reserved past the end.
int gf_release_reserve(int fd);

/// fsync of the file open as `fd`, and of the folder `folder` (so a rename in it is durable).
int gf_sync(int fd);
int gf_sync_folder(const char *folder);

/// Whether `a` and `b` name the same file (same device and inode, symlinks followed): 1 yes, 0 no or
/// either missing.
int gf_same_file(const char *a, const char *b);

/// Makes a write past `ulimit -f` fail with EFBIG instead of killing the process with SIGXFSZ.
void gf_ignore_file_size_signal(void);
/// The names in `folder` that begin with `prefix`, newline-separated, in a string the caller frees; NULL when the
/// folder cannot be read. One readdir pass that keeps only the matching names (a sweep's output folder holds
/// thousands of files, and listing them all in Swift cost milliseconds per run).
char *gf_names_with_prefix(const char *folder, const char *prefix);

/// A pipe whose two ends close on exec: 0, or -errno (pipe2 with O_CLOEXEC is a _GNU_SOURCE declaration).
int gf_pipe_cloexec(int ends[2]);

/// Adds "close every descriptor from `low` up" to posix_spawn file actions (glibc's
/// posix_spawn_file_actions_addclosefrom_np, a _GNU_SOURCE declaration): 0, or an errno value.
/// `actions` is a posix_spawn_file_actions_t *.
int gf_spawn_add_close_from(void *actions, int low);

#endif
