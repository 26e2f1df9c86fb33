#include "terminal.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t received_signal = 0;

static int stdout_errno = 0;

static void note_stdout_failure(void) {
    if (!stdout_errno) stdout_errno = errno ? errno : EIO;
    clearerr(stdout);
}

void gf_write_stdout(const char *s) {
    if (fputs(s, stdout) < 0 || fflush(stdout) != 0) note_stdout_failure();
}

int gf_stdout_error(void) {
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) note_stdout_failure();
    return stdout_errno;
}
void gf_write_stderr(const char *s) { fputs(s, stderr); fflush(stderr); }
int gf_stderr_is_terminal(void) { return isatty(fileno(stderr)); }

static void on_signal(int sig) {
    received_signal = sig;
    signal(sig, SIG_DFL);  /* a second signal ends the process the usual way */
}

void gf_install_interrupt_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    /* A blocked signal mask is inherited across exec (test runners and some job launchers block these);
       unblock them, or the handler would never run. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int gf_interrupt_signal(void) { return received_signal; }
