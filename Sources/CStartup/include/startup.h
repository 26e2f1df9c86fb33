// What the executable does before `main`: one constructor, which runs before OpenBLAS's own (OpenBLAS is
// linked statically, so its constructor is in the same image and runs after a prioritised one).
#ifndef GRADFLOW_CSTARTUP_H
#define GRADFLOW_CSTARTUP_H

/// Removes `OPENBLAS_NUM_THREADS` from the environment when the start-up constructor put it there (the user
/// had not set it), so that the processes gradflow starts see the user's environment. Call once, from `main`.
void gf_startup_restore_environment(void);
#endif
