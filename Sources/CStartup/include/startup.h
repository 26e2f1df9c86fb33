// What the executable does before `main`: one constructor, which runs before OpenBLAS's own (OpenBLAS is
// linked statically, so its constructor is in the same image and runs after a prioritised one).
#ifndef GRADFLOW_CSTARTUP_H
#define GRADFLOW_CSTARTUP_H

/// Removes `OPENBLAS_NUM_THREADS` from the environment when the start-up constructor put it there (the user
/// had not set it), so that the processes gradflow starts see the user's environment. Call once, from `main`.
void gf_startup_restore_environment(void);

/// For a point's process of `gradflow sweep --isolate processes`, which the sweep starts with
/// GRADFLOW_SWEEP_PARENT=<its pid>: asks the kernel for SIGTERM when the sweep's process ends, `kill -9` included
/// (`PR_SET_PDEATHSIG`), so that the run closes its file as interrupted (resumable by the restarted sweep) instead of
/// running on beside it; SIGTERM at once when the sweep has ended already. Removes the variable. Call once, from
/// `main`, after which the run installs its SIGTERM handler (before it, SIGTERM ends the process before any file).
void gf_startup_follow_sweep_parent(void);

/// Whether this process is a point of `gradflow sweep --isolate processes` (GRADFLOW_SWEEP_PARENT was set when
/// `gf_startup_follow_sweep_parent` ran): the sweep already runs one point per core, so a point records its rows on
/// its own thread.
int gf_startup_is_sweep_point(void);
#endif
