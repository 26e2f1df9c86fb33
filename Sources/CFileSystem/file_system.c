#define _GNU_SOURCE
#include "file_system.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

int gf_open_unnamed(const char *folder) {
    int fd = open(folder, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    return fd >= 0 ? fd : -errno;
}

int gf_link_descriptor(int fd, const char *path) {
    char source[64];
    snprintf(source, sizeof source, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, source, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0 ? 0 : -errno;
}

int gf_rename(const char *from, const char *to, int no_replace) {
    if (!no_replace) return rename(from, to) == 0 ? 0 : -errno;
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -errno;
    if (link(from, to) != 0) return -errno;
    return unlink(from) == 0 ? 0 : -errno;
}

int gf_lock_exclusive(int fd) {
    struct flock lock;
    memset(&lock, 0, sizeof lock);
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    return fcntl(fd, F_OFD_SETLK, &lock) == 0 ? 0 : -errno;
}

int gf_is_locked(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -errno;
    struct flock lock;
    memset(&lock, 0, sizeof lock);
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    int status = fcntl(fd, F_OFD_GETLK, &lock);
    int error = errno;
    close(fd);
    if (status != 0) return -error;
    return lock.l_type != F_UNLCK;
}

int gf_reserve(int fd, int64_t offset, int64_t length) {
    if (length <= 0) return 0;
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length) == 0 ? 0 : -errno;
}

int64_t gf_free_bytes(int fd) {
    struct statvfs info;
    if (fstatvfs(fd, &info) != 0) return -errno;
    return (int64_t)info.f_bavail * (int64_t)info.f_frsize;
}

int64_t gf_file_size_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return -1;
    return (int64_t)limit.rlim_cur;
}

int64_t gf_descriptor_size(int fd) {
    struct stat info;
    return fstat(fd, &info) == 0 ? (int64_t)info.st_size : -errno;
}

int gf_release_reserve(int fd) {
    struct stat info;
    if (fstat(fd, &info) != 0) return -errno;
    return ftruncate(fd, info.st_size) == 0 ? 0 : -errno;
}

int gf_sync(int fd) { return fsync(fd) == 0 ? 0 : -errno; }

int gf_sync_folder(const char *folder) {
    int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int status = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return status;
}

int gf_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void gf_ignore_file_size_signal(void) { signal(SIGXFSZ, SIG_IGN); }

char *gf_names_with_prefix(const char *folder, const char *prefix) {
    DIR *dir = opendir(folder);
    if (!dir) return NULL;
    const size_t prefix_length = strlen(prefix);
    size_t capacity = 256, length = 0;
    char *names = malloc(capacity);
    if (!names) { closedir(dir); return NULL; }
    names[0] = '\0';
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strncmp(entry->d_name, prefix, prefix_length) != 0) continue;
        const size_t n = strlen(entry->d_name);
        if (length + n + 2 > capacity) {
            while (length + n + 2 > capacity) capacity *= 2;
            char *grown = realloc(names, capacity);
            if (!grown) { free(names); closedir(dir); return NULL; }
            names = grown;
        }
        memcpy(names + length, entry->d_name, n);
        length += n;
        names[length++] = '\n';
        names[length] = '\0';
    }
    closedir(dir);
    return names;
}

int gf_pipe_cloexec(int ends[2]) { return pipe2(ends, O_CLOEXEC) == 0 ? 0 : -errno; }

int gf_spawn_add_close_from(void *actions, int low) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, low);
}
