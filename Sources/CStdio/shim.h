// stdout/stderr are global C variables that Swift 6 mode does not treat as concurrency-safe;
// these shims write and flush them explicitly (stdout is fully buffered when piped).
#ifndef GRADFLOW_CSTDIO_SHIM_H
#define GRADFLOW_CSTDIO_SHIM_H
#include <stdio.h>
#include <unistd.h>
static inline void gf_write_stdout(const char *s) { fputs(s, stdout); fflush(stdout); }
static inline void gf_write_stderr(const char *s) { fputs(s, stderr); fflush(stderr); }
static inline int gf_stderr_is_terminal(void) { return isatty(fileno(stderr)); }
#endif
