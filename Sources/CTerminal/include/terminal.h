// The executable's terminal and signal glue: stdout/stderr are global C variables that Swift 6 mode
// does not treat as concurrency-safe (and stdout is fully buffered when piped), and a signal handler
// must only set a flag. One translation unit (terminal.c) owns that flag.
#ifndef GRADFLOW_CTERMINAL_H
#define GRADFLOW_CTERMINAL_H

/// Writes `s` to stdout or stderr and flushes at once.
void gf_write_stdout(const char *s);
void gf_write_stderr(const char *s);
/// The errno of the first failed write to stdout (a full disk, a closed file), flushing what is buffered
/// first; 0 when every write so far reached it.
int gf_stdout_error(void);
/// Whether stderr is a terminal (progress lines are then overwritten in place).
int gf_stderr_is_terminal(void);

/// Installs handlers for SIGINT and SIGTERM that only record the signal, and unblocks both (a blocked
/// mask is inherited across exec); after the first signal the default action is back, so a second one
/// still ends the process at once.
void gf_install_interrupt_handlers(void);
/// The signal received (SIGINT or SIGTERM), or 0.
int gf_interrupt_signal(void);
#endif
